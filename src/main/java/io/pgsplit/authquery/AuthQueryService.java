package io.pgsplit.authquery;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.pgsplit.topology.Node;
import io.pgsplit.config.AuthQueryConfig;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.pool.ReleaseMode;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.ServerCredentials;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * auth_query: finds the stored password (SCRAM verifier or md5 hash) of a user missing from the config by
 * running the configured query on the database's primary, over a small pool of the lookup user's own
 * (pgsplit's async server connections: no JDBC, no blocked event loop). Results are cached per database
 * and user: found ones for {@code cache_ttl}, "no such user" for {@code negative_cache_ttl}; concurrent
 * logins of one user share one lookup. With {@code recheck} (the default) every login asks the primary
 * and the cache answers only when that fails: a SCRAM exchange cannot switch to a new salt half-way, so
 * this is what makes a changed password work at the first attempt. Without it, cached entries answer for
 * their TTL and {@link #refresh} (after a failed login) picks up a change for the next attempt.
 */
public final class AuthQueryService {
    private static final Logger log = LoggerFactory.getLogger(AuthQueryService.class);

    /** Where one lookup runs: the primary of a database, in a server database. */
    public record Target(String database, Node primary, String serverDatabase, io.pgsplit.tls.ServerTls tls,
                         String query) {
    }

    private final AuthQueryConfig config;
    private final PoolManager pools;
    private final PoolConfig settings;
    private final EventLoopGroup group;
    private final Cache<String, Optional<String>> cache;
    private final Map<String, CompletableFuture<Optional<String>>> inFlight = new ConcurrentHashMap<>();

    public AuthQueryService(AuthQueryConfig config, PoolManager pools, PoolConfig base, EventLoopGroup group) {
        this.config = config;
        this.pools = pools;
        this.settings = base.toBuilder().poolSize(config.poolSize()).minPoolSize(0).reservePoolSize(0).build();
        this.group = group;
        this.cache = Caffeine.newBuilder().maximumSize(100_000).expireAfter(new Expiry<String, Optional<String>>() {
            @Override
            public long expireAfterCreate(String key, Optional<String> value, long currentTime) {
                return ttl(value).toNanos();
            }

            @Override
            public long expireAfterUpdate(String key, Optional<String> value, long currentTime, long currentDuration) {
                return ttl(value).toNanos();
            }

            @Override
            public long expireAfterRead(String key, Optional<String> value, long currentTime, long currentDuration) {
                return currentDuration;
            }
        }).build();
    }

    private Duration ttl(Optional<String> value) {
        return value.isPresent() ? config.cacheTtl() : config.negativeCacheTtl();
    }

    public boolean enabled() {
        return config.enabled();
    }

    /**
     * The user's stored password (empty: no such user, cannot log in, or expired), from the cache or the
     * primary. Completes on some event loop; the caller moves back to its own.
     */
    public CompletableFuture<Optional<String>> lookup(Target target, String user) {
        String key = target.database() + '\0' + user;
        Optional<String> cached = cache.getIfPresent(key);
        if (cached == null) {
            return query(target, user, key);
        }
        if (!config.recheck()) {
            return CompletableFuture.completedFuture(cached);
        }
        // recheck: ask the primary; the cached entry answers only when it cannot
        CompletableFuture<Optional<String>> out = new CompletableFuture<>();
        query(target, user, key).whenComplete((fresh, e) -> {
            if (e == null) {
                out.complete(fresh);
            } else {
                log.warn("auth_query for user \"{}\" failed ({}); using the cached entry", user, e.getMessage());
                out.complete(cached);
            }
        });
        return out;
    }

    /** Reads the user again now, replacing what is cached. */
    public CompletableFuture<Optional<String>> refresh(Target target, String user) {
        String key = target.database() + '\0' + user;
        cache.invalidate(key);
        return query(target, user, key);
    }

    private CompletableFuture<Optional<String>> query(Target target, String user, String key) {
        CompletableFuture<Optional<String>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<String>> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return running;
        }
        mine.whenComplete((r, e) -> {
            inFlight.remove(key, mine);
            if (e == null && !ttl(r).isZero()) {
                cache.put(key, r);
            }
        });
        String db = config.database() != null ? config.database() : target.serverDatabase();
        Pool pool = pools.pool(target.primary(), new ServerCredentials(config.user(), config.password(), db, null, null,
                target.tls()), settings);
        pool.acquire(group.next()).addListener((Future<ServerConnection> f) -> {
            if (!f.isSuccess()) {
                mine.completeExceptionally(f.cause());
                return;
            }
            ServerConnection conn = f.getNow();
            AuthLookup.run(conn, target.query() != null ? target.query() : config.query(), user).whenComplete((password, e) -> {
                conn.pool().release(conn, e == null && conn.state.transactionStatus == 'I'
                        ? ReleaseMode.REUSE : ReleaseMode.CLOSE);
                if (e != null) {
                    log.warn("auth_query for user \"{}\" in database \"{}\" failed: {}", user, db, e.getMessage());
                    mine.completeExceptionally(e);
                } else {
                    mine.complete(Optional.ofNullable(password == null || password.isEmpty() ? null : password));
                }
            });
        });
        return mine;
    }
}
