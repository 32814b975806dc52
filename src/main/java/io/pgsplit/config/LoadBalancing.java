package io.pgsplit.config;

import java.util.Locale;

/** How reads are spread across read targets (replicas, and the primary when it serves reads). */
public enum LoadBalancing {
    /** In turn; YAML {@code round_robin}; default. */
    ROUND_ROBIN,
    /** To the target with the fewest queries in flight; YAML {@code least_outstanding}. */
    LEAST_OUTSTANDING,
    /** At random in proportion to {@code weight}; YAML {@code weighted}. */
    WEIGHTED;

    /** The spelling used in the configuration file. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
