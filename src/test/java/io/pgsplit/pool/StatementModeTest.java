package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Statement pooling: autocommit statements only, the server connection released after each one. */
@ExtendWith(PgClusterExtension.class)
class StatementModeTest {
    static RouterFixture router;

    @BeforeAll
    static void start(LocalPgCluster cluster) throws Exception {
        cluster.execute(PgClusterExtension.DB, "DROP TABLE IF EXISTS sm_t; CREATE TABLE sm_t (id int, v text);"
                + "ALTER TABLE sm_t OWNER TO app;");
        router = RouterFixture.builder(cluster).pool("pool_mode: statement, pool_size: 1").routing("splitting: false")
                .start();
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    static Map<String, String> props(String mode) {
        return mode.equals("simple") ? Map.of("preferQueryMode", "simple") : Map.of("prepareThreshold", "1");
    }

    static void assertRefused(SQLException e) {
        assertEquals("0A000", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("statement pooling"), e.getMessage());
        assertTrue(e.getMessage().contains("transaction"), e.getMessage());
    }

    @ParameterizedTest(name = "{0} protocol")
    @ValueSource(strings = {"simple", "extended"})
    void transactionsAreRefusedWithAClearError(String mode) throws Exception {
        try (Connection c = router.connect(props(mode))) {
            for (String sql : List.of("BEGIN", "START TRANSACTION ISOLATION LEVEL SERIALIZABLE", "begin; select 1;")) {
                try (Statement st = c.createStatement()) {
                    assertRefused(assertThrows(SQLException.class, () -> st.execute(sql)));
                }
                // as after a failed statement in a transaction block: nothing runs until the block is ended
                SQLException aborted = assertThrows(SQLException.class, () -> Jdbc.queryValue(c, "SELECT 1"));
                assertEquals("25P02", aborted.getSQLState(), aborted.getMessage());
                try (Statement st = c.createStatement()) {
                    st.execute("ROLLBACK");
                }
                assertEquals("1", String.valueOf(Jdbc.queryValue(c, "SELECT 1")), "unusable after refusing " + sql);
                String pid = String.valueOf(Jdbc.queryValue(c, "SELECT pg_backend_pid()"));
                try (Connection direct = router.direct("primary")) {
                    assertEquals("idle", String.valueOf(Jdbc.queryValue(direct,
                            "SELECT state FROM pg_stat_activity WHERE pid = " + pid)), "left open after " + sql);
                }
            }
            // pgjdbc's own transaction (autocommit off) is refused too, and nothing of it ran
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                assertRefused(assertThrows(SQLException.class,
                        () -> st.executeUpdate("INSERT INTO sm_t VALUES (-1, 'refused')")));
            }
            c.rollback();
            c.setAutoCommit(true);
            assertEquals("0", String.valueOf(Jdbc.queryValue(c, "SELECT count(*) FROM sm_t WHERE id = -1")));
        }
    }

    @ParameterizedTest(name = "{0} protocol")
    @ValueSource(strings = {"simple", "extended"})
    void autocommitStatementsOfClientsTakeTurnsOnOneConnection(String mode) throws Exception {
        int base = mode.equals("simple") ? 1000 : 2000;
        try (Connection a = router.connect(props(mode)); Connection b = router.connect(props(mode));
             PreparedStatement ia = a.prepareStatement("INSERT INTO sm_t VALUES (?, ?)");
             PreparedStatement ib = b.prepareStatement("INSERT INTO sm_t VALUES (?, ?)");
             PreparedStatement ca = a.prepareStatement("SELECT count(*) FROM sm_t WHERE id >= ? AND id < ?")) {
            String pid = String.valueOf(Jdbc.queryValue(a, "SELECT pg_backend_pid()"));
            for (int i = 0; i < 5; i++) {
                ia.setInt(1, base + i);
                ia.setString(2, "a");
                assertEquals(1, ia.executeUpdate());
                ib.setInt(1, base + 100 + i);
                ib.setString(2, "b");
                assertEquals(1, ib.executeUpdate());
                // both run on the one server connection: it is released after every statement
                assertEquals(pid, String.valueOf(Jdbc.queryValue(b, "SELECT pg_backend_pid()")));
            }
            ca.setInt(1, base);
            ca.setInt(2, base + 200);
            try (ResultSet rs = ca.executeQuery()) {
                rs.next();
                assertEquals(10, rs.getInt(1));
            }
            // multi-statement simple query without BEGIN: one implicit transaction, allowed
            try (Statement st = a.createStatement()) {
                st.execute("SELECT 1; SELECT 2");
            }
        }
    }
}
