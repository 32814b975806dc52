package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transaction pooling under load: many clients, few server connections, no errors, and the servers
 * themselves never see more connections from pgsplit than pool_size per node.
 */
@ExtendWith(PgClusterExtension.class)
class TransactionPoolingTest {
    static LocalPgCluster cluster;
    static final List<String> NODES = List.of("primary", "r1", "r2");

    @BeforeAll
    static void setUp(LocalPgCluster c) {
        cluster = c;
        c.execute(PgClusterExtension.DB, "DROP TABLE IF EXISTS tp_items; DROP TABLE IF EXISTS tp_bench;"
                + "CREATE TABLE tp_items (id bigserial PRIMARY KEY, client int NOT NULL, v int NOT NULL);"
                + "CREATE TABLE tp_bench (id int PRIMARY KEY, v int NOT NULL);"
                + "INSERT INTO tp_bench SELECT g, 0 FROM generate_series(1, 100) g;"
                + "ALTER TABLE tp_items OWNER TO app; ALTER TABLE tp_bench OWNER TO app;");
        c.waitForReplay();
    }

    @Test
    void fiveHundredClientsOnFiveConnectionsAllOnThePrimary() throws Exception {
        fiveHundredClients("splitting: false", 1);
    }

    @Test
    void fiveHundredClientsOnFiveConnectionsWithSplitting() throws Exception {
        fiveHundredClients("splitting: true", 2);
    }

    private void fiveHundredClients(String routing, int tag) throws Exception {
        int clients = 500;
        java.sql.Timestamp t0 = PoolTesting.serverClock(cluster);
        // four event loops: clients and server connections on different loops hand work across threads
        try (RouterFixture router = RouterFixture.builder(cluster).listen("worker_threads: 4")
                .pool("pool_mode: transaction, pool_size: 5")
                .routing(routing).start();
             PoolTesting.ActivityMonitor monitor = new PoolTesting.ActivityMonitor(router, NODES, t0)) {
            ExecutorService threads = Executors.newFixedThreadPool(64);
            try {
                ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                // Open all 500 at once: they stay connected while the work below cycles through them.
                List<Future<Connection>> opening = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    opening.add(threads.submit(() -> router.connect(Map.of("prepareThreshold", "1"))));
                }
                List<Connection> conns = new ArrayList<>();
                for (Future<Connection> f : opening) {
                    conns.add(f.get(60, TimeUnit.SECONDS));
                }
                AtomicInteger done = new AtomicInteger();
                List<Future<?>> work = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    int client = tag * 10_000 + i;
                    Connection c = conns.get(i);
                    work.add(threads.submit(() -> {
                        try {
                            mixedWork(c, client);
                            done.incrementAndGet();
                        } catch (Throwable e) {
                            errors.add(e);
                        }
                    }));
                }
                for (Future<?> f : work) {
                    f.get(120, TimeUnit.SECONDS);
                }
                for (Connection c : conns) {
                    c.close();
                }
                if (!errors.isEmpty()) {
                    AssertionError e = new AssertionError(errors.size() + " clients failed", errors.peek());
                    throw e;
                }
                assertEquals(clients, done.get());
            } finally {
                threads.shutdownNow();
            }
            monitor.close();
            for (String node : NODES) {
                assertTrue(monitor.max(node) <= 5, node + " saw " + monitor.max(node) + " pgsplit connections");
            }
            assertTrue(monitor.max("primary") > 0, "the monitor saw nothing at all");
        }
        try (Connection direct = Jdbc.connect(cluster, "primary", PgClusterExtension.DB, cluster.superuser(),
                cluster.superuserPassword())) {
            assertEquals(2L * clients, ((Number) Jdbc.queryValue(direct,
                    "SELECT count(*) FROM tp_items WHERE client / 10000 = " + tag)).longValue());
        }
    }

    /** Reads, a write, an explicit transaction and server-prepared statements. */
    private static void mixedWork(Connection c, int client) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM tp_items")) {
            assertTrue(rs.next());
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO tp_items (client, v) VALUES (?, ?)")) {
            ps.setInt(1, client);
            ps.setInt(2, 1);
            assertEquals(1, ps.executeUpdate());
        }
        c.setAutoCommit(false);
        try (PreparedStatement ins = c.prepareStatement("INSERT INTO tp_items (client, v) VALUES (?, ?)");
             PreparedStatement sel = c.prepareStatement("SELECT count(*) FROM tp_items WHERE client = ?")) {
            ins.setInt(1, client);
            ins.setInt(2, 2);
            ins.executeUpdate();
            sel.setInt(1, client);
            try (ResultSet rs = sel.executeQuery()) {
                rs.next();
                assertEquals(2, rs.getInt(1), "the transaction sees its own and the earlier insert");
            }
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2")) {
            for (int k = 0; k < 2; k++) {
                ps.setInt(1, client + k);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(2 * (client + k), rs.getInt(1));
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // pgbench and pgjdbc with prepared statements, batches and pipelines, 16 clients on 2-3 connections
    // ---------------------------------------------------------------------------------------------

    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");

    private static void assertPgbenchOk(PoolTesting.Output out) {
        assertEquals(0, out.exitCode(), out.text());
        assertTrue(out.text().contains("number of failed transactions: 0 "), out.text());
        Matcher m = PROCESSED.matcher(out.text());
        assertTrue(m.find(), out.text());
        assertTrue(Long.parseLong(m.group(1)) > 0, out.text());
    }

    private static List<String> pgbench(RouterFixture router, String protocol, Path script) {
        return List.of("pgbench", "-n", "-M", protocol, "-c", "16", "-j", "2", "-T", "3", "-f", script.toString(),
                router.uri());
    }

    @Test
    void pgbenchPreparedSixteenClientsOnTwoConnections(@TempDir Path dir) throws Exception {
        Path script = PoolTesting.script(dir, "prepared.sql", """
                \\set id random(1, 100)
                BEGIN;
                UPDATE tp_bench SET v = v + 1 WHERE id = :id;
                SELECT v FROM tp_bench WHERE id = :id;
                END;
                SELECT v FROM tp_bench WHERE id = :id;
                SELECT :id::int + 1;
                """);
        java.sql.Timestamp t0 = PoolTesting.serverClock(cluster);
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 2")
                .start();
             PoolTesting.ActivityMonitor monitor = new PoolTesting.ActivityMonitor(router, NODES, t0)) {
            assertPgbenchOk(PoolTesting.run(pgbench(router, "prepared", script)));
            // a new connection for every transaction (-C): logins and prepared statements churn
            assertPgbenchOk(PoolTesting.run(reconnecting(router, script, 16)));
            monitor.close();
            for (String node : NODES) {
                assertTrue(monitor.max(node) <= 2, node + " saw " + monitor.max(node) + " pgsplit connections");
            }
        }
    }

    private static List<String> reconnecting(RouterFixture router, Path script, int threads) {
        return List.of("pgbench", "-n", "-C", "-M", "prepared", "-c", "16", "-j", String.valueOf(threads), "-T", "2",
                "-f", script.toString(), router.uri());
    }

    /**
     * pgbench -C -j 2 connects synchronously in a thread that also drives other clients, which may hold the
     * pool's only connections in open transactions: a login that waited for a server connection would wait
     * for what only that thread can free (until connect_timeout).
     */
    @Test
    void pgbenchReconnectingClientsSharingThreads(@TempDir Path dir) throws Exception {
        Path script = PoolTesting.script(dir, "prepared.sql", """
                \\set id random(1, 100)
                BEGIN;
                UPDATE tp_bench SET v = v + 1 WHERE id = :id;
                END;
                """);
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 2")
                .start()) {
            assertPgbenchOk(PoolTesting.run(reconnecting(router, script, 2)));
        }
    }

    @Test
    void pgbenchPipelineModeSixteenClientsOnTwoConnections(@TempDir Path dir) throws Exception {
        Path script = PoolTesting.script(dir, "pipeline.sql", """
                \\set id random(1, 100)
                \\startpipeline
                SELECT v FROM tp_bench WHERE id = :id;
                UPDATE tp_bench SET v = v + 1 WHERE id = :id;
                SELECT :id::int + 1;
                \\endpipeline
                \\startpipeline
                SELECT count(*) FROM tp_bench;
                SELECT :id::int * 2;
                \\endpipeline
                """);
        java.sql.Timestamp t0 = PoolTesting.serverClock(cluster);
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 2")
                .start();
             PoolTesting.ActivityMonitor monitor = new PoolTesting.ActivityMonitor(router, NODES, t0)) {
            assertPgbenchOk(PoolTesting.run(pgbench(router, "prepared", script)));
            assertPgbenchOk(PoolTesting.run(pgbench(router, "extended", script)));
            monitor.close();
            for (String node : NODES) {
                assertTrue(monitor.max(node) <= 2, node + " saw " + monitor.max(node) + " pgsplit connections");
            }
        }
    }

    @Test
    void pgjdbcPreparedAndBatchesSixteenClientsOnThreeConnections() throws Exception {
        java.sql.Timestamp t0 = PoolTesting.serverClock(cluster);
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 3")
                .start();
             PoolTesting.ActivityMonitor monitor = new PoolTesting.ActivityMonitor(router, NODES, t0)) {
            ExecutorService threads = Executors.newFixedThreadPool(16);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            try {
                List<Future<?>> work = new ArrayList<>();
                for (int t = 0; t < 16; t++) {
                    int client = 30_000 + t;
                    work.add(threads.submit(() -> {
                        try (Connection c = router.connect(Map.of("prepareThreshold", "1"))) {
                            for (int round = 0; round < 20; round++) {
                                batchRound(c, client, round);
                            }
                        } catch (Throwable e) {
                            errors.add(e);
                        }
                    }));
                }
                for (Future<?> f : work) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }
            if (!errors.isEmpty()) {
                throw new AssertionError(errors.size() + " clients failed", errors.peek());
            }
            monitor.close();
            for (String node : NODES) {
                assertTrue(monitor.max(node) <= 3, node + " saw " + monitor.max(node) + " pgsplit connections");
            }
        }
    }

    private static void batchRound(Connection c, int client, int round) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO tp_items (client, v) VALUES (?, ?)")) {
            for (int k = 0; k < 5; k++) {
                ps.setInt(1, client);
                ps.setInt(2, round * 10 + k);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            assertEquals(5, counts.length);
        }
        c.setAutoCommit(false);
        try (PreparedStatement upd = c.prepareStatement("UPDATE tp_bench SET v = v + 1 WHERE id = ?");
             PreparedStatement sel = c.prepareStatement("SELECT count(*) FROM tp_items WHERE client = ?")) {
            upd.setInt(1, 1 + (client + round) % 100);
            for (int k = 0; k < 3; k++) {
                upd.addBatch();
            }
            upd.executeBatch();
            sel.setInt(1, client);
            try (ResultSet rs = sel.executeQuery()) {
                rs.next();
                assertEquals(5L * (round + 1), rs.getLong(1));
            }
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT ?::text || '-' || ?::text")) {
            ps.setInt(1, client);
            ps.setInt(2, round);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals(client + "-" + round, rs.getString(1));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // A client that goes away mid-transaction
    // ---------------------------------------------------------------------------------------------

    @Test
    void clientClosingMidTransactionLeavesNoOpenTransaction() throws Exception {
        disconnectMidTransaction(false);
    }

    @Test
    void clientDroppingItsSocketMidTransactionLeavesNoOpenTransaction() throws Exception {
        disconnectMidTransaction(true);
    }

    private void disconnectMidTransaction(boolean abort) throws Exception {
        int client = abort ? 40_001 : 40_000;
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 1")
                .routing("splitting: false").start();
             Connection direct = router.direct("primary")) {
            Connection c = router.connect();
            c.setAutoCommit(false);
            int pid;
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO tp_items (client, v) VALUES (" + client + ", 1)");
                pid = ((Number) Jdbc.queryValue(c, "SELECT pg_backend_pid()")).intValue();
            }
            assertEquals("idle in transaction", Jdbc.queryValue(direct,
                    "SELECT state FROM pg_stat_activity WHERE pid = " + pid));
            if (abort) {
                ExecutorService ex = Executors.newSingleThreadExecutor();
                c.abort(ex); // drops the socket: no Terminate
                ex.shutdown();
            } else {
                c.close(); // Terminate in the middle of the transaction
            }
            PoolTesting.await("the server connection to leave its transaction", () -> {
                try {
                    Object state = Jdbc.queryValue(direct, "SELECT state FROM pg_stat_activity WHERE pid = " + pid);
                    return state == null || state.equals("idle");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            assertEquals(0L, ((Number) Jdbc.queryValue(direct, "SELECT count(*) FROM pg_stat_activity"
                    + " WHERE usename = 'app' AND state LIKE 'idle in transaction%'")).longValue());
            assertEquals(0L, ((Number) Jdbc.queryValue(direct,
                    "SELECT count(*) FROM tp_items WHERE client = " + client)).longValue(), "the insert was committed");
            // The one pooled connection is usable by the next client, outside any transaction.
            try (Connection next = router.connect()) {
                assertEquals("0", String.valueOf(Jdbc.queryValue(next,
                        "SELECT count(*) FROM tp_items WHERE client = " + client)));
            }
        }
    }
}
