package io.pgsplit.config;

/**
 * A user clients log in as (one entry of the YAML {@code users} mapping).
 *
 * @param name           the user name clients use (the mapping key)
 * @param auth           how the client is authenticated, default scram-sha-256
 * @param password       what the client must know: plaintext, {@code md5<32 hex>} (md5 of password+user),
 *                       or a SCRAM verifier {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>};
 *                       required unless {@code auth} is trust. A hash lets pgsplit check clients without
 *                       storing the password, but then it cannot log in to the servers with it.
 * @param serverUser     the user pgsplit logs in to the servers as, default = {@code name}
 * @param serverPassword password for the servers; default = {@code password} when that is plaintext. Required
 *                       when {@code password} is a hash; {@code ""} means the servers ask for none. May be null
 *                       (no client password and none given: the servers must trust pgsplit)
 * @param poolMode       overrides the pool mode for this user's pools, null = inherit
 * @param consistency    overrides the database's consistency for this user's reads, null = inherit
 */
public record UserConfig(String name, AuthMethod auth, String password, String serverUser, String serverPassword,
                         PoolMode poolMode, Consistency consistency) {

    public UserConfig {
        if (auth == null) {
            auth = AuthMethod.SCRAM_SHA_256;
        }
        if (serverUser == null) {
            serverUser = name;
        }
    }

    /** A user without a consistency of its own. */
    public UserConfig(String name, AuthMethod auth, String password, String serverUser, String serverPassword,
                      PoolMode poolMode) {
        this(name, auth, password, serverUser, serverPassword, poolMode, null);
    }

    /** True if {@code password} is an MD5 hash ({@code md5} followed by 32 hex digits) rather than plaintext. */
    public boolean passwordIsMd5Hash() {
        return PasswordFormats.isMd5Hash(password);
    }

    /** True if {@code password} is a SCRAM-SHA-256 verifier rather than plaintext. */
    public boolean passwordIsScramVerifier() {
        return PasswordFormats.looksLikeScramVerifier(password);
    }

    /** Never prints passwords (configs end up in logs). */
    @Override
    public String toString() {
        return "UserConfig[name=" + name + ", auth=" + auth + ", password=" + mask(password) + ", serverUser="
                + serverUser + ", serverPassword=" + mask(serverPassword) + ", poolMode=" + poolMode + ", consistency=" + consistency + "]";
    }

    private static String mask(String secret) {
        return secret == null ? "null" : "***";
    }
}
