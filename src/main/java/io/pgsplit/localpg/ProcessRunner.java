package io.pgsplit.localpg;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a short-lived command to completion with a timeout.
 *
 * <p>Output (stdout and stderr merged) goes to a temporary file rather than a pipe, so nothing needs a reader
 * thread and a daemon forked by the command (pg_ctl's postmaster) can never keep us waiting on a pipe.
 */
final class ProcessRunner {
    private ProcessRunner() {
    }

    /** Outcome of one command. */
    record Result(List<String> command, int exitCode, String output, Duration took) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    static Result run(List<String> command, String stdin, Path workDir, Duration timeout) {
        long started = System.nanoTime();
        Path outFile = null;
        try {
            outFile = Files.createTempFile("pgsplit-cmd-", ".out");
            ProcessBuilder pb = new ProcessBuilder(command)
                    .directory(workDir == null ? null : workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(outFile.toFile());
            if (stdin == null) {
                pb.redirectInput(new File("/dev/null"));
            }
            Process process = pb.start();
            if (stdin != null) {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new PgClusterException("command timed out after " + timeout.toSeconds() + " s: "
                        + String.join(" ", command) + "\n" + tail(readLenient(outFile), 20));
            }
            String output = readLenient(outFile);
            return new Result(command, process.exitValue(), output, Duration.ofNanos(System.nanoTime() - started));
        } catch (IOException e) {
            throw new PgClusterException("cannot run " + String.join(" ", command) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgClusterException("interrupted while running " + String.join(" ", command), e);
        } finally {
            if (outFile != null) {
                try {
                    Files.deleteIfExists(outFile);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    /** The last {@code lines} lines of {@code text}. */
    static String tail(String text, int lines) {
        String[] all = text.split("\n", -1);
        int from = Math.max(0, all.length - lines);
        return String.join("\n", List.of(all).subList(from, all.length)).stripTrailing();
    }

    /** The last {@code lines} lines of a file, or a note saying why there are none. */
    static String tailOfFile(Path file, int lines) {
        if (file == null) {
            return "";
        }
        try {
            return Files.exists(file) ? tail(readLenient(file), lines) : "(no log file " + file + ")";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    /** Reads a file as UTF-8, replacing malformed bytes instead of failing (logs may hold anything). */
    static String readLenient(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }
}
