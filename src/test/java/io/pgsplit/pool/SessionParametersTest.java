package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.postgresql.PGConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Clients sharing ONE server connection (pool_size 1, transaction pooling, everything on the primary)
 * each keep their own session settings, however they set them.
 */
@ExtendWith(PgClusterExtension.class)
class SessionParametersTest {
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster cluster) throws Exception {
        cluster.execute(PgClusterExtension.DB, """
                DROP SCHEMA IF EXISTS sp_a CASCADE; DROP SCHEMA IF EXISTS sp_b CASCADE; DROP SCHEMA IF EXISTS sp_c CASCADE;
                CREATE SCHEMA sp_a AUTHORIZATION app; CREATE SCHEMA sp_b AUTHORIZATION app; CREATE SCHEMA sp_c AUTHORIZATION app;
                CREATE TABLE sp_a.who (name text); INSERT INTO sp_a.who VALUES ('a');
                CREATE TABLE sp_b.who (name text); INSERT INTO sp_b.who VALUES ('b');
                CREATE TABLE sp_c.who (name text); INSERT INTO sp_c.who VALUES ('c');
                ALTER TABLE sp_a.who OWNER TO app; ALTER TABLE sp_b.who OWNER TO app; ALTER TABLE sp_c.who OWNER TO app;
                """);
        cluster.waitForReplay();
        SessionParametersTest.cluster = cluster;
        router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 1")
                .routing("splitting: false").start();
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    static String q(Connection c, String sql) throws SQLException {
        return String.valueOf(Jdbc.queryValue(c, sql));
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** What one client expects to see of its own settings. */
    record Expected(String timeZone, String noonUtcHour, String dmyDate, String interval, String schema) {
    }

    static void assertOwn(Connection c, Expected e) throws SQLException {
        assertEquals(e.timeZone(), q(c, "SHOW TimeZone"));
        assertEquals(e.noonUtcHour(), q(c, "SELECT to_char(timestamptz '2024-01-01 12:00:00+00', 'HH24')"));
        assertEquals(e.dmyDate(), q(c, "SELECT '03/04/2024'::date::text"));
        assertEquals(e.interval(), q(c, "SELECT interval '1 day 2 hours'::text"));
        assertEquals("{" + e.schema() + "}", q(c, "SELECT current_schemas(false)::text"));
        assertEquals(e.schema().substring(3), q(c, "SELECT name FROM who"));
        // now()::text carries the client's own UTC offset
        String offset = q(c, "SELECT to_char(now(), 'OF')");
        assertTrue(q(c, "SELECT now()::text").endsWith(offset), "now() not in the client's time zone");
    }

    static final Expected A = new Expected("America/New_York", "07", "2024-04-03", "P1DT2H", "sp_a");
    static final Expected B = new Expected("Asia/Tokyo", "21", "2024-03-04", "1 day 02:00:00", "sp_b");

    @Test
    void clientsSharingOneConnectionEachKeepTheirSettings() throws Exception {
        Map<String, String> cOptions = Map.of("options", "-c search_path=sp_c -c IntervalStyle=iso_8601"
                + " -c DateStyle=ISO,DMY");
        try (Connection a = router.connect(); Connection b = router.connect(); Connection c = router.connect(cOptions)) {
            // A: SET; B: set_config(..., false); C: start-up options
            exec(a, "SET TimeZone = 'America/New_York'");
            exec(a, "SET DateStyle = 'ISO, DMY'");
            exec(a, "SET IntervalStyle = iso_8601");
            exec(a, "SET search_path = sp_a");
            q(b, "SELECT set_config('TimeZone', 'Asia/Tokyo', false)");
            q(b, "SELECT set_config('DateStyle', 'ISO, MDY', false), set_config('search_path', 'sp_b', false)");
            q(b, "SELECT set_config('IntervalStyle', 'postgres', false)");
            exec(c, "SET TimeZone = 'Europe/Paris'");
            // pgjdbc also sends DateStyle=ISO as a start-up parameter of its own, and PostgreSQL lets such
            // parameters win over options=-c: so C keeps the server's MDY order, exactly as on PostgreSQL
            Expected cExp = new Expected("Europe/Paris", "13", "2024-03-04", "P1DT2H", "sp_c");
            assertEquals(q(a, "SELECT pg_backend_pid()"), q(b, "SELECT pg_backend_pid()"), "not one shared connection");
            for (int round = 0; round < 3; round++) {
                assertOwn(a, A);
                assertOwn(b, B);
                assertOwn(c, cExp);
            }
            // application_name follows each client too
            exec(a, "SET application_name = 'client-a'");
            assertEquals("client-a", q(a, "SELECT current_setting('application_name')"));
            assertEquals("PostgreSQL JDBC Driver", q(b, "SELECT current_setting('application_name')"));
            assertEquals("client-a", q(a, "SHOW application_name"));
        }
    }

    @Test
    void resetAndResetAllGoBackToTheClientsOwnDefaults() throws Exception {
        try (Connection a = router.connect();
             Connection c = router.connect(Map.of("options", "-c search_path=sp_c -c IntervalStyle=iso_8601"))) {
            String startZone = q(a, "SHOW TimeZone");
            exec(a, "SET TimeZone = 'Asia/Tokyo'");
            exec(c, "SET TimeZone = 'America/New_York'");
            exec(c, "SET search_path = sp_b");
            assertEquals("b", q(c, "SELECT name FROM who"));
            exec(a, "SET search_path = sp_a");
            exec(a, "RESET TimeZone");
            assertEquals(startZone, q(a, "SHOW TimeZone"));
            assertEquals("America/New_York", q(c, "SHOW TimeZone"));
            assertEquals("a", q(a, "SELECT name FROM who"));
            exec(c, "RESET ALL");
            // back to its start-up options, not to the server's defaults
            assertEquals("c", q(c, "SELECT name FROM who"));
            assertEquals(startZone, q(c, "SHOW TimeZone"));
            // GUC_REPORT parameters too: the server connection's defaults (pgsplit's login) never show through
            assertEquals("P1D", q(c, "SELECT interval '1 day'::text"));
            assertEquals("", q(c, "SHOW application_name"), "pgjdbc SETs it after start-up: RESET ALL makes it PostgreSQL's default");
            PGConnection pg = c.unwrap(PGConnection.class);
            assertEquals("iso_8601", pg.getParameterStatus("IntervalStyle"));
            assertEquals("", pg.getParameterStatus("application_name"));
            assertEquals("a", q(a, "SELECT name FROM who"));
            exec(c, "SET IntervalStyle = postgres");
            assertEquals("1 day", q(c, "SELECT interval '1 day'::text"));
            exec(c, "RESET IntervalStyle");
            assertEquals("P1D", q(c, "SELECT interval '1 day'::text"));
            assertEquals("iso_8601", pg.getParameterStatus("IntervalStyle"));
            exec(a, "SET application_name = 'aa'");
            exec(a, "RESET application_name");
            assertEquals("", q(a, "SHOW application_name"));
            assertEquals("", a.unwrap(PGConnection.class).getParameterStatus("application_name"));
            exec(a, "DISCARD ALL");
            assertEquals("", q(a, "SHOW application_name"));
            assertEquals(startZone, q(a, "SHOW TimeZone"));
            assertEquals("c", q(c, "SELECT name FROM who"));
            exec(a, "RESET search_path");
            assertEquals("\"$user\", public", q(a, "SHOW search_path"));
            assertEquals("c", q(c, "SELECT name FROM who"));
        }
    }

    @Test
    void setLocalRevertsAtCommitAndRolledBackSetReverts() throws Exception {
        try (Connection a = router.connect(); Connection b = router.connect()) {
            exec(a, "SET TimeZone = 'America/New_York'");
            exec(a, "SET search_path = sp_a");
            exec(b, "SET TimeZone = 'Asia/Tokyo'");
            exec(b, "SET search_path = sp_b");

            a.setAutoCommit(false);
            exec(a, "SET LOCAL TimeZone = 'Europe/Paris'");
            exec(a, "SET LOCAL search_path = sp_c");
            assertEquals("Europe/Paris", q(a, "SHOW TimeZone"));
            assertEquals("c", q(a, "SELECT name FROM who"));
            a.commit();
            a.setAutoCommit(true);
            assertOwnZoneAndSchema(b, "Asia/Tokyo", "b");
            assertOwnZoneAndSchema(a, "America/New_York", "a");

            // set_config(..., true) is SET LOCAL
            a.setAutoCommit(false);
            q(a, "SELECT set_config('search_path', 'sp_c', true), set_config('TimeZone', 'Europe/Paris', true)");
            assertEquals("c", q(a, "SELECT name FROM who"));
            a.commit();
            a.setAutoCommit(true);
            assertOwnZoneAndSchema(b, "Asia/Tokyo", "b");
            assertOwnZoneAndSchema(a, "America/New_York", "a");

            // A SET (not LOCAL) inside a transaction that rolls back is undone too
            a.setAutoCommit(false);
            exec(a, "SET TimeZone = 'Europe/Paris'");
            exec(a, "SET search_path = sp_c");
            assertEquals("c", q(a, "SELECT name FROM who"));
            a.rollback();
            a.setAutoCommit(true);
            assertOwnZoneAndSchema(a, "America/New_York", "a");
            assertOwnZoneAndSchema(b, "Asia/Tokyo", "b");
            assertOwnZoneAndSchema(a, "America/New_York", "a");

            // ... while one in a committed transaction stays
            a.setAutoCommit(false);
            exec(a, "SET TimeZone = 'Europe/Paris'");
            a.commit();
            a.setAutoCommit(true);
            assertOwnZoneAndSchema(b, "Asia/Tokyo", "b");
            assertOwnZoneAndSchema(a, "Europe/Paris", "a");

            // a SET in a transaction that failed and rolled back
            a.setAutoCommit(false);
            exec(a, "SET search_path = sp_c");
            try {
                exec(a, "SELECT 1/0");
            } catch (SQLException expected) {
                assertEquals("22012", expected.getSQLState());
            }
            a.rollback();
            a.setAutoCommit(true);
            assertOwnZoneAndSchema(b, "Asia/Tokyo", "b");
            assertOwnZoneAndSchema(a, "Europe/Paris", "a");
        }
    }

    @Test
    void simpleProtocolClientsKeepTheirSettingsToo() throws Exception {
        Map<String, String> simple = Map.of("preferQueryMode", "simple");
        try (Connection a = router.connect(simple); Connection b = router.connect(simple)) {
            exec(a, "SET TimeZone TO 'America/New_York'; SET search_path TO sp_a");
            q(b, "SELECT set_config('TimeZone', 'Asia/Tokyo', false), set_config('search_path', 'sp_b', false)");
            for (int i = 0; i < 3; i++) {
                assertOwnZoneAndSchema(a, "America/New_York", "a");
                assertOwnZoneAndSchema(b, "Asia/Tokyo", "b");
            }
        }
    }

    @Test
    void standardConformingStringsFollowEachClient() throws Exception {
        Map<String, String> simple = Map.of("preferQueryMode", "simple");
        try (Connection a = router.connect(simple); Connection b = router.connect(simple)) {
            exec(a, "SET standard_conforming_strings = off");
            for (int i = 0; i < 3; i++) {
                assertEquals("off", q(a, "SHOW standard_conforming_strings"));
                assertEquals("3", q(a, "SELECT length('a\\\\b')"));
                assertEquals("on", q(b, "SHOW standard_conforming_strings"));
                assertEquals("4", q(b, "SELECT length('a\\\\b')"));
            }
        }
    }

    /** With splitting on, reads go to the replicas: every node's connection carries each client's settings. */
    @Test
    void settingsHoldOnReplicaConnectionsToo() throws Exception {
        try (RouterFixture split = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 1").start();
             Connection a = split.connect(); Connection b = split.connect()) {
            exec(a, "SET search_path = sp_a");
            exec(a, "SET TimeZone = 'America/New_York'");
            q(b, "SELECT set_config('search_path', 'sp_b', false)");
            java.util.Set<String> nodes = new java.util.HashSet<>();
            for (int i = 0; i < 6; i++) {
                nodes.add(q(a, "SELECT inet_server_port()"));
                assertEquals("a", q(a, "SELECT name FROM who"));
                assertEquals("07", q(a, "SELECT to_char(timestamptz '2024-01-01 12:00:00+00', 'HH24')"));
                assertEquals("b", q(b, "SELECT name FROM who"));
                assertEquals("12", q(b, "SELECT to_char(timestamptz '2024-01-01 12:00:00+00', 'HH24')"));
            }
            assertEquals(2, nodes.size(), "reads did not reach both replicas: " + nodes);
            // with splitting, BEGIN is deferred to the first statement: a rolled-back SET is still undone
            a.setAutoCommit(false);
            exec(a, "SET TimeZone = 'Europe/Paris'");
            exec(a, "SET search_path = sp_c");
            assertEquals("c", q(a, "SELECT name FROM who"));
            a.rollback();
            a.setAutoCommit(true);
            for (int i = 0; i < 4; i++) {
                assertEquals("a", q(a, "SELECT name FROM who"));
                assertEquals("07", q(a, "SELECT to_char(timestamptz '2024-01-01 12:00:00+00', 'HH24')"));
                assertEquals("b", q(b, "SELECT name FROM who"));
            }
            a.setAutoCommit(false);
            exec(a, "INSERT INTO who VALUES ('a2')"); // a write: on the primary, in A's schema
            assertEquals("2", q(a, "SELECT count(*) FROM who"));
            a.rollback();
        }
    }

    /** A multi-statement query runs as one implicit transaction: an error in it undoes its SETs too. */
    @Test
    void setInAFailedImplicitTransactionIsUndone() throws Exception {
        Map<String, String> simple = Map.of("preferQueryMode", "simple");
        try (Connection a = router.connect(simple); Connection b = router.connect(simple)) {
            exec(a, "SET search_path = sp_a; SET TimeZone = 'America/New_York'");
            exec(b, "SET search_path = sp_b");
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> exec(a, "SET search_path = sp_c; SET TimeZone = 'Asia/Tokyo'; SELECT 1/0"));
            assertEquals("22012", e.getSQLState());
            String bZone = q(b, "SHOW TimeZone");
            for (int i = 0; i < 3; i++) {
                assertOwnZoneAndSchema(a, "America/New_York", "a");
                assertOwnZoneAndSchema(b, bZone, "b");
            }
        }
    }

    static void assertOwnZoneAndSchema(Connection c, String zone, String who) throws SQLException {
        assertEquals(zone, q(c, "SHOW TimeZone"));
        assertEquals(who, q(c, "SELECT name FROM who"));
    }
}
