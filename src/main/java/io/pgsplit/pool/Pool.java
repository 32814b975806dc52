package io.pgsplit.pool;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.protocol.SqlState;
import io.pgsplit.topology.Node;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server connections to one node for one (database, user). Thread-safe: sessions on any event loop
 * acquire and release.
 *
 * <p>All bookkeeping (idle list, waiters, counts) sits under one lock held only for list and
 * counter updates; connecting, writing, closing and completing promises happen after it is
 * released. Nothing here blocks.
 */
public final class Pool {
    private static final Logger log = LoggerFactory.getLogger(Pool.class);
    private static final long TICK_MILLIS = 1000;

    private final PoolManager manager;
    private final Node node;
    private final ServerCredentials credentials;
    /** Replaced by a reload (issue 16); read once per decision. */
    private volatile PoolConfig settings;
    private final EventLoopGroup group;
    private final ResetQuery resetQuery;

    private final ReentrantLock lock = new ReentrantLock();
    // --- guarded by lock ---
    /** Logged-in connections not yet closed: idle, in use or being reset. */
    private final Set<ServerConnection> live = new HashSet<>();
    /** Idle connections, most recently used first (so the oldest idle ones time out). */
    private final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int connecting;
    private boolean closed;
    // ---
    private final ScheduledFuture<?> tick;

    Pool(PoolManager manager, Node node, ServerCredentials credentials, PoolConfig settings, EventLoopGroup group) {
        this.manager = manager;
        this.node = node;
        this.credentials = credentials;
        this.settings = settings;
        this.group = group;
        this.resetQuery = new ResetQuery(this);
        this.tick = group.next().scheduleWithFixedDelay(this::onTick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        if (settings.minPoolSize() > 0) {
            group.next().execute(this::onTick);
        }
    }

    public Node node() {
        return node;
    }

    public String database() {
        return credentials.database();
    }

    public String user() {
        return credentials.user();
    }

    public PoolConfig settings() {
        return settings;
    }

    /**
     * Issue 16, reload: new settings for this pool. A larger pool_size serves waiting clients at once; a smaller one
     * closes surplus connections as they are released (nothing in use is closed).
     */
    public void settings(PoolConfig newSettings) {
        this.settings = newSettings;
        retryOpens();
    }

    /** An acquirer queued for a connection. */
    private record Waiter(Promise<ServerConnection> promise, EventLoop loop, long sinceNanos) {
    }

    /**
     * A logged-in, idle server connection, preferring one on {@code preferredLoop} (no thread hop);
     * opens a new one while under the limits; otherwise queues. The future fails with a
     * {@link PoolException} (clear message) on query_wait_timeout, connect failure or shutdown; it is
     * completed on {@code preferredLoop}.
     */
    public Future<ServerConnection> acquire(EventLoop preferredLoop) {
        if (preferredLoop == null) {
            preferredLoop = group.next();
        }
        Promise<ServerConnection> promise = preferredLoop.newPromise();
        List<ServerConnection> stale = new ArrayList<>();
        ServerConnection conn = null;
        List<EventLoop> opens = List.of();
        lock.lock();
        try {
            if (closed) {
                promise.setFailure(shutDown());
                return promise;
            }
            conn = takeIdle(preferredLoop, stale);
            if (conn == null) {
                waiters.addLast(new Waiter(promise, preferredLoop, System.nanoTime()));
                opens = planOpens();
            }
        } finally {
            lock.unlock();
        }
        closeAll(stale, "past server_lifetime or dead while idle");
        if (conn != null) {
            handOver(promise, conn);
        }
        startOpens(opens);
        return promise;
    }

    /**
     * An idle connection now (one on {@code preferredLoop} if possible), or null when none is idle; then
     * {@link #acquire} queues. The common case in transaction pooling, without a promise and listener
     * per transaction.
     */
    public ServerConnection tryAcquireIdle(EventLoop preferredLoop) {
        List<ServerConnection> stale = new ArrayList<>(0); // no array unless a dead or too old one turns up
        ServerConnection conn;
        lock.lock();
        try {
            if (closed || idle.isEmpty() || !waiters.isEmpty()) {
                return null; // acquire() says why, or queues behind those already waiting
            }
            conn = takeIdle(preferredLoop, stale);
        } finally {
            lock.unlock();
        }
        if (!stale.isEmpty()) {
            closeAll(stale, "past server_lifetime or dead while idle");
        }
        return conn;
    }

    /**
     * Gives a connection back. {@link ReleaseMode#REUSE}: to the oldest waiter, else idle.
     * {@link ReleaseMode#RESET}: runs server_reset_query first (asynchronously; the connection is
     * closed if it fails; with no reset query configured it is reused as it is).
     * {@link ReleaseMode#CLOSE}: closed, and a replacement opened if anyone waits. A connection past
     * server_lifetime is closed whatever the mode. Call once per acquire, from any thread; the
     * listener is detached here.
     */
    public void release(ServerConnection connection, ReleaseMode mode) {
        if (connection.pool() != this) {
            throw new IllegalArgumentException(connection + " does not belong to pool " + this);
        }
        connection.attach(null);
        if (mode == ReleaseMode.CLOSE || !connection.isActive()) {
            connection.close("released with " + mode);
            return; // closeFuture -> connectionClosed() opens a replacement if anyone waits
        }
        if (mode == ReleaseMode.RESET && !settings.serverResetQuery().isEmpty()) {
            resetQuery.run(connection); // returns it with returnToPool() or closes it
            return;
        }
        returnToPool(connection);
    }

    /**
     * The logged-in connections (issue 16: SHOW SERVERS), or only the idle ones; a snapshot.
     */
    public List<ServerConnection> connections(boolean idleOnly) {
        lock.lock();
        try {
            return new ArrayList<>(idleOnly ? idle : live);
        } finally {
            lock.unlock();
        }
    }

    /**
     * RECONNECT (issue 16): every connection open now is closed instead of reused: idle ones at the next
     * acquire or tick, busy ones when released (they count as past their lifetime).
     */
    public void reconnect() {
        reconnectBefore = System.nanoTime();
        reconnected = true;
    }

    private volatile long reconnectBefore;
    private volatile boolean reconnected;

    /** Active (handed out or being reset) connections. */
    public int active() {
        lock.lock();
        try {
            return live.size() - idle.size();
        } finally {
            lock.unlock();
        }
    }

    public int idle() {
        lock.lock();
        try {
            return idle.size();
        } finally {
            lock.unlock();
        }
    }

    public int waiting() {
        lock.lock();
        try {
            return waiters.size();
        } finally {
            lock.unlock();
        }
    }

    /** Connections being opened (connect or login in progress). */
    public int connecting() {
        lock.lock();
        try {
            return connecting;
        } finally {
            lock.unlock();
        }
    }

    public PoolStats stats() {
        lock.lock();
        try {
            Waiter oldest = waiters.peekFirst();
            long maxWait = oldest == null ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - oldest.sinceNanos);
            return new PoolStats(node.name(), database(), user(), live.size() - idle.size(), idle.size(), connecting,
                    waiters.size(), maxWait);
        } finally {
            lock.unlock();
        }
    }

    /** Shuts the pool: fails waiters, closes every connection (sessions holding one see it close). */
    public void close() {
        List<Waiter> failed;
        List<ServerConnection> all;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            failed = new ArrayList<>(waiters);
            waiters.clear();
            all = new ArrayList<>(live);
            for (ServerConnection c : all) {
                discardLocked(c);
            }
        } finally {
            lock.unlock();
        }
        tick.cancel(false);
        PoolException e = shutDown();
        failed.forEach(w -> w.promise.tryFailure(e));
        closeAll(all, "pool closed");
    }

    /**
     * Closes every connection, idle or in use, and keeps the pool open (the node stopped answering: sessions
     * holding one see it close). Waiters stay queued; new connections are opened for them as usual.
     */
    public void closeConnections(String why) {
        List<ServerConnection> all;
        lock.lock();
        try {
            all = new ArrayList<>(live);
        } finally {
            lock.unlock();
        }
        closeAll(all, why);
    }

    @Override
    public String toString() {
        return node + " database \"" + database() + "\" user \"" + user() + "\"";
    }

    // ---------------------------------------------------------------------------------------------

    /** Back from a session or a reset: to the oldest waiter, else idle. */
    void returnToPool(ServerConnection conn) {
        while (true) {
            Waiter waiter = null;
            boolean close = false;
            lock.lock();
            try {
                if (conn.inIdleList) {
                    log.warn("{} released twice; ignoring the second release", conn);
                    return;
                }
                if (conn.discarded || closed) {
                    close = true;
                } else if (pastLifetime(conn, System.nanoTime())) {
                    close = true;
                } else if (waiters.isEmpty()) {
                    if (live.size() > settings.poolSize()) {
                        close = true; // a reserve connection nobody needs any more
                    } else {
                        conn.idleSinceNanos = System.nanoTime();
                        conn.inIdleList = true;
                        idle.addFirst(conn);
                    }
                } else {
                    waiter = waiters.pollFirst();
                }
                if (close) {
                    discardLocked(conn);
                }
            } finally {
                lock.unlock();
            }
            if (close) {
                conn.close("past server_lifetime, surplus or pool closed");
                return; // closeFuture -> connectionClosed() opens a replacement if anyone waits
            }
            if (waiter == null || waiter.promise.trySuccess(conn)) {
                return;
            }
            // that waiter gave up (cancelled) in the meantime: next one
        }
    }

    /** Gives an idle connection to an acquirer; if it has gone (cancelled), back to the pool. */
    private void handOver(Promise<ServerConnection> promise, ServerConnection conn) {
        if (!promise.trySuccess(conn)) {
            returnToPool(conn);
        }
    }

    /** Takes an idle connection, one on {@code loop} if possible. Dead or too old ones go to {@code stale}. */
    private ServerConnection takeIdle(EventLoop loop, List<ServerConnection> stale) {
        long now = System.nanoTime();
        ServerConnection any = null;
        for (Iterator<ServerConnection> it = idle.iterator(); it.hasNext(); ) {
            ServerConnection c = it.next();
            if (!c.isActive() || pastLifetime(c, now)) {
                it.remove();
                discardLocked(c);
                stale.add(c);
            } else if (c.eventLoop() == loop) {
                it.remove();
                c.inIdleList = false;
                return c;
            } else if (any == null) {
                any = c;
            }
        }
        if (any != null) {
            idle.remove(any);
            any.inIdleList = false;
        }
        return any;
    }

    private boolean pastLifetime(ServerConnection c, long now) {
        return !settings.serverLifetime().isZero() && now - c.createdNanos() >= settings.serverLifetime().toNanos()
                || reconnected && c.createdNanos() - reconnectBefore <= 0; // opened before a RECONNECT
    }

    /** Removes a connection from the books (idempotent); the caller closes it after unlocking. */
    private void discardLocked(ServerConnection c) {
        c.discarded = true;
        if (c.inIdleList) {
            c.inIdleList = false;
            idle.remove(c);
        }
        if (live.remove(c)) {
            manager.releaseSlot(this);
        }
    }

    /**
     * How many connections to open now, and on which loops: enough for waiters not already covered
     * by a connect in progress, and up to min_pool_size; within pool_size (plus the reserve once the
     * oldest waiter has waited reserve_pool_timeout) and the per-database/per-user limits.
     */
    private List<EventLoop> planOpens() {
        if (closed) {
            return List.of();
        }
        int total = live.size() + connecting;
        int limit = settings.poolSize();
        Waiter oldest = waiters.peekFirst();
        if (oldest != null && settings.reservePoolSize() > 0 && !settings.reservePoolTimeout().isZero()
                && System.nanoTime() - oldest.sinceNanos >= settings.reservePoolTimeout().toNanos()) {
            limit += settings.reservePoolSize();
        }
        // min_pool_size is topped up only while the node is up: the health check, not this timer, probes a down node
        int forMinimum = node.isUp() ? settings.minPoolSize() - total : 0;
        int wanted = Math.max(waiters.size() - connecting, forMinimum);
        int count = Math.min(wanted, limit - total);
        if (count <= 0) {
            return List.of();
        }
        List<EventLoop> loops = new ArrayList<>(count);
        Iterator<Waiter> uncovered = waiters.iterator();
        for (int i = 0; i < connecting && uncovered.hasNext(); i++) {
            uncovered.next();
        }
        for (int i = 0; i < count; i++) {
            if (!manager.tryTakeSlot(this)) {
                break; // max_db_connections / max_user_connections reached; retried when a slot frees
            }
            connecting++;
            loops.add(uncovered.hasNext() ? uncovered.next().loop : group.next());
        }
        return loops;
    }

    private void startOpens(List<EventLoop> loops) {
        for (EventLoop loop : loops) {
            open(loop);
        }
    }

    /** Opens and logs in one connection on {@code loop}; the slot is already counted in {@code connecting}. */
    private void open(EventLoop loop) {
        Promise<ServerConnection> login = loop.newPromise();
        Duration connectTimeout = settings.serverConnectTimeout();
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(Transports.socketChannelFor(loop))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        manager.track(ch);
                        ServerConnection conn = new ServerConnection(Pool.this, ch,
                                new ServerSessionState(settings.preparedStatementCacheSize()));
                        ch.closeFuture().addListener(f -> connectionClosed(conn));
                        if (credentials.tls() != null) { // issue 15: SSLRequest and TLS before the login
                            ch.pipeline().addLast("server-tls-negotiation",
                                    new io.pgsplit.tls.ServerTlsNegotiator(credentials.tls(), node.host(), node.port()));
                        }
                        ch.pipeline().addLast(ServerLogin.FRAME_DECODER,
                                new FrameDecoder(FrameDecoder.Mode.TYPED, ServerLogin.MAX_LOGIN_MESSAGE));
                        ch.pipeline().addLast("login", new ServerLogin(conn, credentials, connectTimeout, login));
                    }
                });
        if (!connectTimeout.isZero()) {
            bootstrap.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
        }
        ChannelFuture connect = bootstrap.connect(node.host(), node.port());
        connect.addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
                node.connected();
            } else {
                String reason = describe(f.cause());
                node.connectFailed(reason);
                login.tryFailure(new PoolException(SqlState.CONNECTION_FAILURE,
                        "could not connect to " + node + ": " + reason, f.cause()));
            }
        });
        login.addListener(f -> {
            if (f.isSuccess()) {
                connected(login.getNow());
            } else {
                connectFailed((PoolException) f.cause());
            }
        });
    }

    private void connected(ServerConnection conn) {
        boolean closeIt = false;
        lock.lock();
        try {
            connecting--;
            if (conn.discarded || closed || !conn.isActive()) {
                conn.discarded = true;
                manager.releaseSlot(this);
                closeIt = true;
            } else {
                live.add(conn);
            }
        } finally {
            lock.unlock();
        }
        if (closeIt) {
            conn.close("closed during login or pool closed");
            return;
        }
        log.debug("opened {}", conn);
        returnToPool(conn);
    }

    /**
     * A connect or login failed. The oldest waiter gets the error; if the pool then has nothing that
     * could serve the others (no connection, none being opened) they get it too, rather than each
     * waiting for its own failed attempt or the query_wait_timeout.
     */
    private void connectFailed(PoolException error) {
        List<Waiter> failed = new ArrayList<>();
        lock.lock();
        try {
            connecting--;
            manager.releaseSlot(this);
            Waiter first = waiters.pollFirst();
            if (first != null) {
                failed.add(first);
            }
            if (live.isEmpty() && connecting == 0) {
                failed.addAll(waiters);
                waiters.clear();
            }
        } finally {
            lock.unlock();
        }
        log.warn("{}", error.getMessage());
        failed.forEach(w -> w.promise.tryFailure(error));
    }

    /** A logged-in connection's channel closed, for whatever reason. */
    private void connectionClosed(ServerConnection conn) {
        List<EventLoop> opens;
        boolean wasLive;
        lock.lock();
        try {
            wasLive = !conn.discarded && live.contains(conn);
            discardLocked(conn);
            opens = planOpens();
        } finally {
            lock.unlock();
        }
        if (wasLive) {
            log.debug("{} closed", conn);
        }
        startOpens(opens);
    }

    /** Opens connections for waiters if the limits now allow (called when slots free up). */
    void retryOpens() {
        List<EventLoop> opens;
        lock.lock();
        try {
            opens = waiters.isEmpty() ? List.of() : planOpens();
        } finally {
            lock.unlock();
        }
        startOpens(opens);
    }

    /** Every second: idle and lifetime expiry, waiter timeouts, min_pool_size and the reserve. */
    private void onTick() {
        long now = System.nanoTime();
        List<ServerConnection> toClose = new ArrayList<>();
        List<Waiter> timedOut = new ArrayList<>();
        List<EventLoop> opens;
        PoolException timeoutError = null;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            long idleTimeout = settings.serverIdleTimeout().toNanos();
            // oldest idle last: walk from the end, keeping min_pool_size connections
            for (Iterator<ServerConnection> it = idle.descendingIterator(); it.hasNext(); ) {
                ServerConnection c = it.next();
                boolean idleTooLong = idleTimeout > 0 && now - c.idleSinceNanos >= idleTimeout
                        && live.size() > settings.minPoolSize();
                if (idleTooLong || pastLifetime(c, now) || !c.isActive()) {
                    it.remove();
                    discardLocked(c);
                    toClose.add(c);
                }
            }
            long waitTimeout = settings.queryWaitTimeout().toNanos();
            if (waitTimeout > 0) {
                int waitingBefore = waiters.size();
                while (!waiters.isEmpty() && now - waiters.peekFirst().sinceNanos >= waitTimeout) {
                    timedOut.add(waiters.pollFirst());
                }
                if (!timedOut.isEmpty()) {
                    timeoutError = queryWaitTimeout(waitingBefore);
                }
            }
            opens = planOpens();
        } finally {
            lock.unlock();
        }
        closeAll(toClose, "idle past server_idle_timeout or past server_lifetime");
        for (Waiter w : timedOut) {
            w.promise.tryFailure(timeoutError);
        }
        startOpens(opens);
    }

    private PoolException queryWaitTimeout(int waiting) {
        int inUse = live.size() - idle.size();
        String use = inUse >= settings.poolSize() ? "pool_size " + settings.poolSize() + " in use"
                : inUse + " of pool_size " + settings.poolSize() + " in use, " + connecting + " connecting";
        return new PoolException(SqlState.TOO_MANY_CONNECTIONS, "pgsplit: no server connection to " + node
                + " for database \"" + database() + "\" user \"" + user() + "\" within "
                + seconds(settings.queryWaitTimeout()) + " (" + use + ", " + waiting + " waiting); raise pool_size or "
                + "query_wait_timeout", null);
    }

    private PoolException shutDown() {
        return new PoolException(SqlState.ADMIN_SHUTDOWN, "pgsplit: pool for " + this + " is shut down", null);
    }

    static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
    }

    /**
     * "Connection refused" rather than NIO's "Connection refused: /127.0.0.1:5433" or epoll's
     * "finishConnect(..) failed with error(-111): Connection refused": the node is named already.
     */
    static String describe(Throwable cause) {
        String msg = cause.getMessage();
        if (msg == null) {
            return cause.getClass().getSimpleName();
        }
        return msg.replaceFirst("^\\w+\\(\\.\\.\\) failed( with error\\(-?\\d+\\))?: ", "")
                .replaceFirst(": [^ ]*/[0-9A-Za-z.:%\\[\\]-]+:\\d+$", "");
    }

    private static void closeAll(List<ServerConnection> conns, String reason) {
        for (ServerConnection c : conns) {
            c.close(reason);
        }
    }
}
