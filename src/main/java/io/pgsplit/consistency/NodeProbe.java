package io.pgsplit.consistency;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.ReleaseMode;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.ServerQuery;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One server's dedicated connection for pgsplit's WAL-position queries: a private pool of one connection
 * (never a client's), so a probe never waits behind client work and never takes a client's slot. One query at a
 * time (the caller keeps at most one in flight). Nothing blocks: results are futures on {@link #loop}.
 */
final class NodeProbe {
    /** A probe unanswered this long has its connection closed (a hung or SIGSTOPped server). */
    static final long TIMEOUT_MILLIS = 5_000;

    private final Pool pool;
    private final EventLoop loop;

    NodeProbe(Pool pool, EventLoop loop) {
        this.pool = pool;
        this.loop = loop;
    }

    EventLoop loop() {
        return loop;
    }

    /**
     * Runs {@code sql} (one row, one column expected) and completes with that value as text (null for SQL NULL);
     * {@code justBeforeSend} runs on the loop right before the query is written to the server.
     */
    Future<String> run(String sql, Runnable justBeforeSend) {
        Promise<String> result = loop.newPromise();
        ServerConnection idle = pool.tryAcquireIdle(loop);
        if (idle != null) {
            send(idle, sql, justBeforeSend, result);
        } else {
            pool.acquire(loop).addListener((Future<ServerConnection> f) -> {
                if (f.isSuccess()) {
                    send(f.getNow(), sql, justBeforeSend, result);
                } else {
                    result.tryFailure(f.cause());
                }
            });
        }
        return result;
    }

    private void send(ServerConnection conn, String sql, Runnable justBeforeSend, Promise<String> result) {
        if (!loop.inEventLoop()) { // the pool may hand over a connection of another loop's acquire
            loop.execute(() -> send(conn, sql, justBeforeSend, result));
            return;
        }
        String text = sql;
        justBeforeSend.run();
        ScheduledFuture<?> timeout = loop.schedule(() -> conn.close("WAL position query unanswered for "
                + TIMEOUT_MILLIS + " ms"), TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        ServerQuery.run(conn, text).addListener((Future<List<String[]>> q) -> {
            timeout.cancel(false);
            conn.pool().release(conn, q.isSuccess() ? ReleaseMode.REUSE : ReleaseMode.CLOSE);
            if (!q.isSuccess()) {
                result.tryFailure(q.cause());
            } else if (q.getNow().isEmpty() || q.getNow().get(0).length == 0) {
                result.tryFailure(new IllegalStateException("no row from " + sql));
            } else {
                result.trySuccess(q.getNow().get(0)[0]);
            }
        });
    }

    void close() {
        pool.close();
    }
}
