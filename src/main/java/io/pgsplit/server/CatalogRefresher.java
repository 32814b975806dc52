package io.pgsplit.server;

import io.pgsplit.pool.DatabaseRuntime;
import io.pgsplit.session.RouterContext;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.config.UserConfig;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.ReleaseMode;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.ServerQuery;
import io.pgsplit.route.FunctionCatalog;
import io.pgsplit.route.Volatility;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each database's function volatility (pg_proc.provolatile) as read from its primary, so
 * that stable and immutable functions count as reads and volatile ones as writes. Refreshed every
 * {@code routing.catalog_refresh}. A function missing from the snapshot (created since) is treated
 * as volatile, so it reaches the primary: the snapshot can only make routing slower, never wrong.
 */
public final class CatalogRefresher {
    private static final Logger log = LoggerFactory.getLogger(CatalogRefresher.class);
    private static final String QUERY = "SELECT n.nspname, p.proname, p.provolatile FROM pg_catalog.pg_proc p "
            + "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace";

    private final RouterContext context;
    private final EventLoopGroup group;
    private ScheduledFuture<?> task;

    CatalogRefresher(RouterContext context, EventLoopGroup group) {
        this.context = context;
        this.group = group;
    }

    void start() {
        long every = context.config().routing().catalogRefresh().toMillis();
        refreshAll();
        if (every > 0) {
            task = group.next().scheduleAtFixedRate(this::refreshAll, every, every, TimeUnit.MILLISECONDS);
        }
    }

    void stop() {
        if (task != null) {
            task.cancel(false);
        }
    }

    /** Re-reads every database's catalog now; the future completes when all are done (failures are logged). */
    public CompletableFuture<Void> refreshAll() {
        CompletableFuture<?>[] all = context.databases().values().stream().map(this::refresh)
                .toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(all);
    }

    private CompletableFuture<Void> refresh(DatabaseRuntime db) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        UserConfig user = catalogUser();
        if (user == null) {
            done.complete(null);
            return done;
        }
        Pool pool = db.pool(db.primary(), user);
        pool.acquire(group.next()).addListener((Future<ServerConnection> f) -> {
            if (!f.isSuccess()) {
                log.debug("database \"{}\": function catalog not refreshed: {}", db.name(), f.cause().getMessage());
                done.complete(null);
                return;
            }
            ServerConnection conn = f.getNow();
            ServerQuery.run(conn, QUERY).addListener((Future<List<String[]>> q) -> {
                conn.pool().release(conn, q.isSuccess() ? ReleaseMode.REUSE : ReleaseMode.CLOSE);
                if (q.isSuccess()) {
                    db.catalog(toCatalog(q.getNow()));
                    log.debug("database \"{}\": function catalog refreshed ({} functions)", db.name(),
                            q.getNow().size());
                } else {
                    log.warn("database \"{}\": function catalog not refreshed: {}", db.name(),
                            q.cause().getMessage());
                }
                done.complete(null);
            });
        });
        return done;
    }

    private UserConfig catalogUser() {
        for (UserConfig u : context.config().users().values()) {
            return u;
        }
        return null;
    }

    static FunctionCatalog toCatalog(List<String[]> rows) {
        Map<String, Volatility> map = new HashMap<>(rows.size() * 2);
        for (String[] r : rows) {
            Volatility v = switch (r[2]) {
                case "i" -> Volatility.IMMUTABLE;
                case "s" -> Volatility.STABLE;
                default -> Volatility.VOLATILE;
            };
            String name = r[1].toLowerCase();
            map.merge(name, v, CatalogRefresher::mostVolatile);
            map.merge(r[0].toLowerCase() + "." + name, v, CatalogRefresher::mostVolatile);
        }
        return name -> map.getOrDefault(name, Volatility.UNKNOWN);
    }

    /** Overloads with different volatility: the most volatile wins (safe side). */
    private static Volatility mostVolatile(Volatility a, Volatility b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }
}
