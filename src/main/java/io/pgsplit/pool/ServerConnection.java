package io.pgsplit.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.pgsplit.cluster.Node;
import java.util.Map;

/**
 * One logged-in connection to a PostgreSQL server, owned by a {@link Pool}. While a client session
 * holds it, every byte the server sends goes to the attached {@link ServerDataListener}.
 *
 * <p>API contract for the pool implementation (bodies are the pool engineer's).
 */
public final class ServerConnection {
    /** pgsplit's knowledge of the session on this server connection (params, prepared statements). */
    public final ServerSessionState state;

    ServerConnection(ServerSessionState state) {
        this.state = state;
    }

    public Channel channel() {
        throw new UnsupportedOperationException("TODO pool");
    }

    public EventLoop eventLoop() {
        throw new UnsupportedOperationException("TODO pool");
    }

    public Node node() {
        throw new UnsupportedOperationException("TODO pool");
    }

    public Pool pool() {
        throw new UnsupportedOperationException("TODO pool");
    }

    /** The server's BackendKeyData, used to forward a client's cancel to this connection. */
    public int backendProcessId() {
        throw new UnsupportedOperationException("TODO pool");
    }

    public int backendSecretKey() {
        throw new UnsupportedOperationException("TODO pool");
    }

    /** ParameterStatus values received at login (server_version, TimeZone, ...). Unmodifiable. */
    public Map<String, String> loginParameters() {
        throw new UnsupportedOperationException("TODO pool");
    }

    /** Routes the server's bytes to {@code listener} from now on (null detaches; data is then discarded and logged). */
    public void attach(ServerDataListener listener) {
        throw new UnsupportedOperationException("TODO pool");
    }

    /** Writes without flushing; the caller flushes once per batch. */
    public void write(ByteBuf msg) {
        throw new UnsupportedOperationException("TODO pool");
    }

    public void flush() {
        throw new UnsupportedOperationException("TODO pool");
    }

    public boolean isWritable() {
        throw new UnsupportedOperationException("TODO pool");
    }

    /** Pauses or resumes reading from the server (back-pressure from a slow client). */
    public void setAutoRead(boolean autoRead) {
        throw new UnsupportedOperationException("TODO pool");
    }

    public boolean isActive() {
        throw new UnsupportedOperationException("TODO pool");
    }

    /** Sends a CancelRequest for this connection's running query over a new connection to the same server. */
    public void cancel() {
        throw new UnsupportedOperationException("TODO pool");
    }

    /** Closes the connection and removes it from its pool. */
    public void close(String reason) {
        throw new UnsupportedOperationException("TODO pool");
    }

    @Override
    public String toString() {
        return "server connection";
    }
}
