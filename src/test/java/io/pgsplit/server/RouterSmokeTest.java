package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The router end to end with pgjdbc: reads reach both replicas, transactions the primary. */
@ExtendWith(PgClusterExtension.class)
class RouterSmokeTest {
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        router = RouterFixture.start(c);
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    @Test
    void autocommitReadsSpreadOverReplicas() throws Exception {
        Set<Integer> ports = new HashSet<>();
        try (Connection conn = router.connect(); Statement st = conn.createStatement()) {
            for (int i = 0; i < 10; i++) {
                try (ResultSet rs = st.executeQuery("SELECT inet_server_port(), pg_is_in_recovery()")) {
                    rs.next();
                    ports.add(rs.getInt(1));
                    assertTrue(rs.getBoolean(2), "a read ran on the primary");
                }
            }
        }
        assertEquals(new HashSet<>(cluster.replicaPorts()), ports);
    }

    /** Long statements are parsed off the event loop; they still route, and answer, correctly. */
    @Test
    void longStatementsAreClassifiedAndRouted() throws Exception {
        StringBuilder in = new StringBuilder("SELECT count(*), bool_and(pg_is_in_recovery()) FROM generate_series(1, 5000) g"
                + " WHERE g IN (");
        for (int i = 1; i <= 2000; i++) {
            in.append(i == 1 ? "" : ", ").append(i * 2);
        }
        in.append(')');
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection conn = router.connect(java.util.Map.of("preferQueryMode", mode));
                 Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(in.toString())) {
                rs.next();
                assertEquals(2000, rs.getInt(1), mode);
                assertTrue(rs.getBoolean(2), mode + ": a long read ran on the primary");
            }
            try (Connection conn = router.connect(java.util.Map.of("preferQueryMode", mode));
                 Statement st = conn.createStatement()) {
                // the same text again is a cache hit; a long write still reaches the primary
                st.execute("CREATE TABLE IF NOT EXISTS smoke_long (v int)");
                assertEquals(1, st.executeUpdate("INSERT INTO smoke_long SELECT 1 WHERE 2 IN (" + in.substring(in.indexOf("(2") + 1)));
            }
        }
    }

    @Test
    void transactionRunsOnThePrimary() throws Exception {
        try (Connection conn = router.connect(); Statement st = conn.createStatement()) {
            conn.setAutoCommit(false);
            try (ResultSet rs = st.executeQuery("SELECT inet_server_port(), pg_is_in_recovery()")) {
                rs.next();
                assertEquals(cluster.primaryPort(), rs.getInt(1));
                assertFalse(rs.getBoolean(2));
            }
            conn.commit();
        }
    }
}
