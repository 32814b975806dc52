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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Read/write splitting behind one endpoint (transaction pooling), with where each statement ran asked of the
 * server: hints, the write-on-replica retry, the extended protocol, standard_conforming_strings = off, and
 * functions created after pgsplit started.
 */
@ExtendWith(PgClusterExtension.class)
class SplittingTest {
    static final Map<String, String> SIMPLE = Map.of("preferQueryMode", "simple");
    static final Map<String, String> EXTENDED = Map.of("prepareThreshold", "1");
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        c.execute(PgClusterExtension.DB, """
                DROP TABLE IF EXISTS sp_log CASCADE;
                DROP FUNCTION IF EXISTS sp_late_fn(text);
                CREATE TABLE sp_log (tag text, port int);
                ALTER TABLE sp_log OWNER TO app;
                CREATE OR REPLACE FUNCTION sp_write_fn(t text) RETURNS int LANGUAGE plpgsql VOLATILE AS
                  $$ BEGIN INSERT INTO sp_log VALUES (t, inet_server_port()); RETURN inet_server_port(); END $$;
                ALTER FUNCTION sp_write_fn(text) OWNER TO app;
                """);
        c.waitForReplay();
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 5").start();
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    static int port(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    static Map<String, String> with(Map<String, String> base, String k, String v) {
        Map<String, String> m = new HashMap<>(base);
        m.put(k, v);
        return m;
    }

    boolean isReplica(int port) {
        return cluster.replicaPorts().contains(port);
    }

    /** Rows with this tag in sp_log on the primary, all of which must have been written by the primary. */
    int rowsOnPrimary(String tag) throws SQLException {
        try (Connection p = router.direct("primary"); PreparedStatement ps = p.prepareStatement(
                "SELECT count(*), bool_and(port = inet_server_port()) FROM sp_log WHERE tag = ?")) {
            ps.setString(1, tag);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                int n = rs.getInt(1);
                if (n > 0) {
                    assertTrue(rs.getBoolean(2), "a row tagged " + tag + " was written elsewhere");
                }
                return n;
            }
        }
    }

    // ---- hints ----

    @Test
    void commentHintSendsAReadToThePrimary() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                assertEquals(cluster.primaryPort(), port(st, "/* pgsplit: route=primary */ SELECT inet_server_port()"));
                assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port() /* pgsplit: route=primary */"));
                assertTrue(isReplica(port(st, "SELECT inet_server_port()")), "the hint applies to its statement only");
                try (PreparedStatement ps = c.prepareStatement(
                        "/* pgsplit: route=primary */ SELECT inet_server_port() + ?")) {
                    for (int i = 0; i < 3; i++) {
                        ps.setInt(1, 0);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertEquals(cluster.primaryPort(), rs.getInt(1), mode.toString());
                        }
                    }
                }
            }
        }
    }

    @Test
    void hintTextInsideAStringIsNoHint() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            String tag = "/* pgsplit: route=replica */ " + mode.keySet();
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                assertTrue(isReplica(port(st, "SELECT inet_server_port(), '/* pgsplit: route=primary */'")));
                assertTrue(isReplica(port(st, "SELECT inet_server_port() AS \"/* pgsplit: route=primary */\"")));
                c.setAutoCommit(false);
                // user data that happens to look like a hint must not send a write transaction to a replica
                st.execute("INSERT INTO sp_log VALUES ('" + tag + "', inet_server_port())");
                assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"));
                c.commit();
            }
            assertEquals(1, rowsOnPrimary(tag));
        }
    }

    @Test
    void sessionRouteHint() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("SET pgsplit.route = primary");
                for (int i = 0; i < 3; i++) {
                    assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"), mode.toString());
                }
                st.execute("SET pgsplit.route = replica");
                for (int i = 0; i < 3; i++) {
                    assertTrue(isReplica(port(st, "SELECT inet_server_port()")), mode.toString());
                }
                st.execute("SET pgsplit.route = auto");
                assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
                st.execute("INSERT INTO sp_log VALUES ('session-auto', inet_server_port())");
            }
        }
        assertEquals(2, rowsOnPrimary("session-auto"));
    }

    @Test
    void sessionRouteHintRepeatedAndReset() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED, Map.of("prepareThreshold", "-1")}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                for (int round = 0; round < 3; round++) {
                    st.execute("SET pgsplit.route = primary");
                    assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"), mode.toString());
                    st.execute("RESET pgsplit.route");
                    assertTrue(isReplica(port(st, "SELECT inet_server_port()")), mode.toString());
                    st.execute("SET pgsplit.route TO 'primary'");
                    assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"), mode.toString());
                    st.execute("SET pgsplit.route TO DEFAULT");
                    assertTrue(isReplica(port(st, "SELECT inet_server_port()")), mode.toString());
                }
                try (PreparedStatement ps = c.prepareStatement("SET pgsplit.route = primary")) {
                    for (int i = 0; i < 3; i++) {
                        ps.execute();
                        assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"), mode.toString());
                    }
                }
                SQLException e = assertThrows(SQLException.class, () -> st.execute("SET pgsplit.route = nowhere"));
                assertEquals("22023", e.getSQLState());
                assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"), "unchanged after an error");
            }
        }
    }

    @Test
    void startupRouteHint() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(with(mode, "options", "-c pgsplit.route=primary"));
                 Statement st = c.createStatement()) {
                for (int i = 0; i < 3; i++) {
                    assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"), mode.toString());
                }
            }
        }
    }

    @Test
    void hintsDisabled() throws Exception {
        try (RouterFixture noHints = RouterFixture.builder(cluster).routing("hints: false").start()) {
            for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
                try (Connection c = noHints.connect(mode); Statement st = c.createStatement()) {
                    assertTrue(isReplica(port(st, "/* pgsplit: route=primary */ SELECT inet_server_port()")));
                    // the session hint is refused outright rather than silently ignored
                    SQLException e = assertThrows(SQLException.class, () -> st.execute("SET pgsplit.route = primary"));
                    assertTrue(e.getMessage().contains("hints are disabled"), e.getMessage());
                    assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
                }
                try (Connection c = noHints.connect(with(mode, "options", "-c pgsplit.route=primary"));
                     Statement st = c.createStatement()) {
                    assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
                }
            }
        }
    }

    // ---- write on a replica ----

    @Test
    void writeMisroutedToAReplicaIsRetriedOnThePrimary() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED, Map.of("prepareThreshold", "-1")}) {
            String m = mode == SIMPLE ? "simple" : mode == EXTENDED ? "extended" : "describe-first";
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                assertEquals(cluster.primaryPort(),
                        port(st, "/* pgsplit: route=replica */ SELECT sp_write_fn('retry-hint-" + m + "')"));
                st.execute("SET pgsplit.route = replica");
                assertEquals(cluster.primaryPort(), port(st, "SELECT sp_write_fn('retry-session-" + m + "')"));
                st.execute("INSERT INTO sp_log VALUES ('retry-insert-" + m + "', inet_server_port())");
                assertTrue(isReplica(port(st, "SELECT inet_server_port()")), "the session hint still holds");
            }
            assertEquals(1, rowsOnPrimary("retry-hint-" + m));
            assertEquals(1, rowsOnPrimary("retry-session-" + m));
            assertEquals(1, rowsOnPrimary("retry-insert-" + m));
        }
    }

    @Test
    void multiStatementQueryIsRetriedWhole() throws Exception {
        try (Connection c = router.connect(SIMPLE); Statement st = c.createStatement()) {
            // the first statement succeeds on the replica without a row, the second is refused: nothing but
            // held-back replies exists yet, so the whole query string runs again on the primary
            assertTrue(st.execute("/* pgsplit: route=replica */ SELECT inet_server_port() WHERE false; "
                    + "SELECT sp_write_fn('retry-multi')"));
            try (ResultSet rs = st.getResultSet()) {
                assertFalse(rs.next());
            }
            assertTrue(st.getMoreResults());
            try (ResultSet rs = st.getResultSet()) {
                rs.next();
                assertEquals(cluster.primaryPort(), rs.getInt(1));
            }
            assertFalse(st.getMoreResults());
            assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
        }
        assertEquals(1, rowsOnPrimary("retry-multi"));
    }

    @Test
    void writeAfterRowsReachedTheClientIsNotRetried() throws Exception {
        // rows went to the client: the query string cannot be re-run, the client gets the refusal
        try (Connection c = router.connect(SIMPLE); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute(
                    "/* pgsplit: route=replica */ SELECT inet_server_port(); SELECT sp_write_fn('retry-after-rows')"));
            assertEquals("25006", e.getSQLState(), e.getMessage());
            assertTrue(isReplica(port(st, "SELECT inet_server_port()")), "the client goes on");
        }
        assertEquals(0, rowsOnPrimary("retry-after-rows"));
    }

    @Test
    void writeAfterALargeResultIsNotRetried() throws Exception {
        // once a big result has gone to the client the write cannot be re-run: the client gets the refusal
        try (Connection c = router.connect(SIMPLE); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute(
                    "/* pgsplit: route=replica */ SELECT repeat('x', 1000) FROM generate_series(1, 2000); "
                            + "SELECT sp_write_fn('retry-too-late')"));
            assertEquals("25006", e.getSQLState(), e.getMessage());
            assertTrue(isReplica(port(st, "SELECT inet_server_port()")), "the client goes on");
        }
        assertEquals(0, rowsOnPrimary("retry-too-late"));
    }

    @Test
    void namedReplicaHint() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                for (int i = 0; i < 4; i++) {
                    assertEquals(cluster.port("r2"), port(st, "/* pgsplit: route=r2 */ SELECT inet_server_port()"));
                    assertEquals(cluster.port("r1"), port(st, "/* pgsplit: route=r1 */ SELECT inet_server_port()"));
                }
            }
        }
    }

    @Test
    void copyOutIsARead() throws Exception {
        try (Connection c = router.connect(EXTENDED)) {
            java.io.StringWriter out = new java.io.StringWriter();
            ((org.postgresql.PGConnection) c).getCopyAPI().copyOut(
                    "COPY (SELECT inet_server_port()) TO STDOUT", out);
            assertTrue(isReplica(Integer.parseInt(out.toString().strip())), out.toString());
            try (Statement st = c.createStatement()) {
                assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
            }
        }
    }

    @Test
    void viewHidingAWriteIsRetriedOnThePrimary() throws Exception {
        // nothing in the statement says it writes: the replica refuses it, the primary runs it
        cluster.execute(PgClusterExtension.DB, "CREATE OR REPLACE VIEW sp_writing_view AS "
                + "SELECT sp_write_fn('via-view') AS port; ALTER VIEW sp_writing_view OWNER TO app;");
        cluster.waitForReplay();
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                assertEquals(cluster.primaryPort(), port(st, "SELECT port FROM sp_writing_view"));
            }
        }
        assertEquals(2, rowsOnPrimary("via-view"));
    }

    @Test
    void misroutedBatchIsRetriedWhole() throws Exception {
        for (Map<String, String> mode : new Map[] {Map.<String, String>of(), EXTENDED}) {
            String tag = "retry-batch-" + mode.size();
            try (Connection c = router.connect(mode);
                 PreparedStatement ps = c.prepareStatement("/* pgsplit: route=replica */ SELECT sp_write_fn(?)")) {
                for (int i = 0; i < 3; i++) {
                    ps.setString(1, tag);
                    ps.addBatch();
                }
                // pgjdbc refuses result-returning batch entries itself only after running them; just run it
                try {
                    ps.executeBatch();
                } catch (java.sql.BatchUpdateException e) {
                    assertTrue(e.getMessage().contains("result was returned"), e.getMessage());
                }
            }
            assertEquals(3, rowsOnPrimary(tag), "each batch entry ran exactly once, on the primary");
        }
    }

    @Test
    void writeInAReadOnlyTransactionIsRefused() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("BEGIN READ ONLY");
                assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
                SQLException e = assertThrows(SQLException.class,
                        () -> st.executeQuery("SELECT sp_write_fn('in-ro-txn')"));
                assertEquals("25006", e.getSQLState());
                st.execute("ROLLBACK");
                assertTrue(isReplica(port(st, "SELECT inet_server_port()")), "the client goes on after ROLLBACK");
            }
        }
        assertEquals(0, rowsOnPrimary("in-ro-txn"));
    }

    // ---- functions the router learned of after starting ----

    @Test
    void volatileFunctionCreatedAfterStart() throws Exception {
        try (Connection c = router.connect(SIMPLE); Statement st = c.createStatement()) {
            st.execute("CREATE FUNCTION sp_late_fn(t text) RETURNS int LANGUAGE plpgsql VOLATILE AS "
                    + "$$ BEGIN INSERT INTO sp_log VALUES (t, inet_server_port()); RETURN inet_server_port(); END $$");
        }
        cluster.waitForReplay();
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            String tag = "late-" + (mode == SIMPLE ? "simple" : "extended");
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                assertEquals(cluster.primaryPort(), port(st, "SELECT sp_late_fn('" + tag + "')"));
            }
            assertEquals(1, rowsOnPrimary(tag));
        }
    }

    // ---- extended protocol ----

    @Test
    void batchMixingReadsAndWrites() throws Exception {
        for (Map<String, String> mode : new Map[] {Map.<String, String>of(), EXTENDED}) {
            String tag = "batch-" + mode.size();
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.addBatch("INSERT INTO sp_log VALUES ('" + tag + "', inet_server_port())");
                st.addBatch("SELECT 1");
                st.addBatch("UPDATE sp_log SET port = inet_server_port() WHERE tag = '" + tag + "'");
                st.addBatch("INSERT INTO sp_log VALUES ('" + tag + "', inet_server_port())");
                int[] counts = st.executeBatch();
                assertEquals(4, counts.length);
                assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
            }
            assertEquals(2, rowsOnPrimary(tag));
            try (Connection c = router.connect(mode);
                 PreparedStatement ps = c.prepareStatement("INSERT INTO sp_log VALUES (?, inet_server_port())")) {
                for (int i = 0; i < 5; i++) {
                    ps.setString(1, tag + "-prepared");
                    ps.addBatch();
                }
                assertEquals(5, ps.executeBatch().length);
            }
            assertEquals(5, rowsOnPrimary(tag + "-prepared"));
        }
    }

    @Test
    void unnamedAndNamedStatements() throws Exception {
        // prepareThreshold=0: pgjdbc only ever uses the unnamed statement
        try (Connection c = router.connect(Map.of("prepareThreshold", "0"));
             PreparedStatement ps = c.prepareStatement("SELECT inet_server_port() + ?")) {
            Set<Integer> ports = new HashSet<>();
            for (int i = 0; i < 8; i++) {
                ps.setInt(1, 0);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    ports.add(rs.getInt(1));
                }
            }
            assertEquals(new HashSet<>(cluster.replicaPorts()), ports);
        }
        // prepareThreshold=1: a named server statement, first run on a replica, then in a transaction on the primary
        try (Connection c = router.connect(EXTENDED);
             PreparedStatement ps = c.prepareStatement("SELECT inet_server_port() + ?")) {
            for (int i = 0; i < 4; i++) {
                ps.setInt(1, 0);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertTrue(isReplica(rs.getInt(1)));
                }
            }
            c.setAutoCommit(false);
            for (int i = 0; i < 3; i++) {
                ps.setInt(1, 0);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(cluster.primaryPort(), rs.getInt(1));
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("INSERT INTO sp_log VALUES ('named-txn', inet_server_port())");
            }
            ps.setInt(1, 0);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals(cluster.primaryPort(), rs.getInt(1));
            }
            c.commit();
            c.setAutoCommit(true);
            ps.setInt(1, 0);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertTrue(isReplica(rs.getInt(1)));
            }
        }
        assertEquals(1, rowsOnPrimary("named-txn"));
    }

    // ---- standard_conforming_strings ----

    @Test
    void standardConformingStringsOffSendsEverythingToThePrimary() throws Exception {
        try (Connection c = router.connect(SIMPLE); Statement st = c.createStatement()) {
            st.execute("INSERT INTO sp_log VALUES ('scs', 1)");
            assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
            st.execute("SET standard_conforming_strings = off");
            for (int i = 0; i < 3; i++) {
                assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"));
            }
            // with backslash escapes on, 'x\'' is one string: a lexer assuming standard strings would see the
            // UPDATE as a comment
            st.execute("SELECT 'a\\''; UPDATE sp_log SET port = inet_server_port() WHERE tag = 'scs'; --'");
            st.execute("SELECT E'\\''; UPDATE sp_log SET port = inet_server_port() WHERE tag = 'scs'; --'");
            st.execute("SET standard_conforming_strings = on");
            assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
        }
        assertEquals(1, rowsOnPrimary("scs"));
    }

    @Test
    void escapeStringTrickReachesThePrimary() throws Exception {
        // E'\'' is one string whatever standard_conforming_strings says, so the UPDATE is real
        for (Map<String, String> mode : new Map[] {SIMPLE, Map.<String, String>of()}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("INSERT INTO sp_log VALUES ('escape-" + mode.size() + "', 1)");
                if (mode == SIMPLE) {
                    st.execute("SELECT E'\\''; UPDATE sp_log SET port = inet_server_port() WHERE tag = 'escape-"
                            + mode.size() + "'; --'");
                } else {
                    st.execute("SELECT E'\\''");
                    st.execute("UPDATE sp_log SET port = inet_server_port() WHERE tag = 'escape-" + mode.size() + "'");
                }
            }
            assertEquals(1, rowsOnPrimary("escape-" + mode.size()));
        }
    }

    @Test
    void psqlSeesTheSameSplit() throws Exception {
        String out = psql("SELECT inet_server_port(); BEGIN; SELECT inet_server_port(); COMMIT;"
                + " BEGIN READ ONLY; SELECT inet_server_port(); COMMIT;");
        int[] ports = java.util.Arrays.stream(out.strip().split("\\s+")).filter(l -> l.matches("\\d+"))
                .mapToInt(Integer::parseInt).toArray();
        assertEquals(3, ports.length, out);
        assertTrue(isReplica(ports[0]), out);
        assertEquals(cluster.primaryPort(), ports[1], out);
        assertTrue(isReplica(ports[2]), out);
    }

    String psql(String sql) throws Exception {
        // statements from stdin: psql sends them one Query at a time (-c would send one multi-statement Query)
        ProcessBuilder pb = new ProcessBuilder("psql", router.uri(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-f", "-").redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", "app");
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write(sql.replace("; ", ";\n").getBytes());
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertNotNull(out);
        assertFalse(out.contains("ERROR"), out);
        return out;
    }
}
