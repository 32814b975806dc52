package io.pgsplit.admin;

import io.pgsplit.pool.ServerConnection;
import java.net.SocketAddress;

/**
 * What the console shows of, and does to, one logged-in client. Implemented by the client session; read from the
 * console's thread, so values are a recent view rather than an exact one (good enough for SHOW), and
 * {@link #kill} only asks the session's own event loop to close it.
 */
public interface ClientView {
    /** PgBouncer's client id (also the BackendKeyData process id pgsplit gave the client). */
    long id();

    String user();

    String database();

    /** {@code waiting} (for a server connection or a RESUME), {@code active} (working on one), {@code idle}. */
    String state();

    SocketAddress remoteAddress();

    SocketAddress localAddress();

    /** When the client connected (epoch millis). */
    long connectedAtMillis();

    /** When its last request arrived (epoch millis), or 0. */
    long lastRequestAtMillis();

    /** Since when it waits (System.nanoTime()), or 0 when not waiting. */
    long waitingSinceNanos();

    String applicationName();

    /** Named prepared statements the client has. */
    int preparedStatements();

    /** The server connection it is working on, or null. */
    ServerConnection server();

    /** Closes the client with a FATAL error carrying {@code reason} (from any thread). */
    void kill(String reason);
}
