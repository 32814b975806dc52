package io.pgsplit.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.SecretKey;

/** The SCRAM-SHA-256 primitives of RFC 5802 section 3, with SHA-256 as the hash (RFC 7677). */
final class ScramCrypto {
    static final String MECHANISM = "SCRAM-SHA-256";
    static final int KEY_LENGTH = 32;
    static final int DEFAULT_ITERATIONS = 4096;   // PostgreSQL's scram_iterations default
    static final int DEFAULT_SALT_LENGTH = 16;    // PostgreSQL's SCRAM_DEFAULT_SALT_LEN
    static final int NONCE_RANDOM_BYTES = 18;     // PostgreSQL's SCRAM_RAW_NONCE_LEN

    private static final byte[] CLIENT_KEY_LABEL = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY_LABEL = "Server Key".getBytes(StandardCharsets.US_ASCII);

    private ScramCrypto() {
    }

    /** SaltedPassword := Hi(Normalize(password), salt, i). */
    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        return hi(SaslPrep.passwordBytes(password), salt, iterations);
    }

    /** ClientKey := HMAC(SaltedPassword, "Client Key"). */
    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY_LABEL);
    }

    /** ServerKey := HMAC(SaltedPassword, "Server Key"). */
    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY_LABEL);
    }

    /**
     * Hi() of RFC 5802, which is PBKDF2 with HMAC-SHA-256 and a one-block output. Written out
     * rather than going through SecretKeyFactory because PBEKeySpec takes a char[] (we must feed
     * raw bytes when SASLprep fails) and the JDK refuses an empty password as a key.
     */
    static byte[] hi(byte[] password, byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive");
        }
        Mac mac = newMac(password);
        mac.update(salt);
        mac.update(new byte[] {0, 0, 0, 1});   // INT(1): the first (only) PBKDF2 block
        byte[] u = mac.doFinal();
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    static byte[] hmac(byte[] key, byte[] data) {
        return newMac(key).doFinal(data);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    private static Mac newMac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new RawHmacKey(key));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks HmacSHA256", e);
        }
    }

    /**
     * An HMAC key over arbitrary bytes. SecretKeySpec would do, except that it rejects an empty
     * key, and an empty password is legal for SCRAM (HMAC pads the key with zeros anyway).
     */
    private static final class RawHmacKey implements SecretKey {
        private static final long serialVersionUID = 1L;
        private final byte[] key;

        RawHmacKey(byte[] key) {
            this.key = key.clone();
        }

        @Override
        public String getAlgorithm() {
            return "HmacSHA256";
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return key.clone();
        }
    }
}
