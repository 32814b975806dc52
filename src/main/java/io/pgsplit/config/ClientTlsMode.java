package io.pgsplit.config;

/** Whether clients talk to pgsplit over TLS (YAML {@code tls.mode}); spellings as PgBouncer's client_tls_sslmode. */
public enum ClientTlsMode {
    /** SSLRequest is answered 'N': plaintext only (the default: no certificate needed). */
    DISABLE("disable"),
    /** TLS when the client asks for it, plaintext otherwise. */
    ALLOW("allow"),
    /** Same as allow (a server cannot prefer more than offering it); kept for PgBouncer's spelling. */
    PREFER("prefer"),
    /** Plaintext start-up messages are refused: every client must use TLS. */
    REQUIRE("require");

    private final String yamlName;

    ClientTlsMode(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
