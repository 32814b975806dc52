package io.pgsplit.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real client binaries (psql, pgbench) with a timeout; output is stdout and stderr together. */
final class Procs {
    private Procs() {
    }

    record Result(int exitCode, String output) {
        @Override
        public String toString() {
            return "exit " + exitCode + ":\n" + output;
        }
    }

    static Result run(long timeoutSeconds, String password, String stdin, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(command)).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", password);
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        pb.environment().remove("PGSERVICE");
        pb.environment().put("PSQLRC", "/dev/null");
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> copy(p.getInputStream(), out));
        reader.start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            reader.join(5000);
            throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", command)
                    + "\n" + out.toString(StandardCharsets.UTF_8));
        }
        reader.join(10_000);
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }

    static List<String> args(String... a) {
        return new ArrayList<>(List.of(a));
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        try {
            in.transferTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
