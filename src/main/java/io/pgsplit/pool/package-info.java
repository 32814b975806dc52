/**
 * Server connections and their pools. Pools read node state ({@link io.pgsplit.topology.Node}) and report
 * connect results to it; they never set it.
 *
 * <ul>
 *   <li>{@link io.pgsplit.pool.PoolManager}: one per process; {@code pool(node, credentials, settings)}
 *       creates pools lazily per (node, database, user) and holds the max_db_connections /
 *       max_user_connections counters.</li>
 *   <li>{@link io.pgsplit.pool.Pool}: {@code acquire(preferredLoop)} gives a logged-in connection
 *       (idle one on the same loop first, then any, else a new one, else FIFO queue with
 *       query_wait_timeout, 53300); {@code release(conn, REUSE|RESET|CLOSE)}. A 1 s timer per pool
 *       handles server_idle_timeout, server_lifetime, min_pool_size, waiter timeouts and the reserve.</li>
 *   <li>{@link io.pgsplit.pool.ServerConnection}: the Netty client channel. Login (trust, cleartext,
 *       md5, SCRAM-SHA-256) runs behind a FrameDecoder; afterwards raw bytes go to the attached
 *       {@link io.pgsplit.pool.ServerDataListener}.</li>
 *   <li>{@link io.pgsplit.pool.CancelSender}, {@link io.pgsplit.pool.HealthCheck} (TCP probe of
 *       down nodes; reports an answer to the node, whose topology decides), {@link io.pgsplit.pool.MessageSplitter} (raw bytes to whole messages).</li>
 * </ul>
 *
 * <p>Nothing here blocks: pool bookkeeping sits under a short lock, all I/O is asynchronous, and
 * futures complete on the event loop the acquirer named.
 */
package io.pgsplit.pool;
