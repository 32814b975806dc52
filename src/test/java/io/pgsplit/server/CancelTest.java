package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

/** CancelRequest through pgsplit reaches the server running that client's query, and nothing else. */
@ExtendWith(PgClusterExtension.class)
class CancelTest {
    static RouterFixture router;
    static RouterFixture sessionRouter;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 10").start();
        sessionRouter = RouterFixture.builder(c).pool("pool_mode: session, pool_size: 10").start();
    }

    @AfterAll
    static void stop() {
        router.close();
        sessionRouter.close();
    }

    /** Waits until {@code n} backends of user app run a query containing {@code marker}, on any node. */
    private void awaitRunning(String marker, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int seen = 0;
        while (System.nanoTime() < deadline) {
            seen = 0;
            for (String node : cluster.nodeNames()) {
                try (Connection d = router.direct(node); Statement st = d.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                             + "AND state = 'active' AND query LIKE '%" + marker + "%' AND pid <> pg_backend_pid()")) {
                    rs.next();
                    seen += rs.getInt(1);
                }
            }
            if (seen >= n) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("expected " + n + " running queries with " + marker + ", saw " + seen);
    }

    @ParameterizedTest(name = "{0} pooling, route={1}")
    @CsvSource({"transaction, primary", "transaction, replica", "session, primary", "session, replica"})
    void cancelReachesOnlyTheClientsOwnQuery(String poolMode, String route) throws Exception {
        String marker = "cancel_" + poolMode + "_" + route;
        RouterFixture router = poolMode.equals("session") ? sessionRouter : CancelTest.router;
        try (Connection a = router.connect(); Connection b = router.connect();
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            // both on the same node, so a cancel sent to the wrong server process would show
            String hint = "/* pgsplit: route=" + (route.equals("primary") ? "primary" : "r1") + " */ ";
            CompletableFuture<String> fa = CompletableFuture.supplyAsync(() -> run(sa,
                    hint + "SELECT 'a', pg_sleep(30) /* " + marker + " */"));
            CompletableFuture<String> fb = CompletableFuture.supplyAsync(() -> run(sb,
                    hint + "SELECT 'b', pg_sleep(2.5) /* " + marker + " */"));
            awaitRunning(marker, 2);
            sa.cancel();
            ExecutionException e = assertThrows(ExecutionException.class, () -> fa.get(20, TimeUnit.SECONDS));
            assertEquals("57014", ((SQLException) e.getCause().getCause()).getSQLState(), e.toString());
            assertEquals("b", fb.get(20, TimeUnit.SECONDS));
            // both connections still work
            assertEquals(1, value(a, "SELECT 1"));
            assertEquals(2, value(b, "SELECT 2"));
        }
    }

    @Test
    void cancelWithAWrongKeyCancelsNothing() throws Exception {
        try (Connection a = router.connect(); Statement sa = a.createStatement()) {
            int pid = a.unwrap(PGConnection.class).getBackendPID();
            CompletableFuture<String> fa = CompletableFuture.supplyAsync(() -> run(sa,
                    "/* pgsplit: route=primary */ SELECT 'a', pg_sleep(2) /* cancel_wrong_key */"));
            awaitRunning("cancel_wrong_key", 1);
            for (int[] key : new int[][] {{pid, 12345}, {pid + 1, 0}, {0, 0}}) {
                try (Wire w = new Wire(router.host(), router.port())) {
                    byte[] body = new byte[8];
                    java.nio.ByteBuffer.wrap(body).putInt(key[0]).putInt(key[1]);
                    w.send(Wire.untyped(80877102, body));
                    assertTrue(w.closedByPeer());
                }
            }
            assertEquals("a", fa.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void cancelOfAnIdleClientIsHarmless() throws Exception {
        try (Connection a = router.connect(Map.of("preferQueryMode", "simple")); Statement st = a.createStatement()) {
            st.cancel();
            assertEquals(3, value(a, "SELECT 3"));
        }
    }

    private static String run(Statement st, String sql) {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }

    private static int value(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
