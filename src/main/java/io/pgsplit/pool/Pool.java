package io.pgsplit.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgsplit.cluster.Node;

/**
 * Server connections to one node for one (database, user). Thread-safe: sessions on any event loop
 * acquire and release. API contract for the pool implementation (bodies are the pool engineer's).
 */
public final class Pool {
    Pool() {
    }

    public Node node() {
        throw new UnsupportedOperationException("TODO pool");
    }

    public String database() {
        throw new UnsupportedOperationException("TODO pool");
    }

    public String user() {
        throw new UnsupportedOperationException("TODO pool");
    }

    /**
     * A logged-in, idle server connection, preferring one on {@code preferredLoop} (no thread hop);
     * opens a new one while under the limits; otherwise queues. The future fails with a
     * {@link PoolException} (clear message) on query_wait_timeout, connect failure or shutdown; it is
     * completed on {@code preferredLoop}.
     */
    public Future<ServerConnection> acquire(EventLoop preferredLoop) {
        throw new UnsupportedOperationException("TODO pool");
    }

    public void release(ServerConnection connection, ReleaseMode mode) {
        throw new UnsupportedOperationException("TODO pool");
    }
}
