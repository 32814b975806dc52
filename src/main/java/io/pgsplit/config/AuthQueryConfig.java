package io.pgsplit.config;

import java.time.Duration;

/**
 * How pgsplit looks up users that are not in {@code users} (YAML section {@code auth_query}), like
 * PgBouncer's auth_query: a query on the primary returning the user's name and stored password
 * (SCRAM verifier or md5 hash) from {@code pg_authid} or the operator's own function.
 *
 * @param query            SQL with one parameter {@code $1} (the user name) returning one row of two
 *                         columns: name and stored password (NULL or no row: the user cannot log in)
 * @param user             the user the lookup logs in as; null = auth_query is off
 * @param password         its password (plaintext: pgsplit logs in with it); null when the server trusts it
 * @param database         the server database the lookup runs in; null = the client's database
 * @param cacheTtl         how long a found verifier is kept, default 60 s
 * @param negativeCacheTtl how long "no such user" is kept, default 5 s
 * @param poolSize         connections of the lookup pool per database, default 2
 * @param recheck          true (default): every login reads the user afresh (so ALTER ROLE, DROP ROLE and
 *                         VALID UNTIL take effect at once, and unknown and known users cost the same query),
 *                         and the cache answers only while the primary cannot; false: cached entries answer
 *                         for their TTL without a query
 */
public record AuthQueryConfig(String query, String user, String password, String database, Duration cacheTtl,
                              Duration negativeCacheTtl, int poolSize, boolean recheck) {

    /**
     * PgBouncer's default query, with the expiry applied: a role whose VALID UNTIL has passed, or that
     * cannot log in, has no usable password.
     */
    public static final String DEFAULT_QUERY = "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL "
            + "ELSE rolpassword END FROM pg_catalog.pg_authid WHERE rolname = $1 AND rolcanlogin";

    public AuthQueryConfig {
        if (query == null) {
            query = DEFAULT_QUERY;
        }
    }

    public static AuthQueryConfig defaults() {
        return new AuthQueryConfig(DEFAULT_QUERY, null, null, null, Duration.ofSeconds(60), Duration.ofSeconds(5), 2,
                true);
    }

    public boolean enabled() {
        return user != null;
    }

    @Override
    public String toString() {
        return "AuthQueryConfig[user=" + user + ", database=" + database + ", password="
                + (password == null ? "null" : "***") + ", cacheTtl=" + cacheTtl + "]";
    }
}
