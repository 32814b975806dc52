package io.pgsplit.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The whole pgsplit configuration, as loaded by {@link ConfigLoader}. Immutable.
 *
 * @param listen    where clients connect
 * @param databases databases clients can use, by the name clients use, in file order
 * @param users     users clients log in as, by name, in file order
 * @param pool      global pool defaults; use {@link #poolFor(String, String)} for a given pool
 * @param routing   read/write splitting
 * @param admin     admin console
 * @param source    the file it was loaded from, or null if built from a string
 */
public record PgsplitConfig(ListenConfig listen, Map<String, DatabaseConfig> databases, Map<String, UserConfig> users,
                            PoolConfig pool, RoutingConfig routing, AdminConfig admin, Path source) {

    /** Null sections become their defaults so tests can build configs with only what they care about. */
    public PgsplitConfig {
        listen = listen == null ? ListenConfig.defaults() : listen;
        databases = databases == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(databases));
        users = users == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(users));
        pool = pool == null ? PoolConfig.defaults() : pool;
        routing = routing == null ? RoutingConfig.defaults() : routing;
        admin = admin == null ? AdminConfig.defaults() : admin;
    }

    /**
     * The pool settings in effect for one (database, user) pool: the global {@code pool} section, then
     * the database's {@code pool:} overrides, then the user's {@code pool_mode}. An unknown database or user
     * (or null) contributes nothing.
     */
    public PoolConfig poolFor(String database, String user) {
        PoolConfig effective = pool;
        DatabaseConfig db = database == null ? null : databases.get(database);
        if (db != null) {
            effective = PoolBinder.apply(effective, db.poolOverrides());
        }
        UserConfig u = user == null ? null : users.get(user);
        if (u != null && u.poolMode() != null) {
            effective = effective.withMode(u.poolMode());
        }
        return effective;
    }

    /** Total number of replicas over all databases. */
    public int replicaCount() {
        return databases.values().stream().mapToInt(db -> db.replicas().size()).sum();
    }
}
