package io.pgsplit.auth;

import java.security.SecureRandom;

/** Random bytes for salts and nonces, from one shared {@link SecureRandom} (it is thread-safe). */
public final class Salts {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Salts() {
    }

    /** Returns {@code n} fresh random bytes. */
    public static byte[] random(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("negative length: " + n);
        }
        byte[] bytes = new byte[n];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
