package io.pgsplit.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class ScramTest {
    // RFC 7677 section 3 example.
    private static final String RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static final String RFC_SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
    private static final String RFC_CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private static final String RFC_SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private static final String RFC_CLIENT_FINAL =
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    /**
     * The RFC text prints "v=6rriTRBi23WpRR/wt1+mBv1ixOXA8JuHJK1eE6WmgM4=", a known misprint: the
     * signature of the RFC's own AuthMessage is the value below (recomputed independently with
     * Python hashlib/hmac, and the value other SCRAM implementations test against). The client
     * proof above is exactly the RFC's.
     */
    private static final String RFC_SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Computed once: the fuzz tests build thousands of exchanges. */
    private static final ScramSecret RFC_SECRET =
            ScramSecret.fromPassword("pencil", Base64.getDecoder().decode(RFC_SALT), 4096);

    private static ScramSecret rfcSecret() {
        return RFC_SECRET;
    }

    @Test
    void rfc7677ClientSide() throws Exception {
        ScramClientExchange client = new ScramClientExchange("user", "pencil", RFC_CLIENT_NONCE);
        assertEquals(RFC_CLIENT_FIRST, str(client.clientFirst()));
        assertEquals(RFC_CLIENT_FINAL, str(client.clientFinal(utf8(RFC_SERVER_FIRST))));
        client.verifyServerFinal(utf8(RFC_SERVER_FINAL));
    }

    @Test
    void rfc7677ServerSide() throws Exception {
        ScramServerExchange server = new ScramServerExchange(rfcSecret(), RFC_SERVER_NONCE);
        assertEquals(RFC_SERVER_FIRST, str(server.serverFirst(utf8(RFC_CLIENT_FIRST))));
        assertEquals(RFC_SERVER_FINAL, str(server.serverFinal(utf8(RFC_CLIENT_FINAL))));
    }

    @Test
    void rfc7677ServerRejectsTamperedProof() throws Exception {
        ScramServerExchange server = new ScramServerExchange(rfcSecret(), RFC_SERVER_NONCE);
        server.serverFirst(utf8(RFC_CLIENT_FIRST));
        String tampered = RFC_CLIENT_FINAL.replace("p=dHzb", "p=dHzc");
        AuthFailedException e = assertThrows(AuthFailedException.class, () -> server.serverFinal(utf8(tampered)));
        assertEquals("invalid proof", e.getMessage());
    }

    @Test
    void clientRejectsWrongServerSignature() throws Exception {
        ScramClientExchange client = new ScramClientExchange("user", "pencil", RFC_CLIENT_NONCE);
        client.clientFirst();
        client.clientFinal(utf8(RFC_SERVER_FIRST));
        assertThrows(AuthFailedException.class,
                () -> client.verifyServerFinal(utf8("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")));
    }

    @Test
    void clientReportsServerError() throws Exception {
        ScramClientExchange client = new ScramClientExchange("secret");
        ScramServerExchange server = new ScramServerExchange(ScramSecret.fromPassword("secret"));
        client.clientFinal(server.serverFirst(client.clientFirst()));
        AuthFailedException e = assertThrows(AuthFailedException.class,
                () -> client.verifyServerFinal(utf8("e=invalid-proof")));
        assertEquals("SCRAM error from server: invalid-proof", e.getMessage());

        ScramClientExchange other = new ScramClientExchange("secret");
        other.clientFirst();
        AuthFailedException early = assertThrows(AuthFailedException.class,
                () -> other.clientFinal(utf8("e=bad\u0007" + "x".repeat(500))));
        assertEquals("SCRAM error from server: bad?" + "x".repeat(96) + "...", early.getMessage());
    }

    /** Runs a whole exchange; returns normally only if both sides are satisfied. */
    private static void exchange(String clientPassword, ScramSecret serverSecret) throws AuthFailedException {
        ScramClientExchange client = new ScramClientExchange(clientPassword);
        ScramServerExchange server = new ScramServerExchange(serverSecret);
        byte[] clientFirst = client.clientFirst();
        assertTrue(str(clientFirst).startsWith("n,,n=,r="), str(clientFirst));
        byte[] serverFirst = server.serverFirst(clientFirst);
        byte[] clientFinal = client.clientFinal(serverFirst);
        byte[] serverFinal = server.serverFinal(clientFinal);
        client.verifyServerFinal(serverFinal);
    }

    @Test
    void roundTripRightPassword() throws Exception {
        exchange("correct horse", ScramSecret.fromPassword("correct horse"));
        exchange("", ScramSecret.fromPassword(""));                       // empty password works too
        exchange("pässwörd ☃", ScramSecret.fromPassword("pässwörd ☃"));  // non-ASCII, SASLprep'd
        // Through the stored text form, as it would come from config or pg_authid.
        exchange("s3cr3t", ScramSecret.parse(ScramSecret.fromPassword("s3cr3t").toVerifier()));
    }

    @Test
    void roundTripWrongPassword() {
        AuthFailedException e = assertThrows(AuthFailedException.class,
                () -> exchange("wrong", ScramSecret.fromPassword("right")));
        assertEquals("invalid proof", e.getMessage());
        assertFalse(e.getMessage().contains("wrong") || e.getMessage().contains("right"));
    }

    @Test
    void nonceIsFreshAndLongEnough() {
        String first = str(new ScramClientExchange("x").clientFirst());
        String second = str(new ScramClientExchange("x").clientFirst());
        assertNotEquals(first, second);
        assertTrue(first.length() - "n,,n=,r=".length() >= 24, first);   // 18 random bytes in base64
    }

    @Test
    void saslPrepMapsLikePostgres() throws Exception {
        // Non-ASCII space maps to SPACE, soft hyphen maps to nothing, NFKC folds the Roman numeral IX.
        assertEquals(ScramSecret.fromPassword("pass word IX", new byte[] {1}, 1),
                ScramSecret.fromPassword("pass\u00A0wo\u00ADrd \u2168", new byte[] {1}, 1));
        // A prohibited character (private use) makes SASLprep fail: the raw bytes are used.
        assertEquals(null, SaslPrep.prepareOrNull("a\uE000"));
        assertArrayEquals(utf8("a\uE000"), SaslPrep.passwordBytes("a\uE000"));
        // Pure ASCII is never touched, control characters included.
        assertArrayEquals(utf8("a\tb"), SaslPrep.passwordBytes("a\tb"));
        exchange("a\uE000", ScramSecret.fromPassword("a\uE000"));
    }

    // ---- verifiers ----

    @Test
    void verifierRoundTrip() {
        ScramSecret secret = ScramSecret.fromPassword("pw");
        assertEquals(16, secret.salt().length);
        assertEquals(4096, secret.iterations());
        String verifier = secret.toVerifier();
        assertTrue(ScramSecret.looksLikeVerifier(verifier));
        assertEquals(secret, ScramSecret.parse(verifier));
        assertEquals(verifier, ScramSecret.parse(verifier).toVerifier());
        assertFalse(secret.toString().contains(Base64.getEncoder().encodeToString(secret.storedKey())));
    }

    /** fromPassword checked against the RFC 5802 definitions computed step by step with the JDK. */
    @Test
    void knownVerifierMatchesIndependentComputation() throws Exception {
        byte[] salt = new byte[16];
        for (int i = 0; i < salt.length; i++) {
            salt[i] = (byte) i;
        }
        // SaltedPassword := Hi("secret", salt, 4096), Hi being PBKDF2-HMAC-SHA-256 with a 32-byte output
        byte[] saltedPassword = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec("secret".toCharArray(), salt, 4096, 256)).getEncoded();
        Mac hmac = Mac.getInstance("HmacSHA256");
        hmac.init(new SecretKeySpec(saltedPassword, "HmacSHA256"));
        byte[] clientKey = hmac.doFinal(utf8("Client Key"));             // ClientKey := HMAC(SaltedPassword, "Client Key")
        byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);  // StoredKey := H(ClientKey)
        byte[] serverKey = hmac.doFinal(utf8("Server Key"));             // ServerKey := HMAC(SaltedPassword, "Server Key")
        Base64.Encoder b64 = Base64.getEncoder();
        String independent = "SCRAM-SHA-256$4096:" + b64.encodeToString(salt)
                + "$" + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);

        // The same value computed once more outside Java (Python hashlib.pbkdf2_hmac + hmac), pinned.
        String pinned = "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw=="
                + "$THoPhoTAuqyoQsK4dUHncUzgfD8fdmhsgKZhWVqNP5U=:7YiHMMi2OcXGRogub03Ek06JRZ9bkhTOdCzHa5iPLiQ=";
        assertEquals(pinned, independent);

        ScramSecret secret = ScramSecret.fromPassword("secret", salt, 4096);
        assertEquals(pinned, secret.toVerifier());
        ScramSecret parsed = ScramSecret.parse(pinned);
        assertEquals(4096, parsed.iterations());
        assertArrayEquals(salt, parsed.salt());
        assertArrayEquals(storedKey, parsed.storedKey());
        assertArrayEquals(serverKey, parsed.serverKey());
        // And a client holding the password logs into a server holding only the verifier.
        exchange("secret", parsed);
    }

    @Test
    void badVerifiersAreRejectedWithClearMessages() {
        String good = ScramSecret.fromPassword("pw").toVerifier();
        String[] bad = {
            "", "secret", "md53175bce1d3201d16594cebf9d7eb3f9d",
            "SCRAM-SHA-256$", "SCRAM-SHA-256$4096:c2FsdA==",
            "SCRAM-SHA-256$x:c2FsdA==$" + good.substring(good.indexOf('$', 14) + 1),
            "SCRAM-SHA-256$0:c2FsdA==$" + good.substring(good.indexOf('$', 14) + 1),
            "SCRAM-SHA-256$4096:!!!$" + good.substring(good.indexOf('$', 14) + 1),
            "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",                    // keys of the wrong length
            good + "$extra", good.replace(':', ';'),
        };
        for (String s : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScramSecret.parse(s), s);
            assertTrue(e.getMessage().startsWith("SCRAM"), e.getMessage());
            assertFalse(ScramSecret.looksLikeVerifier(s), s);
        }
        assertFalse(ScramSecret.looksLikeVerifier(null));
        assertThrows(IllegalArgumentException.class, () -> ScramSecret.parse(null));
    }

    // ---- hostile input ----

    /** Feeds a client-first-message to a fresh server; must fail with AuthFailedException only. */
    private static void assertServerFirstRejects(byte[] clientFirst) {
        ScramServerExchange server = new ScramServerExchange(rfcSecret(), RFC_SERVER_NONCE);
        AuthFailedException e = assertThrows(AuthFailedException.class, () -> server.serverFirst(clientFirst),
                () -> clientFirst == null ? "null" : str(clientFirst));
        assertFalse(e.getMessage().isEmpty());
    }

    private static void assertServerFinalRejects(String clientFinal) throws AuthFailedException {
        ScramServerExchange server = new ScramServerExchange(rfcSecret(), RFC_SERVER_NONCE);
        server.serverFirst(utf8(RFC_CLIENT_FIRST));
        AuthFailedException e = assertThrows(AuthFailedException.class, () -> server.serverFinal(utf8(clientFinal)),
                clientFinal);
        assertFalse(e.getMessage().contains("dHzbZapWIk4jUhN"), e.getMessage());   // never echoes the proof
    }

    private static void assertClientFinalRejects(String serverFirst) {
        ScramClientExchange client = new ScramClientExchange("user", "pencil", RFC_CLIENT_NONCE);
        client.clientFirst();
        assertThrows(AuthFailedException.class, () -> client.clientFinal(utf8(serverFirst)), serverFirst);
    }

    @Test
    void serverRejectsMalformedClientFirst() {
        assertServerFirstRejects(null);
        assertServerFirstRejects(new byte[0]);
        assertServerFirstRejects(new byte[] {(byte) 0xC3, 0x28});               // invalid UTF-8
        for (String s : new String[] {
            "n", "n,", "n,,", ",,n=user,r=abc", "x,,n=user,r=abc",
            "p=tls-server-end-point,,n=,r=abc",                                  // channel binding requested
            "n,a=admin,n=user,r=abc",                                            // authzid
            "n,,m=ext,n=user,r=abc",                                             // mandatory extension
            "n,,r=abc", "n,,n=user", "n,,n=user,r=", "n,,n=user,r=abc,",
            "n,,n=user,r=a b", "n,,n=user,r=abc,junk", "n,,n=user,r=ab\u00e9",
            "n,,n=user,r=abc\0", "y,,n=user,x", "=,,", "n,,=,=",
        }) {
            assertServerFirstRejects(utf8(s));
        }
    }

    @Test
    void serverRejectsMalformedClientFinal() throws Exception {
        String nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        String proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        for (String s : new String[] {
            "", ",", "garbage", "c=biws", "c=biws,r=" + nonce, "c=biws,r=" + nonce + ",",
            "r=" + nonce + "," + proof,                                          // missing channel binding
            "c=eSws,r=" + nonce + "," + proof,                                   // "y,," but client-first said "n,,"
            "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAAAA,r=" + nonce + "," + proof,   // claims channel binding
            "c=biws,r=rOprNGfwEbeRWgbNEkqO," + proof,                           // nonce mismatch
            "c=biws,r=" + nonce + "x," + proof,
            "c=biws," + proof,
            "c=biws,r=" + nonce + ",p=",
            "c=biws,r=" + nonce + ",p=!!!notbase64!!!",
            "c=biws,r=" + nonce + ",p=AAAA",                                     // proof of the wrong length
            "c=biws,r=" + nonce + "," + proof + ",x=trailing",                   // proof must be last
            "c=biws,r=" + nonce + "," + proof + ",",
        }) {
            assertServerFinalRejects(s);
        }
        // Extensions before the proof are skipped, but the proof then no longer matches the AuthMessage.
        assertServerFinalRejects("c=biws,r=" + nonce + ",x=ext," + proof);
    }

    @Test
    void serverAcceptsYFlag() throws Exception {
        // "y,," = client supports channel binding but thinks we do not: fine, with c=eSws.
        ScramSecret secret = ScramSecret.fromPassword("pw", new byte[] {9, 9}, 1);
        ScramServerExchange server = new ScramServerExchange(secret, "SNONCE");
        String serverFirst = str(server.serverFirst(utf8("y,,n=,r=CNONCE")));
        assertEquals("r=CNONCESNONCE,s=CQk=,i=1", serverFirst);
        // Compute the proof the way a client would, with "y,," channel-binding data.
        byte[] salted = ScramCrypto.saltedPassword("pw", new byte[] {9, 9}, 1);
        byte[] clientKey = ScramCrypto.clientKey(salted);
        String withoutProof = "c=eSws,r=CNONCESNONCE";
        byte[] authMessage = utf8("n=,r=CNONCE," + serverFirst + "," + withoutProof);
        byte[] proof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(ScramCrypto.sha256(clientKey), authMessage));
        server.serverFinal(utf8(withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)));
    }

    @Test
    void clientRejectsMalformedServerFirst() {
        for (String s : new String[] {
            "", ",", "garbage", "e=other-error",
            "m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=4096",
            "r=somebodyElsesNonce,s=c2FsdA==,i=4096",                           // does not extend our nonce
            "r=rOprNGfwEbeRWgbNEkqO,s=c2FsdA==,i=4096",                         // adds nothing to our nonce
            "r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",                                 // missing salt
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==",                             // missing iterations
            "s=c2FsdA==,i=4096",                                                // missing nonce
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=%%%,i=4096",                           // bad base64
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096",                              // empty salt
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=lots",                      // non-numeric
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=",
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=-1",
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=0",
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=+5",
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=99999999999999999999",
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=10000001",                  // above the cap
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=4096,",
            "r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=4096,junk",
        }) {
            assertClientFinalRejects(s);
        }
    }

    @Test
    void clientRejectsMalformedServerFinal() throws Exception {
        for (String s : new String[] {"", "garbage", "v=", "v=%%%", "v=AAAA", "x=1", "v=" + RFC_SERVER_FINAL.substring(2) + ","}) {
            ScramClientExchange client = new ScramClientExchange("user", "pencil", RFC_CLIENT_NONCE);
            client.clientFirst();
            client.clientFinal(utf8(RFC_SERVER_FIRST));
            assertThrows(AuthFailedException.class, () -> client.verifyServerFinal(utf8(s)), s);
        }
    }

    @Test
    void randomGarbageNeverThrowsAnythingElse() throws Exception {
        java.util.Random random = new java.util.Random(42);
        String alphabet = "nypcrsiemv=,abcXYZ019+/ \u00e9";
        for (int round = 0; round < 2000; round++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(40);
            for (int i = 0; i < len; i++) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            byte[] garbage = random.nextInt(10) == 0 ? randomBytes(random, len) : utf8(sb.toString());
            assertOnlyAuthFailed(() -> new ScramServerExchange(rfcSecret(), RFC_SERVER_NONCE).serverFirst(garbage));
            assertOnlyAuthFailed(() -> {
                ScramServerExchange server = new ScramServerExchange(rfcSecret(), RFC_SERVER_NONCE);
                server.serverFirst(utf8(RFC_CLIENT_FIRST));
                server.serverFinal(garbage);
            });
            assertOnlyAuthFailed(() -> {
                ScramClientExchange client = new ScramClientExchange("user", "pencil", RFC_CLIENT_NONCE);
                client.clientFirst();
                client.clientFinal(garbage);
            });
        }
    }

    /** Valid messages with one character deleted, replaced or duplicated: near misses. */
    @Test
    void mutatedValidMessagesNeverThrowAnythingElse() {
        java.util.Random random = new java.util.Random(7);
        String[] valid = {RFC_CLIENT_FIRST, RFC_SERVER_FIRST, RFC_CLIENT_FINAL, RFC_SERVER_FINAL};
        String replacements = ",=nrpcsiv0+/\u00e9";
        for (int round = 0; round < 1000; round++) {
            for (String message : valid) {
                StringBuilder sb = new StringBuilder(message);
                int at = random.nextInt(sb.length());
                switch (random.nextInt(3)) {
                    case 0 -> sb.deleteCharAt(at);
                    case 1 -> sb.setCharAt(at, replacements.charAt(random.nextInt(replacements.length())));
                    default -> sb.insert(at, sb.charAt(at));
                }
                byte[] mutated = utf8(sb.toString());
                assertOnlyAuthFailed(() -> new ScramServerExchange(rfcSecret(), RFC_SERVER_NONCE).serverFirst(mutated));
                assertOnlyAuthFailed(() -> {
                    ScramServerExchange server = new ScramServerExchange(rfcSecret(), RFC_SERVER_NONCE);
                    server.serverFirst(utf8(RFC_CLIENT_FIRST));
                    server.serverFinal(mutated);
                });
                assertOnlyAuthFailed(() -> {
                    ScramClientExchange client = new ScramClientExchange("user", "pencil", RFC_CLIENT_NONCE);
                    client.clientFirst();
                    client.clientFinal(utf8(RFC_SERVER_FIRST.replace("i=4096", "i=1")));   // cheap key derivation
                    client.verifyServerFinal(mutated);
                });
            }
        }
    }

    private static byte[] randomBytes(java.util.Random random, int len) {
        byte[] b = new byte[len];
        random.nextBytes(b);
        return b;
    }

    private interface AuthStep {
        void run() throws AuthFailedException;
    }

    private static void assertOnlyAuthFailed(AuthStep step) {
        try {
            step.run();
        } catch (AuthFailedException expected) {
            // fine: the only acceptable failure
        }
    }
}
