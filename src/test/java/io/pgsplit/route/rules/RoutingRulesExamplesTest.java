package io.pgsplit.route.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Each example of {@code routing-rules/} loaded into a running pgsplit: the statements it is about run on
 * another node than without it (asked of the server: {@code inet_server_port()}).
 */
@ExtendWith(PgClusterExtension.class)
class RoutingRulesExamplesTest {
    static LocalPgCluster cluster;
    /** The same cluster without rules: where the statements go by default. */
    static RouterFixture plain;

    @BeforeAll
    static void schema(LocalPgCluster c) throws Exception {
        cluster = c;
        try (Connection conn = Jdbc.connect(c, "primary", PgClusterExtension.DB, PgClusterExtension.APP_USER,
                PgClusterExtension.APP_PASSWORD); Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS report_sales (id int, amount int)");
            st.execute("INSERT INTO report_sales SELECT 1, 10 WHERE NOT EXISTS (SELECT FROM report_sales)");
            // PL/pgSQL without STABLE: VOLATILE in pg_proc, so pgsplit must assume it writes
            st.execute("CREATE OR REPLACE FUNCTION report_total(i int) RETURNS bigint LANGUAGE plpgsql AS "
                    + "$$ BEGIN RETURN (SELECT sum(amount) FROM report_sales WHERE id = i); END $$");
            st.execute("CREATE OR REPLACE FUNCTION my_report_fn() RETURNS bigint LANGUAGE plpgsql AS "
                    + "$$ BEGIN RETURN (SELECT count(*) FROM report_sales); END $$");
            st.execute("CREATE OR REPLACE FUNCTION cache_fill() RETURNS bigint LANGUAGE sql STABLE AS "
                    + "$$ SELECT count(*) FROM report_sales $$");
            st.execute("CREATE TABLE IF NOT EXISTS audit_log (id serial, what text)");
            st.execute("CREATE SCHEMA IF NOT EXISTS analytics");
            st.execute("CREATE TABLE IF NOT EXISTS analytics.events (id int)");
        }
        for (String replica : c.replicaNames()) {
            awaitReplicated(replica);
        }
        plain = RouterFixture.builder(c).replicaGroup("r2", "analytics").start();
    }

    private static void awaitReplicated(String replica) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        try (Connection conn = Jdbc.connect(cluster, replica, PgClusterExtension.DB, cluster.superuser(),
                cluster.superuserPassword()); Statement st = conn.createStatement()) {
            while (true) {
                // created last: once the replica has it, it has replayed everything before (WAL order)
                try (ResultSet rs = st.executeQuery("SELECT to_regclass('analytics.events') IS NOT NULL")) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("schema not replicated to " + replica);
                }
                Thread.sleep(20); // polling the replica with a deadline
            }
        }
    }

    @AfterAll
    static void stop() {
        if (plain != null) {
            plain.close();
        }
    }

    private static RouterFixture withRules(String example) throws Exception {
        return RouterFixture.builder(cluster).replicaGroup("r2", "analytics")
                .rules(Path.of("routing-rules", example)).start();
    }

    /** The port of the node each of {@code times} runs of {@code sql} (port in the first column) ran on. */
    private static Set<Integer> ports(Connection conn, String sql, int times) throws SQLException {
        Set<Integer> ports = new HashSet<>();
        try (Statement st = conn.createStatement()) {
            for (int i = 0; i < times; i++) {
                try (ResultSet rs = st.executeQuery(sql)) {
                    rs.next();
                    ports.add(rs.getInt(1));
                }
            }
        }
        return ports;
    }

    private static Set<Integer> replicas() {
        return new HashSet<>(cluster.replicaPorts());
    }

    private static Set<Integer> primary() {
        return Set.of(cluster.primaryPort());
    }

    private static boolean onReplicas(Set<Integer> ports) {
        return !ports.isEmpty() && replicas().containsAll(ports);
    }

    @Test
    void reportsToReplicas() throws Exception {
        String sql = "SELECT inet_server_port(), report_total(id) FROM report_sales";
        try (Connection conn = plain.connect()) {
            assertEquals(primary(), ports(conn, sql, 4), "without the rule: a volatile function, so the primary");
        }
        try (RouterFixture router = withRules("reports-to-replicas.yaml")) {
            try (Connection conn = router.connect()) {
                Set<Integer> ports = ports(conn, sql, 4);
                assertTrue(onReplicas(ports), "with the rule: replicas, got " + ports);
                assertEquals(primary(), ports(conn, "INSERT INTO report_sales VALUES (2, 0) RETURNING "
                        + "inet_server_port()", 1), "a write is not a SELECT: not matched");
            }
            try (Connection conn = router.connect(Map.of("preferQueryMode", "simple"))) {
                assertTrue(onReplicas(ports(conn, sql, 2)), "simple protocol too");
            }
            assertEquals(Map.of("reports-on-replicas", 6L, "exports-anywhere", 0L), router.router().ruleCounts());
        }
    }

    @Test
    void tableOnPrimary() throws Exception {
        String sql = "SELECT inet_server_port(), count(*) FROM audit_log";
        try (Connection conn = plain.connect()) {
            assertTrue(onReplicas(ports(conn, sql, 4)), "without the rule: a read, so replicas");
        }
        try (RouterFixture router = withRules("table-on-primary.yaml"); Connection conn = router.connect()) {
            assertEquals(primary(), ports(conn, sql, 4));
            assertEquals(primary(), ports(conn, "SELECT inet_server_port(), count(*) FROM public.audit_log a "
                    + "JOIN report_sales r ON r.id = a.id", 2), "schema-qualified, in a join");
            assertTrue(onReplicas(ports(conn, "SELECT inet_server_port(), count(*) FROM report_sales", 4)),
                    "other tables are not concerned");
        }
    }

    @Test
    void applicationPinnedToPrimary() throws Exception {
        String sql = "SELECT inet_server_port()";
        Map<String, String> billing = Map.of("ApplicationName", "billing-worker");
        try (Connection conn = plain.connect(billing)) {
            assertTrue(onReplicas(ports(conn, sql, 4)), "without the rule: replicas");
        }
        try (RouterFixture router = withRules("app-pinned-to-primary.yaml")) {
            try (Connection conn = router.connect(billing)) {
                assertEquals(primary(), ports(conn, sql, 4));
            }
            try (Connection conn = router.connect(Map.of("ApplicationName", "shop"))) {
                assertTrue(onReplicas(ports(conn, sql, 4)), "other applications keep the replicas");
            }
            assertEquals(Map.of("billing-on-primary", 4L), router.router().ruleCounts());
        }
    }

    @Test
    void readOnlyFunction() throws Exception {
        String readOnly = "SELECT inet_server_port(), my_report_fn()";
        String writes = "SELECT inet_server_port(), cache_fill()";
        try (Connection conn = plain.connect()) {
            assertEquals(primary(), ports(conn, readOnly, 3), "without the file: VOLATILE, the primary");
            assertTrue(onReplicas(ports(conn, writes, 3)), "without the file: STABLE, replicas");
        }
        try (RouterFixture router = withRules("readonly-function.yaml"); Connection conn = router.connect()) {
            Set<Integer> ports = ports(conn, readOnly, 3);
            assertTrue(onReplicas(ports), "declared read_only: replicas, got " + ports);
            assertEquals(primary(), ports(conn, writes, 3), "declared a write: the primary");
            assertEquals(primary(), ports(conn, "SELECT inet_server_port(), public.cache_fill()", 1));
        }
    }

    @Test
    void rulesDecideWhereATransactionGoes() throws Exception {
        String sql = "SELECT inet_server_port(), count(*) FROM audit_log";
        try (RouterFixture router = withRules("table-on-primary.yaml"); Connection conn = router.connect()) {
            conn.setReadOnly(true);
            conn.setAutoCommit(false);
            assertTrue(onReplicas(ports(conn, "SELECT inet_server_port()", 1)),
                    "a read-only transaction goes to a replica");
            conn.commit();
            assertEquals(primary(), ports(conn, sql, 1), "its first statement reads audit_log: the primary");
            conn.commit();
        }
        int r2 = cluster.replicaPorts().get(cluster.replicaNames().indexOf("r2"));
        String analytics = "SELECT inet_server_port(), count(*) FROM analytics.events";
        try (RouterFixture router = withRules("analytics-replica.yaml"); Connection conn = router.connect()) {
            conn.setAutoCommit(false);
            assertEquals(primary(), ports(conn, analytics, 1),
                    "a read-write transaction stays on the primary: a rule cannot send it to a replica");
            conn.commit();
            conn.setReadOnly(true);
            for (int i = 0; i < 3; i++) {
                assertEquals(Set.of(r2), ports(conn, analytics, 1), "a read-only transaction follows the rule");
                conn.commit();
            }
        }
    }

    @Test
    void analyticsReplicaGroup() throws Exception {
        String sql = "SELECT inet_server_port(), count(*) FROM analytics.events";
        int r2 = cluster.replicaPorts().get(cluster.replicaNames().indexOf("r2"));
        try (Connection conn = plain.connect()) {
            assertEquals(replicas(), ports(conn, sql, 6), "without the rule: balanced over r1 and r2");
        }
        try (RouterFixture router = withRules("analytics-replica.yaml"); Connection conn = router.connect()) {
            assertEquals(Set.of(r2), ports(conn, sql, 6));
            assertEquals(replicas(), ports(conn, "SELECT inet_server_port(), count(*) FROM report_sales", 6),
                    "other reads stay balanced");
            Rule rule = router.router().rules().rules().get(0);
            assertEquals(java.time.Duration.ofMinutes(5), rule.maxLag());
            assertEquals(List.of("analytics-schema-on-analytics-replicas"), List.copyOf(router.router().ruleCounts().keySet()));
        }
    }
}
