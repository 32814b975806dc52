package io.pgsplit.localpg;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A tiny shell process that stops the cluster when this JVM dies without doing so itself ({@code kill -9},
 * crash, OOM kill): shutdown hooks do not run then, and the postmasters, daemonized by pg_ctl, would live on.
 *
 * <p>The watchdog blocks reading its stdin, a pipe whose only writer is this JVM. When the JVM exits for any
 * reason the kernel closes the pipe, {@code read} hits end-of-file, and the watchdog runs
 * {@code pg_ctl stop -m immediate} on every node. An orderly {@link LocalPgCluster#stop()} writes
 * {@code exit} first, so the watchdog leaves quietly. Unlike polling {@code kill -0 <pid>}, this cannot be
 * fooled by pid reuse, and works although the unprivileged PostgreSQL user may not signal a root JVM.
 * It runs in its own session ({@code setsid}) so a Ctrl-C sent to the JVM's process group does not kill it first.
 */
final class Watchdog {
    private final Process process;

    private Watchdog(Process process) {
        this.process = process;
    }

    static Watchdog start(PgTools tools, List<Path> dataDirs, List<Path> dirsToRemove, Path logFile) {
        StringBuilder script = new StringBuilder()
                .append("if read -r cmd && [ \"$cmd\" = exit ]; then exit 0; fi\n")
                .append("echo \"$(date -u) JVM gone without stopping the cluster: stopping PostgreSQL\"\n");
        for (Path dataDir : dataDirs) {
            List<String> stop = tools.commandLine("pg_ctl",
                    List.of("-D", dataDir.toString(), "-m", "immediate", "-w", "-t", "30", "stop"), Map.of());
            script.append(shellCommand(stop)).append('\n');
        }
        for (Path dir : dirsToRemove) {
            script.append(shellCommand(List.of("rm", "-rf", dir.toString()))).append('\n');
        }
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid")) || Files.isExecutable(Path.of("/bin/setsid"))) {
            command.add("setsid");
        }
        command.addAll(List.of("sh", "-c", script.toString(), "pgsplit-watchdog"));
        try {
            Process process = new ProcessBuilder(command)
                    .directory(new File("/")) // any user may enter /, whatever the JVM's cwd
                    .redirectErrorStream(true)
                    // a file, not a pipe: a pipe's reader (this JVM) is gone exactly when the watchdog has work to do
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            return new Watchdog(process);
        } catch (IOException e) {
            throw new PgClusterException("cannot start the cluster watchdog: " + e, e);
        }
    }

    /** Tells the watchdog the cluster was stopped properly; it exits without touching anything. */
    void disarm() {
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write("exit\n".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the watchdog already died; nothing to tell it
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroy();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    long pid() {
        return process.pid();
    }

    private static String shellCommand(List<String> argv) {
        StringBuilder sb = new StringBuilder();
        for (String arg : argv) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append('\'').append(arg.replace("'", "'\\''")).append('\'');
        }
        return sb.toString();
    }
}
