package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code SET pgsplit.route = primary|replica|auto} and {@code RESET pgsplit.route}: pgsplit answers
 * them itself, exactly once, in order, and the statements after them go where they say.
 */
@ExtendWith(PgClusterExtension.class)
class SessionRouteSettingTest {
    static RouterFixture router;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        router = RouterFixture.start(c);
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    private static boolean inRecovery(Statement st) throws Exception {
        try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            assertTrue(rs.next());
            return rs.getBoolean(1);
        }
    }

    @Test
    void psqlSeesOneAnswerPerCommand() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("psql", router.uri(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-c", "SET pgsplit.route = primary",
                "-c", "SELECT 'one', pg_is_in_recovery()",
                "-c", "RESET pgsplit.route",
                "-c", "SELECT 'two', pg_is_in_recovery()",
                "-c", "SET pgsplit.route TO replica",
                "-c", "SELECT 'three', pg_is_in_recovery()");
        pb.environment().put("PGPASSWORD", "app");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "psql did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertEquals("SET\none|f\nRESET\ntwo|t\nSET\nthree|t\n", out);
    }

    @Test
    void pgjdbcSimpleProtocol() throws Exception {
        try (Connection conn = router.connect(Map.of("preferQueryMode", "simple")); Statement st = conn.createStatement()) {
            st.execute("SET pgsplit.route = primary");
            assertFalse(inRecovery(st), "SET pgsplit.route = primary, yet a read ran on a replica");
            assertFalse(inRecovery(st));
            st.execute("SET pgsplit.route = auto");
            assertTrue(inRecovery(st), "pgsplit.route = auto, yet a read ran on the primary");
        }
    }

    @Test
    void pgjdbcExtendedProtocol() throws Exception {
        try (Connection conn = router.connect(); Statement st = conn.createStatement()) {
            st.execute("SET pgsplit.route = primary");
            assertFalse(inRecovery(st), "SET pgsplit.route = primary, yet a read ran on a replica");
            st.execute("RESET pgsplit.route");
            assertTrue(inRecovery(st), "after RESET pgsplit.route a read ran on the primary");
        }
    }

    @Test
    void badValueIsAnErrorAndTheSessionGoesOn() throws Exception {
        try (Connection conn = router.connect(Map.of("preferQueryMode", "simple")); Statement st = conn.createStatement()) {
            java.sql.SQLException e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> st.execute("SET pgsplit.route = sideways"));
            assertEquals("22023", e.getSQLState());
            assertTrue(inRecovery(st));
        }
    }
}
