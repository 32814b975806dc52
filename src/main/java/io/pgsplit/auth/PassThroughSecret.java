package io.pgsplit.auth;

/**
 * What pgsplit can log in to the servers with for a user whose password it does not have (a user found by
 * auth_query, or one configured with a SCRAM verifier or md5 hash and no {@code server_password}): the
 * SCRAM keys of the last client that logged in as that user, and the stored md5 hash when that is what the
 * user has. One per server user, shared by that user's pools; updated by every successful client login,
 * so a changed password takes effect with the next login. Thread-safe.
 */
public final class PassThroughSecret {
    private final String user;
    private volatile ScramKeys scram;
    private volatile String md5Hash;

    public PassThroughSecret(String user) {
        this.user = user;
    }

    public String user() {
        return user;
    }

    public ScramKeys scram() {
        return scram;
    }

    public void scram(ScramKeys keys) {
        this.scram = keys;
    }

    /** The stored {@code md5<32 hex>} hash: it answers an md5 challenge by itself. */
    public String md5Hash() {
        return md5Hash;
    }

    public void md5Hash(String hash) {
        this.md5Hash = hash;
    }

    @Override
    public String toString() {
        return "PassThroughSecret[user=" + user + ", scram=" + (scram != null) + ", md5=" + (md5Hash != null) + "]";
    }
}
