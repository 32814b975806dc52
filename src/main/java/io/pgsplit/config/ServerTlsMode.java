package io.pgsplit.config;

/** TLS from pgsplit to a database's servers (YAML {@code databases.<name>.server_tls.mode}); libpq's sslmode names. */
public enum ServerTlsMode {
    /** Plaintext (the default). */
    DISABLE("disable"),
    /** TLS when the server offers it, plaintext otherwise; the certificate is not checked. */
    PREFER("prefer"),
    /** TLS or no connection; the certificate is not checked. */
    REQUIRE("require"),
    /** TLS with a certificate signed by a CA in {@code ca_file}. */
    VERIFY_CA("verify-ca"),
    /** As verify-ca, and the certificate must name the host pgsplit connects to (SAN IP address or DNS name). */
    VERIFY_FULL("verify-full");

    private final String yamlName;

    ServerTlsMode(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }

    public boolean verifies() {
        return this == VERIFY_CA || this == VERIFY_FULL;
    }
}
