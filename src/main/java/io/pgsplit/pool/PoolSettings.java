package io.pgsplit.pool;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link Pool} sizes and ages its server connections. A zero duration disables what it
 * governs; a zero {@code maxDbConnections} / {@code maxUserConnections} means unlimited.
 *
 * @param poolSize                   connections a pool opens before acquirers queue
 * @param minPoolSize                connections kept open even when idle (opened by the pool's timer)
 * @param reservePoolSize            extra connections a waiter may open once it has waited {@code reservePoolTimeout}
 * @param reservePoolTimeout         how long a waiter waits before the reserve opens to it (zero: no reserve)
 * @param maxDbConnections           limit across all users' pools of one node and database
 * @param maxUserConnections         limit across all databases' pools of one node and user
 * @param queryWaitTimeout           how long an acquire may queue before it fails with 53300
 * @param serverIdleTimeout          idle connections older than this are closed (down to {@code minPoolSize})
 * @param serverLifetime             connections older than this are closed when next idle
 * @param serverConnectTimeout       TCP connect timeout, also bounds the login exchange
 * @param serverResetQuery           run on {@link ReleaseMode#RESET} (typically {@code DISCARD ALL}); blank: none
 * @param preparedStatementCacheSize capacity of each connection's {@link PreparedStatementCache}
 */
public record PoolSettings(int poolSize, int minPoolSize, int reservePoolSize, Duration reservePoolTimeout,
                           int maxDbConnections, int maxUserConnections, Duration queryWaitTimeout,
                           Duration serverIdleTimeout, Duration serverLifetime, Duration serverConnectTimeout,
                           String serverResetQuery, int preparedStatementCacheSize) {

    public PoolSettings {
        if (poolSize < 1) {
            throw new IllegalArgumentException("pool_size must be at least 1, got " + poolSize);
        }
        if (minPoolSize < 0 || minPoolSize > poolSize) {
            throw new IllegalArgumentException("min_pool_size must be between 0 and pool_size (" + poolSize
                    + "), got " + minPoolSize);
        }
        if (reservePoolSize < 0 || maxDbConnections < 0 || maxUserConnections < 0) {
            throw new IllegalArgumentException("reserve_pool_size, max_db_connections and max_user_connections"
                    + " must not be negative");
        }
        reservePoolTimeout = nonNegative(reservePoolTimeout, "reserve_pool_timeout");
        queryWaitTimeout = nonNegative(queryWaitTimeout, "query_wait_timeout");
        serverIdleTimeout = nonNegative(serverIdleTimeout, "server_idle_timeout");
        serverLifetime = nonNegative(serverLifetime, "server_lifetime");
        serverConnectTimeout = nonNegative(serverConnectTimeout, "server_connect_timeout");
        serverResetQuery = serverResetQuery == null ? "" : serverResetQuery.trim();
        preparedStatementCacheSize = Math.max(1, preparedStatementCacheSize);
    }

    /** PgBouncer-like defaults: 20 connections, 120 s query wait, 600 s idle, 3600 s lifetime, DISCARD ALL. */
    public static PoolSettings defaults() {
        return new PoolSettings(20, 0, 0, Duration.ZERO, 0, 0, Duration.ofSeconds(120), Duration.ofSeconds(600),
                Duration.ofSeconds(3600), Duration.ofSeconds(5), "DISCARD ALL", 100);
    }

    public PoolSettings withPoolSize(int size, int min) {
        return new PoolSettings(size, min, reservePoolSize, reservePoolTimeout, maxDbConnections,
                maxUserConnections, queryWaitTimeout, serverIdleTimeout, serverLifetime, serverConnectTimeout,
                serverResetQuery, preparedStatementCacheSize);
    }

    private static Duration nonNegative(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, got " + d);
        }
        return d;
    }
}
