package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * pgbench through pgsplit: the select-only script runs on the replicas (their committed transactions grow, the
 * primary's stay flat), and the tpcb-like script, all writes, runs without a failure.
 */
@ExtendWith(PgClusterExtension.class)
class PgbenchSplittingTest {
    static final int CLIENTS = 4;
    static final int TXNS_PER_CLIENT = 150;
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        // initialised directly on the primary (pgbench -i uses COPY FREEZE and VACUUM, not what this is about)
        run(List.of("pgbench", "-i", "-q", "-s", "1", "-h", c.host(), "-p", String.valueOf(c.primaryPort()),
                "-U", PgClusterExtension.APP_USER, PgClusterExtension.DB));
        c.waitForReplay();
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 8").start();
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    static String run(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", PgClusterExtension.APP_PASSWORD);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + command);
        }
        String text = new String(out);
        assertEquals(0, p.exitValue(), command + "\n" + text);
        return text;
    }

    /** xact_commit of database app on a node, read on a fresh connection (no stats snapshot carried over). */
    static long commits(String node) throws Exception {
        try (Connection c = router.direct(node); Statement st = c.createStatement()) {
            st.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet rs = st.executeQuery("SELECT xact_commit FROM pg_stat_database WHERE datname = 'app'")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static long replicaCommits() throws Exception {
        long n = 0;
        for (String r : cluster.replicaNames()) {
            n += commits(r);
        }
        return n;
    }

    List<String> pgbench(String... args) {
        List<String> cmd = new ArrayList<>(List.of("pgbench", "-h", router.host(), "-p", String.valueOf(router.port()),
                "-U", PgClusterExtension.APP_USER, "-n", "-c", String.valueOf(CLIENTS), "-j", "2",
                "-t", String.valueOf(TXNS_PER_CLIENT)));
        cmd.addAll(List.of(args));
        cmd.add(PgClusterExtension.DB);
        return cmd;
    }

    static void assertNoFailures(String out) {
        Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(CLIENTS * TXNS_PER_CLIENT, Integer.parseInt(m.group(1)), out);
        Matcher f = Pattern.compile("number of failed transactions: (\\d+)").matcher(out);
        if (f.find()) {
            assertEquals(0, Integer.parseInt(f.group(1)), out);
        }
    }

    /**
     * Waits until no other backend of database app runs on any node. Idle backends report their statistics
     * up to 10 s late, exiting ones at once and before they leave pg_stat_activity: so once pgsplit's server
     * connections are closed and gone, pg_stat_database is complete.
     */
    static void awaitQuiet() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (String node : cluster.nodeNames()) {
            while (true) {
                try (Connection c = router.direct(node); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' "
                             + "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                             + "AND application_name <> '" + io.pgsplit.consistency.ReadGate.PROBE_APPLICATION_NAME + "'")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    fail("backends of app still running on " + node);
                }
                Thread.sleep(50); // polling pg_stat_activity, with a deadline
            }
        }
    }

    void selectOnlyRunsOnReplicas(String protocol) throws Exception {
        router.close(); // pgsplit's server connections exit and report their statistics
        awaitQuiet();
        long primaryBefore = commits("primary");
        long replicasBefore = replicaCommits();
        router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 8").start();
        String out = run(pgbench("-S", "-M", protocol));
        assertNoFailures(out);
        router.close();
        awaitQuiet();
        int txns = CLIENTS * TXNS_PER_CLIENT;
        long replicaDelta = replicaCommits() - replicasBefore;
        assertTrue(replicaDelta >= txns, "replicas committed " + replicaDelta + " of " + txns + " transactions");
        long primaryDelta = commits("primary") - primaryBefore;
        // pgsplit's catalog query and login probes, this test's own stats queries: a handful, never one per
        // transaction
        assertTrue(primaryDelta < 30, "the primary committed " + primaryDelta + " transactions during a "
                + txns + "-transaction select-only run (" + protocol + ")");
        System.out.println("select-only " + protocol + ": primary +" + primaryDelta + ", replicas +" + replicaDelta);
    }

    @Test
    void selectOnlySimple() throws Exception {
        selectOnlyRunsOnReplicas("simple");
    }

    @Test
    void selectOnlyExtended() throws Exception {
        selectOnlyRunsOnReplicas("extended");
    }

    @Test
    void selectOnlyPrepared() throws Exception {
        selectOnlyRunsOnReplicas("prepared");
    }

    @Test
    void tpcbLikeRunsWithoutFailures() throws Exception {
        long historyBefore = historyRows();
        for (String protocol : List.of("simple", "prepared")) {
            assertNoFailures(run(pgbench("-M", protocol)));
        }
        // every transaction inserted its history row on the primary
        assertEquals(2L * CLIENTS * TXNS_PER_CLIENT, historyRows() - historyBefore);
    }

    @Test
    void manyClientsMixed() throws Exception {
        // select-only and tpcb-like at once, 32 + 16 clients on a pool of 8 per node
        ProcessBuilder reads = new ProcessBuilder(List.of("pgbench", "-h", router.host(), "-p",
                String.valueOf(router.port()), "-U", PgClusterExtension.APP_USER, "-n", "-c", "32", "-j", "2",
                "-t", "50", "-S", "-M", "prepared", PgClusterExtension.DB)).redirectErrorStream(true);
        reads.environment().put("PGPASSWORD", PgClusterExtension.APP_PASSWORD);
        Process p = reads.start();
        String writes = run(List.of("pgbench", "-h", router.host(), "-p", String.valueOf(router.port()),
                "-U", PgClusterExtension.APP_USER, "-n", "-c", "16", "-j", "2", "-t", "30", PgClusterExtension.DB));
        String readOut = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), readOut);
        assertTrue(readOut.contains("number of transactions actually processed: 1600/1600"), readOut);
        assertTrue(writes.contains("number of transactions actually processed: 480/480"), writes);
    }

    static long historyRows() throws Exception {
        try (Connection c = router.direct("primary"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pgbench_history")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
