package io.pgsplit.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown when a configuration cannot be loaded. Carries <em>every</em> problem found, not just the first,
 * so a user fixes the file in one round; {@link #getMessage()} is the errors joined by newlines, ready to
 * print. This is a user-facing error: callers print the message, not the stack trace.
 */
public final class ConfigException extends Exception {

    private final List<ConfigError> errors;

    /** @param errors at least one error */
    public ConfigException(List<ConfigError> errors) {
        super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n")));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    /** The problems, in file order (errors without a position first). */
    public List<ConfigError> errors() {
        return errors;
    }
}
