package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.cluster.LocalPgCluster;
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
