package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Back-pressure both ways (issue 18). A client asking for a huge result and reading it slowly keeps
 * pgsplit's buffer memory bounded (at most {@value #BOUND_MB} MB above idle: in practice the server
 * connection stops being read once the client's socket is full, and what is buffered is the two
 * sockets' windows and Netty's write-buffer high-water mark of 256 kB) and does not hold up other
 * clients; a server that sends slowly stalls only its own client.
 *
 * <p>The CI run reads {@code pgsplit.backpressure.bytes} (default 64 MB) of a ~1 GB result slowly,
 * then vanishes; the full 1 GB, read to the end:
 * {@code mvn -B -o verify -Dtest=BackPressureTest -Dpgsplit.backpressure.bytes=1100000000 -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@ExtendWith(PgClusterExtension.class)
class BackPressureTest {
    static final int BOUND_MB = 64;
    static RouterFixture router;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 4").start();
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    /** Buffer memory of Netty's default allocator (what pgsplit's channels use), in bytes. */
    static long nettyMemory() {
        ByteBufAllocatorMetric m = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        return m.usedDirectMemory() + m.usedHeapMemory();
    }

    static long heapAfterGc() throws InterruptedException {
        System.gc();
        Thread.sleep(50);
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    void hugeResultReadSlowlyKeepsMemoryBoundedAndOthersServed() throws Exception {
        long limit = Long.getLong("pgsplit.backpressure.bytes", 64L << 20);
        long baselineMillis = otherClientQueries(); // the same 50 queries with nothing else running
        long idleNetty = nettyMemory();
        long idleHeap = heapAfterGc();
        long maxNetty = 0;
        long read = 0;
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(64 * 1024);
            s.connect(new InetSocketAddress(router.host(), router.port()));
            s.setSoTimeout(30_000);
            Wire w = new Wire(s);
            w.loginTrust("trustuser", "app");
            // ~1.1 GB of rows: 1,000,000 rows of 1,000 bytes (plus headers), from a replica
            w.send(Wire.query("SELECT repeat('x', 1000) FROM generate_series(1, 1100000)"));
            // Not reading at all for a while: pgsplit must stop reading the server, not buffer the result.
            Thread.sleep(2000);
            long stalled = nettyMemory() - idleNetty;
            maxNetty = Math.max(maxNetty, stalled);
            CompletableFuture<Long> others = CompletableFuture.supplyAsync(BackPressureTest::otherClientQueries);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long nextPause = 0;
            while (read < limit) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                read += n;
                if (read >= nextPause) {
                    // slow reader: 64 kB per 2 ms at most, sampling pgsplit's memory as it goes
                    Thread.sleep(2);
                    nextPause = read + buf.length;
                    maxNetty = Math.max(maxNetty, nettyMemory() - idleNetty);
                }
            }
            long othersMillis = others.get(60, TimeUnit.SECONDS);
            long heapGrowth = heapAfterGc() - idleHeap;
            System.out.printf("back-pressure: read %d MB slowly; pgsplit buffers above idle: %.1f MB max "
                            + "(%.1f MB while not reading at all), heap after GC %+.1f MB; 50 queries of another client took %d ms (%d ms alone)%n",
                    read >> 20, maxNetty / 1048576.0, stalled / 1048576.0, heapGrowth / 1048576.0, othersMillis,
                    baselineMillis);
            assertTrue(maxNetty < (long) BOUND_MB << 20, "pgsplit buffered " + (maxNetty >> 20) + " MB");
            assertTrue(heapGrowth < (long) BOUND_MB << 20, "heap grew by " + (heapGrowth >> 20) + " MB");
            s.setSoLinger(true, 0); // and vanish in the middle of the result
        }
        // the huge query must not run on: pgsplit cancels it when its client goes away
        try (Connection r1 = router.direct("r1"); Connection r2 = router.direct("r2");
             Connection p = router.direct("primary")) {
            long deadline = System.nanoTime() + 5_000_000_000L;
            long running;
            do {
                running = 0;
                for (Connection c : new Connection[] {r1, r2, p}) {
                    running += ((Number) Jdbc.queryValue(c, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                            + "AND query LIKE 'SELECT repeat(''x'', 1000)%'")).longValue();
                }
                if (running > 0) {
                    Thread.sleep(20);
                }
            } while (running > 0 && System.nanoTime() < deadline);
            assertEquals(0, running, "the vanished client's huge query still runs");
        }
    }

    /** 50 queries of another client while the slow one streams: they must not wait for it. */
    static long otherClientQueries() {
        long start = System.nanoTime();
        try (Connection c = router.connect()) {
            for (int i = 0; i < 50; i++) {
                assertEquals(i, ((Number) Jdbc.queryValue(c, "SELECT " + i)).intValue());
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void slowServerStallsOnlyItsOwnClient() throws Exception {
        CompletableFuture<Long> slow = CompletableFuture.supplyAsync(() -> {
            long start = System.nanoTime();
            try (Connection c = router.connect(Map.of("ApplicationName", "slow-server"))) {
                // one row every 0.2 s for 4 s, streamed by the server as it goes
                Jdbc.queryValue(c, "SELECT count(pg_sleep(0.2)) FROM generate_series(1, 20)");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return (System.nanoTime() - start) / 1_000_000;
        });
        try (Connection direct = router.direct("r1"); Connection direct2 = router.direct("r2")) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline) {
                long n = ((Number) Jdbc.queryValue(direct, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                        + "'SELECT count(pg_sleep%' AND state = 'active'")).longValue()
                        + ((Number) Jdbc.queryValue(direct2, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                        + "'SELECT count(pg_sleep%' AND state = 'active'")).longValue();
                if (n > 0) {
                    break;
                }
                Thread.sleep(10);
            }
        }
        long others = otherClientQueries();
        assertTrue(!slow.isDone(), "the slow query should still be running while the others finished");
        long slowMillis = slow.get(60, TimeUnit.SECONDS);
        System.out.printf("slow server: its own client waited %d ms; 50 queries of another client took %d ms%n",
                slowMillis, others);
        assertTrue(others < slowMillis, "other client's queries took " + others + " ms, the slow one " + slowMillis);
    }
}
