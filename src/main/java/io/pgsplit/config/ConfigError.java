package io.pgsplit.config;

/**
 * One problem found in a configuration (or routing-rules) file, located precisely enough for a
 * user to fix it without reading a stack trace.
 *
 * <p>{@link #toString()} renders the canonical one-line form printed by the CLI and asserted by tests:
 * <pre>pgsplit.yaml: databases.app.replicas[1].port: 70000 is not a port (1-65535) (line 12, column 15)</pre>
 * The key path is omitted when empty (e.g. {@code pgsplit.yaml: file not found}) and the position is
 * omitted when unknown ({@code line <= 0}).
 *
 * @param file    the file name as the user gave it, e.g. {@code "pgsplit.yaml"}
 * @param path    dotted key path, list items as {@code [i]}: {@code "databases.app.replicas[1].port"}; may be null/empty
 * @param message what is wrong, phrased for the user
 * @param line    1-based line, or 0 if there is no position
 * @param column  1-based column, or 0 if there is no position
 */
public record ConfigError(String file, String path, String message, int line, int column) {

    /** An error that has no position in the file (missing file, unreadable file...). */
    public static ConfigError withoutPosition(String file, String path, String message) {
        return new ConfigError(file, path, message, 0, 0);
    }

    /** True if {@link #line()} and {@link #column()} point into the file. */
    public boolean hasPosition() {
        return line > 0;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        if (file != null && !file.isEmpty()) {
            text.append(file).append(": ");
        }
        if (path != null && !path.isEmpty()) {
            text.append(path).append(": ");
        }
        text.append(message);
        if (hasPosition()) {
            text.append(" (line ").append(line).append(", column ").append(column).append(')');
        }
        return text.toString();
    }
}
