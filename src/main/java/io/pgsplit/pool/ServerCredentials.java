package io.pgsplit.pool;

import io.pgsplit.auth.PassThroughSecret;
import java.util.Objects;

/**
 * Who pgsplit logs in as on a server. {@code password} may be null for trust authentication; it may
 * also be a stored MD5 hash ({@code "md5" + 32 hex}) for md5 authentication. Without a password,
 * {@code passThrough} (may be null) holds what the user's own clients logged in with; {@code tls} (null =
 * plaintext) is how the connection is encrypted first (issue 15).
 */
public record ServerCredentials(String user, String password, String database, PassThroughSecret passThrough,
                                io.pgsplit.tls.ServerTls tls) {
    public ServerCredentials {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(database, "database");
    }

    public ServerCredentials(String user, String password, String database) {
        this(user, password, database, null, null);
    }

    public ServerCredentials(String user, String password, String database, PassThroughSecret passThrough) {
        this(user, password, database, passThrough, null);
    }

    @Override
    public String toString() {
        // never print the password
        return "ServerCredentials[user=" + user + ", database=" + database + "]";
    }
}
