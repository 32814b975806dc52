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
    /** After a SCRAM login: the client's keys, for logging in to the servers without a password. */
    private ScramKeys clientKeys;
    /** After a failed md5 login: the client's answer, to check again against a refreshed hash. */
    private String failedMd5Response;

    /** tls-server-end-point data of the client's TLS connection, or null: then SCRAM-SHA-256-PLUS is offered. */
    private final byte[] channelBinding;

    /** @param user the configured user, or null when the name is unknown */
    public ClientAuthenticator(String userName, UserConfig user) {
        this(userName, user, null);
    }

    /** @param channelBinding the connection's tls-server-end-point hash when it is on TLS, else null */
    public ClientAuthenticator(String userName, UserConfig user, byte[] channelBinding) {
        this.userName = userName;
        this.user = user;
        this.method = user == null ? AuthMethod.SCRAM_SHA_256 : user.auth();
        this.channelBinding = channelBinding;
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
                // as PostgreSQL: -PLUS first when the connection is on TLS, so libpq prefers it
                return channelBinding != null
                        ? Messages.authenticationSasl(ScramServerExchange.MECHANISM_PLUS, ScramClientExchange.MECHANISM)
                        : Messages.authenticationSasl(ScramClientExchange.MECHANISM);
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
                failedMd5Response = response;
                throw failed();
            }
            return succeeded();
        }
        if (scram == null) {
            String mechanism = Bufs.readCString(body);
            boolean plus = channelBinding != null && ScramServerExchange.MECHANISM_PLUS.equals(mechanism);
            if (!plus && !ScramClientExchange.MECHANISM.equals(mechanism)) {
                throw new ProtocolException("client selected an invalid SASL authentication mechanism");
            }
            int length = body.readInt();
            if (length < 0 || length > body.readableBytes()) {
                throw new ProtocolException("malformed SASLInitialResponse: length " + length);
            }
            byte[] first = new byte[length];
            body.readBytes(first);
            scram = new ScramServerExchange(secret()).channelBinding(channelBinding, plus);
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
        clientKeys = scram.clientKeys();
        return succeeded();
    }

    private Step succeeded() {
        done = true;
        scram = null;
        md5Salt = null;
        return Step.OK;
    }

    /**
     * After an md5 login failed: whether the client's answer matches {@code storedMd5} instead (the user's
     * hash as just read again: the password was changed since it was cached). On true the login succeeded.
     */
    public boolean md5MatchesRefreshed(String storedMd5) {
        if (method != AuthMethod.MD5 || failedMd5Response == null || storedMd5 == null || md5Salt == null
                || !Md5Password.verify(credentialUser(), storedMd5, md5Salt, failedMd5Response)) {
            return false;
        }
        done = true;
        md5Salt = null;
        return true;
    }

    /** The client's SCRAM keys once it logged in with SCRAM against a stored verifier, else null. */
    public ScramKeys clientKeys() {
        return user != null && ScramSecret.looksLikeVerifier(user.password()) ? clientKeys : null;
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
            return mockSecret(userName);
        }
        String stored = user.password();
        if (ScramSecret.looksLikeVerifier(stored)) {
            return ScramSecret.parse(stored);
        }
        if (stored.startsWith("md5") && stored.length() == 35) {
            // An md5 hash cannot answer a SCRAM exchange; config validation warns about this pairing.
            return mockSecret(userName);
        }
        return DERIVED.computeIfAbsent(userName + '\0' + stored, k -> ScramSecret.fromPassword(stored));
    }

    /** Per-process key of the mock secrets: their salt is stable per user name, and unpredictable. */
    private static final byte[] MOCK_KEY = Salts.random(32);

    /**
     * The secret an exchange for an unknown user runs against, as PostgreSQL's scram_mock_salt: the same salt
     * every time for the same name (a changing salt would tell that the user does not exist), the default
     * iteration count, and random keys no proof can match. No PBKDF2 is run, so it takes no longer than a
     * known user's exchange.
     */
    static ScramSecret mockSecret(String userName) {
        byte[] salt = java.util.Arrays.copyOf(ScramCrypto.hmac(MOCK_KEY,
                ("salt\0" + userName).getBytes(StandardCharsets.UTF_8)), ScramCrypto.DEFAULT_SALT_LENGTH);
        return new ScramSecret(ScramCrypto.DEFAULT_ITERATIONS, salt, Salts.random(ScramCrypto.KEY_LENGTH),
                Salts.random(ScramCrypto.KEY_LENGTH));
    }

    private AuthFailedException failed() {
        return new AuthFailedException("password authentication failed for user \"" + userName + "\"");
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
