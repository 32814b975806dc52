package io.pgsplit.pool;

import io.netty.buffer.ByteBuf;

/**
 * Receives what a logged-in server connection reads while a client session has it. Called on the
 * server connection's event loop.
 */
public interface ServerDataListener {
    /** Raw bytes from the server, possibly several messages or part of one. The listener owns {@code data}. */
    void onServerData(ServerConnection connection, ByteBuf data);

    /** The connection closed or failed; {@code cause} may be null for an orderly close. */
    void onServerClosed(ServerConnection connection, Throwable cause);

    /** The server channel's writability changed: pause or resume reading from the client. */
    void onServerWritabilityChanged(ServerConnection connection, boolean writable);
}
