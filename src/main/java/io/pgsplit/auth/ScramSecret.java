package io.pgsplit.auth;

import java.util.Arrays;
import java.util.Base64;

/**
 * A SCRAM-SHA-256 secret as PostgreSQL stores it in pg_authid.rolpassword:
 * {@code SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>}.
 *
 * <p>It lets a server verify a client but not impersonate one: the password and the
 * ClientKey cannot be recovered from it. Arrays are copied in and out, so instances are immutable;
 * equality compares contents and {@link #toString()} does not print the keys.
 */
public record ScramSecret(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
    private static final String PREFIX = ScramCrypto.MECHANISM + "$";

    public ScramSecret {
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM iteration count must be positive");
        }
        if (salt == null || salt.length == 0) {
            throw new IllegalArgumentException("SCRAM salt must not be empty");
        }
        if (storedKey == null || storedKey.length != ScramCrypto.KEY_LENGTH
                || serverKey == null || serverKey.length != ScramCrypto.KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM-SHA-256 StoredKey and ServerKey must be 32 bytes");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    /** Whether {@code s} is a well-formed SCRAM-SHA-256 verifier (as opposed to, say, a plaintext password). */
    public static boolean looksLikeVerifier(String s) {
        if (s == null || !s.startsWith(PREFIX)) {
            return false;
        }
        try {
            parse(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Parses a stored verifier. The exception message never quotes the input, which is secret
     * material (anyone holding it can verify guesses offline).
     *
     * @throws IllegalArgumentException if {@code verifier} is not in PostgreSQL's format
     */
    public static ScramSecret parse(String verifier) {
        if (verifier == null) {
            throw new IllegalArgumentException("SCRAM verifier is null");
        }
        if (!verifier.startsWith(PREFIX)) {
            throw new IllegalArgumentException("SCRAM verifier must start with \"" + PREFIX + "\"");
        }
        // After the prefix: "<iterations>:<salt>$<StoredKey>:<ServerKey>"
        String[] parts = verifier.substring(PREFIX.length()).split("\\$", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException(
                    "SCRAM verifier must look like SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        String[] iterationsAndSalt = parts[0].split(":", -1);
        String[] keys = parts[1].split(":", -1);
        if (iterationsAndSalt.length != 2 || keys.length != 2) {
            throw new IllegalArgumentException(
                    "SCRAM verifier must look like SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        int iterations;
        try {
            iterations = Integer.parseInt(iterationsAndSalt[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("SCRAM verifier has a non-numeric iteration count");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM verifier has a non-positive iteration count");
        }
        byte[] salt = decodeField(iterationsAndSalt[1], "salt");
        byte[] storedKey = decodeField(keys[0], "StoredKey");
        byte[] serverKey = decodeField(keys[1], "ServerKey");
        return new ScramSecret(iterations, salt, storedKey, serverKey);
    }

    /**
     * Derives the secret PostgreSQL would store for {@code password} (what
     * {@code ALTER ROLE ... PASSWORD} computes with password_encryption = scram-sha-256).
     */
    public static ScramSecret fromPassword(String password, byte[] salt, int iterations) {
        if (password == null) {
            throw new IllegalArgumentException("password is null");
        }
        byte[] saltedPassword = ScramCrypto.saltedPassword(password, salt, iterations);
        byte[] storedKey = ScramCrypto.sha256(ScramCrypto.clientKey(saltedPassword));
        byte[] serverKey = ScramCrypto.serverKey(saltedPassword);
        Arrays.fill(saltedPassword, (byte) 0);
        return new ScramSecret(iterations, salt, storedKey, serverKey);
    }

    /** Like PostgreSQL's defaults: a random 16-byte salt and 4096 iterations. */
    public static ScramSecret fromPassword(String password) {
        return fromPassword(password, Salts.random(ScramCrypto.DEFAULT_SALT_LENGTH), ScramCrypto.DEFAULT_ITERATIONS);
    }

    /** The PostgreSQL text form, parseable by {@link #parse} and by PostgreSQL itself. */
    public String toVerifier() {
        Base64.Encoder b64 = Base64.getEncoder();
        return PREFIX + iterations + ":" + b64.encodeToString(salt)
                + "$" + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);
    }

    private static byte[] decodeField(String base64, String what) {
        if (base64.isEmpty()) {
            throw new IllegalArgumentException("SCRAM verifier has an empty " + what);
        }
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("SCRAM verifier has an invalid base64 " + what);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramSecret other
                && iterations == other.iterations
                && Arrays.equals(salt, other.salt)
                && Arrays.equals(storedKey, other.storedKey)
                && Arrays.equals(serverKey, other.serverKey);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * iterations + Arrays.hashCode(salt)) + Arrays.hashCode(storedKey);
    }

    @Override
    public String toString() {
        return "ScramSecret[iterations=" + iterations + ", salt=" + Base64.getEncoder().encodeToString(salt) + ", keys=<hidden>]";
    }
}
