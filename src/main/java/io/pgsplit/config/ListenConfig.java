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
 * @param peerId          this instance's id among several behind one address (1-2047), carried in the cancel keys
 *                        it hands out; 0 (default) = no peering
 * @param peers           the other instances (and this one) by peer id: a CancelRequest carrying another's id is
 *                        forwarded there
 */
public record ListenConfig(String host, int port, int maxClientConn, Duration startupTimeout, int maxMessageSize,
                           int workerThreads, boolean reusePort, int peerId, java.util.Map<Integer, HostPort> peers) {

    public ListenConfig {
        peers = peers == null ? java.util.Map.of() : java.util.Map.copyOf(peers);
    }

    public ListenConfig(String host, int port, int maxClientConn, Duration startupTimeout, int maxMessageSize,
                        int workerThreads) {
        this(host, port, maxClientConn, startupTimeout, maxMessageSize, workerThreads, false, 0, null);
    }

    public ListenConfig(String host, int port, int maxClientConn, Duration startupTimeout, int maxMessageSize,
                        int workerThreads, boolean reusePort) {
        this(host, port, maxClientConn, startupTimeout, maxMessageSize, workerThreads, reusePort, 0, null);
    }

    /** The configuration used when the file has no {@code listen} section. */
    public static ListenConfig defaults() {
        return new ListenConfig("127.0.0.1", 6432, 10_000, Duration.ofSeconds(10), 64 << 20, 0);
    }
}
