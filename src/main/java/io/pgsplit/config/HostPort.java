package io.pgsplit.config;

/**
 * A server address. YAML: {@code "127.0.0.1:5432"}, {@code "[::1]:5432"}, {@code "db.internal"} (port 5432),
 * or a mapping {@code {host: db.internal, port: 5432}}.
 */
public record HostPort(String host, int port) {

    /** PostgreSQL's default port, used when an address gives none. */
    public static final int DEFAULT_PORT = 5432;

    /** {@code host:port}, with IPv6 addresses in brackets. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
