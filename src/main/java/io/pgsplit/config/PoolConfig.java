package io.pgsplit.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Server connection pool settings (YAML section {@code pool}; a database's own {@code pool:} section
 * overrides any of them, and a user's {@code pool_mode} overrides the mode; see
 * {@link PgsplitConfig#poolFor(String, String)}). A pool exists per (database, user) pair and per server
 * (primary, each replica). This one type goes from the binder ({@link PoolBinder}) to the pool
 * ({@code io.pgsplit.pool.Pool}); the client session reads the client-side keys (mode, client timeouts,
 * session state policy) from it too. Adding a key touches this record, {@link PoolBinder} and the docs.
 *
 * <p>Built by name: {@code PoolConfig.defaults().toBuilder().poolSize(5).build()}. A zero duration
 * disables what it governs; a zero {@code maxDbConnections} / {@code maxUserConnections} means unlimited.
 * Ranges (pool_size at least 1, min_pool_size at most pool_size, nothing negative) are checked by the
 * binder, with the line and column of the offending key.
 *
 * @param mode                       {@code pool_mode}: when a server connection returns to the pool, default transaction
 * @param poolSize                   server connections per pool before acquirers queue, default 20
 * @param minPoolSize                connections kept open even when idle (opened by the pool's timer), default 0, at most {@code poolSize}
 * @param reservePoolSize            extra connections allowed when clients wait longer than {@code reservePoolTimeout}, default 0
 * @param reservePoolTimeout         how long a waiter waits before the reserve opens to it (zero: no reserve), default 5s
 * @param maxDbConnections           cap on server connections per node and database across users, 0 (default) = unlimited
 * @param maxUserConnections         cap on server connections per node and user across databases, 0 (default) = unlimited
 * @param queryWaitTimeout           how long a client may wait for a server connection before an error (53300), default 120s (0 = forever)
 * @param idleTransactionTimeout     close clients idle inside a transaction this long, default 0 = disabled
 * @param serverIdleTimeout          close server connections idle this long (down to {@code minPoolSize}), default 600s (0 = never)
 * @param serverLifetime             close server connections older than this once idle, default 3600s (0 = never)
 * @param clientIdleTimeout          close idle clients, default 0 = disabled
 * @param serverConnectTimeout       connect + authenticate to a server within this, default 5s
 * @param serverResetQuery           run when a session-pooled server connection is released, default {@code DISCARD ALL};
 *                                   empty = none (kept trimmed, so blank means none)
 * @param sessionStatePolicy         session state changes under transaction pooling: pin (default) or refuse
 * @param preparedStatementCacheSize prepared statements kept per server connection, default 256
 *                                   (the cache holds at least one: see {@code PreparedStatementCache})
 */
public record PoolConfig(PoolMode mode, int poolSize, int minPoolSize, int reservePoolSize, Duration reservePoolTimeout,
                         int maxDbConnections, int maxUserConnections, Duration queryWaitTimeout,
                         Duration idleTransactionTimeout, Duration serverIdleTimeout, Duration serverLifetime,
                         Duration clientIdleTimeout, Duration serverConnectTimeout, String serverResetQuery,
                         SessionStatePolicy sessionStatePolicy, int preparedStatementCacheSize) {

    private static final PoolConfig DEFAULTS = new Builder().build();

    public PoolConfig {
        Objects.requireNonNull(mode, "pool_mode");
        Objects.requireNonNull(sessionStatePolicy, "session_state_policy");
        Objects.requireNonNull(reservePoolTimeout, "reserve_pool_timeout");
        Objects.requireNonNull(queryWaitTimeout, "query_wait_timeout");
        Objects.requireNonNull(idleTransactionTimeout, "idle_transaction_timeout");
        Objects.requireNonNull(serverIdleTimeout, "server_idle_timeout");
        Objects.requireNonNull(serverLifetime, "server_lifetime");
        Objects.requireNonNull(clientIdleTimeout, "client_idle_timeout");
        Objects.requireNonNull(serverConnectTimeout, "server_connect_timeout");
        serverResetQuery = serverResetQuery == null ? "" : serverResetQuery.trim();
    }

    /** The documented defaults (docs/CONFIGURATION.md, pgsplit.example.yaml), used for every key the file does not set. */
    public static PoolConfig defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A copy with another pool mode. */
    public PoolConfig withMode(PoolMode newMode) {
        return toBuilder().mode(newMode).build();
    }

    /** Named construction: one setter per key, starting from the defaults or from existing settings. */
    public static final class Builder {
        private PoolMode mode = PoolMode.TRANSACTION;
        private int poolSize = 20;
        private int minPoolSize = 0;
        private int reservePoolSize = 0;
        private Duration reservePoolTimeout = Duration.ofSeconds(5);
        private int maxDbConnections = 0;
        private int maxUserConnections = 0;
        private Duration queryWaitTimeout = Duration.ofSeconds(120);
        private Duration idleTransactionTimeout = Duration.ZERO;
        private Duration serverIdleTimeout = Duration.ofSeconds(600);
        private Duration serverLifetime = Duration.ofSeconds(3600);
        private Duration clientIdleTimeout = Duration.ZERO;
        private Duration serverConnectTimeout = Duration.ofSeconds(5);
        private String serverResetQuery = "DISCARD ALL";
        private SessionStatePolicy sessionStatePolicy = SessionStatePolicy.PIN;
        private int preparedStatementCacheSize = 256;

        private Builder() {
        }

        private Builder(PoolConfig c) {
            mode = c.mode;
            poolSize = c.poolSize;
            minPoolSize = c.minPoolSize;
            reservePoolSize = c.reservePoolSize;
            reservePoolTimeout = c.reservePoolTimeout;
            maxDbConnections = c.maxDbConnections;
            maxUserConnections = c.maxUserConnections;
            queryWaitTimeout = c.queryWaitTimeout;
            idleTransactionTimeout = c.idleTransactionTimeout;
            serverIdleTimeout = c.serverIdleTimeout;
            serverLifetime = c.serverLifetime;
            clientIdleTimeout = c.clientIdleTimeout;
            serverConnectTimeout = c.serverConnectTimeout;
            serverResetQuery = c.serverResetQuery;
            sessionStatePolicy = c.sessionStatePolicy;
            preparedStatementCacheSize = c.preparedStatementCacheSize;
        }

        public Builder mode(PoolMode v) {
            mode = v;
            return this;
        }

        public Builder poolSize(int v) {
            poolSize = v;
            return this;
        }

        public Builder minPoolSize(int v) {
            minPoolSize = v;
            return this;
        }

        public Builder reservePoolSize(int v) {
            reservePoolSize = v;
            return this;
        }

        public Builder reservePoolTimeout(Duration v) {
            reservePoolTimeout = v;
            return this;
        }

        public Builder maxDbConnections(int v) {
            maxDbConnections = v;
            return this;
        }

        public Builder maxUserConnections(int v) {
            maxUserConnections = v;
            return this;
        }

        public Builder queryWaitTimeout(Duration v) {
            queryWaitTimeout = v;
            return this;
        }

        public Builder idleTransactionTimeout(Duration v) {
            idleTransactionTimeout = v;
            return this;
        }

        public Builder serverIdleTimeout(Duration v) {
            serverIdleTimeout = v;
            return this;
        }

        public Builder serverLifetime(Duration v) {
            serverLifetime = v;
            return this;
        }

        public Builder clientIdleTimeout(Duration v) {
            clientIdleTimeout = v;
            return this;
        }

        public Builder serverConnectTimeout(Duration v) {
            serverConnectTimeout = v;
            return this;
        }

        public Builder serverResetQuery(String v) {
            serverResetQuery = v;
            return this;
        }

        public Builder sessionStatePolicy(SessionStatePolicy v) {
            sessionStatePolicy = v;
            return this;
        }

        public Builder preparedStatementCacheSize(int v) {
            preparedStatementCacheSize = v;
            return this;
        }

        public PoolConfig build() {
            return new PoolConfig(mode, poolSize, minPoolSize, reservePoolSize, reservePoolTimeout, maxDbConnections,
                    maxUserConnections, queryWaitTimeout, idleTransactionTimeout, serverIdleTimeout, serverLifetime,
                    clientIdleTimeout, serverConnectTimeout, serverResetQuery, sessionStatePolicy,
                    preparedStatementCacheSize);
        }
    }
}
