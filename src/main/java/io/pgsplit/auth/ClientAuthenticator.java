package io.pgsplit.auth;

import io.netty.buffer.ByteBuf;
import io.pgsplit.config.AuthMethod;
import io.pgsplit.config.UserConfig;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authenticates one client against the users in the config, speaking the server side of
 * PostgreSQL's authentication exchange. Drive it with {@link #start()} and then
 * {@link #onPasswordMessage} for every 'p' message until it reports {@link Step#OK} or throws.
 *
 * <p>An unknown user goes through the same exchange against a throw-away secret, so a client cannot
 * tell unknown users from wrong passwords (PostgreSQL does the same).
 */
public final class ClientAuthenticator {
    public enum Step { CONTINUE, OK }

    /** Derived SCRAM secrets of plaintext passwords, computed once per user and password (PBKDF2 is slow on purpose). */
    private static final Map<String, ScramSecret> DERIVED = new ConcurrentHashMap<>();

    private final String userName;
    private final UserConfig user;
    private final AuthMethod method;
    private ScramServerExchange scram;
    private byte[] md5Salt;
    private ByteBuf pendingReply;
    /**
     * Authenticated. The session keeps this object for the connection's lifetime, so the exchange's
     * state (nonces, messages: about half a kilobyte) is dropped then: 10,000 idle clients hold none.
     */
    private boolean done;

    /** @param user the configured user, or null when the name is unknown */
    public ClientAuthenticator(String userName, UserConfig user) {
        this.userName = userName;
        this.user = user;
        this.method = user == null ? AuthMethod.SCRAM_SHA_256 : user.auth();
    }

    /** The first message to send: AuthenticationOk for trust, else the password request. */
    public ByteBuf start() {
        switch (method) {
            case TRUST:
                return Messages.authenticationOk();
            case MD5:
                md5Salt = Salts.random(4);
                return Messages.authenticationMd5(md5Salt);
            default:
                return Messages.authenticationSasl(ScramClientExchange.MECHANISM);
        }
    }

    public boolean isTrust() {
        return method == AuthMethod.TRUST && user != null;
    }

    /**
     * Handles a 'p' message (PasswordMessage, SASLInitialResponse or SASLResponse).
     * After CONTINUE, send {@link #takeReply()}; after OK, send the reply (SASL final) if any, then AuthenticationOk.
     */
    public Step onPasswordMessage(ByteBuf msg) throws AuthFailedException {
        if (done) {
            throw new ProtocolException("unexpected password message: already authenticated");
        }
        ByteBuf body = msg.slice(msg.readerIndex() + 5, msg.readableBytes() - 5);
        if (method == AuthMethod.MD5) {
            String response = Bufs.readCString(body);
            if (user == null || !Md5Password.verify(credentialUser(), user.password(), md5Salt, response)) {
                throw failed();
            }
            return succeeded();
        }
        if (scram == null) {
            String mechanism = Bufs.readCString(body);
            if (!ScramClientExchange.MECHANISM.equals(mechanism)) {
                throw new ProtocolException("client selected an invalid SASL authentication mechanism");
            }
            int length = body.readInt();
            if (length < 0 || length > body.readableBytes()) {
                throw new ProtocolException("malformed SASLInitialResponse: length " + length);
            }
            byte[] first = new byte[length];
            body.readBytes(first);
            scram = new ScramServerExchange(secret());
            pendingReply = Messages.authenticationSaslContinue(scram.serverFirst(first));
            return Step.CONTINUE;
        }
        byte[] fin = new byte[body.readableBytes()];
        body.readBytes(fin);
        byte[] serverFinal;
        try {
            serverFinal = scram.serverFinal(fin);
        } catch (AuthFailedException e) {
            throw failed();
        }
        if (user == null) {
            throw failed();
        }
        pendingReply = Messages.authenticationSaslFinal(serverFinal);
        return succeeded();
    }

    private Step succeeded() {
        done = true;
        scram = null;
        md5Salt = null;
        return Step.OK;
    }

    /** The reply produced by the last step (the caller owns it), or null. */
    public ByteBuf takeReply() {
        ByteBuf r = pendingReply;
        pendingReply = null;
        return r;
    }

    private String credentialUser() {
        return userName;
    }

    private ScramSecret secret() {
        if (user == null || user.password() == null) {
            return ScramSecret.fromPassword(java.util.HexFormat.of().formatHex(Salts.random(16)));
        }
        String stored = user.password();
        if (ScramSecret.looksLikeVerifier(stored)) {
            return ScramSecret.parse(stored);
        }
        if (stored.startsWith("md5") && stored.length() == 35) {
            // An md5 hash cannot answer a SCRAM exchange; config validation warns about this pairing.
            return ScramSecret.fromPassword(java.util.HexFormat.of().formatHex(Salts.random(16)));
        }
        return DERIVED.computeIfAbsent(userName + '\0' + stored, k -> ScramSecret.fromPassword(stored));
    }

    private AuthFailedException failed() {
        return new AuthFailedException("password authentication failed for user \"" + userName + "\"");
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
