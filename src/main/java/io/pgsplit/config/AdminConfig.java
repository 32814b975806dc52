package io.pgsplit.config;

/**
 * The admin console: a virtual database {@code pgsplit} for {@code SHOW POOLS}-style commands
 * (YAML section {@code admin}).
 *
 * @param enabled  default false
 * @param user     user name that may connect to the admin console, default {@code pgsplit}
 * @param password required when enabled; plaintext, {@code md5...} or a SCRAM verifier
 */
public record AdminConfig(boolean enabled, String user, String password) {

    public static AdminConfig defaults() {
        return new AdminConfig(false, "pgsplit", null);
    }

    /** Never prints the password (configs end up in logs). */
    @Override
    public String toString() {
        return "AdminConfig[enabled=" + enabled + ", user=" + user + ", password=" + (password == null ? "null" : "***") + "]";
    }
}
