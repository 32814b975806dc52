package io.pgsplit.consistency;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Causal, session and eventual reads against the real cluster, with replica r1 made to lag on purpose
 * ({@code recovery_min_apply_delay}): a write acknowledged by pgsplit is seen by every later read, on the same
 * connection or another; eventual reads do see stale rows on the lagging replica (so these tests can fail);
 * reads with no recent write still go to replicas, and the lagging replica gets reads again once caught up.
 */
@ExtendWith(PgClusterExtension.class)
class CausalReadsTest {
    static final String LAGGING = "r1";
    static final String DELAY = "400ms";
    static final int ROUNDS = 1000;
    static LocalPgCluster cluster;
    static final AtomicInteger ids = new AtomicInteger();

    @BeforeAll
    static void setUp(LocalPgCluster c) throws Exception {
        cluster = c;
        try (Connection p = direct("primary"); Statement st = p.createStatement()) {
            st.execute("DROP TABLE IF EXISTS causal_t");
            st.execute("CREATE TABLE causal_t (id int PRIMARY KEY, v int)");
            st.execute("GRANT ALL ON causal_t TO PUBLIC");
        }
        cluster.waitForReplay();
        LagControl.delay(cluster, LAGGING, DELAY);
    }

    @AfterAll
    static void tearDown() throws Exception {
        LagControl.delay(cluster, LAGGING, null);
        cluster.waitForReplay();
    }

    static Connection direct(String node) throws SQLException {
        return Jdbc.connect(cluster, node, PgClusterExtension.DB, cluster.superuser(), cluster.superuserPassword());
    }

    /** Counts of one run of rounds: reads that missed the row written before them, errors, reads on replicas. */
    record Tally(int stale, int errors, int onReplica, int rounds, List<String> firstProblems) {
        @Override
        public String toString() {
            return stale + " stale, " + errors + " errors, " + onReplica + "/" + rounds + " reads on replicas "
                    + firstProblems;
        }
    }

    /** {@code rounds} times: INSERT a new row on {@code writer}, then read it back on {@code reader}. */
    static Tally writeThenRead(Connection writer, Connection reader, int rounds) throws SQLException {
        int stale = 0;
        int errors = 0;
        int onReplica = 0;
        List<String> problems = new ArrayList<>();
        try (PreparedStatement ins = writer.prepareStatement("INSERT INTO causal_t VALUES (?, 1)");
             PreparedStatement sel = reader.prepareStatement(
                     "SELECT (SELECT count(*) FROM causal_t WHERE id = ?), pg_is_in_recovery(), inet_server_port()")) {
            for (int i = 0; i < rounds; i++) {
                int id = ids.incrementAndGet();
                try {
                    ins.setInt(1, id);
                    ins.executeUpdate();
                    sel.setInt(1, id);
                    try (ResultSet rs = sel.executeQuery()) {
                        rs.next();
                        if (rs.getLong(1) != 1) {
                            stale++;
                            if (problems.size() < 3) {
                                problems.add("row " + id + " missing on port " + rs.getInt(3));
                            }
                        }
                        if (rs.getBoolean(2)) {
                            onReplica++;
                        }
                    }
                } catch (SQLException e) {
                    errors++;
                    if (problems.size() < 3) {
                        problems.add(e.getMessage());
                    }
                }
            }
        }
        return new Tally(stale, errors, onReplica, rounds, problems);
    }

    @Test
    void causalSameConnection() throws Exception {
        try (RouterFixture router = RouterFixture.start(cluster); Connection c = router.connect()) {
            Tally t = writeThenRead(c, c, ROUNDS);
            assertEquals(0, t.stale() + t.errors(), t.toString());
            // the reads still go to replicas: to the one that keeps up (r2), not to the lagging r1 or the primary
            assertTrue(t.onReplica() >= ROUNDS * 8 / 10, t.toString());
            ReadStats stats = router.router().context().reads("app").stats();
            assertTrue(stats.waits() > 0, "reads right after a write wait for a replica: " + stats.snapshot());
        }
    }

    @Test
    void causalAcrossTwoConnections() throws Exception {
        try (RouterFixture router = RouterFixture.start(cluster); Connection w = router.connect();
             Connection r = router.connect()) {
            Tally t = writeThenRead(w, r, ROUNDS);
            assertEquals(0, t.stale() + t.errors(), t.toString());
            assertTrue(t.onReplica() >= ROUNDS * 8 / 10, t.toString());
        }
    }

    @Test
    void causalCreateTableThenSelectOnAnotherConnection() throws Exception {
        try (RouterFixture router = RouterFixture.start(cluster); Connection w = router.connect();
             Connection r = router.connect(); Statement ws = w.createStatement(); Statement rs = r.createStatement()) {
            int errors = 0;
            String first = null;
            for (int i = 0; i < 30; i++) {
                ws.execute("CREATE TABLE causal_ddl_" + i + " (x int)");
                try {
                    rs.executeQuery("SELECT count(*) FROM causal_ddl_" + i).close();
                } catch (SQLException e) {
                    errors++;
                    first = first == null ? e.getMessage() : first;
                }
            }
            for (int i = 0; i < 30; i++) {
                ws.execute("DROP TABLE causal_ddl_" + i);
            }
            assertEquals(0, errors, first);
        }
    }

    @Test
    void sessionSeesItsOwnWrites() throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).routing("consistency: session").start();
             Connection c = router.connect()) {
            Tally t = writeThenRead(c, c, ROUNDS);
            assertEquals(0, t.stale() + t.errors(), t.toString());
            assertTrue(t.onReplica() >= ROUNDS * 8 / 10, t.toString());
        }
    }

    @Test
    void eventualReadsDoSeeTheLaggingReplicaStale() throws Exception {
        try (RouterFixture router = RouterFixture.start(cluster); Connection c = router.connect()) {
            try (Statement st = c.createStatement()) {
                st.execute("SET pgsplit.consistency = eventual"); // answered by pgsplit, for this session
            }
            Tally t = writeThenRead(c, c, 100);
            // round robin over r1 (400 ms behind) and r2: about half the reads miss the row just written
            assertTrue(t.stale() > 0, "eventual reads never missed a write: the test could not fail: " + t);
            assertEquals(0, t.errors(), t.toString());
            try (Statement st = c.createStatement()) {
                st.execute("RESET pgsplit.consistency"); // back to causal (the default)
            }
            Tally causal = writeThenRead(c, c, 100);
            assertEquals(0, causal.stale() + causal.errors(), causal.toString());
        }
    }

    @Test
    void commentHintAndStartupOptionChooseTheLevel() throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).routing("consistency: eventual").start();
             Connection c = router.connect(java.util.Map.of("options", "-c pgsplit.consistency=causal"))) {
            Tally t = writeThenRead(c, c, 200);
            assertEquals(0, t.stale() + t.errors(), "start-up option pgsplit.consistency=causal: " + t);
        }
        try (RouterFixture router = RouterFixture.builder(cluster).routing("consistency: eventual").start();
             Connection c = router.connect(); Statement st = c.createStatement()) {
            int stale = 0;
            for (int i = 0; i < 200; i++) {
                int id = ids.incrementAndGet();
                st.executeUpdate("INSERT INTO causal_t VALUES (" + id + ", 1)");
                try (ResultSet rs = st.executeQuery("/* pgsplit: consistency=causal */ SELECT count(*) FROM causal_t "
                        + "WHERE id = " + id)) {
                    rs.next();
                    stale += rs.getLong(1) == 1 ? 0 : 1;
                }
            }
            assertEquals(0, stale, "comment hint consistency=causal");
        }
        java.nio.file.Path rules = java.nio.file.Files.createTempFile("causal-rules", ".yaml");
        java.nio.file.Files.writeString(rules, "rules:\n  - name: fresh-causal-t\n    match: {tables: [causal_t]}\n"
                + "    route: replica\n    consistency: causal\n");
        try (RouterFixture router = RouterFixture.builder(cluster).routing("consistency: eventual, rules: \""
                + rules.toAbsolutePath() + "\"").start(); Connection c = router.connect()) {
            Tally t = writeThenRead(c, c, 200);
            assertEquals(0, t.stale() + t.errors(), "rule consistency: causal: " + t);
        } finally {
            java.nio.file.Files.deleteIfExists(rules);
        }
    }

    @Test
    void whenNoReplicaCatchesUpInTimeReadsGoToThePrimaryOrFailClearly() throws Exception {
        LagControl.delay(cluster, "r2", DELAY); // both replicas 400 ms behind, causal_wait 100 ms
        try {
            try (RouterFixture router = RouterFixture.builder(cluster).routing("causal_wait: 100ms").start();
                 Connection c = router.connect()) {
                Tally t = writeThenRead(c, c, 50);
                assertEquals(0, t.stale() + t.errors(), t.toString());
                assertTrue(t.onReplica() <= 5, "reads right after a write went to the primary: " + t);
                ReadStats stats = router.router().context().reads("app").stats();
                assertTrue(stats.count(true, ReadCheck.Outcome.TIMED_OUT) + stats.count(true, ReadCheck.Outcome.NO_REPLICA)
                        >= 45, stats.snapshot().toString());
            }
            try (RouterFixture router = RouterFixture.builder(cluster)
                    .routing("causal_wait: 100ms, primary_reads: false").start();
                 Connection c = router.connect(); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO causal_t VALUES (" + ids.incrementAndGet() + ", 1)");
                SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> st.executeQuery("SELECT count(*) FROM causal_t").close());
                assertTrue(e.getMessage().contains("has replayed the writes this read must see")
                        && e.getMessage().contains("primary_reads is false"), e.getMessage());
            }
        } finally {
            LagControl.delay(cluster, "r2", null);
        }
    }

    @Test
    void readsWithoutWritesGoToReplicasAndTheLaggingOneComesBack() throws Exception {
        try (RouterFixture router = RouterFixture.start(cluster); Connection c = router.connect()) {
            writeThenRead(c, c, 20);
            int lagging = cluster.port(LAGGING);
            // no more writes: once r1 has replayed them (DELAY later) it is as good as r2 again
            long deadline = System.nanoTime() + 20_000_000_000L;
            boolean seen = false;
            try (Statement st = c.createStatement()) {
                while (!seen && System.nanoTime() < deadline) {
                    try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
                        rs.next();
                        seen = rs.getInt(1) == lagging;
                    }
                }
                assertTrue(seen, "the lagging replica never got a read again after catching up");
                int onReplica = 0;
                int onLagging = 0;
                for (int i = 0; i < 100; i++) {
                    try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), inet_server_port()")) {
                        rs.next();
                        onReplica += rs.getBoolean(1) ? 1 : 0;
                        onLagging += rs.getInt(2) == lagging ? 1 : 0;
                    }
                }
                assertEquals(100, onReplica, "reads with no recent write all go to replicas");
                assertTrue(onLagging >= 30, "both replicas share them (r1 got " + onLagging + " of 100)");
            }
        }
    }
}
