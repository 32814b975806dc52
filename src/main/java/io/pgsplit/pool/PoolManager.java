package io.pgsplit.pool;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.topology.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * All pools of one pgsplit process, created lazily per (node, database, user), and the counters
 * behind max_db_connections (per node and database, across users) and max_user_connections (per
 * node and user, across databases). Thread-safe; the counters are lock-free so pools can take a
 * slot while holding their own lock.
 */
public final class PoolManager {
    private record PoolKey(Node node, String database, String user) {
    }

    private record DbKey(Node node, String database) {
    }

    private record UserKey(Node node, String user) {
    }

    private final EventLoopGroup group;
    private final Map<PoolKey, Pool> pools = new ConcurrentHashMap<>();
    private final Map<DbKey, AtomicInteger> perDatabase = new ConcurrentHashMap<>();
    private final Map<UserKey, AtomicInteger> perUser = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /**
     * Every server channel any pool opened, including ones still connecting or logging in (which no
     * pool lists yet): closed together on shutdown, so none outlives the router as an idle backend.
     */
    private final ChannelGroup channels = new DefaultChannelGroup("pgsplit-server-connections",
            GlobalEventExecutor.INSTANCE);

    public PoolManager(EventLoopGroup group) {
        this.group = group;
    }

    public EventLoopGroup eventLoopGroup() {
        return group;
    }

    /**
     * The pool for {@code node} and the credentials' database and user, created with {@code settings}
     * on first use (later calls return the same pool whatever settings they pass).
     */
    public Pool pool(Node node, ServerCredentials credentials, PoolConfig settings) {
        if (closed) {
            throw new IllegalStateException("pool manager is closed");
        }
        return pools.computeIfAbsent(new PoolKey(node, credentials.database(), credentials.user()),
                k -> new Pool(this, node, credentials, settings, group));
    }

    /**
     * A pool of its own for pgsplit's internal queries on {@code node} (WAL-position probes): never shared with
     * clients, not listed by {@link #pools()} or {@link #stats()}, closed by {@link #closeAll()}. Its
     * connections count towards max_db_connections and max_user_connections like any other.
     */
    public Pool privatePool(Node node, ServerCredentials credentials, PoolConfig settings) {
        if (closed) {
            throw new IllegalStateException("pool manager is closed");
        }
        Pool pool = new Pool(this, node, credentials, settings, group);
        privatePools.add(pool);
        return pool;
    }

    private final List<Pool> privatePools = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** The pool if it exists already, else null. */
    public Pool existing(Node node, String database, String user) {
        return pools.get(new PoolKey(node, database, user));
    }

    public List<Pool> pools() {
        return new ArrayList<>(pools.values());
    }

    public List<PoolStats> stats() {
        List<PoolStats> out = new ArrayList<>();
        for (Pool p : pools.values()) {
            out.add(p.stats());
        }
        return out;
    }

    /** Server connections open or opening to {@code node} for {@code database}, all users. */
    public int databaseConnections(Node node, String database) {
        AtomicInteger n = perDatabase.get(new DbKey(node, database));
        return n == null ? 0 : n.get();
    }

    public int userConnections(Node node, String user) {
        AtomicInteger n = perUser.get(new UserKey(node, user));
        return n == null ? 0 : n.get();
    }

    /** Closes every pool: waiters fail, connections close. */
    public void closeAll() {
        closed = true;
        for (Pool p : pools.values()) {
            p.close();
        }
        pools.clear();
        privatePools.forEach(Pool::close);
        privatePools.clear();
        channels.close().awaitUninterruptibly(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Called by a pool for each channel it opens; a closed channel leaves the group by itself. */
    void track(io.netty.channel.Channel channel) {
        channels.add(channel);
        if (closed) {
            channel.close(); // opened while shutting down
        }
    }

    // ---- slots, taken by a pool before it opens a connection and given back when it is gone ----

    boolean tryTakeSlot(Pool pool) {
        PoolConfig s = pool.settings();
        AtomicInteger db = perDatabase.computeIfAbsent(new DbKey(pool.node(), pool.database()), k -> new AtomicInteger());
        AtomicInteger user = perUser.computeIfAbsent(new UserKey(pool.node(), pool.user()), k -> new AtomicInteger());
        if (!increment(db, s.maxDbConnections())) {
            return false;
        }
        if (!increment(user, s.maxUserConnections())) {
            db.decrementAndGet();
            return false;
        }
        return true;
    }

    void releaseSlot(Pool pool) {
        perDatabase.get(new DbKey(pool.node(), pool.database())).decrementAndGet();
        perUser.get(new UserKey(pool.node(), pool.user())).decrementAndGet();
        PoolConfig s = pool.settings();
        if (s.maxDbConnections() > 0 || s.maxUserConnections() > 0) {
            // a sibling pool may be waiting for this slot; poke it outside the caller's lock
            group.next().execute(() -> {
                for (Pool p : pools.values()) {
                    if (p != pool && p.node() == pool.node()
                            && (p.database().equals(pool.database()) || p.user().equals(pool.user()))) {
                        p.retryOpens();
                    }
                }
            });
        }
    }

    private static boolean increment(AtomicInteger counter, int max) {
        while (true) {
            int n = counter.get();
            if (max > 0 && n >= max) {
                return false;
            }
            if (counter.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }
}
