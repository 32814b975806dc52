package io.pgsplit.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.testing.Jdbc;
import io.pgsplit.topology.Node;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Failover on real servers, each test on a cluster of its own: a promotion is followed (writes wait for it and
 * resume on the new primary, the old primary returning as a standby serves reads), a split brain is fenced, a
 * frozen (SIGSTOPped) server is detected within the check timeout and hangs nothing.
 */
class FailoverTest {
    /** Timeouts generous enough for a loaded test machine (a SCRAM login can take over a second there). */
    static final String HA = "check_interval: 200ms, check_timeout: 2s, failover_wait: 10s";

    private static int port(Connection c, String sql) throws SQLException {
        return ((Number) Jdbc.queryValue(c, sql)).intValue();
    }

    @Test
    void promotionIsFollowedWritesWaitAndTheOldPrimaryReturnsAsAStandby() throws Exception {
        try (HaCluster ha = HaCluster.start("promotion")) {
            ha.router(HA, "pool_mode: transaction, pool_size: 4");
            int r1 = ha.pg.port("r1");
            try (Connection c = ha.connect(); Connection idle = ha.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t(id serial, port int)");
                assertEquals(ha.pg.primaryPort(), port(c, "INSERT INTO t(port) VALUES (inet_server_port()) RETURNING port"));

                ha.pg.stopNode("primary", "fast");
                ha.pg.promote("r1");
                long promotedAt = System.nanoTime();
                // a client that was not in a transaction: its write waits for the new primary, no error
                assertEquals(r1, port(idle, "INSERT INTO t(port) VALUES (inet_server_port()) RETURNING port"));
                long resumedMs = (System.nanoTime() - promotedAt) / 1_000_000;
                System.out.println("HA-MEASURE writes resumed " + resumedMs + " ms after pg_ctl promote returned");
                assertTrue(resumedMs < 5000, "writes resumed only after " + resumedMs + " ms");
                assertEquals("r1", ha.topology().primary().name());
                assertEquals(r1, port(c, "INSERT INTO t(port) VALUES (inet_server_port()) RETURNING port"));

                // the old primary comes back as a standby of r1 and serves reads
                ha.pg.startAsStandbyOf("primary", "r1");
                Node old = ha.node("primary");
                HaCluster.await("old primary checked as a standby", Duration.ofSeconds(20),
                        () -> old.isUp() && old.lastStatus() != null && old.lastStatus().inRecovery());
                HaCluster.await("a read on the old primary", Duration.ofSeconds(10), () -> {
                    try {
                        return port(c, "SELECT inet_server_port()") == ha.pg.primaryPort();
                    } catch (SQLException e) {
                        throw new AssertionError(e);
                    }
                });
                assertEquals("r1", ha.topology().primary().name(), "the returning standby did not take the writes");
            }
        }
    }

    @Test
    void splitBrainWritesOnlyWhereTheStandbysFollowElseNowhereWithTheReason() throws Exception {
        try (HaCluster ha = HaCluster.start("splitbrain")) {
            ha.router("check_interval: 200ms, check_timeout: 2s, failover_wait: 1s", "pool_mode: transaction");
            int primary = ha.pg.primaryPort();
            int r2 = ha.pg.port("r2");
            try (Connection c = ha.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t(id serial, port int)");
                ha.pg.waitForReplay();
                ha.pg.promote("r2"); // r1 still streams from the primary
                Node r2Node = ha.node("r2");
                long fencedMs = HaCluster.await("r2 fenced", Duration.ofSeconds(10),
                        () -> ha.topology().fenced().containsKey(r2Node));
                System.out.println("HA-MEASURE split brain fenced " + fencedMs + " ms after pg_ctl promote returned: "
                        + ha.topology().fenced().get(r2Node));
                for (int i = 0; i < 20; i++) {
                    assertEquals(primary, port(c, "INSERT INTO t(port) VALUES (inet_server_port()) RETURNING port"));
                    assertTrue(port(c, "SELECT inet_server_port()") != r2, "a read reached the fenced r2");
                }
                try (Connection direct = ha.direct("r2")) {
                    assertEquals(0L, Jdbc.queryValue(direct, "SELECT count(*) FROM t"), "a write reached r2");
                }

                // without r1, no standby says which one is the primary: no writes at all, and the error says why
                ha.pg.stopNode("r1", "immediate");
                HaCluster.await("writes held", Duration.ofSeconds(10), () -> ha.topology().writablePrimary() == null);
                SQLException e = assertThrows(SQLException.class,
                        () -> port(c, "INSERT INTO t(port) VALUES (inet_server_port()) RETURNING port"));
                System.out.println("HA-MEASURE split brain error: " + e.getMessage());
                assertTrue(e.getMessage().contains("split brain"), e.getMessage());
                assertTrue(e.getMessage().contains("primary 127.0.0.1:" + primary) && e.getMessage().contains(
                        "r2 127.0.0.1:" + r2), e.getMessage());
                try (Connection direct = ha.direct("r2")) {
                    assertEquals(0L, Jdbc.queryValue(direct, "SELECT count(*) FROM t"), "a write reached r2");
                }
                assertEquals(20L, Jdbc.queryValue(ha.direct("primary"), "SELECT count(*) FROM t"));
                // and the client connection is still usable
                assertEquals(1, ((Number) Jdbc.queryValue(c, "SELECT 1")).intValue());
            }
        }
    }

    @Test
    void aFrozenServerIsDetectedWithinTheCheckTimeoutAndHangsNothing() throws Exception {
        try (HaCluster ha = HaCluster.start("sigstop")) {
            ha.router(HA, "pool_mode: transaction, pool_size: 8, server_connect_timeout: 2s");
            ExecutorService readers = Executors.newFixedThreadPool(4);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong slowest = new AtomicLong();
            AtomicLong frozenAt = new AtomicLong(Long.MAX_VALUE);
            List<Future<Integer>> results = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    results.add(readers.submit(() -> {
                        int reads = 0;
                        try (Connection c = ha.connect()) {
                            while (!stop.get()) {
                                long t0 = System.nanoTime();
                                Jdbc.queryValue(c, "SELECT inet_server_port()");
                                long took = (System.nanoTime() - t0) / 1_000_000;
                                if (t0 > frozenAt.get()) {
                                    slowest.accumulateAndGet(took, Math::max);
                                }
                                reads++;
                            }
                        }
                        return reads;
                    }));
                }
                Thread.sleep(500);
                ha.freeze("r1", true);
                frozenAt.set(System.nanoTime());
                Node r1 = ha.node("r1");
                long detectedMs = HaCluster.await("r1 marked down", Duration.ofSeconds(5), () -> !r1.isUp());
                System.out.println("HA-MEASURE SIGSTOPped r1 marked down after " + detectedMs + " ms: " + r1.downReason());
                // a check unanswered within check_timeout (2 s) marks it down: 2.0-2.2 s measured alone; a loaded
                // machine (the full suite on 2 cores) has stretched it to 4 s, hence twice the timeout plus slack
                assertTrue(detectedMs <= 2 * 2000 + 200 + 800, "detected after " + detectedMs + " ms");
                // a new client logs in and reads without waiting for the frozen server
                long t0 = System.nanoTime();
                try (Connection fresh = ha.connect()) {
                    assertTrue(port(fresh, "SELECT inet_server_port()") != ha.pg.port("r1"));
                }
                long freshMs = (System.nanoTime() - t0) / 1_000_000;
                System.out.println("HA-MEASURE new client connected and read in " + freshMs + " ms");
                assertTrue(freshMs < 2500, "a new client took " + freshMs + " ms");
                Thread.sleep(1000);
                stop.set(true);
                for (Future<Integer> f : results) {
                    assertTrue(f.get(10, TimeUnit.SECONDS) > 0, "a reader failed or hung");
                }
                System.out.println("HA-MEASURE slowest read after the freeze: " + slowest.get() + " ms");
                assertTrue(slowest.get() < 4000, "a read waited " + slowest.get() + " ms on the frozen server");
            } finally {
                stop.set(true);
                ha.freeze("r1", false);
                readers.shutdownNow();
            }
            Node r1 = ha.node("r1");
            HaCluster.await("r1 back up after SIGCONT", Duration.ofSeconds(40), r1::isUp);
        }
    }
}
