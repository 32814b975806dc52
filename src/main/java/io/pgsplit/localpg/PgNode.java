package io.pgsplit.localpg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** One PostgreSQL server of the cluster: its data dir, socket dir, log file and port. */
final class PgNode {
    /** Per-node settings live in their own file, included from postgresql.conf, so a replica can rewrite them after pg_basebackup copied the primary's. */
    static final String NODE_CONF = "pgsplit-node.conf";
    private static final int START_ATTEMPTS = 5;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final String name;
    private final Path dataDir;
    private final Path socketDir;
    private final Path logFile;
    private volatile int port;
    private volatile boolean running;

    PgNode(String name, Path dataDir, Path socketDir, Path logFile, int port) {
        this.name = name;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
        this.logFile = logFile;
        this.port = port;
    }

    String name() {
        return name;
    }

    Path dataDir() {
        return dataDir;
    }

    Path socketDir() {
        return socketDir;
    }

    Path logFile() {
        return logFile;
    }

    int port() {
        return port;
    }

    boolean running() {
        return running;
    }

    /** (Re)writes the node's own port and socket dir. */
    void writeNodeConf(OsUser osUser) {
        String conf = "# written by pgsplit LocalPgCluster for node " + name + "\n"
                + "port = " + port + "\n"
                + "unix_socket_directories = " + ServerConfig.confString(socketDir.toString()) + "\n";
        Path file = dataDir.resolve(NODE_CONF);
        FileOps.write(file, conf, false);
        osUser.own(file);
    }

    /**
     * Starts the server with {@code pg_ctl start -w}, which returns once it accepts connections. If the port was
     * taken in the meantime (another process bound it after we picked it), picks a new port and retries.
     */
    void start(PgTools tools, String host, OsUser osUser) {
        for (int attempt = 1; ; attempt++) {
            long logSizeBefore = sizeOf(logFile);
            ProcessRunner.Result result = tools.run("pg_ctl",
                    List.of("-D", dataDir.toString(), "-l", logFile.toString(), "-w", "-t", String.valueOf(START_TIMEOUT.toSeconds()), "start"),
                    Map.of(), null, START_TIMEOUT.plusSeconds(10));
            if (result.ok()) {
                running = true;
                return;
            }
            String newLog = readFrom(logFile, logSizeBefore);
            boolean portTaken = newLog.contains("could not bind") || newLog.contains("Address already in use");
            if (!portTaken || attempt == START_ATTEMPTS) {
                throw PgTools.failure(result, logFile);
            }
            port = FreePorts.pickOne(host);
            writeNodeConf(osUser);
        }
    }

    /** Stops the server: {@code fast} mode (roll back sessions, clean shutdown), falling back to {@code immediate}. */
    void stop(PgTools tools) {
        if (!running) {
            return;
        }
        ProcessRunner.Result fast = tools.run("pg_ctl",
                List.of("-D", dataDir.toString(), "-m", "fast", "-w", "-t", String.valueOf(STOP_TIMEOUT.toSeconds()), "stop"),
                Map.of(), null, STOP_TIMEOUT.plusSeconds(10));
        if (!fast.ok()) {
            stopImmediately(tools, dataDir);
        }
        running = false;
    }

    /** {@code pg_ctl stop -m immediate} on any data dir (e.g. a leftover from an earlier run); failures are ignored. */
    static void stopImmediately(PgTools tools, Path dataDir) {
        tools.run("pg_ctl", List.of("-D", dataDir.toString(), "-m", "immediate", "-w", "-t", "30", "stop"),
                Map.of(), null, Duration.ofSeconds(40));
    }

    private static long sizeOf(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static String readFrom(Path file, long offset) {
        try {
            byte[] all = Files.readAllBytes(file);
            int from = (int) Math.min(offset, all.length);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public String toString() {
        return name + " (port " + port + ", " + dataDir + ")";
    }
}
