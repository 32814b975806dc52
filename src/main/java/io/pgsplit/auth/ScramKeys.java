package io.pgsplit.auth;

import java.util.Arrays;

/**
 * A client's SCRAM-SHA-256 keys for one secret (salt and iteration count): the ClientKey, recovered from
 * the proof of a client that logged in, and the ServerKey, from the stored verifier. Together they let
 * pgsplit log in to a server holding the same verifier as that user, without the password: the proof is
 * ClientKey XOR HMAC(H(ClientKey), AuthMessage). Kept only in memory, never logged.
 */
public final class ScramKeys {
    private final int iterations;
    private final byte[] salt;
    private final byte[] clientKey;
    private final byte[] serverKey;

    public ScramKeys(int iterations, byte[] salt, byte[] clientKey, byte[] serverKey) {
        this.iterations = iterations;
        this.salt = salt.clone();
        this.clientKey = clientKey.clone();
        this.serverKey = serverKey.clone();
    }

    public int iterations() {
        return iterations;
    }

    boolean sameSecretAs(byte[] otherSalt, int otherIterations) {
        return iterations == otherIterations && Arrays.equals(salt, otherSalt);
    }

    byte[] clientKey() {
        return clientKey.clone();
    }

    byte[] serverKey() {
        return serverKey.clone();
    }

    @Override
    public String toString() {
        return "ScramKeys[iterations=" + iterations + ", keys=<hidden>]";
    }
}
