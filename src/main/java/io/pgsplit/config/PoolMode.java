package io.pgsplit.config;

import java.util.Locale;

/** When a server connection goes back to the pool. YAML: {@code session}, {@code transaction}, {@code statement}. */
public enum PoolMode {
    /** Held for the client's whole session. */
    SESSION,
    /** Held for one transaction (the default, and what read/write splitting needs). */
    TRANSACTION,
    /** Held for one statement; multi-statement transactions are refused. */
    STATEMENT;

    /** The spelling used in the configuration file. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
