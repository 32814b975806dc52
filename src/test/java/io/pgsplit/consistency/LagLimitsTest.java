package io.pgsplit.consistency;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * max_replica_lag and max_replica_lag_bytes: a replica further behind (r1, delayed on purpose while the primary
 * keeps writing) gets no reads, whatever the consistency, and gets them back once it has caught up.
 */
@ExtendWith(PgClusterExtension.class)
class LagLimitsTest {
    static final String LAGGING = "r1";

    @Test
    void replicaBeyondMaxReplicaLagGetsNoReadsUntilItCatchesUp(LocalPgCluster cluster) throws Exception {
        check(cluster, "consistency: eventual, max_replica_lag: 300ms");
    }

    @Test
    void replicaBeyondMaxReplicaLagBytesGetsNoReadsUntilItCatchesUp(LocalPgCluster cluster) throws Exception {
        check(cluster, "consistency: eventual, max_replica_lag_bytes: 64kB");
    }

    private static void check(LocalPgCluster cluster, String routing) throws Exception {
        try (Connection p = direct(cluster, "primary"); Statement st = p.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS lag_t (x int, pad text)");
        }
        cluster.waitForReplay();
        int lagging = cluster.port(LAGGING);
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            try (Connection p = direct(cluster, "primary"); Statement st = p.createStatement()) {
                while (writing.get()) {
                    st.execute("INSERT INTO lag_t SELECT g, repeat('x', 200) FROM generate_series(1, 100) g");
                    Thread.sleep(20); // a steady stream of writes, so r1 stays ~1 s behind
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        LagControl.delay(cluster, LAGGING, "1s");
        try (RouterFixture router = RouterFixture.builder(cluster).routing(routing).start();
             Connection c = router.connect(); Statement st = c.createStatement()) {
            writer.start();
            // r1 falls behind, is taken out of the rotation: 40 reads in a row, none on r1
            awaitReads(st, lagging, false, "r1 kept getting reads while " + routing + " and 1 s behind: "
                    + router.router().context().reads("app").replicaStates());
            writing.set(false);
            writer.join(10_000);
            // the writes stop, r1 replays them (1 s later), and gets reads again
            awaitReads(st, lagging, true, "r1 never got reads back after catching up: "
                    + router.router().context().reads("app").replicaStates());
        } finally {
            writing.set(false);
            writer.join(10_000);
            LagControl.delay(cluster, LAGGING, null);
            cluster.waitForReplay();
        }
    }

    /** Reads until 40 in a row avoid {@code port} ({@code hit} false) or one lands on it ({@code hit} true). */
    private static void awaitReads(Statement st, int port, boolean hit, String message) throws SQLException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        int avoided = 0;
        while (System.nanoTime() < deadline) {
            try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                boolean on = rs.getInt(1) == port;
                if (hit && on) {
                    return;
                }
                avoided = on ? 0 : avoided + 1;
                if (!hit && avoided >= 40) {
                    return;
                }
            }
        }
        assertTrue(false, message);
    }

    static Connection direct(LocalPgCluster cluster, String node) throws SQLException {
        return Jdbc.connect(cluster, node, PgClusterExtension.DB, cluster.superuser(), cluster.superuserPassword());
    }
}
