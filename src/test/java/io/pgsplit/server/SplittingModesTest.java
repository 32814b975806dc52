package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Splitting in session and statement pooling, and with the primary in the read rotation. */
@ExtendWith(PgClusterExtension.class)
class SplittingModesTest {
    static final Map<String, String> SIMPLE = Map.of("preferQueryMode", "simple");
    static final Map<String, String> EXTENDED = Map.of("prepareThreshold", "1");
    static LocalPgCluster cluster;

    @BeforeAll
    static void setUp(LocalPgCluster c) {
        cluster = c;
        c.execute(PgClusterExtension.DB, """
                DROP SCHEMA IF EXISTS sm_a CASCADE;
                CREATE SCHEMA sm_a AUTHORIZATION app;
                CREATE TABLE sm_a.sm_t (tag text, port int);
                ALTER TABLE sm_a.sm_t OWNER TO app;
                INSERT INTO sm_a.sm_t VALUES ('seed', 0);
                """);
        c.waitForReplay();
    }

    static Map<String, String> with(Map<String, String> base, String k, String v) {
        Map<String, String> m = new HashMap<>(base);
        m.put(k, v);
        return m;
    }

    static int port(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    boolean isReplica(int port) {
        return cluster.replicaPorts().contains(port);
    }

    /** Server connections with this application_name on each node. */
    Map<String, Integer> backends(RouterFixture router, String app) throws SQLException {
        Map<String, Integer> counts = new HashMap<>();
        for (String node : cluster.nodeNames()) {
            try (Connection d = router.direct(node); var ps = d.prepareStatement(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND backend_type = 'client backend'")) {
                ps.setString(1, app);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    counts.put(node, rs.getInt(1));
                }
            }
        }
        return counts;
    }

    @Test
    void sessionPooling() throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: session, pool_size: 4").start()) {
            for (Map<String, String> mode : List.of(SIMPLE, EXTENDED)) {
                String app = "sm-session-" + mode.size() + mode.keySet().iterator().next().length();
                try (Connection c = router.connect(with(mode, "ApplicationName", app));
                     Statement st = c.createStatement()) {
                    st.execute("SET search_path = sm_a, public");
                    for (int i = 0; i < 4; i++) {
                        try (ResultSet rs = st.executeQuery(
                                "SELECT inet_server_port(), current_setting('search_path'), count(*) FROM sm_t")) {
                            rs.next();
                            assertTrue(isReplica(rs.getInt(1)), "read in session mode " + mode);
                            assertEquals("sm_a, public", rs.getString(2));
                            assertTrue(rs.getInt(3) >= 1);
                        }
                        try (ResultSet rs = st.executeQuery("INSERT INTO sm_t VALUES ('session', inet_server_port())"
                                + " RETURNING inet_server_port(), current_setting('search_path')")) {
                            rs.next();
                            assertEquals(cluster.primaryPort(), rs.getInt(1), "write in session mode " + mode);
                            assertEquals("sm_a, public", rs.getString(2));
                        }
                    }
                    c.setAutoCommit(false);
                    assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"));
                    c.commit();
                    c.setAutoCommit(true);
                    Map<String, Integer> counts = backends(router, app);
                    int total = 0;
                    for (Map.Entry<String, Integer> e : counts.entrySet()) {
                        assertTrue(e.getValue() <= 1, "more than one server connection on " + e.getKey() + ": " + counts);
                        total += e.getValue();
                    }
                    assertEquals(1, counts.get("primary"), counts.toString());
                    assertEquals(2, total, "the primary and one sticky replica: " + counts);
                }
            }
        }
    }

    @Test
    void sessionPoolingTransactionsAndPreparedStatements() throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: session, pool_size: 4").start();
             Connection c = router.connect(EXTENDED); Statement st = c.createStatement()) {
            st.execute("BEGIN READ ONLY");
            assertTrue(isReplica(port(st, "SELECT inet_server_port()")), "BEGIN READ ONLY in session mode");
            st.execute("COMMIT");
            st.execute("BEGIN");
            assertEquals(cluster.primaryPort(), port(st, "SELECT inet_server_port()"), "BEGIN in session mode");
            st.execute("COMMIT");
            try (var ps = c.prepareStatement("SELECT inet_server_port() + ?")) {
                for (int i = 0; i < 3; i++) {
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
                    c.commit();
                }
            }
        }
    }

    @Test
    void transactionPoolingSessionSetsReachEveryNode() throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 2").start()) {
            for (Map<String, String> mode : List.of(SIMPLE, EXTENDED)) {
                try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                    st.execute("SET search_path = sm_a, public");
                    for (int i = 0; i < 3; i++) {
                        try (ResultSet rs = st.executeQuery("SELECT inet_server_port(), count(*) FROM sm_t")) {
                            rs.next();
                            assertTrue(isReplica(rs.getInt(1)));
                        }
                        assertEquals(cluster.primaryPort(), port(st,
                                "INSERT INTO sm_t VALUES ('txn-mode', 0) RETURNING inet_server_port()"));
                    }
                }
            }
        }
    }

    @Test
    void statementPooling() throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: statement, pool_size: 4").start()) {
            for (Map<String, String> mode : List.of(SIMPLE, EXTENDED)) {
                Set<Integer> ports = new HashSet<>();
                try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                    for (int i = 0; i < 8; i++) {
                        ports.add(port(st, "SELECT inet_server_port()"));
                        assertEquals(cluster.primaryPort(),
                                port(st, "INSERT INTO sm_a.sm_t VALUES ('stmt', 0) RETURNING inet_server_port()"));
                    }
                }
                assertEquals(new HashSet<>(cluster.replicaPorts()), ports, "statement mode " + mode);
                try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                    // statement pooling has no multi-statement transactions
                    java.sql.SQLException e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                            () -> {
                                st.execute("BEGIN READ ONLY");
                                st.execute("SELECT 1");
                            });
                    assertEquals("0A000", e.getSQLState(), e.getMessage());
                    // pgsplit treats the refused block as a failed transaction (so nothing sent behind the
                    // BEGIN runs on its own); the client ends it as after any error, then goes on
                    st.execute("ROLLBACK");
                    assertTrue(isReplica(port(st, "SELECT inet_server_port()")), "the client goes on");
                }
            }
        }
    }

    @Test
    void writeOnReplicaRetriedInSessionAndStatementPooling() throws Exception {
        cluster.execute(PgClusterExtension.DB, """
                CREATE OR REPLACE FUNCTION sm_a.sm_write(t text) RETURNS int LANGUAGE plpgsql VOLATILE AS
                  $$ BEGIN INSERT INTO sm_a.sm_t VALUES (t, inet_server_port()); RETURN inet_server_port(); END $$;
                ALTER FUNCTION sm_a.sm_write(text) OWNER TO app;
                """);
        cluster.waitForReplay();
        for (String poolMode : List.of("session", "statement")) {
            try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: " + poolMode + ", pool_size: 4")
                    .start()) {
                for (Map<String, String> mode : List.of(SIMPLE, EXTENDED)) {
                    String tag = "retry-" + poolMode + "-" + mode.keySet();
                    try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                        assertEquals(cluster.primaryPort(),
                                port(st, "/* pgsplit: route=replica */ SELECT sm_a.sm_write('" + tag + "')"));
                        assertTrue(isReplica(port(st, "SELECT inet_server_port()")));
                    }
                    try (Connection p = router.direct("primary"); var ps = p.prepareStatement(
                            "SELECT count(*) FROM sm_a.sm_t WHERE tag = ? AND port = inet_server_port()")) {
                        ps.setString(1, tag);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertEquals(1, rs.getInt(1), tag);
                        }
                    }
                }
            }
        }
    }

    @Test
    void primaryReadsTrue() throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).routing("primary_reads: true").start();
             Connection c = router.connect(); Statement st = c.createStatement()) {
            Set<Integer> ports = new HashSet<>();
            for (int i = 0; i < 12; i++) {
                ports.add(port(st, "SELECT inet_server_port()"));
            }
            Set<Integer> all = new HashSet<>(cluster.replicaPorts());
            all.add(cluster.primaryPort());
            assertEquals(all, ports, "reads go to the replicas and the primary");
        }
    }

    @Test
    void primaryReadsFalseKeepsReadsOffThePrimary() throws Exception {
        for (String balancing : List.of("round_robin", "least_outstanding", "weighted")) {
            try (RouterFixture router = RouterFixture.builder(cluster)
                    .routing("primary_reads: false, load_balancing: " + balancing).start();
                 Connection c = router.connect(); Statement st = c.createStatement()) {
                Set<Integer> ports = new HashSet<>();
                for (int i = 0; i < 12; i++) {
                    ports.add(port(st, "SELECT inet_server_port()"));
                }
                assertTrue(cluster.replicaPorts().containsAll(ports), balancing + ": " + ports);
                if (!balancing.equals("least_outstanding")) {
                    assertEquals(2, ports.size(), balancing + ": " + ports);
                }
            }
        }
    }
}
