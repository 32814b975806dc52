package io.pgsplit.config;

import java.util.Locale;

/**
 * How fresh a read sent to a replica must be ({@code routing.consistency}, per database, per user, per
 * connection, per session, per statement).
 */
public enum Consistency {
    /**
     * A replica only if it has replayed every write this pgsplit acknowledged to any client before the read
     * arrived; otherwise wait up to {@code routing.causal_wait}, then the primary. Default.
     */
    CAUSAL,
    /** The same, counting only the client's own writes (read your writes). */
    SESSION,
    /** Any replica within the lag limits, however far behind the client's writes it is. */
    EVENTUAL;

    /** The spelling used in the configuration file, hints and {@code SET pgsplit.consistency}. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The level named {@code text} (any case), or null. */
    public static Consistency parse(String text) {
        if (text == null) {
            return null;
        }
        for (Consistency c : values()) {
            if (c.yamlName().equalsIgnoreCase(text.trim())) {
                return c;
            }
        }
        return null;
    }
}
