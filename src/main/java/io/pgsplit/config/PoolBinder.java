package io.pgsplit.config;

import io.pgsplit.config.yaml.NumberRange;
import io.pgsplit.config.yaml.YamlSection;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code pool:} section into "key -> typed value" for only the keys it sets, and applies such a map
 * on top of a {@link PoolConfig}. The same code serves the global section (applied to the defaults) and a
 * database's overrides (kept as {@link DatabaseConfig#poolOverrides()} and applied by
 * {@link PgsplitConfig#poolFor}), so both accept exactly the same keys and values.
 */
final class PoolBinder {

    static final String POOL_MODE = "pool_mode";
    static final String POOL_SIZE = "pool_size";
    static final String MIN_POOL_SIZE = "min_pool_size";
    static final String RESERVE_POOL_SIZE = "reserve_pool_size";
    static final String RESERVE_POOL_TIMEOUT = "reserve_pool_timeout";
    static final String MAX_DB_CONNECTIONS = "max_db_connections";
    static final String MAX_USER_CONNECTIONS = "max_user_connections";
    static final String QUERY_WAIT_TIMEOUT = "query_wait_timeout";
    static final String IDLE_TRANSACTION_TIMEOUT = "idle_transaction_timeout";
    static final String SERVER_IDLE_TIMEOUT = "server_idle_timeout";
    static final String SERVER_LIFETIME = "server_lifetime";
    static final String CLIENT_IDLE_TIMEOUT = "client_idle_timeout";
    static final String SERVER_CONNECT_TIMEOUT = "server_connect_timeout";
    static final String SERVER_RESET_QUERY = "server_reset_query";
    static final String SESSION_STATE_POLICY = "session_state_policy";
    static final String PREPARED_STATEMENT_CACHE_SIZE = "prepared_statement_cache_size";

    static final List<String> KEYS = List.of(POOL_MODE, POOL_SIZE, MIN_POOL_SIZE, RESERVE_POOL_SIZE,
            RESERVE_POOL_TIMEOUT, MAX_DB_CONNECTIONS, MAX_USER_CONNECTIONS, QUERY_WAIT_TIMEOUT,
            IDLE_TRANSACTION_TIMEOUT, SERVER_IDLE_TIMEOUT, SERVER_LIFETIME, CLIENT_IDLE_TIMEOUT,
            SERVER_CONNECT_TIMEOUT, SERVER_RESET_QUERY, SESSION_STATE_POLICY, PREPARED_STATEMENT_CACHE_SIZE);

    private static final List<String> DURATION_KEYS = List.of(RESERVE_POOL_TIMEOUT, QUERY_WAIT_TIMEOUT,
            IDLE_TRANSACTION_TIMEOUT, SERVER_IDLE_TIMEOUT, SERVER_LIFETIME, CLIENT_IDLE_TIMEOUT, SERVER_CONNECT_TIMEOUT);

    private PoolBinder() {
    }

    /** The valid settings present in {@code section} (invalid ones are reported and left out), in file order. */
    static Map<String, Object> read(YamlSection section) {
        section.expectKeys(KEYS);
        Map<String, Object> settings = new LinkedHashMap<>();
        for (String key : section.entries().keySet()) {
            if (!KEYS.contains(key) || !section.has(key)) {
                continue;
            }
            Object value = switch (key) {
                case POOL_MODE -> section.enumValue(key, null, PoolMode.values(), PoolMode::yamlName);
                case POOL_SIZE -> section.integer(key, null, NumberRange.POSITIVE);
                case MIN_POOL_SIZE, RESERVE_POOL_SIZE, MAX_DB_CONNECTIONS, MAX_USER_CONNECTIONS,
                     PREPARED_STATEMENT_CACHE_SIZE -> section.integer(key, null, NumberRange.NON_NEGATIVE);
                case SERVER_RESET_QUERY -> section.string(key, null);
                case SESSION_STATE_POLICY ->
                        section.enumValue(key, null, SessionStatePolicy.values(), SessionStatePolicy::yamlName);
                default -> DURATION_KEYS.contains(key) ? section.duration(key, null) : null;
            };
            if (value != null) {
                settings.put(key, value);
            }
        }
        return settings;
    }

    /** {@code base} with every setting in {@code overrides} applied. */
    static PoolConfig apply(PoolConfig base, Map<String, Object> overrides) {
        if (overrides.isEmpty()) {
            return base;
        }
        PoolConfig.Builder b = base.toBuilder();
        overrides.forEach((key, value) -> {
            switch (key) {
                case POOL_MODE -> b.mode((PoolMode) value);
                case POOL_SIZE -> b.poolSize((Integer) value);
                case MIN_POOL_SIZE -> b.minPoolSize((Integer) value);
                case RESERVE_POOL_SIZE -> b.reservePoolSize((Integer) value);
                case RESERVE_POOL_TIMEOUT -> b.reservePoolTimeout((Duration) value);
                case MAX_DB_CONNECTIONS -> b.maxDbConnections((Integer) value);
                case MAX_USER_CONNECTIONS -> b.maxUserConnections((Integer) value);
                case QUERY_WAIT_TIMEOUT -> b.queryWaitTimeout((Duration) value);
                case IDLE_TRANSACTION_TIMEOUT -> b.idleTransactionTimeout((Duration) value);
                case SERVER_IDLE_TIMEOUT -> b.serverIdleTimeout((Duration) value);
                case SERVER_LIFETIME -> b.serverLifetime((Duration) value);
                case CLIENT_IDLE_TIMEOUT -> b.clientIdleTimeout((Duration) value);
                case SERVER_CONNECT_TIMEOUT -> b.serverConnectTimeout((Duration) value);
                case SERVER_RESET_QUERY -> b.serverResetQuery((String) value);
                case SESSION_STATE_POLICY -> b.sessionStatePolicy((SessionStatePolicy) value);
                case PREPARED_STATEMENT_CACHE_SIZE -> b.preparedStatementCacheSize((Integer) value);
                default -> throw new IllegalArgumentException("not a pool key: " + key); // read() only keeps KEYS
            }
        });
        return b.build();
    }

    /**
     * Checks rules that involve several keys, on the effective pool. The error is located in the most specific
     * section that sets one of the keys involved ({@code section}, a database's pool, before the global one),
     * because that is where the conflict was introduced.
     */
    static void validate(PoolConfig effective, YamlSection section, YamlSection globalSection) {
        if (effective.minPoolSize() <= effective.poolSize()) {
            return;
        }
        String message = "min_pool_size (" + effective.minPoolSize() + ") is larger than pool_size ("
                + effective.poolSize() + ")";
        for (YamlSection scope : new YamlSection[] {section, globalSection}) {
            if (scope == null) {
                continue;
            }
            if (scope.has(MIN_POOL_SIZE) || scope.has(POOL_SIZE)) {
                scope.error(scope.has(MIN_POOL_SIZE) ? MIN_POOL_SIZE : POOL_SIZE, message);
                return;
            }
        }
    }
}
