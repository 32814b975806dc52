package io.pgsplit.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * SCRAM-SHA-256-PLUS on the server side, with a hand-written client: the right tls-server-end-point data
 * verifies, other data (a man in the middle with its own certificate) does not, and the downgrade and
 * mismatch cases PostgreSQL refuses are refused.
 */
class ChannelBindingExchangeTest {
    static final byte[] OUR_CERT_HASH = ScramCrypto.sha256("our certificate".getBytes(StandardCharsets.UTF_8));
    static final ScramSecret SECRET = ScramSecret.fromPassword("pw");

    /** Runs a PLUS exchange where the client binds to {@code clientSees}; returns the server-final or throws. */
    static byte[] exchange(byte[] clientSees) throws AuthFailedException {
        ScramServerExchange server = new ScramServerExchange(SECRET).channelBinding(OUR_CERT_HASH, true);
        String gs2 = "p=tls-server-end-point,,";
        String clientNonce = "abcdefghijklmnop";
        String clientFirstBare = "n=,r=" + clientNonce;
        String serverFirst = new String(server.serverFirst((gs2 + clientFirstBare).getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
        String fullNonce = serverFirst.substring(2, serverFirst.indexOf(','));
        byte[] header = gs2.getBytes(StandardCharsets.UTF_8);
        byte[] cbind = Arrays.copyOf(header, header.length + clientSees.length);
        System.arraycopy(clientSees, 0, cbind, header.length, clientSees.length);
        String withoutProof = "c=" + Base64.getEncoder().encodeToString(cbind) + ",r=" + fullNonce;
        byte[] auth = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
        byte[] salted = ScramCrypto.saltedPassword("pw", SECRET.salt(), SECRET.iterations());
        byte[] clientKey = ScramCrypto.clientKey(salted);
        byte[] proof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(ScramCrypto.sha256(clientKey), auth));
        return server.serverFinal((withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof))
                .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void matchingBindingVerifies() throws Exception {
        assertTrue(new String(exchange(OUR_CERT_HASH), StandardCharsets.UTF_8).startsWith("v="));
    }

    @Test
    void anotherCertificatesBindingFails() {
        byte[] mitm = ScramCrypto.sha256("the proxy's certificate".getBytes(StandardCharsets.UTF_8));
        AuthFailedException e = assertThrows(AuthFailedException.class, () -> exchange(mitm));
        assertEquals("SCRAM channel binding check failed", e.getMessage());
    }

    @Test
    void clientSayingYOnTlsIsADowngrade() {
        ScramServerExchange server = new ScramServerExchange(SECRET).channelBinding(OUR_CERT_HASH, false);
        AuthFailedException e = assertThrows(AuthFailedException.class,
                () -> server.serverFirst("y,,n=,r=abc".getBytes(StandardCharsets.UTF_8)));
        assertEquals("SCRAM channel binding negotiation error", e.getMessage());
    }

    @Test
    void bindingDataWithoutPlusAndPlusWithoutBindingDataAreRefused() {
        assertThrows(AuthFailedException.class, () -> new ScramServerExchange(SECRET).channelBinding(OUR_CERT_HASH, false)
                .serverFirst("p=tls-server-end-point,,n=,r=abc".getBytes(StandardCharsets.UTF_8)));
        assertThrows(AuthFailedException.class, () -> new ScramServerExchange(SECRET).channelBinding(OUR_CERT_HASH, true)
                .serverFirst("n,,n=,r=abc".getBytes(StandardCharsets.UTF_8)));
        AuthFailedException e = assertThrows(AuthFailedException.class, () -> new ScramServerExchange(SECRET)
                .channelBinding(OUR_CERT_HASH, true).serverFirst("p=tls-unique,,n=,r=abc".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("unsupported SCRAM channel-binding type"), e.getMessage());
    }

    @Test
    void withoutTlsNPlainStillWorks() throws Exception {
        ScramServerExchange server = new ScramServerExchange(SECRET).channelBinding(null, false);
        server.serverFirst("y,,n=,r=abc".getBytes(StandardCharsets.UTF_8));   // 'y' is fine when we offer no -PLUS
    }
}
