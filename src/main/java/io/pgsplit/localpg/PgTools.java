package io.pgsplit.localpg;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs PostgreSQL binaries as the right OS user, turning failures into readable exceptions. */
final class PgTools {
    private final PgBinaries binaries;
    private final OsUser osUser;
    private final Path workDir;

    PgTools(PgBinaries binaries, OsUser osUser, Path workDir) {
        this.binaries = binaries;
        this.osUser = osUser;
        this.workDir = workDir;
    }

    PgBinaries binaries() {
        return binaries;
    }

    OsUser osUser() {
        return osUser;
    }

    /** The full command line (user switch and environment included) for one tool. */
    List<String> commandLine(String tool, List<String> args, Map<String, String> env) {
        List<String> argv = new ArrayList<>();
        argv.add(binaries.tool(tool));
        argv.addAll(args);
        return osUser.commandLine(argv, env);
    }

    /** Runs a tool; a non-zero exit code is returned, not thrown. */
    ProcessRunner.Result run(String tool, List<String> args, Map<String, String> env, String stdin, Duration timeout) {
        // the work dir matters: PostgreSQL warns when it cannot chdir back to a dir its user may not read
        return ProcessRunner.run(commandLine(tool, args, env), stdin, workDir, timeout);
    }

    /**
     * Runs a tool and throws when it fails, naming the command, its exit code, its output and the tail of
     * {@code logFile} (the server log that usually says why), if given.
     */
    ProcessRunner.Result runOrThrow(String tool, List<String> args, Map<String, String> env, String stdin,
                                    Duration timeout, Path logFile) {
        ProcessRunner.Result result = run(tool, args, env, stdin, timeout);
        if (!result.ok()) {
            throw failure(result, logFile);
        }
        return result;
    }

    static PgClusterException failure(ProcessRunner.Result result, Path logFile) {
        StringBuilder msg = new StringBuilder()
                .append("command failed with exit code ").append(result.exitCode()).append(": ")
                .append(redact(String.join(" ", result.command())));
        if (!result.output().isBlank()) {
            msg.append("\n--- output ---\n").append(ProcessRunner.tail(result.output(), 30));
        }
        if (logFile != null) {
            msg.append("\n--- tail of ").append(logFile).append(" ---\n").append(ProcessRunner.tailOfFile(logFile, 30));
        }
        return new PgClusterException(msg.toString());
    }

    /** Hides PGPASSWORD values from exception messages. */
    private static String redact(String commandLine) {
        return commandLine.replaceAll("PGPASSWORD=\\S*", "PGPASSWORD=***");
    }
}
