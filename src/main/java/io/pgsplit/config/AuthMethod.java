package io.pgsplit.config;

/** How pgsplit authenticates a client. YAML spellings as in {@code pg_hba.conf}. */
public enum AuthMethod {
    /** SASL SCRAM-SHA-256 (PostgreSQL's default since 14); YAML {@code scram-sha-256}. */
    SCRAM_SHA_256("scram-sha-256"),
    /** Legacy MD5 challenge; YAML {@code md5}. */
    MD5("md5"),
    /** No password asked (use only on trusted networks); YAML {@code trust}. */
    TRUST("trust"),
    /**
     * A TLS client certificate, verified against {@code tls.ca_file}, whose common name is the user name
     * (as PostgreSQL's {@code cert}); no password. YAML {@code cert}.
     */
    CERT("cert");

    private final String yamlName;

    AuthMethod(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The spelling used in the configuration file. */
    public String yamlName() {
        return yamlName;
    }
}
