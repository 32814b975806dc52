package io.pgsplit.config;

import java.nio.file.Path;

/**
 * TLS to one database's servers (YAML {@code databases.<name>.server_tls}).
 *
 * @param mode   disable (default), prefer, require, verify-ca or verify-full
 * @param caFile PEM CA certificates the servers' certificates must chain to; required for verify-ca/verify-full
 */
public record ServerTlsConfig(ServerTlsMode mode, Path caFile) {
    public ServerTlsConfig {
        if (mode == null) {
            mode = ServerTlsMode.DISABLE;
        }
    }

    public static ServerTlsConfig disabled() {
        return new ServerTlsConfig(ServerTlsMode.DISABLE, null);
    }
}
