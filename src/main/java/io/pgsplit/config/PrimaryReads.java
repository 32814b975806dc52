package io.pgsplit.config;

import java.util.Locale;

/** Whether the primary also serves reads. */
public enum PrimaryReads {
    /** The primary is one more read target; YAML {@code true}. */
    TRUE,
    /** Reads never go to the primary (they fail if no replica is up); YAML {@code false}. */
    FALSE,
    /** Reads go to the primary only when no replica is up; YAML {@code fallback}; default. */
    FALLBACK;

    /** The spelling used in the configuration file. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
