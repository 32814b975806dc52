package io.pgsplit.pool;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a pool's server_reset_query (a simple Query, typically DISCARD ALL) on a released connection
 * and returns it to the pool only if the server answered ReadyForQuery 'I' with no error; otherwise
 * (error, left in a transaction, no answer in time, connection lost) the connection is closed.
 */
final class ResetQuery {
    private static final Logger log = LoggerFactory.getLogger(ResetQuery.class);
    /** DISCARD ALL is instant; a server that takes this long is in trouble and the connection goes. */
    static final long TIMEOUT_MILLIS = 10_000;

    private final Pool pool;

    ResetQuery(Pool pool) {
        this.pool = pool;
    }

    void run(ServerConnection conn) {
        Run run = new Run(conn);
        conn.attach(run);
        conn.eventLoop().execute(run::start);
    }

    /** One reset on one connection; everything runs on the connection's event loop. */
    private final class Run implements ServerDataListener {
        private final ServerConnection conn;
        private final MessageSplitter splitter = new MessageSplitter();
        private ErrorFields error;
        private boolean done;
        private ScheduledFuture<?> timeout;

        Run(ServerConnection conn) {
            this.conn = conn;
        }

        void start() {
            if (done) {
                return;
            }
            timeout = conn.eventLoop().schedule(() -> fail("no answer to the reset query within "
                    + TIMEOUT_MILLIS + " ms"), TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            conn.write(Messages.query(pool.settings().serverResetQuery()));
            conn.flush();
        }

        @Override
        public void onServerData(ServerConnection connection, ByteBuf data) {
            if (done) {
                data.release();
                return;
            }
            splitter.feed(data, msg -> {
                if (done) {
                    return;
                }
                byte type = msg.getByte(msg.readerIndex());
                if (type == MessageType.Backend.ERROR_RESPONSE) {
                    error = ErrorFields.parse(msg);
                } else if (type == MessageType.Backend.READY_FOR_QUERY) {
                    char status = (char) msg.getByte(msg.readerIndex() + 5);
                    if (error != null) {
                        fail("reset query failed: " + error);
                    } else if (status != 'I') {
                        fail("reset query left transaction status '" + status + "'");
                    } else {
                        succeed();
                    }
                }
                // CommandComplete, notices, ParameterStatus: nothing to do
            });
        }

        @Override
        public void onServerClosed(ServerConnection connection, Throwable cause) {
            finish(); // the pool's closeFuture listener removes it
        }

        @Override
        public void onServerWritabilityChanged(ServerConnection connection, boolean writable) {
        }

        private void succeed() {
            finish();
            conn.attach(null);
            conn.state.clearAfterReset();
            pool.returnToPool(conn);
        }

        private void fail(String reason) {
            if (done) {
                return;
            }
            finish();
            log.info("closing {}: {}", conn, reason);
            conn.attach(null);
            conn.close(reason);
        }

        private void finish() {
            done = true;
            splitter.release();
            if (timeout != null) {
                timeout.cancel(false);
            }
        }
    }
}
