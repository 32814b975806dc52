package io.pgsplit.config;

import java.util.List;

/**
 * The admin console and the metrics endpoint (YAML section {@code admin}). The console is a virtual database
 * {@code pgsplit}, also answering as {@code pgbouncer}, that speaks PgBouncer's {@code SHOW POOLS}-style commands.
 *
 * @param enabled    serve the admin console, default false
 * @param user       the console's own user, default {@code pgsplit} (all commands)
 * @param password   that user's password, required when enabled; plaintext, {@code md5...} or a SCRAM verifier
 * @param adminUsers names from {@code users} that may run every console command, with their own passwords
 * @param statsUsers names from {@code users} that may run the read-only commands ({@code SHOW ...}) only
 * @param metrics    where the Prometheus metrics endpoint listens ({@code /metrics}), null = no endpoint
 */
public record AdminConfig(boolean enabled, String user, String password, List<String> adminUsers,
                          List<String> statsUsers, HostPort metrics) {

    public AdminConfig {
        adminUsers = adminUsers == null ? List.of() : List.copyOf(adminUsers);
        statsUsers = statsUsers == null ? List.of() : List.copyOf(statsUsers);
    }

    /** The console alone, without extra admin or stats users and without a metrics endpoint. */
    public AdminConfig(boolean enabled, String user, String password) {
        this(enabled, user, password, List.of(), List.of(), null);
    }

    public static AdminConfig defaults() {
        return new AdminConfig(false, "pgsplit", null);
    }

    /** Never prints the password (configs end up in logs). */
    @Override
    public String toString() {
        return "AdminConfig[enabled=" + enabled + ", user=" + user + ", password=" + (password == null ? "null" : "***")
                + ", adminUsers=" + adminUsers + ", statsUsers=" + statsUsers + ", metrics=" + metrics + "]";
    }
}
