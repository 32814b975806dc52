package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Session state a server connection cannot share (SQL PREPARE, session advisory locks, temp tables,
 * LISTEN, WITH HOLD cursors) under transaction pooling, with session_state_policy pin and refuse.
 */
@ExtendWith(PgClusterExtension.class)
class SessionStatePolicyTest {
    static LocalPgCluster cluster;
    static RouterFixture pinOne;
    static RouterFixture pinTwo;
    static RouterFixture refuse;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        pinOne = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 1").routing("splitting: false")
                .start();
        pinTwo = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 2").routing("splitting: false")
                .start();
        refuse = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 2, session_state_policy: refuse")
                .start();
    }

    @AfterAll
    static void stop() {
        pinOne.close();
        pinTwo.close();
        refuse.close();
    }

    /**
     * One kind of session state: the statement that creates it, a query whose answer is {@code present}
     * on the connection holding it (and something else anywhere else), and the statement releasing it.
     */
    record Case(String name, String create, String probe, String present, String release, String refusedNames) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("PREPARE", "PREPARE ss_p AS SELECT 42",
                        "SELECT count(*) FROM pg_prepared_statements WHERE name = 'ss_p'", "1",
                        "DEALLOCATE ss_p", "PREPARE ss_p"),
                new Case("advisory lock", "SELECT pg_advisory_lock(4242)",
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"
                                + " AND pid = pg_backend_pid()", "1",
                        "SELECT pg_advisory_unlock(4242)", "pg_advisory_lock"),
                new Case("temp table", "CREATE TEMP TABLE ss_tmp (x int)",
                        "SELECT count(*) FROM pg_class WHERE relname = 'ss_tmp' AND relpersistence = 't'"
                                + " AND pg_table_is_visible(oid)", "1",
                        "DROP TABLE ss_tmp", "CREATE TEMP TABLE ss_tmp"),
                new Case("LISTEN", "LISTEN ss_ch",
                        "SELECT count(*) FROM pg_listening_channels() c WHERE c = 'ss_ch'", "1",
                        "UNLISTEN ss_ch", "LISTEN ss_ch"),
                new Case("WITH HOLD cursor", "DECLARE ss_cur CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 100) g",
                        "SELECT count(*) FROM pg_cursors WHERE name = 'ss_cur'", "1",
                        "CLOSE ss_cur", "DECLARE ss_cur"));
    }

    static String q(Connection c, String sql) throws SQLException {
        return String.valueOf(Jdbc.queryValue(c, sql));
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static String pid(Connection c) throws SQLException {
        return q(c, "SELECT pg_backend_pid()");
    }

    /** Pin, two connections: the state lasts across transactions and no other client ever sees it. */
    @ParameterizedTest(name = "pin: {0}")
    @MethodSource("cases")
    void pinKeepsTheStateOnItsConnectionAndHidesItFromOthers(Case k) throws Exception {
        for (Map<String, String> props : Stream.of(Map.<String, String>of(), Map.of("preferQueryMode", "simple"))
                .toList()) {
            try (Connection a = pinTwo.connect(props); Connection b = pinTwo.connect(props)) {
                exec(a, k.create());
                String pidA = pid(a);
                for (int i = 0; i < 3; i++) {
                    assertEquals(k.present(), q(a, k.probe()), "A lost its own " + k);
                    assertEquals(pidA, pid(a), "A moved off its connection while holding " + k);
                    // B runs meanwhile on the other connection and never sees A's state
                    assertNotEquals(pidA, pid(b));
                    assertEquals("0", q(b, k.probe()), "B sees A's " + k);
                    a.setAutoCommit(false);
                    assertEquals(k.present(), q(a, k.probe()));
                    a.commit();
                    a.setAutoCommit(true);
                }
                exec(a, k.release());
                assertEquals("0", q(a, k.probe()));
            }
        }
    }

    /** Pin, one connection: a second client waits while the state is held, and runs once it is released. */
    @ParameterizedTest(name = "pin, pool_size 1: {0}")
    @MethodSource("cases")
    void pinOnOneConnectionMakesOthersWaitUntilReleased(Case k) throws Exception {
        try (Connection a = pinOne.connect(); Connection b = pinOne.connect()) {
            String shared = pid(a);
            assertEquals(shared, pid(b));
            exec(a, k.create());
            CompletableFuture<String> bRuns = CompletableFuture.supplyAsync(() -> {
                try {
                    return pid(b) + "/" + q(b, k.probe());
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            PoolTesting.await("client B to queue for the one server connection",
                    () -> PoolTesting.waitingClients(pinOne) >= 1);
            assertFalse(bRuns.isDone(), "B ran while A held its " + k);
            assertEquals(k.present(), q(a, k.probe()));
            exec(a, k.release());
            // A is now idle, still connected; B gets the one connection, with nothing of A's state on it
            assertEquals(shared + "/0", bRuns.get(20, TimeUnit.SECONDS));
            assertEquals(shared, pid(b));
            assertEquals(shared, pid(a));
            assertEquals(shared, pid(b));
        }
    }

    @Test
    void pinnedListenerGetsItsNotifications() throws Exception {
        try (Connection a = pinTwo.connect(); Connection b = pinTwo.connect();
             Connection direct = pinTwo.direct("primary")) {
            exec(a, "LISTEN ss_news");
            exec(direct, "NOTIFY ss_news, 'hello'");
            exec(b, "SELECT 1");
            PoolTesting.await("A to receive the notification", () -> {
                try {
                    exec(a, "SELECT 1");
                    PGNotification[] n = a.unwrap(PGConnection.class).getNotifications();
                    if (n != null && n.length > 0) {
                        assertEquals("ss_news", n[0].getName());
                        assertEquals("hello", n[0].getParameter());
                        return true;
                    }
                    return false;
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            exec(b, "SELECT 1");
            PGNotification[] none = b.unwrap(PGConnection.class).getNotifications();
            assertTrue(none == null || none.length == 0, "B received A's notification");
            exec(a, "UNLISTEN *");
        }
    }

    @Test
    void pinnedTempTableRowsStayWithTheirClient() throws Exception {
        try (Connection a = pinTwo.connect(); Connection b = pinTwo.connect()) {
            exec(a, "CREATE TEMP TABLE ss_rows (x int)");
            exec(a, "INSERT INTO ss_rows VALUES (1), (2), (3)");
            a.setAutoCommit(false);
            exec(a, "INSERT INTO ss_rows VALUES (4)");
            a.commit();
            a.setAutoCommit(true);
            assertEquals("4", q(a, "SELECT count(*) FROM ss_rows"));
            SQLException e = assertThrows(SQLException.class, () -> q(b, "SELECT count(*) FROM ss_rows"));
            assertEquals("42P01", e.getSQLState());
            assertEquals("0", q(b, "SELECT count(*) FROM pg_class WHERE relpersistence = 't' AND relname = 'ss_rows'"
                    + " AND pg_table_is_visible(oid)"));
            assertEquals("1", q(a, "SELECT count(*) FROM (SELECT pg_advisory_lock(77)) l"));
            assertEquals("0", q(b, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 77"
                    + " AND pid = pg_backend_pid()"));
            exec(a, "SELECT pg_advisory_unlock_all()");
            exec(a, "DROP TABLE ss_rows");
        }
    }

    /** A client leaving with its state held: the next client on that connection finds none of it. */
    @Test
    void pinnedStateIsGoneForTheNextClientAfterTheFirstLeaves() throws Exception {
        String shared;
        try (Connection a = pinOne.connect()) {
            shared = pid(a);
            for (Case k : cases().toList()) {
                exec(a, k.create());
            }
            exec(a, "SELECT set_config('ss.secret', 'a-only', false)");
        }
        try (Connection b = pinOne.connect()) {
            assertEquals(shared, pid(b), "not the same server connection: the test proves nothing");
            for (Case k : cases().toList()) {
                assertEquals("0", q(b, k.probe()), "B inherited A's " + k);
            }
            assertEquals("", q(b, "SELECT coalesce(current_setting('ss.secret', true), '')"));
        }
    }

    @Test
    void settingsOfAClientThatLeftDoNotReachTheNext() throws Exception {
        String shared;
        try (Connection a = pinOne.connect()) {
            shared = pid(a);
            exec(a, "SELECT set_config('ss.secret', 'a-only', false)");
            exec(a, "SET search_path = pg_catalog");
            exec(a, "SET TimeZone = 'Asia/Tokyo'");
        }
        try (Connection b = pinOne.connect()) {
            assertEquals(shared, pid(b), "not the same server connection: the test proves nothing");
            assertEquals("", q(b, "SELECT coalesce(current_setting('ss.secret', true), '')"));
            assertEquals("\"$user\", public", q(b, "SHOW search_path"));
            assertNotEquals("Asia/Tokyo", q(b, "SHOW TimeZone"));
        }
    }

    @ParameterizedTest(name = "refuse: {0}")
    @MethodSource("cases")
    void refuseAnswersWithAClearErrorAndTheConnectionStaysUsable(Case k) throws Exception {
        for (Map<String, String> props : Stream.of(Map.<String, String>of(), Map.of("preferQueryMode", "simple"))
                .toList()) {
            try (Connection a = refuse.connect(props)) {
                SQLException e = assertThrows(SQLException.class, () -> exec(a, k.create()));
                assertEquals("0A000", e.getSQLState(), e.getMessage());
                assertTrue(e.getMessage().contains(k.refusedNames()), e.getMessage());
                assertTrue(e.getMessage().contains("session_state_policy"), e.getMessage());
                assertEquals("0", q(a, k.probe()), "refused, yet it ran");
                assertEquals("7", q(a, "SELECT 7"));
                a.setAutoCommit(false);
                assertEquals("8", q(a, "SELECT 8"));
                a.commit();
            }
        }
    }
}
