package io.pgsplit.pool;

import io.pgsplit.auth.PassThroughSecret;
import java.util.Objects;

/**
 * Who pgsplit logs in as on a server. {@code password} may be null for trust authentication; it may
 * also be a stored MD5 hash ({@code "md5" + 32 hex}) for md5 authentication. {@code applicationName}: what the
 * connection calls itself in pg_stat_activity, {@code pgsplit} unless pgsplit's own queries use it. Without a
 * password, {@code passThrough} (may be null) holds what the user's own clients logged in with; {@code tls}
 * (null = plaintext) is how the connection is encrypted first (issue 15).
 */
public record ServerCredentials(String user, String password, String database, String applicationName,
                                PassThroughSecret passThrough, io.pgsplit.tls.ServerTls tls) {
    public ServerCredentials {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(database, "database");
        if (applicationName == null) {
            applicationName = "pgsplit";
        }
    }

    public ServerCredentials(String user, String password, String database) {
        this(user, password, database, null, null, null);
    }

    public ServerCredentials(String user, String password, String database, String applicationName) {
        this(user, password, database, applicationName, null, null);
    }

    public ServerCredentials(String user, String password, String database, PassThroughSecret passThrough) {
        this(user, password, database, null, passThrough, null);
    }

    /** The same login under another application_name. */
    public ServerCredentials named(String name) {
        return new ServerCredentials(user, password, database, name, passThrough, tls);
    }

    @Override
    public String toString() {
        // never print the password
        return "ServerCredentials[user=" + user + ", database=" + database + "]";
    }
}
