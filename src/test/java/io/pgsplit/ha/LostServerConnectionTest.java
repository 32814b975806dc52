package io.pgsplit.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A server connection lost under a client (its backend terminated, the server keeps running: safe on the shared
 * cluster): a read that has sent nothing to the client yet runs again elsewhere; a transaction cut off midway gets an
 * error, stays failed until ROLLBACK, and the client connection goes on; session pooling tells which server was lost.
 */
@ExtendWith(PgClusterExtension.class)
class LostServerConnectionTest {

    /** Terminates, on {@code node}, the backend running a statement that contains {@code marker}; waits for it to run. */
    private static void terminateRunning(RouterFixture router, String marker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            for (String node : router.cluster().nodeNames()) {
                try (Connection d = router.direct(node)) {
                    Object n = Jdbc.queryValue(d, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            + "WHERE query LIKE '%" + marker + "%' AND pid <> pg_backend_pid() AND state = 'active'");
                    if (((Number) n).intValue() > 0) {
                        return;
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no backend ran " + marker);
    }

    @Test
    void aReadWhoseServerIsLostBeforeAnyRowRunsAgainElsewhere(LocalPgCluster cluster) throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction").start();
             Connection c = router.connect()) {
            CompletableFuture<Object> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return Jdbc.queryValue(c, "SELECT 42 AS lost_read_marker_1 FROM pg_sleep(1)");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            terminateRunning(router, "lost_read_marker_1");
            assertEquals(42, read.get(30, TimeUnit.SECONDS), "the read came back without an error");
        }
    }

    @Test
    void aTransactionCutOffMidwayFailsUntilRollbackAndTheClientGoesOn(LocalPgCluster cluster) throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction").start();
             Connection c = router.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS lost_tx(x text)");
            c.setAutoCommit(false);
            st.execute("INSERT INTO lost_tx VALUES ('cut off')");
            CompletableFuture<Void> cut = CompletableFuture.runAsync(() -> {
                try {
                    terminateRunning(router, "lost_tx_marker_2");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            SQLException lost = assertThrows(SQLException.class,
                    () -> st.execute("SELECT pg_sleep(5), 'lost_tx_marker_2'"));
            cut.get(30, TimeUnit.SECONDS);
            System.out.println("HA-MEASURE lost transaction: " + lost.getSQLState() + " " + lost.getMessage());
            assertEquals("08006", lost.getSQLState());
            assertTrue(lost.getMessage().contains("lost the server connection to primary")
                    && lost.getMessage().contains("end it with ROLLBACK"), lost.getMessage());
            SQLException aborted = assertThrows(SQLException.class, () -> st.execute("INSERT INTO lost_tx VALUES ('after')"));
            assertEquals("25P02", aborted.getSQLState(), "nothing of the lost transaction runs outside it");
            c.rollback();
            c.setAutoCommit(true);
            assertEquals(0L, Jdbc.queryValue(c, "/* pgsplit: route=primary */ SELECT count(*) FROM lost_tx WHERE x IN ('cut off', 'after')"));
            st.execute("INSERT INTO lost_tx VALUES ('next')");
            assertEquals(1L, Jdbc.queryValue(c, "/* pgsplit: route=primary */ SELECT count(*) FROM lost_tx WHERE x = 'next'"));
            st.execute("DROP TABLE lost_tx");
        }
    }

    @Test
    void sessionPoolingTellsTheClientWhichServerItLost(LocalPgCluster cluster) throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: session").start();
             Connection c = router.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SELECT txid_current()");
            CompletableFuture<Void> cut = CompletableFuture.runAsync(() -> {
                try {
                    terminateRunning(router, "lost_session_marker_3");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            SQLException lost = assertThrows(SQLException.class,
                    () -> st.execute("SELECT pg_sleep(5), 'lost_session_marker_3'"));
            cut.get(30, TimeUnit.SECONDS);
            assertTrue(lost.getMessage().contains("primary 127.0.0.1:" + cluster.primaryPort()), lost.getMessage());
        }
    }
}
