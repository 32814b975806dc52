package io.pgsplit.pool;

import java.util.Objects;

/**
 * Who pgsplit logs in as on a server. {@code password} may be null for trust authentication; it may
 * also be a stored MD5 hash ({@code "md5" + 32 hex}) for md5 authentication.
 */
public record ServerCredentials(String user, String password, String database) {
    public ServerCredentials {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(database, "database");
    }

    @Override
    public String toString() {
        // never print the password
        return "ServerCredentials[user=" + user + ", database=" + database + "]";
    }
}
