package io.pgsplit.config;

import java.nio.file.Path;

/**
 * TLS between clients and pgsplit (YAML section {@code tls}).
 *
 * @param mode     disable (default), allow, prefer or require
 * @param certFile the server certificate chain, PEM; required unless mode is disable
 * @param keyFile  its private key, PEM (PKCS#8 or PKCS#1); required unless mode is disable
 * @param caFile   PEM certificates of the CAs whose client certificates are accepted; null = client
 *                 certificates are neither asked for nor checked. When set, a client that presents a
 *                 certificate must present a valid one; users with {@code auth: cert} must present one.
 */
public record ClientTlsConfig(ClientTlsMode mode, Path certFile, Path keyFile, Path caFile) {

    public ClientTlsConfig {
        if (mode == null) {
            mode = ClientTlsMode.DISABLE;
        }
    }

    public static ClientTlsConfig defaults() {
        return new ClientTlsConfig(ClientTlsMode.DISABLE, null, null, null);
    }

    public boolean enabled() {
        return mode != ClientTlsMode.DISABLE;
    }
}
