package io.pgsplit.auth;

/**
 * Authentication did not succeed: wrong credentials, a malformed or hostile message, or an error
 * reported by the peer.
 *
 * <p>The message is safe to show to a client or write to a log: it never contains the password,
 * a proof, a signature or a key.
 */
public final class AuthFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    public AuthFailedException(String message) {
        super(message);
    }
}
