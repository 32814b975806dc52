package io.pgsplit.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;

/**
 * The client side of one SCRAM-SHA-256 exchange: pgsplit logging into PostgreSQL. No channel
 * binding ({@code "n,,"}), and like libpq an empty username ({@code n=}) since PostgreSQL takes
 * the user from the startup packet.
 *
 * <p>Call {@link #clientFirst}, {@link #clientFinal}, {@link #verifyServerFinal} in that order.
 * Not thread-safe. Always call {@link #verifyServerFinal}: it is what proves the server knew the
 * secret, rather than merely accepting us.
 */
public final class ScramClientExchange {
    public static final String MECHANISM = ScramCrypto.MECHANISM;

    /** Refuse absurd iteration counts a hostile server could send to burn our CPU. */
    static final int MAX_ITERATIONS = 10_000_000;

    private static final String GS2_HEADER = "n,,";
    /** base64(GS2_HEADER): the channel-binding attribute when none is used. */
    private static final String CHANNEL_BINDING = "biws";

    private enum State { INITIAL, EXPECT_SERVER_FIRST, EXPECT_SERVER_FINAL, DONE }

    private final String password;
    /** Pass-through: the client's keys instead of a password (then {@code password} is null). */
    private final ScramKeys keys;
    private final String clientFirstBare;
    private final String clientNonce;
    private State state = State.INITIAL;
    private byte[] expectedServerSignature;

    public ScramClientExchange(String password) {
        this("", password, Base64.getEncoder().encodeToString(Salts.random(ScramCrypto.NONCE_RANDOM_BYTES)));
    }

    /** Logs in with a client's recovered keys rather than a password (SCRAM pass-through). */
    public ScramClientExchange(ScramKeys keys) {
        if (keys == null) {
            throw new IllegalArgumentException("keys are null");
        }
        this.password = null;
        this.keys = keys;
        this.clientNonce = Base64.getEncoder().encodeToString(Salts.random(ScramCrypto.NONCE_RANDOM_BYTES));
        this.clientFirstBare = "n=,r=" + clientNonce;
    }

    /** For tests: a fixed username and nonce, to replay the RFC 7677 example. */
    ScramClientExchange(String username, String password, String clientNonce) {
        if (password == null) {
            throw new IllegalArgumentException("password is null");
        }
        if (!ScramMessage.isPrintableNonce(clientNonce)) {
            throw new IllegalArgumentException("client nonce must be printable ASCII without ','");
        }
        this.password = password;
        this.keys = null;
        this.clientNonce = clientNonce;
        this.clientFirstBare = "n=" + saslName(username) + ",r=" + clientNonce;
    }

    /** The client-first-message, the data of SASLInitialResponse: {@code n,,n=,r=<nonce>}. */
    public byte[] clientFirst() {
        if (state != State.INITIAL) {
            throw new IllegalStateException("clientFirst already called");
        }
        state = State.EXPECT_SERVER_FIRST;
        return (GS2_HEADER + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Takes the server-first-message (data of AuthenticationSASLContinue) and returns the
     * client-final-message (data of SASLResponse) carrying our proof.
     */
    public byte[] clientFinal(byte[] serverFirst) throws AuthFailedException {
        if (state != State.EXPECT_SERVER_FIRST) {
            throw new IllegalStateException("clientFinal called out of order");
        }
        state = State.DONE;   // any failure below ends the exchange
        ScramMessage msg = ScramMessage.of(serverFirst, "server-first-message");

        // server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
        if (msg.peekAttribute() == 'm') {
            throw new AuthFailedException("SCRAM mandatory extensions (m=) are not supported");
        }
        if (msg.peekAttribute() == 'e') {
            throw serverError(msg.read('e'));
        }
        String fullNonce = msg.read('r');
        if (!ScramMessage.isPrintableNonce(fullNonce)) {
            throw msg.fail("invalid nonce");
        }
        if (!fullNonce.startsWith(clientNonce) || fullNonce.length() == clientNonce.length()) {
            throw new AuthFailedException("SCRAM server nonce does not extend the client nonce");
        }
        byte[] salt = msg.decodeBase64(msg.read('s'), "salt");
        if (salt.length == 0) {
            throw msg.fail("empty salt");
        }
        int iterations = parseIterations(msg, msg.read('i'));
        while (!msg.atEnd()) {
            msg.readAny();
        }

        String clientFinalWithoutProof = "c=" + CHANNEL_BINDING + ",r=" + fullNonce;
        byte[] authMessage = (clientFirstBare + "," + msg.text() + "," + clientFinalWithoutProof)
                .getBytes(StandardCharsets.UTF_8);

        byte[] clientKey;
        byte[] serverKey;
        if (keys != null) {
            if (!keys.sameSecretAs(salt, iterations)) {
                throw new AuthFailedException("the server's SCRAM secret for this user differs from the one the client "
                        + "logged in to pgsplit with (other salt or iteration count: " + iterations + " on the server, "
                        + keys.iterations() + " at pgsplit); the password must be set the same way on both");
            }
            clientKey = keys.clientKey();
            serverKey = keys.serverKey();
        } else {
            byte[] saltedPassword = ScramCrypto.saltedPassword(password, salt, iterations);
            clientKey = ScramCrypto.clientKey(saltedPassword);
            serverKey = ScramCrypto.serverKey(saltedPassword);
            Arrays.fill(saltedPassword, (byte) 0);
        }
        byte[] storedKey = ScramCrypto.sha256(clientKey);
        byte[] clientProof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(storedKey, authMessage));
        expectedServerSignature = ScramCrypto.hmac(serverKey, authMessage);
        Arrays.fill(clientKey, (byte) 0);

        state = State.EXPECT_SERVER_FINAL;
        return (clientFinalWithoutProof + ",p=" + Base64.getEncoder().encodeToString(clientProof))
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks the server-final-message (data of AuthenticationSASLFinal): {@code v=} must carry the
     * ServerSignature we expect; {@code e=} is the server's error and becomes the exception message.
     */
    public void verifyServerFinal(byte[] serverFinal) throws AuthFailedException {
        if (state != State.EXPECT_SERVER_FINAL) {
            throw new IllegalStateException("verifyServerFinal called out of order");
        }
        state = State.DONE;
        ScramMessage msg = ScramMessage.of(serverFinal, "server-final-message");
        if (msg.peekAttribute() == 'e') {
            throw serverError(msg.read('e'));
        }
        byte[] serverSignature = msg.decodeBase64(msg.read('v'), "server signature");
        while (!msg.atEnd()) {
            msg.readAny();
        }
        if (!MessageDigest.isEqual(serverSignature, expectedServerSignature)) {
            throw new AuthFailedException("invalid server signature: the server does not know the password");
        }
    }

    /**
     * The server's {@code e=} value (e.g. "invalid-proof") as an exception. It is echoed, since it
     * is what explains the failure, but bounded and reduced to printable ASCII: the peer may be hostile.
     */
    private static AuthFailedException serverError(String value) {
        String shown = value.length() > 100 ? value.substring(0, 100) + "..." : value;
        return new AuthFailedException("SCRAM error from server: " + shown.replaceAll("[^\\x20-\\x7E]", "?"));
    }

    private static int parseIterations(ScramMessage msg, String text) throws AuthFailedException {
        // Digits only: Integer.parseInt would also accept a sign.
        if (text.isEmpty() || text.length() > 9 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw msg.fail("invalid iteration count");
        }
        int iterations = Integer.parseInt(text);
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new AuthFailedException("SCRAM iteration count " + iterations
                    + " is out of range (1.." + MAX_ITERATIONS + ")");
        }
        return iterations;
    }

    /** RFC 5802 saslname: ',' and '=' are escaped as "=2C" and "=3D". */
    private static String saslName(String username) {
        return username.replace("=", "=3D").replace(",", "=2C");
    }
}
