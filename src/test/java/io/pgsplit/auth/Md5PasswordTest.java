package io.pgsplit.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Md5PasswordTest {
    private static final byte[] SALT = {0x01, 0x02, 0x03, 0x04};

    @Test
    void encryptMatchesWellKnownValue() {
        assertEquals("md53175bce1d3201d16594cebf9d7eb3f9d", Md5Password.encrypt("postgres", "postgres"));
    }

    @Test
    void responseMatchesIndependentComputation() throws Exception {
        // "md5" + md5hex(md5hex(password + user) + salt), spelled out.
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        String inner = HexFormat.of().formatHex(md5.digest("postgrespostgres".getBytes(StandardCharsets.UTF_8)));
        md5.update(inner.getBytes(StandardCharsets.US_ASCII));
        md5.update(SALT);
        String expected = "md5" + HexFormat.of().formatHex(md5.digest());
        assertEquals(expected, Md5Password.response("postgres", "postgres", SALT));
        // From the stored hash alone (how a pooler forwards md5 auth).
        assertEquals(expected, Md5Password.response("postgres", "md53175bce1d3201d16594cebf9d7eb3f9d", SALT));
    }

    @Test
    void verifyRoundTrip() {
        String response = Md5Password.response("alice", "wonderland", SALT);
        assertTrue(Md5Password.verify("alice", "wonderland", SALT, response));
        assertTrue(Md5Password.verify("alice", Md5Password.encrypt("alice", "wonderland"), SALT, response));
    }

    @Test
    void wrongPasswordUserOrSaltFails() {
        String response = Md5Password.response("alice", "wonderland", SALT);
        assertFalse(Md5Password.verify("alice", "looking-glass", SALT, response));
        assertFalse(Md5Password.verify("bob", "wonderland", SALT, response));
        assertFalse(Md5Password.verify("alice", "wonderland", new byte[] {4, 3, 2, 1}, response));
        assertFalse(Md5Password.verify("alice", "wonderland", SALT, null));
        assertFalse(Md5Password.verify("alice", "wonderland", SALT, ""));
        assertFalse(Md5Password.verify("alice", "wonderland", SALT, "md5"));
        assertNotEquals(response, Md5Password.response("alice", "wonderland", new byte[] {0, 0, 0, 0}));
    }

    @Test
    void onlyExactStoredHashesAreTreatedAsHashes() {
        assertTrue(Md5Password.isStoredMd5("md53175bce1d3201d16594cebf9d7eb3f9d"));
        assertFalse(Md5Password.isStoredMd5("md53175BCE1D3201D16594CEBF9D7EB3F9D"));   // PostgreSQL wants lowercase
        assertFalse(Md5Password.isStoredMd5("md53175bce1d3201d16594cebf9d7eb3f9"));
        assertFalse(Md5Password.isStoredMd5("md5"));
        assertFalse(Md5Password.isStoredMd5(null));
    }

    @Test
    void saltMustBeFourBytes() {
        assertThrows(IllegalArgumentException.class, () -> Md5Password.response("u", "p", new byte[3]));
        assertEquals(7, Salts.random(7).length);
    }
}
