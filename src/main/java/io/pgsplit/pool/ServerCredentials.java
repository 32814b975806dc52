package io.pgsplit.pool;

import java.util.Objects;

/**
 * Who pgsplit logs in as on a server. {@code password} may be null for trust authentication; it may
 * also be a stored MD5 hash ({@code "md5" + 32 hex}) for md5 authentication. {@code applicationName}: what the
 * connection calls itself in pg_stat_activity, {@code pgsplit} unless pgsplit's own queries use it.
 */
public record ServerCredentials(String user, String password, String database, String applicationName) {
    public ServerCredentials {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(database, "database");
        if (applicationName == null) {
            applicationName = "pgsplit";
        }
    }

    public ServerCredentials(String user, String password, String database) {
        this(user, password, database, null);
    }

    /** The same login under another application_name. */
    public ServerCredentials named(String name) {
        return new ServerCredentials(user, password, database, name);
    }

    @Override
    public String toString() {
        // never print the password
        return "ServerCredentials[user=" + user + ", database=" + database + "]";
    }
}
