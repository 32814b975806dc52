package io.pgsplit.pool;

/** A snapshot of one pool for the admin console and tests. */
public record PoolStats(String node, String database, String user, int active, int idle, int connecting,
                        int waiting, long maxWaitMillis) {
}
