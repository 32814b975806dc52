package io.pgsplit.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * PostgreSQL's legacy MD5 password scheme (AuthenticationMD5Password).
 *
 * <p>The stored form is {@code "md5" + md5hex(password + user)}; on the wire the client answers
 * a 4-byte salt with {@code "md5" + md5hex(md5hex(password + user) + salt)}. Since the response
 * needs only the stored hash, a pooler holding just the hash can both verify clients and log in.
 */
public final class Md5Password {
    private static final String PREFIX = "md5";
    private static final int STORED_LENGTH = PREFIX.length() + 32;

    private Md5Password() {
    }

    /** What PostgreSQL stores for this user and password: {@code "md5" + md5hex(password + user)}. */
    public static String encrypt(String user, String password) {
        return PREFIX + md5Hex(password.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The PasswordMessage content answering AuthenticationMD5Password. The second argument may be
     * the plaintext password or an already stored {@code md5<32 hex>} hash, which is used as is
     * (PostgreSQL applies the same rule, so a password that looks exactly like a hash is a hash).
     */
    public static String response(String user, String passwordOrStoredMd5, byte[] salt4) {
        if (salt4 == null || salt4.length != 4) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes");
        }
        String stored = isStoredMd5(passwordOrStoredMd5) ? passwordOrStoredMd5 : encrypt(user, passwordOrStoredMd5);
        String storedHex = stored.substring(PREFIX.length());
        return PREFIX + md5Hex(storedHex.getBytes(StandardCharsets.US_ASCII), salt4);
    }

    /**
     * Whether the client's response proves knowledge of the password (or its stored hash).
     * Compares in constant time. A null or malformed response is simply wrong.
     */
    public static boolean verify(String user, String storedPasswordOrPlain, byte[] salt4, String clientResponse) {
        if (clientResponse == null) {
            return false;
        }
        byte[] expected = response(user, storedPasswordOrPlain, salt4).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, clientResponse.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code "md5"} followed by exactly 32 lowercase hex digits, as PostgreSQL recognizes it. */
    static boolean isStoredMd5(String s) {
        if (s == null || s.length() != STORED_LENGTH || !s.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static String md5Hex(byte[] first, byte[] second) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(first);
            md5.update(second);
            return HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks MD5", e);
        }
    }
}
