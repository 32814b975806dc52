package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.fail;

import io.pgsplit.testing.RouterFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/** Helpers shared by the pooling tests: server-side connection counts, awaiting, running pgbench. */
final class PoolTesting {
    private PoolTesting() {
    }

    /** Connections of user {@code app} to database {@code app} on a node, as the server itself counts them. */
    static int serverConnections(Connection direct) throws SQLException {
        return serverConnections(direct, null);
    }

    /** The same, counting only backends started at or after {@code since} (not those of earlier tests). */
    static int serverConnections(Connection direct, java.sql.Timestamp since) throws SQLException {
        try (java.sql.PreparedStatement st = direct.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                + " WHERE usename = 'app' AND datname = 'app' AND backend_type = 'client backend'"
                + " AND application_name <> '" + io.pgsplit.consistency.ReadGate.PROBE_APPLICATION_NAME + "'"
                + " AND (?::timestamptz IS NULL OR backend_start >= ?::timestamptz)")) {
            st.setTimestamp(1, since);
            st.setTimestamp(2, since);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Polls with a deadline; fails with {@code what} if the condition never holds. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for: " + what);
            }
        }
    }

    /** Clients of {@code router} waiting for a server connection, over all its pools. */
    static int waitingClients(RouterFixture router) {
        int n = 0;
        for (PoolStats s : router.router().server().pools().stats()) {
            n += s.waiting();
        }
        return n;
    }

    /**
     * Polls pg_stat_activity on each node (directly, as the superuser) until stopped, keeping the
     * highest count of pgsplit's server connections seen per node.
     */
    static final class ActivityMonitor implements AutoCloseable {
        final Map<String, Integer> max = new ConcurrentHashMap<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();
        private final List<Throwable> errors = new ArrayList<>();

        /** {@code since}: the server clock before the router started ({@link #serverClock}). */
        ActivityMonitor(RouterFixture router, List<String> nodes, java.sql.Timestamp since) throws SQLException {
            for (String node : nodes) {
                Connection c = router.direct(node);
                max.put(node, 0);
                Thread t = new Thread(() -> {
                    try (c) {
                        while (!stop.get()) {
                            max.merge(node, serverConnections(c, since), Math::max);
                        }
                        max.merge(node, serverConnections(c, since), Math::max);
                    } catch (Throwable e) {
                        synchronized (errors) {
                            errors.add(e);
                        }
                    }
                }, "activity-" + node);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        }

        int max(String node) {
            return max.get(node);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            synchronized (errors) {
                if (!errors.isEmpty()) {
                    throw new AssertionError("pg_stat_activity polling failed", errors.get(0));
                }
            }
        }
    }

    /** The primary's clock (the replicas run on the same machine). */
    static java.sql.Timestamp serverClock(io.pgsplit.localpg.LocalPgCluster cluster) throws SQLException {
        try (Connection c = io.pgsplit.testing.Jdbc.connect(cluster, "primary", "app", cluster.superuser(),
                cluster.superuserPassword()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1);
        }
    }

    record Output(int exitCode, String text) {
    }

    /** Runs a client binary (pgbench, psql) with the router's password, merging its output; 120 s at most. */
    static Output run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", "app");
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        Process p = pb.start();
        byte[] out;
        try (var in = p.getInputStream()) {
            // Read fully on this thread; the timeout below kills a hung process, which ends the stream.
            Thread killer = new Thread(() -> {
                try {
                    if (!p.waitFor(120, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                } catch (InterruptedException ignored) {
                    p.destroyForcibly();
                }
            });
            killer.setDaemon(true);
            killer.start();
            out = in.readAllBytes();
        }
        p.waitFor(10, TimeUnit.SECONDS);
        return new Output(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Path script(Path dir, String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }
}
