package io.pgsplit.config;

import java.time.Duration;

/**
 * Server connection pool settings (YAML section {@code pool}; a database's own {@code pool:} section
 * overrides any of them, and a user's {@code pool_mode} overrides the mode; see
 * {@link PgsplitConfig#poolFor(String, String)}). A pool exists per (database, user) pair and per server
 * (primary, each replica).
 *
 * @param mode                       {@code pool_mode}: when a server connection returns to the pool, default transaction
 * @param poolSize                   server connections per pool, default 20
 * @param minPoolSize                connections kept open even when idle, default 0, at most {@code poolSize}
 * @param reservePoolSize            extra connections allowed when clients wait longer than {@code reservePoolTimeout}, default 0
 * @param reservePoolTimeout         default 5s
 * @param maxDbConnections           cap on server connections per database across users, 0 (default) = unlimited
 * @param maxUserConnections         cap on server connections per user across databases, 0 (default) = unlimited
 * @param queryWaitTimeout           how long a client may wait for a server connection before an error, default 120s (0 = forever)
 * @param idleTransactionTimeout     close clients idle inside a transaction this long, default 0 = disabled
 * @param serverIdleTimeout          close server connections idle this long, default 600s (0 = never)
 * @param serverLifetime             close server connections older than this once idle, default 3600s (0 = never)
 * @param clientIdleTimeout          close idle clients, default 0 = disabled
 * @param serverConnectTimeout       connect + authenticate to a server within this, default 5s
 * @param serverResetQuery           run when a session-pooled server connection is released, default {@code DISCARD ALL}; empty = none
 * @param sessionStatePolicy         session state changes under transaction pooling: pin (default) or refuse
 * @param preparedStatementCacheSize prepared statements kept per server connection, default 256 (0 = no caching)
 */
public record PoolConfig(PoolMode mode, int poolSize, int minPoolSize, int reservePoolSize, Duration reservePoolTimeout,
                         int maxDbConnections, int maxUserConnections, Duration queryWaitTimeout,
                         Duration idleTransactionTimeout, Duration serverIdleTimeout, Duration serverLifetime,
                         Duration clientIdleTimeout, Duration serverConnectTimeout, String serverResetQuery,
                         SessionStatePolicy sessionStatePolicy, int preparedStatementCacheSize) {

    /** The built-in defaults, used for every key the file does not set. */
    public static PoolConfig defaults() {
        return new PoolConfig(PoolMode.TRANSACTION, 20, 0, 0, Duration.ofSeconds(5),
                0, 0, Duration.ofSeconds(120),
                Duration.ZERO, Duration.ofSeconds(600), Duration.ofSeconds(3600),
                Duration.ZERO, Duration.ofSeconds(5), "DISCARD ALL",
                SessionStatePolicy.PIN, 256);
    }

    /** A copy with another pool mode. */
    public PoolConfig withMode(PoolMode newMode) {
        return new PoolConfig(newMode, poolSize, minPoolSize, reservePoolSize, reservePoolTimeout,
                maxDbConnections, maxUserConnections, queryWaitTimeout, idleTransactionTimeout, serverIdleTimeout,
                serverLifetime, clientIdleTimeout, serverConnectTimeout, serverResetQuery, sessionStatePolicy,
                preparedStatementCacheSize);
    }
}
