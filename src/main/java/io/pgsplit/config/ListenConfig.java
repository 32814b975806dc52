package io.pgsplit.config;

import java.time.Duration;

/**
 * Where and how pgsplit accepts client connections (YAML section {@code listen}).
 *
 * @param host            address to bind, default {@code 127.0.0.1} ({@code 0.0.0.0} for all interfaces)
 * @param port            default 6432
 * @param maxClientConn   client connections accepted at once, default 10000; more are refused
 * @param startupTimeout  a client must finish startup and authentication within this, default 10s (0 = no limit)
 * @param maxMessageSize  bytes; a client message claiming more is a protocol violation, default 64 MiB
 * @param workerThreads   event-loop threads, 0 (default) = one per two cores, at least one
 * @param reusePort       bind with SO_REUSEPORT (Linux), so a new pgsplit can listen on the same port while this
 *                        one drains (rolling restart); default false
 */
public record ListenConfig(String host, int port, int maxClientConn, Duration startupTimeout, int maxMessageSize,
                           int workerThreads, boolean reusePort) {

    public ListenConfig(String host, int port, int maxClientConn, Duration startupTimeout, int maxMessageSize,
                        int workerThreads) {
        this(host, port, maxClientConn, startupTimeout, maxMessageSize, workerThreads, false);
    }

    /** The configuration used when the file has no {@code listen} section. */
    public static ListenConfig defaults() {
        return new ListenConfig("127.0.0.1", 6432, 10_000, Duration.ofSeconds(10), 64 << 20, 0);
    }
}
