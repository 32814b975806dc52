package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.PSQLException;

/** Session pooling: bounded server connections, clean hand-over, dead servers, queue timeout. */
@ExtendWith(PgClusterExtension.class)
class SessionPoolingTest {

    /** Client backends of {@code user} on a node, seen from a superuser connection there. */
    private static int backends(Connection monitor, String user) throws SQLException {
        try (Statement st = monitor.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + user + "' AND backend_type = 'client backend' "
                        + "AND pid <> pg_backend_pid() AND application_name <> '"
                        + io.pgsplit.consistency.ReadGate.PROBE_APPLICATION_NAME + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void awaitNoBackends(LocalPgCluster cluster, String user) throws Exception {
        for (String node : cluster.nodeNames()) {
            try (Connection m = Jdbc.connect(cluster, node, "app", cluster.superuser(), cluster.superuserPassword())) {
                try {
                    awaitTrue(() -> backends(m, user) == 0, "backends of " + user + " left on " + node);
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + ": " + Jdbc.queryValue(m, "SELECT string_agg(concat_ws(' ', "
                            + "pid, state, backend_start, xact_start, application_name, client_port, query), E'\\n') "
                            + "FROM pg_stat_activity WHERE usename = '" + user + "'"));
                }
            }
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void awaitTrue(Check c, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!c.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 15 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void twoHundredClientsShareTenServerConnectionsPerNode(LocalPgCluster cluster) throws Exception {
        awaitNoBackends(cluster, "app"); // what earlier tests left behind is gone
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: session, pool_size: 10").start()) {
            Map<String, Integer> max = new ConcurrentHashMap<>();
            AtomicBoolean done = new AtomicBoolean();
            List<Connection> monitors = new ArrayList<>();
            for (String node : cluster.nodeNames()) {
                monitors.add(router.direct(node));
            }
            Thread monitor = new Thread(() -> {
                try {
                    while (!done.get()) {
                        for (int i = 0; i < monitors.size(); i++) {
                            max.merge(cluster.nodeNames().get(i), backends(monitors.get(i), "app"), Math::max);
                        }
                    }
                } catch (SQLException e) {
                    max.put("error: " + e, Integer.MAX_VALUE);
                }
            });
            monitor.start();
            ExecutorService pool = Executors.newFixedThreadPool(200);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> results = new ArrayList<>();
            try {
                for (int i = 0; i < 200; i++) {
                    int n = i;
                    results.add(pool.submit(() -> {
                        go.await();
                        try (Connection c = router.connect(); Statement st = c.createStatement()) {
                            try (ResultSet rs = st.executeQuery("SELECT " + n + ", pg_is_in_recovery()")) {
                                rs.next();
                                assertEquals(n, rs.getInt(1));
                            }
                            c.setAutoCommit(false);
                            try (ResultSet rs = st.executeQuery("SELECT txid_current(), pg_is_in_recovery()")) {
                                rs.next();
                                assertFalse(rs.getBoolean(2));
                            }
                            c.commit();
                            c.setAutoCommit(true);
                            try (ResultSet rs = st.executeQuery("SELECT 'bye'")) {
                                rs.next();
                                return rs.getString(1);
                            }
                        }
                    }));
                }
                go.countDown();
                for (Future<String> f : results) {
                    assertEquals("bye", f.get(120, TimeUnit.SECONDS));
                }
            } finally {
                done.set(true);
                monitor.join(10_000);
                pool.shutdownNow();
                for (Connection m : monitors) {
                    m.close();
                }
            }
            for (String node : cluster.nodeNames()) {
                assertNotNull(max.get(node), max.toString());
                assertTrue(max.get(node) <= 10, "more than pool_size server connections: " + max);
            }
            assertTrue(max.get("primary") > 0, "the monitor saw nothing: " + max);
        }
    }

    @Test
    void clientLeavingInTheMiddleOfATransactionLeavesNoOpenTransaction(LocalPgCluster cluster) throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: session, pool_size: 1").start();
             Connection direct = router.direct("primary")) {
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                st.execute("DROP TABLE IF EXISTS abandoned");
                st.execute("CREATE TABLE abandoned (id int)");
                st.execute("GRANT ALL ON abandoned TO trustuser");
            }
            // pgjdbc: Terminate in the middle of a transaction
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.executeUpdate("INSERT INTO abandoned VALUES (1)");
            }
            // a raw client that just drops the socket, in the middle of a transaction
            Map<String, String> login = Map.of("user", "trustuser", "database", "app");
            try (Wire w = new Wire(router.host(), router.port())) {
                w.send(Wire.startupPacket(login));
                w.readUntil('Z');
                w.send(Wire.query("BEGIN; INSERT INTO abandoned VALUES (2)"));
                assertEquals('T', (char) w.readUntil('Z').body()[0]);
            }
            awaitTrue(() -> ((Number) Jdbc.queryValue(direct, "SELECT count(*) FROM pg_stat_activity WHERE "
                    + "usename IN ('app', 'trustuser') AND (state LIKE 'idle in transaction%' OR xact_start IS NOT NULL)"))
                    .intValue() == 0, "a pooled server connection is still in the abandoned transaction");
            // the next client (pool_size 1: the same server connection, if kept) is not in a transaction
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO abandoned VALUES (3)");
                // inside the abandoned transaction (which inserted), a transaction id would be assigned
                try (ResultSet rs = st.executeQuery("/* pgsplit: route=primary */ SELECT txid_current_if_assigned() IS NULL")) {
                    rs.next();
                    assertTrue(rs.getBoolean(1), "the statement ran inside an older transaction");
                }
            }
            // committed for everybody else, and the abandoned rows are not
            assertEquals("3", Jdbc.queryValue(direct, "SELECT string_agg(id::text, ',') FROM abandoned").toString());
        }
    }

    @Test
    void killedServerConnectionGivesItsClientAnErrorAndTheNextClientAWorkingOne(LocalPgCluster cluster) throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: session, pool_size: 1").start();
             Connection direct = router.direct("primary")) {
            // killed while running a query
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                CompletableFuture<Void> sleeping = CompletableFuture.runAsync(() -> {
                    try {
                        st.executeQuery("/* pgsplit: route=primary */ SELECT pg_sleep(30) /* kill_me */").close();
                    } catch (SQLException e) {
                        throw new RuntimeException(e);
                    }
                });
                awaitTrue(() -> ((Number) Jdbc.queryValue(direct, "SELECT count(pg_terminate_backend(pid)) FROM "
                        + "pg_stat_activity WHERE query LIKE '%kill_me%' AND usename = 'app'")).intValue() == 1,
                        "found the sleeping backend");
                Exception e = assertThrows(Exception.class, () -> sleeping.get(20, TimeUnit.SECONDS));
                SQLException sql = (SQLException) e.getCause().getCause();
                assertTrue(sql.getSQLState().startsWith("57P01") || sql.getSQLState().startsWith("08"), sql.toString());
            }
            // killed while idle in a transaction: the next statement fails
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                int pid;
                try (ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                assertEquals(Boolean.TRUE, Jdbc.queryValue(direct, "SELECT pg_terminate_backend(" + pid + ")"));
                SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1").close());
                assertTrue(e.getSQLState().startsWith("57P01") || e.getSQLState().startsWith("08"), e.toString());
            }
            // the next client works, on the primary too
            for (int i = 0; i < 3; i++) {
                try (Connection c = router.connect(); Statement st = c.createStatement()) {
                    c.setAutoCommit(false);
                    try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        assertFalse(rs.getBoolean(1));
                    }
                    c.commit();
                }
            }
        }
    }

    @Test
    void killedIdleServerConnection(LocalPgCluster cluster) throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: session, pool_size: 2").start();
             Connection direct = router.direct("primary")) {
            // no state that cannot be replayed: the client goes on, on a new server process, with its settings
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                st.execute("SET application_name = 'survivor'");
                int pid = ((Number) Jdbc.queryValue(c, "/* pgsplit: route=primary */ SELECT pg_backend_pid()")).intValue();
                assertEquals(Boolean.TRUE, Jdbc.queryValue(direct, "SELECT pg_terminate_backend(" + pid + ", 5000)"));
                try (ResultSet rs = st.executeQuery("/* pgsplit: route=primary */ SELECT pg_backend_pid(), "
                        + "current_setting('application_name')")) {
                    rs.next();
                    assertTrue(rs.getInt(1) != pid);
                    assertEquals("survivor", rs.getString(2));
                }
            }
            // LISTEN lives only in the killed process: the client gets an error, as from PostgreSQL itself
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                st.execute("LISTEN killed_listener");
                int pid = ((Number) Jdbc.queryValue(c, "SELECT pg_backend_pid()")).intValue();
                assertEquals(Boolean.TRUE, Jdbc.queryValue(direct, "SELECT pg_terminate_backend(" + pid + ", 5000)"));
                SQLException e = assertThrows(SQLException.class, () -> Jdbc.queryValue(c, "SELECT 1"));
                assertTrue(e.getSQLState().equals("57P01") || e.getSQLState().startsWith("08"), e.toString());
            }
            try (Connection c = router.connect()) {
                assertEquals(1, ((Number) Jdbc.queryValue(c, "SELECT 1")).intValue());
            }
        }
    }

    @Test
    void queueTimeoutGivesAClearError(LocalPgCluster cluster) throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster)
                .pool("pool_mode: session, pool_size: 1, query_wait_timeout: 1s").start()) {
            try (Connection holder = router.connect()) {
                holder.setAutoCommit(false);
                Jdbc.queryValue(holder, "SELECT 1");
                PSQLException e = assertThrows(PSQLException.class, router::connect);
                assertEquals("53300", e.getSQLState(), e.toString());
                String message = e.getServerErrorMessage().getMessage();
                assertTrue(message.contains("no server connection") && message.contains("query_wait_timeout")
                        && message.contains("pool_size 1"), message);
                holder.commit();
            }
            // once the holder is gone, a client gets in
            try (Connection c = router.connect()) {
                assertEquals(1, ((Number) Jdbc.queryValue(c, "SELECT 1")).intValue());
            }
        }
    }
}
