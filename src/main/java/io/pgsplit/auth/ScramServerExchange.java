package io.pgsplit.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * The server side of one SCRAM-SHA-256 exchange: pgsplit verifying a connecting client, following
 * RFC 5802 / RFC 7677 the way PostgreSQL implements them:
 * <ul>
 *   <li>channel binding is not offered, so the gs2 header must be {@code "n,,"} or {@code "y,,"};
 *       {@code "p=..."} is rejected, as is an authorization identity ({@code a=});</li>
 *   <li>the username in {@code n=} is ignored: the user was named in the startup packet;</li>
 *   <li>extension attributes are skipped; the reserved {@code m=} is rejected.</li>
 * </ul>
 * Call {@link #serverFirst} then {@link #serverFinal}, once each. Not thread-safe (one exchange
 * belongs to one connection). For a user that does not exist, a caller can run the exchange
 * against a random {@link ScramSecret} so the failure looks like a wrong password.
 */
public final class ScramServerExchange {
    private enum State { EXPECT_CLIENT_FIRST, EXPECT_CLIENT_FINAL, DONE }

    /** SCRAM-SHA-256-PLUS: the client chose channel binding (then {@link #bindingData} is set). */
    public static final String MECHANISM_PLUS = ScramCrypto.MECHANISM + "-PLUS";
    public static final String CHANNEL_BINDING_TYPE = "tls-server-end-point";

    private final ScramSecret secret;
    private final String serverNonce;
    /** tls-server-end-point data of this connection when it is on TLS (the server offers -PLUS), else null. */
    private byte[] bindingData;
    /** The client chose SCRAM-SHA-256-PLUS. */
    private boolean plus;
    private State state = State.EXPECT_CLIENT_FIRST;

    // Remembered from the first round for the second.
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirstMessage;
    private String fullNonce;
    /** The client's ClientKey, recovered from a proof that verified: what SCRAM pass-through logs in with. */
    private byte[] clientKey;

    public ScramServerExchange(ScramSecret secret) {
        this(secret, Base64.getEncoder().encodeToString(Salts.random(ScramCrypto.NONCE_RANDOM_BYTES)));
    }

    /**
     * Channel binding (issue 15): {@code bindingData} is the connection's tls-server-end-point hash (null when
     * not on TLS) and {@code plusSelected} whether the client picked SCRAM-SHA-256-PLUS.
     */
    public ScramServerExchange channelBinding(byte[] bindingData, boolean plusSelected) {
        this.bindingData = bindingData == null ? null : bindingData.clone();
        this.plus = plusSelected;
        return this;
    }

    /** For tests: a fixed server nonce, to replay the RFC 7677 example. */
    ScramServerExchange(ScramSecret secret, String serverNonce) {
        if (secret == null) {
            throw new IllegalArgumentException("secret is null");
        }
        if (!ScramMessage.isPrintableNonce(serverNonce)) {
            throw new IllegalArgumentException("server nonce must be printable ASCII without ','");
        }
        this.secret = secret;
        this.serverNonce = serverNonce;
    }

    /**
     * Processes the client-first-message (the data of SASLInitialResponse) and returns the
     * server-first-message {@code r=<client nonce + server nonce>,s=<salt>,i=<iterations>}.
     */
    /** After a successful {@link #serverFinal}: the client's keys for this secret, for pass-through. */
    public ScramKeys clientKeys() {
        if (clientKey == null) {
            throw new IllegalStateException("no verified proof");
        }
        return new ScramKeys(secret.iterations(), secret.salt(), clientKey, secret.serverKey());
    }

    public byte[] serverFirst(byte[] clientFirstMessage) throws AuthFailedException {
        if (state != State.EXPECT_CLIENT_FIRST) {
            throw new IllegalStateException("serverFirst already called");
        }
        state = State.DONE;   // any failure below ends the exchange
        ScramMessage msg = ScramMessage.of(clientFirstMessage, "client-first-message");

        // gs2-header = gs2-cbind-flag "," [ authzid ] ","   (PostgreSQL's rules, auth-scram.c read_client_first_message)
        if (msg.text().startsWith("p=")) {
            if (!plus) {
                throw new AuthFailedException("malformed SCRAM message: the client requires channel binding "
                        + "but selected SCRAM-SHA-256 rather than SCRAM-SHA-256-PLUS");
            }
            String type = msg.read('p');
            if (!CHANNEL_BINDING_TYPE.equals(type)) {
                throw new AuthFailedException("unsupported SCRAM channel-binding type \""
                        + type.replaceAll("[^\\x20-\\x7E]", "?") + "\"");
            }
        } else {
            if (plus) {
                throw new AuthFailedException("malformed SCRAM message: the client selected SCRAM-SHA-256-PLUS "
                        + "but sent no channel binding data");
            }
            char cbindFlag = msg.readFlag();
            if (cbindFlag != 'n' && cbindFlag != 'y') {
                throw msg.fail("invalid channel binding flag");
            }
            if (cbindFlag == 'y' && bindingData != null) {
                // the client supports channel binding and thinks we do not: someone removed -PLUS from our offer
                throw new AuthFailedException("SCRAM channel binding negotiation error");
            }
        }
        if (msg.peekAttribute() == 'a') {
            throw new AuthFailedException("SCRAM authorization identity (a=) is not supported");
        }
        msg.expectComma();
        gs2Header = msg.text().substring(0, msg.position());
        clientFirstBare = msg.text().substring(msg.position());

        // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
        if (msg.peekAttribute() == 'm') {
            throw new AuthFailedException("SCRAM mandatory extensions (m=) are not supported");
        }
        msg.read('n');   // ignored, as in PostgreSQL: the startup packet named the user
        String clientNonce = msg.read('r');
        if (!ScramMessage.isPrintableNonce(clientNonce)) {
            throw msg.fail("invalid client nonce");
        }
        while (!msg.atEnd()) {
            msg.readAny();
        }

        fullNonce = clientNonce + serverNonce;
        serverFirstMessage = "r=" + fullNonce
                + ",s=" + Base64.getEncoder().encodeToString(secret.salt())
                + ",i=" + secret.iterations();
        state = State.EXPECT_CLIENT_FINAL;
        return serverFirstMessage.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Verifies the client-final-message (the data of SASLResponse): channel binding data, nonce
     * and ClientProof. Returns the server-final-message {@code v=<ServerSignature>}, to be sent in
     * AuthenticationSASLFinal.
     *
     * @throws AuthFailedException "invalid proof" for a wrong password, or a description of what
     *         was malformed
     */
    public byte[] serverFinal(byte[] clientFinalMessage) throws AuthFailedException {
        if (state != State.EXPECT_CLIENT_FINAL) {
            throw new IllegalStateException("serverFinal called out of order");
        }
        state = State.DONE;
        ScramMessage msg = ScramMessage.of(clientFinalMessage, "client-final-message");

        // client-final-message = channel-binding "," nonce ["," extensions] "," proof
        String channelBinding = msg.read('c');
        byte[] header = gs2Header.getBytes(StandardCharsets.UTF_8);
        if (plus) {   // c = base64(gs2 header + tls-server-end-point hash of our certificate)
            byte[] both = java.util.Arrays.copyOf(header, header.length + bindingData.length);
            System.arraycopy(bindingData, 0, both, header.length, bindingData.length);
            header = both;
        }
        String expectedChannelBinding = Base64.getEncoder().encodeToString(header);
        if (!channelBinding.equals(expectedChannelBinding)) {
            // "biws" is base64("n,,"), "eSws" is base64("y,,"); anything else either claims
            // channel binding we did not offer or does not match the client-first gs2 header.
            throw new AuthFailedException("SCRAM channel binding check failed");
        }
        String nonce = msg.read('r');
        if (!nonce.equals(fullNonce)) {
            throw new AuthFailedException("SCRAM nonce mismatch");
        }
        int proofStart;
        while (true) {
            if (msg.atEnd()) {
                throw msg.fail("missing proof (p=)");
            }
            proofStart = msg.position();
            if (msg.readAny() == 'p') {
                break;
            }
        }
        msg.expectEnd();
        String proofBase64 = msg.text().substring(proofStart + 2);
        byte[] clientProof = msg.decodeBase64(proofBase64, "proof");
        if (clientProof.length != ScramCrypto.KEY_LENGTH) {
            throw msg.fail("proof of the wrong length");
        }
        String clientFinalWithoutProof = msg.text().substring(0, proofStart - 1);   // minus ",p=..."

        byte[] authMessage = (clientFirstBare + "," + serverFirstMessage + "," + clientFinalWithoutProof)
                .getBytes(StandardCharsets.UTF_8);
        byte[] storedKey = secret.storedKey();
        // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); it is right iff H(ClientKey) = StoredKey.
        byte[] clientSignature = ScramCrypto.hmac(storedKey, authMessage);
        byte[] clientKey = ScramCrypto.xor(clientProof, clientSignature);
        if (!MessageDigest.isEqual(ScramCrypto.sha256(clientKey), storedKey)) {
            throw new AuthFailedException("invalid proof");
        }
        this.clientKey = clientKey;
        byte[] serverSignature = ScramCrypto.hmac(secret.serverKey(), authMessage);
        return ("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.UTF_8);
    }
}
