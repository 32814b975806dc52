package io.pgsplit.config;

import java.util.regex.Pattern;

/** Recognizes the password formats PostgreSQL stores in {@code pg_authid}, which pgsplit accepts too. */
public final class PasswordFormats {

    private static final Pattern MD5_HASH = Pattern.compile("md5[0-9a-fA-F]{32}");
    static final String SCRAM_PREFIX = "SCRAM-SHA-256$";
    /** {@code SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>} */
    private static final Pattern SCRAM_VERIFIER = Pattern.compile(
            "SCRAM-SHA-256\\$[1-9][0-9]*:[A-Za-z0-9+/]+=*\\$[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]+=*");

    private PasswordFormats() {
    }

    public static boolean isMd5Hash(String password) {
        return password != null && MD5_HASH.matcher(password).matches();
    }

    /** Starts like a verifier (it may still be malformed, see {@link #isWellFormedScramVerifier}). */
    static boolean looksLikeScramVerifier(String password) {
        return password != null && password.startsWith(SCRAM_PREFIX);
    }

    static boolean isWellFormedScramVerifier(String password) {
        return password != null && SCRAM_VERIFIER.matcher(password).matches();
    }

    public static boolean isPlaintext(String password) {
        return password != null && !isMd5Hash(password) && !looksLikeScramVerifier(password);
    }
}
