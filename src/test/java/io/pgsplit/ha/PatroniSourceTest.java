package io.pgsplit.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Reading Patroni's GET /cluster answer (shape as Patroni 3 prints it); the live cluster is PatroniTest's. */
class PatroniSourceTest {

    @Test
    void theRunningLeaderIsFound() {
        String json = """
                {"members": [{"name": "pg1", "role": "replica", "state": "streaming", "api_url": "http://127.0.0.1:8008/patroni",
                  "host": "127.0.0.1", "port": 5432, "timeline": 2, "lag": 0, "tags": {"nofailover": false}},
                 {"name": "pg2", "role": "leader", "state": "running", "api_url": "http://127.0.0.1:8009/patroni",
                  "host": "127.0.0.1", "port": 5433, "timeline": 2}], "scope": "demo"}""";
        assertEquals("Leader[host=127.0.0.1, port=5433, name=pg2]", PatroniSource.leaderOf(json).toString());
    }

    @Test
    void noLeaderDuringAFailover() {
        assertNull(PatroniSource.leaderOf("{\"members\": [{\"name\": \"pg1\", \"role\": \"replica\", \"state\": \"stopped\","
                + " \"host\": \"h\", \"port\": 1}]}"));
    }

    @Test
    void garbageIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> PatroniSource.leaderOf("<html>"));
        assertThrows(IllegalArgumentException.class, () -> PatroniSource.leaderOf("{\"scope\": \"x\"}"));
    }
}
