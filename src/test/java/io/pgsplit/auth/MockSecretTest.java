package io.pgsplit.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * An unknown user's SCRAM exchange must look like a known user's: the same salt on every attempt (a
 * fresh one each time would tell that the name does not exist), the default iteration count, and no
 * PBKDF2 run (it would make unknown users slower).
 */
class MockSecretTest {
    @Test
    void saltIsStablePerNameAndDiffersBetweenNames() {
        ScramSecret a1 = ClientAuthenticator.mockSecret("nobody");
        ScramSecret a2 = ClientAuthenticator.mockSecret("nobody");
        ScramSecret b = ClientAuthenticator.mockSecret("somebody");
        assertArrayEquals(a1.salt(), a2.salt());
        assertFalse(Arrays.equals(a1.salt(), b.salt()));
        assertEquals(4096, a1.iterations());
        assertEquals(16, a1.salt().length);
    }

    @Test
    void isCheap() {
        ClientAuthenticator.mockSecret("warm-up");
        long t = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            ClientAuthenticator.mockSecret("user" + i);
        }
        // PBKDF2 with 4096 iterations takes about a millisecond: 1000 of them would take a second or more
        long ms = (System.nanoTime() - t) / 1_000_000;
        assertFalse(ms > 500, "1000 mock secrets took " + ms + " ms");
    }
}
