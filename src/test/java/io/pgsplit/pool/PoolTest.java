package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.Future;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.testing.PgClusterExtension;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import io.pgsplit.topology.Node;

/** Pool and server connection behaviour against the real test cluster (primary + replicas). */
@ExtendWith(PgClusterExtension.class)
class PoolTest {
    private static EventLoopGroup group;
    private PoolManager manager;
    private Node primary;

    @BeforeAll
    static void startLoops() {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopLoops() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @BeforeEach
    void setUp() throws Exception {
        manager = new PoolManager(group);
        primary = TestServer.primary();
        waitFor("no pgsplit connections left from earlier tests", () -> count() == 0);
    }

    @AfterEach
    void tearDown() {
        manager.closeAll();
    }

    private static PoolConfig settings(int poolSize) {
        return PoolConfig.builder().poolSize(poolSize).build();
    }

    private static PoolConfig settings(int poolSize, Duration queryWait, Duration idle, Duration lifetime) {
        return PoolConfig.builder().poolSize(poolSize).reservePoolTimeout(Duration.ZERO).queryWaitTimeout(queryWait)
                .serverIdleTimeout(idle).serverLifetime(lifetime).build();
    }

    private Pool pool(String user, String password, PoolConfig settings) {
        return manager.pool(primary, new ServerCredentials(user, password, "app"), settings);
    }

    private static EventLoop loop() {
        return group.next();
    }

    private static ServerConnection get(Future<ServerConnection> f) throws Exception {
        assertTrue(f.await(10, TimeUnit.SECONDS), "acquire did not complete");
        if (!f.isSuccess()) {
            throw new AssertionError("acquire failed: " + f.cause(), f.cause());
        }
        return f.getNow();
    }

    private static PoolException failure(Future<ServerConnection> f) throws Exception {
        assertTrue(f.await(15, TimeUnit.SECONDS), "acquire did not complete");
        assertFalse(f.isSuccess(), "acquire should have failed");
        assertTrue(f.cause() instanceof PoolException, "not a PoolException: " + f.cause());
        return (PoolException) f.cause();
    }

    private static int count() {
        try {
            return TestServer.pgsplitConnections();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    private void assertLogin(String user, String password) throws Exception {
        Pool pool = pool(user, password, settings(2));
        ServerConnection conn = get(pool.acquire(loop()));
        assertEquals(user, SqlRunner.single(conn, "SELECT current_user"));
        assertNotEquals(0, conn.backendProcessId());
        assertEquals("pgsplit", conn.loginParameters().get("application_name"));
        assertNotNull(conn.loginParameters().get("server_version"));
        assertEquals(conn.loginParameters().get("TimeZone"), conn.state.reportedParams.get("TimeZone"));
        assertTrue(primary.isUp());
        pool.release(conn, ReleaseMode.REUSE);
        assertEquals(1, pool.idle());
        assertEquals(0, pool.active());
    }

    @Test
    void logsInWithScram() throws Exception {
        assertLogin("app", "app");
    }

    @Test
    void logsInWithMd5() throws Exception {
        assertLogin("md5user", "md5pass");
    }

    @Test
    void logsInWithCleartextPassword() throws Exception {
        assertLogin("plainuser", "plainpass");
    }

    @Test
    void logsInWithTrust() throws Exception {
        assertLogin("trustuser", null);
    }

    @Test
    void logsInToAReplica() throws Exception {
        Node r1 = TestServer.replica("r1");
        Pool pool = manager.pool(r1, new ServerCredentials("app", "app", "app"), settings(1));
        ServerConnection conn = get(pool.acquire(loop()));
        assertEquals("t", SqlRunner.single(conn, "SELECT pg_is_in_recovery()"));
        assertEquals(r1, conn.node());
        pool.release(conn, ReleaseMode.REUSE);
    }

    @Test
    void wrongPasswordFailsWithTheServersError() throws Exception {
        Pool pool = pool("app", "wrong", settings(2));
        PoolException e = failure(pool.acquire(loop()));
        assertEquals("28P01", e.sqlState());
        assertEquals("server login to primary " + TestServer.host() + ":" + TestServer.port()
                + " failed: password authentication failed for user \"app\"", e.getMessage());
        assertEquals(0, pool.active() + pool.idle() + pool.connecting());
        assertTrue(primary.isUp(), "a refused login is not a down node");
    }

    @Test
    void waitersGetReleasedConnectionsInOrderAndTimeOut() throws Exception {
        Pool pool = pool("app", "app", settings(2, Duration.ofSeconds(2), Duration.ZERO, Duration.ZERO));
        List<Future<ServerConnection>> acquires = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            acquires.add(pool.acquire(loop()));
        }
        ServerConnection a = get(acquires.get(0));
        ServerConnection b = get(acquires.get(1));
        assertEquals(2, pool.active());
        assertEquals(3, pool.waiting());
        assertEquals(2, count());
        assertFalse(acquires.get(2).isDone());

        pool.release(a, ReleaseMode.REUSE);
        assertEquals(a, get(acquires.get(2)), "the oldest waiter gets the released connection");
        pool.release(b, ReleaseMode.REUSE);
        assertEquals(b, get(acquires.get(3)));
        assertEquals(1, pool.waiting());
        assertEquals(2, count(), "no connection opened beyond pool_size");

        PoolException e = failure(acquires.get(4));
        assertEquals("53300", e.sqlState());
        assertEquals("pgsplit: no server connection to primary " + TestServer.host() + ":" + TestServer.port()
                + " for database \"app\" user \"app\" within 2 s (pool_size 2 in use, 1 waiting); raise pool_size"
                + " or query_wait_timeout", e.getMessage());
        assertEquals(0, pool.waiting());
        assertEquals("1", SqlRunner.single(a, "SELECT 1"), "handed-over connections still work");
    }

    @Test
    void releaseWithCloseOpensAReplacementForAWaiter() throws Exception {
        Pool pool = pool("app", "app", settings(1));
        ServerConnection a = get(pool.acquire(loop()));
        Future<ServerConnection> waiting = pool.acquire(loop());
        assertEquals(1, pool.waiting());
        pool.release(a, ReleaseMode.CLOSE);
        ServerConnection b = get(waiting);
        assertNotEquals(a.backendProcessId(), b.backendProcessId());
        assertFalse(a.isActive());
        assertEquals("1", SqlRunner.single(b, "SELECT 1"));
    }

    @Test
    void tryAcquireIdleTakesAnIdleConnectionAndNeverOpensOrQueues() throws Exception {
        Pool pool = pool("app", "app", settings(2));
        assertNull(pool.tryAcquireIdle(loop()), "nothing idle: null, and nothing opened");
        assertEquals(0, pool.idle() + pool.active());
        ServerConnection a = get(pool.acquire(loop()));
        assertNull(pool.tryAcquireIdle(loop()), "the only connection is in use");
        assertEquals(0, pool.waiting());
        pool.release(a, ReleaseMode.REUSE);
        ServerConnection again = pool.tryAcquireIdle(loop());
        assertEquals(a, again);
        assertEquals(1, pool.active());
        assertEquals("1", SqlRunner.single(again, "SELECT 1"));
        ServerConnection killer = get(pool.acquire(loop()));
        pool.release(again, ReleaseMode.REUSE);
        assertEquals("t", SqlRunner.single(killer, "SELECT pg_terminate_backend(" + again.backendProcessId() + ")"));
        waitFor("connection closed", () -> !again.isActive());
        assertNull(pool.tryAcquireIdle(loop()), "a dead connection is never handed out");
        pool.release(killer, ReleaseMode.REUSE);
        assertEquals(killer, pool.tryAcquireIdle(loop()));
        pool.release(killer, ReleaseMode.REUSE);
    }

    @Test
    void resetRunsDiscardAll() throws Exception {
        Pool pool = pool("app", "app", settings(1));
        ServerConnection conn = get(pool.acquire(loop()));
        String original = SqlRunner.single(conn, "SHOW search_path");
        SqlRunner.run(conn, "SET search_path = nowhere");
        assertEquals("nowhere", SqlRunner.single(conn, "SHOW search_path"));
        conn.state.appliedParams.put("search_path", "nowhere");
        pool.release(conn, ReleaseMode.RESET);

        ServerConnection again = get(pool.acquire(loop()));
        assertEquals(conn, again, "the reset connection goes back to the pool");
        assertEquals(original, SqlRunner.single(again, "SHOW search_path"));
        assertTrue(again.state.appliedParams.isEmpty());
        pool.release(again, ReleaseMode.REUSE);
    }

    @Test
    void resetFailureClosesTheConnection() throws Exception {
        Pool pool = pool("app", "app", settings(1));
        ServerConnection conn = get(pool.acquire(loop()));
        SqlRunner.run(conn, "BEGIN"); // DISCARD ALL cannot run inside a transaction block
        pool.release(conn, ReleaseMode.RESET);
        waitFor("connection closed", () -> !conn.isActive());
        waitFor("pool empty", () -> pool.idle() + pool.active() == 0);
        ServerConnection fresh = get(pool.acquire(loop()));
        assertNotEquals(conn.backendProcessId(), fresh.backendProcessId());
    }

    @Test
    void idleConnectionsCloseAfterServerIdleTimeout() throws Exception {
        Pool pool = pool("app", "app", settings(3, Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ZERO));
        ServerConnection a = get(pool.acquire(loop()));
        ServerConnection b = get(pool.acquire(loop()));
        pool.release(a, ReleaseMode.REUSE);
        pool.release(b, ReleaseMode.REUSE);
        assertEquals(2, pool.idle());
        assertEquals(2, count());
        waitFor("idle connections closed", () -> pool.idle() == 0);
        waitFor("server side gone", () -> count() == 0);
    }

    @Test
    void minPoolSizeKeepsConnectionsOpen() throws Exception {
        PoolConfig s = PoolConfig.builder().poolSize(3).minPoolSize(2).reservePoolTimeout(Duration.ZERO)
                .serverIdleTimeout(Duration.ofMillis(500)).serverLifetime(Duration.ZERO).preparedStatementCacheSize(10)
                .build();
        Pool pool = pool("app", "app", s);
        waitFor("min_pool_size connections opened", () -> pool.idle() == 2);
        Thread.sleep(1500);
        assertEquals(2, pool.idle(), "idle timeout keeps min_pool_size");
    }

    @Test
    void connectionsPastServerLifetimeCloseOnRelease() throws Exception {
        Pool pool = pool("app", "app", settings(2, Duration.ofSeconds(10), Duration.ZERO, Duration.ofSeconds(1)));
        ServerConnection a = get(pool.acquire(loop()));
        Thread.sleep(1100);
        pool.release(a, ReleaseMode.REUSE);
        waitFor("old connection closed", () -> !a.isActive());
        assertEquals(0, pool.idle());
        ServerConnection b = get(pool.acquire(loop()));
        assertNotEquals(a.backendProcessId(), b.backendProcessId());
    }

    @Test
    void killedIdleConnectionIsReplaced() throws Exception {
        Pool pool = pool("app", "app", settings(1));
        ServerConnection a = get(pool.acquire(loop()));
        pool.release(a, ReleaseMode.REUSE);
        assertTrue(TestServer.terminate(a.backendProcessId()));
        waitFor("terminated connection removed", () -> pool.idle() == 0 && !a.isActive());
        ServerConnection b = get(pool.acquire(loop()));
        assertNotEquals(a.backendProcessId(), b.backendProcessId());
        assertEquals("1", SqlRunner.single(b, "SELECT 1"));
    }

    @Test
    void killedConnectionInUseIsReportedToTheListener() throws Exception {
        Pool pool = pool("app", "app", settings(1));
        ServerConnection a = get(pool.acquire(loop()));
        var pending = SqlRunner.start(a, "SELECT pg_sleep(30)");
        Thread.sleep(200);
        TestServer.terminate(a.backendProcessId());
        // the server sends FATAL 57P01 and closes: the listener hears onServerClosed
        java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, () -> pending.get(10, TimeUnit.SECONDS));
        assertEquals("server connection closed", e.getCause().getMessage());
        waitFor("removed", () -> pool.active() == 0);
    }

    @Test
    void cancelStopsTheRunningQuery() throws Exception {
        Pool pool = pool("app", "app", settings(1));
        ServerConnection a = get(pool.acquire(loop()));
        var pending = SqlRunner.start(a, "SELECT pg_sleep(30)");
        Thread.sleep(300);
        a.cancel();
        SqlRunner.Result r = pending.get(10, TimeUnit.SECONDS);
        assertNotNull(r.error());
        assertEquals("57014", r.error().sqlState());
        assertEquals("1", SqlRunner.single(a, "SELECT 1"));
    }

    @Test
    void closedPortFailsClearlyAndMarksTheNodeDown() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Node replica = new Node("r1", Node.Role.REPLICA, "127.0.0.1", port, 1, null);
        Pool pool = manager.pool(replica, new ServerCredentials("app", "app", "app"), settings(2));
        Future<ServerConnection> first = pool.acquire(loop());
        Future<ServerConnection> second = pool.acquire(loop());
        PoolException e = failure(first);
        assertEquals("08006", e.sqlState());
        assertEquals("could not connect to replica r1 127.0.0.1:" + port + ": Connection refused", e.getMessage());
        assertFalse(replica.isUp());
        assertEquals("Connection refused", replica.downReason());
        failure(second);
        assertEquals(0, pool.waiting() + pool.connecting());

        // the health check brings it back once something listens there
        try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            new HealthCheck(group, List.of(replica)).probeDownNodes();
            waitFor("node marked up", replica::isUp);
        }
    }

    @Test
    void maxDbConnectionsLimitsAcrossUsers() throws Exception {
        PoolConfig s = PoolConfig.builder().poolSize(5).reservePoolTimeout(Duration.ZERO).maxDbConnections(1)
                .queryWaitTimeout(Duration.ofSeconds(10)).serverIdleTimeout(Duration.ZERO).serverLifetime(Duration.ZERO)
                .preparedStatementCacheSize(10).build();
        Pool appPool = pool("app", "app", s);
        Pool trustPool = pool("trustuser", null, s);
        ServerConnection a = get(appPool.acquire(loop()));
        Future<ServerConnection> waiting = trustPool.acquire(loop());
        Thread.sleep(300);
        assertFalse(waiting.isDone(), "max_db_connections 1 is in use by the other user");
        assertEquals(1, manager.databaseConnections(primary, "app"));
        appPool.release(a, ReleaseMode.CLOSE);
        ServerConnection t = get(waiting);
        assertEquals("trustuser", SqlRunner.single(t, "SELECT current_user"));
    }

    @Test
    void closeFailsWaitersAndClosesConnections() throws Exception {
        Pool pool = pool("app", "app", settings(1));
        ServerConnection a = get(pool.acquire(loop()));
        Future<ServerConnection> waiting = pool.acquire(loop());
        pool.close();
        assertEquals("57P01", failure(waiting).sqlState());
        waitFor("closed", () -> !a.isActive());
        assertEquals("57P01", failure(pool.acquire(loop())).sqlState());
    }

    @Test
    void reservePoolOpensForAWaiterPastReservePoolTimeout() throws Exception {
        PoolConfig s = PoolConfig.builder().poolSize(1).reservePoolSize(1).reservePoolTimeout(Duration.ofSeconds(1))
                .queryWaitTimeout(Duration.ofSeconds(10)).serverIdleTimeout(Duration.ZERO).serverLifetime(Duration.ZERO)
                .preparedStatementCacheSize(10).build();
        Pool pool = pool("app", "app", s);
        ServerConnection a = get(pool.acquire(loop()));
        Future<ServerConnection> waiting = pool.acquire(loop());
        Thread.sleep(500);
        assertFalse(waiting.isDone(), "the reserve opens only after reserve_pool_timeout");
        ServerConnection b = get(waiting);
        assertNotEquals(a, b);
        assertEquals(2, count());
        Future<ServerConnection> third = pool.acquire(loop());
        Thread.sleep(2500);
        assertFalse(third.isDone(), "reserve_pool_size 1 is used up");
        pool.release(b, ReleaseMode.REUSE);
        assertEquals(b, get(third));
        pool.release(third.getNow(), ReleaseMode.REUSE);
        waitFor("surplus reserve connection closed once nobody waits", () -> pool.idle() + pool.active() == 1);
        pool.release(a, ReleaseMode.REUSE);
        assertEquals(1, pool.idle());
    }

    @Test
    void worksOnEpollEventLoops() throws Exception {
        Class<?> epoll = Class.forName("io.netty.channel.epoll.EpollIoHandler");
        EventLoopGroup epollGroup = new MultiThreadIoEventLoopGroup(1,
                (io.netty.channel.IoHandlerFactory) epoll.getMethod("newFactory").invoke(null));
        PoolManager epollManager = new PoolManager(epollGroup);
        try {
            Pool pool = epollManager.pool(primary, new ServerCredentials("app", "app", "app"), settings(1));
            ServerConnection conn = get(pool.acquire(epollGroup.next()));
            assertTrue(conn.channel().getClass().getSimpleName().startsWith("Epoll"), conn.channel().getClass().getName());
            assertEquals("app", SqlRunner.single(conn, "SELECT current_user"));
            pool.release(conn, ReleaseMode.REUSE);

            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            Node r2 = new Node("r2", Node.Role.REPLICA, "127.0.0.1", port, 1, null);
            PoolException e = failure(epollManager.pool(r2, new ServerCredentials("app", "app", "app"), settings(1))
                    .acquire(epollGroup.next()));
            assertEquals("could not connect to replica r2 127.0.0.1:" + port + ": Connection refused", e.getMessage());
        } finally {
            epollManager.closeAll();
            epollGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void serverThatNeverAnswersTheLoginTimesOut() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 5, java.net.InetAddress.getByName("127.0.0.1"))) {
            Node node = new Node("r1", Node.Role.REPLICA, "127.0.0.1", silent.getLocalPort(), 1, null);
            PoolConfig s = PoolConfig.builder().poolSize(1).reservePoolTimeout(Duration.ZERO)
                    .serverIdleTimeout(Duration.ZERO).serverLifetime(Duration.ZERO)
                    .serverConnectTimeout(Duration.ofMillis(500)).preparedStatementCacheSize(10).build();
            Pool pool = manager.pool(node, new ServerCredentials("app", "app", "app"), s);
            PoolException e = failure(pool.acquire(loop()));
            assertEquals("server login to replica r1 127.0.0.1:" + silent.getLocalPort()
                    + " failed: no answer within 500 ms", e.getMessage());
            assertEquals(0, pool.connecting() + pool.idle() + pool.active());
        }
    }

    @Test
    void fatalErrorWhileIdleRemovesTheConnection() throws Exception {
        Pool pool = pool("app", "app", settings(1));
        ServerConnection a = get(pool.acquire(loop()));
        SqlRunner.run(a, "SET idle_session_timeout = '300ms'");
        pool.release(a, ReleaseMode.REUSE);
        assertEquals(1, pool.idle());
        waitFor("server's FATAL idle_session_timeout removes it", () -> pool.idle() == 0 && !a.isActive());
        ServerConnection b = get(pool.acquire(loop()));
        assertEquals("1", SqlRunner.single(b, "SELECT 1"));
    }

    @Test
    void concurrentAcquireAndReleaseKeepTheBooksRight() throws Exception {
        Pool pool = pool("app", "app", settings(3, Duration.ofSeconds(20), Duration.ZERO, Duration.ZERO));
        int threads = 8;
        int rounds = 40;
        java.util.concurrent.ExecutorService pool8 = java.util.concurrent.Executors.newFixedThreadPool(threads);
        java.util.concurrent.atomic.AtomicInteger maxActive = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger queries = new java.util.concurrent.atomic.AtomicInteger();
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            done.add(pool8.submit(() -> {
                for (int i = 0; i < rounds; i++) {
                    ServerConnection c = get(pool.acquire(loop()));
                    maxActive.accumulateAndGet(pool.active(), Math::max);
                    assertEquals(String.valueOf(i), SqlRunner.single(c, "SELECT " + i));
                    queries.incrementAndGet();
                    ReleaseMode mode = (i + id) % 10 == 0 ? ReleaseMode.CLOSE
                            : (i + id) % 3 == 0 ? ReleaseMode.RESET : ReleaseMode.REUSE;
                    pool.release(c, mode);
                }
                return null;
            }));
        }
        for (java.util.concurrent.Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool8.shutdown();
        assertEquals(threads * rounds, queries.get());
        assertTrue(maxActive.get() <= 3, "at most pool_size in use, saw " + maxActive.get());
        waitFor("all back", () -> pool.active() == 0 && pool.waiting() == 0 && pool.connecting() == 0);
        assertTrue(pool.idle() <= 3);
        waitFor("server sees what the pool has", () -> count() == pool.idle());
        assertEquals(pool.idle(), manager.databaseConnections(primary, "app"));
    }
}
