package io.pgsplit.consistency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * pgbench through pgsplit under causal consistency (the default): tpcb-like, and a read-mostly mix (select-only
 * 9 : tpcb-like 1), run without a failure, and the money is all there (balances of accounts, tellers and
 * branches each equal the sum of the history's deltas).
 */
@ExtendWith(PgClusterExtension.class)
class CausalPgbenchTest {
    static final int CLIENTS = 4;

    @Test
    void tpcbLikeAndReadMostlyMixKeepTheMoney(LocalPgCluster cluster) throws Exception {
        run(List.of("pgbench", "-i", "-q", "-s", "1", "-h", cluster.host(), "-p", String.valueOf(cluster.primaryPort()),
                "-U", PgClusterExtension.APP_USER, PgClusterExtension.DB));
        cluster.waitForReplay();
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 8")
                .start()) {
            assertNoFailures(run(pgbench(router, 100, "-b", "tpcb-like")), 100);
            assertNoFailures(run(pgbench(router, 300, "-b", "select-only@9", "-b", "tpcb-like@1")), 300);
            ReadStats stats = router.router().context().reads("app").stats();
            assertTrue(stats.replicaReads() > 0, "the read-mostly mix read on replicas: " + stats.snapshot());
        }
        try (Connection c = Jdbc.connect(cluster, "primary", PgClusterExtension.DB, cluster.superuser(),
                cluster.superuserPassword()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (SELECT sum(abalance) FROM pgbench_accounts), "
                     + "(SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches), "
                     + "(SELECT coalesce(sum(delta), 0) FROM pgbench_history), (SELECT count(*) FROM pgbench_history)")) {
            rs.next();
            long history = rs.getLong(4);
            assertTrue(rs.getLong(5) > 0, "no tpcb-like transaction reached the primary");
            assertEquals(history, rs.getLong(1), "accounts");
            assertEquals(history, rs.getLong(2), "tellers");
            assertEquals(history, rs.getLong(3), "branches");
        }
    }

    static List<String> pgbench(RouterFixture router, int txns, String... args) {
        List<String> cmd = new ArrayList<>(List.of("pgbench", "-h", router.host(), "-p", String.valueOf(router.port()),
                "-U", PgClusterExtension.APP_USER, "-n", "-c", String.valueOf(CLIENTS), "-j", "2",
                "-t", String.valueOf(txns)));
        cmd.addAll(List.of(args));
        cmd.add(PgClusterExtension.DB);
        return cmd;
    }

    static void assertNoFailures(String out, int txnsPerClient) {
        Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(CLIENTS * txnsPerClient, Integer.parseInt(m.group(1)), out);
        Matcher f = Pattern.compile("number of failed transactions: (\\d+)").matcher(out);
        if (f.find()) {
            assertEquals(0, Integer.parseInt(f.group(1)), out);
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
}
