package io.pgsplit.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pgsplit.pool.ServerSessionState;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The bookkeeping alone, without servers (SessionParametersTest runs the same rules against a real
 * cluster). Idle clients share their start-up map between "current" and "settled"; these cases make
 * sure no SET, RESET or ROLLBACK ever writes through to it.
 */
class SessionParamsTest {
    private static SessionParams params() {
        Map<String, String> startup = new LinkedHashMap<>();
        startup.put("application_name", "app");
        startup.put("TimeZone", "UTC");
        return new SessionParams(startup);
    }

    private static final Map<String, String> STARTUP = Map.of("application_name", "'app'", "timezone", "'UTC'");

    @Test
    void aSetOutsideATransactionSticksAndResetAllGoesBackToTheStartUpValues() {
        SessionParams p = params();
        ServerSessionState server = new ServerSessionState(10);
        p.set("timezone", "'Europe/Paris'", false, server);
        p.settle();
        assertEquals("'Europe/Paris'", p.get("timezone"));
        p.resetAll(server);
        assertEquals(STARTUP, p.current());
        p.set("search_path", "'x'", false, server);
        p.resetAll(server);
        assertEquals(STARTUP, p.current());
    }

    @Test
    void aRolledBackSetGoesBackToWhatWasSettledBeforeTheTransaction() {
        SessionParams p = params();
        ServerSessionState server = new ServerSessionState(10);
        p.set("timezone", "'Asia/Tokyo'", true, server);
        p.transactionEnded(false, server);
        assertEquals(STARTUP, p.current());

        p.set("search_path", "'a'", false, server);
        p.settle();
        p.set("search_path", "'b'", true, server);
        p.set("timezone", "'Asia/Tokyo'", true, server);
        p.transactionEnded(false, server);
        assertEquals("'a'", p.get("search_path"));
        assertEquals("'UTC'", p.get("timezone"));

        p.resetAll(server);
        assertEquals(STARTUP, p.current());
        p.set("search_path", "'c'", true, server);
        p.transactionEnded(false, server);
        // settled still holds search_path 'a' (RESET ALL ran outside a transaction but nothing settled it)
        assertEquals("'a'", p.get("search_path"));
    }

    @Test
    void aResetOfOneParameterRestoresItsStartUpValueOrRemovesIt() {
        SessionParams p = params();
        ServerSessionState server = new ServerSessionState(10);
        p.set("timezone", "'Asia/Tokyo'", false, server);
        p.set("search_path", "'x'", false, server);
        p.reset("timezone", server);
        p.reset("search_path", server);
        assertEquals(STARTUP, p.current());
        assertNull(p.get("search_path"));
        p.reset("timezone", server);
        assertEquals(STARTUP, p.current());
    }

    @Test
    void syncSqlAppliesTheClientsSettingsOnceAndThenNothing() {
        SessionParams p = params();
        ServerSessionState server = new ServerSessionState(10);
        assertEquals("SET \"application_name\" TO 'app';SET \"timezone\" TO 'UTC';", p.syncSql(server));
        assertNull(p.syncSql(server));
        p.set("timezone", "'Asia/Tokyo'", false, null);
        assertEquals("SET \"timezone\" TO 'Asia/Tokyo';", p.syncSql(server));
    }

    @Test
    void aConnectionLeftByAClientWithTheSameSettingsNeedsNothingAndOneWithMoreGetsTheRestReset() {
        ServerSessionState server = new ServerSessionState(10);
        SessionParams first = params();
        assertEquals("SET \"application_name\" TO 'app';SET \"timezone\" TO 'UTC';", first.syncSql(server));
        SessionParams same = params();
        assertNull(same.syncSql(server), "another client with equal settings takes the connection as it is");
        same.set("search_path", "'x'", false, null);
        assertEquals("SET \"search_path\" TO 'x';", same.syncSql(server));
        SessionParams fewer = params();
        assertEquals("RESET \"search_path\";", fewer.syncSql(server), "a setting the next client never made is undone");
        assertNull(params().syncSql(server));
    }
}
