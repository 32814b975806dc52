package io.pgsplit.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.pgsplit.config.AuthMethod;
import io.pgsplit.config.UserConfig;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.ProtocolException;
import org.junit.jupiter.api.Test;

/**
 * The server side of the exchange driven message by message, as ClientSession drives it. A finished
 * authenticator drops its exchange state (it lives as long as the connection) and takes no further
 * password message.
 */
class ClientAuthenticatorTest {
    private static final UserConfig ALICE = new UserConfig("alice", AuthMethod.SCRAM_SHA_256, "secret", null, null, null);

    /** The data of an Authentication message (after type, length and code). */
    private static byte[] authData(ByteBuf msg) {
        try {
            return ByteBufUtil.getBytes(msg, 9, msg.readableBytes() - 9);
        } finally {
            msg.release();
        }
    }

    private static ClientAuthenticator.Step feed(ClientAuthenticator auth, ByteBuf msg) throws AuthFailedException {
        try {
            return auth.onPasswordMessage(msg);
        } finally {
            msg.release();
        }
    }

    /** Feeds {@code msg} expecting {@code failure}, and releases it either way. */
    private static void assertRefused(Class<? extends Throwable> failure, ClientAuthenticator auth, ByteBuf msg) {
        try {
            assertThrows(failure, () -> auth.onPasswordMessage(msg));
        } finally {
            msg.release();
        }
    }

    @Test
    void scramExchangeSucceedsAndAFurtherPasswordMessageIsAProtocolError() throws Exception {
        ClientAuthenticator auth = new ClientAuthenticator("alice", ALICE);
        auth.start().release();
        ScramClientExchange client = new ScramClientExchange("secret");
        assertEquals(ClientAuthenticator.Step.CONTINUE,
                feed(auth, Messages.saslInitialResponse(ScramClientExchange.MECHANISM, client.clientFirst())));
        byte[] clientFinal = client.clientFinal(authData(auth.takeReply()));
        assertEquals(ClientAuthenticator.Step.OK, feed(auth, Messages.saslResponse(clientFinal)));
        client.verifyServerFinal(authData(auth.takeReply()));

        assertRefused(ProtocolException.class, auth, Messages.saslResponse(clientFinal));
    }

    @Test
    void md5ExchangeSucceedsOnceOnly() throws Exception {
        UserConfig bob = new UserConfig("bob", AuthMethod.MD5, "hunter2", null, null, null);
        ClientAuthenticator auth = new ClientAuthenticator("bob", bob);
        byte[] salt = authData(auth.start());
        String response = Md5Password.response("bob", "hunter2", salt);
        assertEquals(ClientAuthenticator.Step.OK, feed(auth, Messages.passwordMessage(response)));

        assertRefused(ProtocolException.class, auth, Messages.passwordMessage(response));
    }

    @Test
    void wrongScramPasswordFails() throws Exception {
        ClientAuthenticator auth = new ClientAuthenticator("alice", ALICE);
        auth.start().release();
        ScramClientExchange client = new ScramClientExchange("not the secret");
        feed(auth, Messages.saslInitialResponse(ScramClientExchange.MECHANISM, client.clientFirst()));
        byte[] serverFirst = authData(auth.takeReply());
        assertRefused(AuthFailedException.class, auth, Messages.saslResponse(client.clientFinal(serverFirst)));
    }
}
