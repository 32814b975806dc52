package io.pgsplit.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.testing.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * pgbench through pgsplit while servers go away, each test on a cluster of its own: losing a replica loses no
 * client and fails no transaction; a promotion under tpcb-like load is followed within 5 s and the money adds up.
 */
class PgbenchFailoverTest {

    private static void init(HaCluster ha) throws Exception {
        Pgbench.run(120, List.of("pgbench", "-i", "-q", "-s", "1", "-h", ha.pg.host(), "-p",
                String.valueOf(ha.pg.primaryPort()), "-U", "app", "app"));
        ha.pg.waitForReplay();
    }

    private static List<String> pgbench(HaCluster ha, String... args) {
        List<String> cmd = new ArrayList<>(List.of("pgbench", "-h", ha.router.host(), "-p",
                String.valueOf(ha.router.port()), "-U", "app", "-n"));
        cmd.addAll(List.of(args));
        cmd.add("app");
        return cmd;
    }

    @Test
    void selectOnlyLosesAReplicaMidRunWithoutLosingAClient() throws Exception {
        try (HaCluster ha = HaCluster.start("pgbench-s")) {
            init(ha);
            ha.router(FailoverTest.HA, "pool_mode: transaction, pool_size: 20");
            CompletableFuture<Pgbench.Result> run = CompletableFuture.supplyAsync(() -> Pgbench.runUnchecked(120,
                    pgbench(ha, "-S", "-c", "16", "-j", "4", "-T", "10")));
            Thread.sleep(3000);
            ha.pg.stopNode("r1", "immediate");
            Pgbench.Result r = run.get(150, TimeUnit.SECONDS);
            System.out.println("HA-MEASURE pgbench -S -c 16, r1 stopped -m immediate at 3 s:\n" + r.output());
            assertEquals(0, r.exitCode(), r.output());
            assertFalse(r.output().contains("aborted"), r.output());
            assertEquals(0, r.failed(), r.output());
            assertTrue(r.processed() > 0, r.output());
        }
    }

    @Test
    void tpcbLikeFollowsAPromotionWithin5SecondsAndConservesMoney() throws Exception {
        try (HaCluster ha = HaCluster.start("pgbench-tpcb")) {
            init(ha);
            ha.router(FailoverTest.HA, "pool_mode: transaction, pool_size: 20");
            CompletableFuture<Pgbench.Result> run = CompletableFuture.supplyAsync(() -> Pgbench.runUnchecked(120,
                    pgbench(ha, "-c", "8", "-j", "4", "-T", "15")));
            try (Connection probe = ha.connect(); Statement st = probe.createStatement()) {
                st.execute("CREATE TABLE failover_probe(at timestamptz, port int)");
                Thread.sleep(4000);
                ha.pg.stopNode("primary", "fast");
                ha.pg.promote("r1");
                long promotedAt = System.nanoTime();
                // a client outside a transaction: its write waits for the new primary and succeeds, no error
                int port = ((Number) Jdbc.queryValue(probe,
                        "INSERT INTO failover_probe VALUES (now(), inet_server_port()) RETURNING port")).intValue();
                long resumedMs = (System.nanoTime() - promotedAt) / 1_000_000;
                System.out.println("HA-MEASURE tpcb-like: writes resumed " + resumedMs + " ms after pg_ctl promote");
                assertEquals(ha.pg.port("r1"), port);
                assertTrue(resumedMs < 5000, "writes resumed after " + resumedMs + " ms");
            }
            Pgbench.Result r = run.get(150, TimeUnit.SECONDS);
            System.out.println("HA-MEASURE pgbench tpcb-like -c 8, primary stopped -m fast + r1 promoted at 4 s:\n"
                    + r.output());
            // clients caught inside a transaction when the primary stopped get an error (pgbench then aborts
            // them); the others go on on the new primary
            assertTrue(r.processed() > 0, r.output());
            try (Connection c = ha.direct("r1"); Statement st = c.createStatement()) {
                long delta = ((Number) Jdbc.queryValue(c, "SELECT coalesce(sum(delta), 0) FROM pgbench_history")).longValue();
                long accounts = ((Number) Jdbc.queryValue(c, "SELECT sum(abalance) FROM pgbench_accounts")).longValue();
                long tellers = ((Number) Jdbc.queryValue(c, "SELECT sum(tbalance) FROM pgbench_tellers")).longValue();
                long branches = ((Number) Jdbc.queryValue(c, "SELECT sum(bbalance) FROM pgbench_branches")).longValue();
                long history = ((Number) Jdbc.queryValue(c, "SELECT count(*) FROM pgbench_history")).longValue();
                System.out.println("HA-MEASURE money: history rows " + history + ", sum(delta) " + delta + ", accounts "
                        + accounts + ", tellers " + tellers + ", branches " + branches);
                assertTrue(history > 0);
                assertEquals(delta, accounts, "accounts");
                assertEquals(delta, tellers, "tellers");
                assertEquals(delta, branches, "branches");
            }
        }
    }

    /** pgbench as a process, its summary parsed. */
    static final class Pgbench {
        record Result(int exitCode, String output) {
            long processed() {
                Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(output);
                return m.find() ? Long.parseLong(m.group(1)) : -1;
            }

            long failed() {
                Matcher m = Pattern.compile("number of failed transactions: (\\d+)").matcher(output);
                return m.find() ? Long.parseLong(m.group(1)) : 0;
            }
        }

        static Result run(long timeoutSeconds, List<String> command) throws Exception {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("PGPASSWORD", "app");
            pb.environment().put("PGCONNECT_TIMEOUT", "10");
            Process p = pb.start();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getInputStream().readAllBytes();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("timed out: " + command + "\n" + new String(out.get()));
            }
            Result r = new Result(p.exitValue(), new String(out.get(10, TimeUnit.SECONDS)));
            if (command.contains("-i") && r.exitCode() != 0) {
                throw new AssertionError(r.output());
            }
            return r;
        }

        static Result runUnchecked(long timeoutSeconds, List<String> command) {
            try {
                return run(timeoutSeconds, command);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }
    }
}
