package io.pgsplit.config;

import java.util.Locale;

/**
 * What to do in transaction/statement pooling when a client changes session state that would leak to the
 * next client of the server connection ({@code SET}, {@code LISTEN}, temp tables, advisory locks...).
 */
public enum SessionStatePolicy {
    /** Pin the client to its server connection until it disconnects (correct, costs pooling); YAML {@code pin}; default. */
    PIN,
    /** Reject the statement with an error (keeps pooling efficient); YAML {@code refuse}. */
    REFUSE;

    /** The spelling used in the configuration file. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
