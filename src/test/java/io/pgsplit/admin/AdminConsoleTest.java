package io.pgsplit.admin;

import static io.pgsplit.admin.AdminTesting.ADMIN_PASSWORD;
import static io.pgsplit.admin.AdminTesting.ADMIN_USER;
import static io.pgsplit.admin.AdminTesting.STATS_PASSWORD;
import static io.pgsplit.admin.AdminTesting.STATS_USER;
import static io.pgsplit.admin.AdminTesting.await;
import static io.pgsplit.admin.AdminTesting.console;
import static io.pgsplit.admin.AdminTesting.psql;
import static io.pgsplit.admin.AdminTesting.rowOf;
import static io.pgsplit.admin.AdminTesting.show;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The admin console with real clients: psql, pgjdbc (simple protocol), pgbench under PAUSE/RESUME. */
@ExtendWith(PgClusterExtension.class)
class AdminConsoleTest {
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        AdminTesting.pgbenchInit(c);
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 4").users(AdminTesting.USERS)
                .yaml(AdminTesting.adminYaml("")).start();
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    /**
     * PgBouncer 1.25.2's columns (src/admin.c, src/stats.c of that release): name and type (text, int4,
     * numeric). pgsplit may add columns after these, never before or between.
     */
    static final Map<String, String> PGBOUNCER_COLUMNS = Map.ofEntries(
            Map.entry("POOLS", "database:text user:text cl_active:int4 cl_waiting:int4 cl_active_cancel_req:int4 "
                    + "cl_waiting_cancel_req:int4 sv_active:int4 sv_active_cancel:int4 sv_being_canceled:int4 "
                    + "sv_idle:int4 sv_used:int4 sv_tested:int4 sv_login:int4 maxwait:int4 maxwait_us:int4 "
                    + "pool_mode:text load_balance_hosts:text"),
            Map.entry("STATS", "database:text total_server_assignment_count:numeric total_xact_count:numeric "
                    + "total_query_count:numeric total_received:numeric total_sent:numeric total_xact_time:numeric "
                    + "total_query_time:numeric total_wait_time:numeric total_client_parse_count:numeric "
                    + "total_server_parse_count:numeric total_bind_count:numeric avg_server_assignment_count:numeric "
                    + "avg_xact_count:numeric avg_query_count:numeric avg_recv:numeric avg_sent:numeric "
                    + "avg_xact_time:numeric avg_query_time:numeric avg_wait_time:numeric "
                    + "avg_client_parse_count:numeric avg_server_parse_count:numeric avg_bind_count:numeric"),
            Map.entry("STATS_TOTALS", "database:text server_assignment_count:numeric xact_count:numeric "
                    + "query_count:numeric bytes_received:numeric bytes_sent:numeric xact_time:numeric "
                    + "query_time:numeric wait_time:numeric client_parse_count:numeric server_parse_count:numeric "
                    + "bind_count:numeric"),
            Map.entry("STATS_AVERAGES", "database:text server_assignment_count:numeric xact_count:numeric "
                    + "query_count:numeric bytes_received:numeric bytes_sent:numeric xact_time:numeric "
                    + "query_time:numeric wait_time:numeric avg_client_parse_count:numeric "
                    + "avg_server_parse_count:numeric avg_bind_count:numeric"),
            Map.entry("CLIENTS", SOCKETS()),
            Map.entry("SERVERS", SOCKETS()),
            Map.entry("DATABASES", "name:text host:text port:int4 database:text force_user:text pool_size:int4 "
                    + "min_pool_size:int4 reserve_pool_size:int4 server_lifetime:int4 pool_mode:text "
                    + "load_balance_hosts:text max_connections:int4 current_connections:int4 "
                    + "max_client_connections:int4 current_client_connections:int4 paused:int4 disabled:int4"),
            Map.entry("USERS", "name:text pool_size:text reserve_pool_size:text pool_mode:text "
                    + "max_user_connections:int4 current_connections:int4 max_user_client_connections:int4 "
                    + "current_client_connections:int4"),
            Map.entry("CONFIG", "key:text value:text default:text changeable:text"),
            Map.entry("LISTS", "list:text items:int4"),
            Map.entry("VERSION", "version:text"),
            Map.entry("STATE", "key:text value:text"),
            Map.entry("TOTALS", "name:text value:numeric"));

    /** Columns pgsplit adds after PgBouncer's, for exporters written against older PgBouncers. */
    static final Map<String, String> COMPATIBILITY_COLUMNS = Map.of("STATS", "total_requests:numeric",
            "DATABASES", "reserve_pool:int4");

    private static String SOCKETS() {
        return "type:text user:text database:text replication:text state:text addr:text port:int4 "
                + "local_addr:text local_port:int4 connect_time:text request_time:text wait:int4 wait_us:int4 "
                + "close_needed:int4 ptr:text link:text remote_pid:int4 tls:text application_name:text "
                + "prepared_statements:int4 id:int4";
    }

    @Test
    void columnsAreThoseOfPgBouncer125() throws Exception {
        try (Connection admin = console(router); Connection app = router.connect();
             Statement st = app.createStatement()) {
            st.execute("SELECT 1"); // a pool and a client to list
            for (Map.Entry<String, String> e : PGBOUNCER_COLUMNS.entrySet()) {
                List<String> actual = new ArrayList<>();
                try (Statement s = admin.createStatement(); java.sql.ResultSet rs = s.executeQuery("SHOW " + e.getKey())) {
                    ResultSetMetaData md = rs.getMetaData();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        actual.add(md.getColumnName(i) + ":" + md.getColumnTypeName(i));
                    }
                }
                List<String> expected = new ArrayList<>(List.of(e.getValue().split(" ")));
                if (COMPATIBILITY_COLUMNS.containsKey(e.getKey())) {
                    expected.addAll(List.of(COMPATIBILITY_COLUMNS.get(e.getKey()).split(" ")));
                }
                assertEquals(expected, actual, "SHOW " + e.getKey());
            }
        }
    }

    @Test
    void everyCommandAnswersInPsql() throws Exception {
        List<String> commands = List.of("SHOW POOLS", "SHOW STATS", "SHOW STATS_TOTALS", "SHOW STATS_AVERAGES",
                "SHOW TOTALS", "SHOW CLIENTS", "SHOW SERVERS", "SHOW DATABASES", "SHOW USERS", "SHOW CONFIG",
                "SHOW LISTS", "SHOW VERSION", "SHOW STATE", "SHOW HELP", "SHOW NODES", "SHOW ROUTING",
                "SHOW RULES", "SHOW CLASSIFIER", "SHOW PREPARED", "PAUSE app", "RESUME app", "PAUSE", "RESUME",
                "DISABLE app", "ENABLE app", "RECONNECT app", "RECONNECT", "RELOAD");
        for (String db : AdminConsole.NAMES) {
            for (String cmd : commands) {
                AdminTesting.Result r = psql(router, db, ADMIN_USER, ADMIN_PASSWORD, cmd + ";");
                assertEquals(0, r.exitCode(), db + ": " + cmd + "\n" + r.output());
            }
        }
        AdminTesting.Result pools = psql(router, "pgbouncer", ADMIN_USER, ADMIN_PASSWORD, "show pools");
        assertTrue(pools.output().startsWith("database|user|cl_active|cl_waiting|"), pools.output());
        AdminTesting.Result version = psql(router, "pgsplit", ADMIN_USER, ADMIN_PASSWORD, "SHOW VERSION");
        assertTrue(version.output().contains("PgBouncer 1.25.2 compatible"), version.output());
    }

    @Test
    void statsUsersMayOnlyLook() throws Exception {
        AdminTesting.Result ok = psql(router, "pgbouncer", STATS_USER, STATS_PASSWORD, "SHOW POOLS");
        assertEquals(0, ok.exitCode(), ok.output());
        for (String cmd : List.of("PAUSE", "RESUME", "RELOAD", "KILL app", "SHUTDOWN", "DISABLE app")) {
            AdminTesting.Result refused = psql(router, "pgbouncer", STATS_USER, STATS_PASSWORD, cmd);
            assertNotEquals(0, refused.exitCode(), cmd + ": " + refused.output());
            assertTrue(refused.output().contains("admin access needed"), cmd + ": " + refused.output());
        }
        AdminTesting.Result state = psql(router, "pgbouncer", ADMIN_USER, ADMIN_PASSWORD, "SHOW STATE");
        assertTrue(state.output().contains("paused|no"), state.output());
        // a user of the databases that is not a console user, and a wrong password
        AdminTesting.Result app = psql(router, "pgbouncer", "app", "app", "SHOW POOLS");
        assertTrue(app.output().contains("password authentication failed"), app.output());
        AdminTesting.Result wrong = psql(router, "pgsplit", ADMIN_USER, "nope", "SHOW POOLS");
        assertTrue(wrong.output().contains("password authentication failed"), wrong.output());
    }

    @Test
    void badCommandsGetPostgresStyleErrors() throws Exception {
        try (Connection admin = console(router); Statement st = admin.createStatement()) {
            SQLException bad = assertThrows(SQLException.class, () -> st.execute("SHOW ME THE MONEY"));
            assertEquals("42601", bad.getSQLState());
            assertTrue(bad.getMessage().contains("invalid command 'SHOW ME THE MONEY', use SHOW HELP;"),
                    bad.getMessage());
            SQLException nodb = assertThrows(SQLException.class, () -> st.execute("PAUSE nosuchdb"));
            assertTrue(nodb.getMessage().contains("no such database: nosuchdb"), nodb.getMessage());
            SQLException unknown = assertThrows(SQLException.class, () -> st.execute("SHOW FDS"));
            assertEquals("0A000", unknown.getSQLState());
            SQLException resume = assertThrows(SQLException.class, () -> st.execute("RESUME"));
            assertTrue(resume.getMessage().contains("not paused"), resume.getMessage());
            // the session is still usable after errors
            assertEquals("no", rowOf(show(admin, "SHOW STATE"), "key", "paused").get("value"));
        }
        // pgjdbc's default (extended) protocol is refused with a clear message, not a hang
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", ADMIN_USER);
        p.setProperty("password", ADMIN_PASSWORD);
        try (Connection admin = java.sql.DriverManager.getConnection("jdbc:postgresql://" + router.host() + ":"
                + router.port() + "/pgsplit", p); Statement st = admin.createStatement()) {
            SQLException ext = assertThrows(SQLException.class, () -> st.executeQuery("SHOW POOLS"));
            assertTrue(ext.getMessage().contains("extended query protocol not supported"), ext.getMessage());
        }
    }

    @Test
    void poolsClientsAndStatsShowTraffic() throws Exception {
        try (Connection admin = console(router); Connection app = router.connect();
             Statement st = app.createStatement()) {
            long before = Long.parseLong(rowOf(show(admin, "SHOW STATS_TOTALS"), "database", "app").get("xact_count"));
            for (int i = 0; i < 10; i++) {
                st.execute("SELECT " + i);
            }
            Map<String, String> stats = rowOf(show(admin, "SHOW STATS_TOTALS"), "database", "app");
            assertTrue(Long.parseLong(stats.get("xact_count")) >= before + 10, stats.toString());
            assertTrue(Long.parseLong(stats.get("bytes_received")) > 0, stats.toString());
            Map<String, String> pool = rowOf(show(admin, "SHOW POOLS"), "user", "app");
            assertEquals("app", pool.get("database"));
            assertTrue(Integer.parseInt(pool.get("cl_active")) >= 1, pool.toString());
            assertEquals("transaction", pool.get("pool_mode"));
            List<Map<String, String>> clients = show(admin, "SHOW CLIENTS");
            assertTrue(clients.stream().anyMatch(c -> "app".equals(c.get("user")) && "app".equals(c.get("database"))),
                    clients.toString());
            List<Map<String, String>> nodes = show(admin, "SHOW NODES");
            assertEquals(3, nodes.stream().filter(n -> "app".equals(n.get("database"))).count(), nodes.toString());
            assertEquals("up", rowOf(nodes, "node", "primary").get("health"));
            List<Map<String, String>> routing = show(admin, "SHOW ROUTING");
            assertTrue(routing.stream().anyMatch(r -> "replica".equals(r.get("target")) && "read".equals(r.get("reason"))),
                    routing.toString());
        }
    }

    @Test
    void killClientClosesThatClient() throws Exception {
        try (Connection admin = console(router); Connection app = router.connect();
             Statement st = app.createStatement()) {
            st.execute("SELECT 1");
            String id = show(admin, "SHOW CLIENTS").stream().filter(c -> "app".equals(c.get("user")))
                    .map(c -> c.get("id")).findFirst().orElseThrow();
            try (Statement a = admin.createStatement()) {
                a.execute("KILL_CLIENT " + id);
            }
            SQLException gone = assertThrows(SQLException.class, () -> st.execute("SELECT 1"));
            assertTrue(gone.getMessage().contains("KILL_CLIENT") || gone.getSQLState().startsWith("08"),
                    gone.getMessage());
        }
    }

    @Test
    void disableRefusesNewClientsUntilEnable() throws Exception {
        try (Connection admin = console(router); Statement a = admin.createStatement()) {
            a.execute("DISABLE app");
            try {
                SQLException refused = assertThrows(SQLException.class, () -> router.connect().close());
                assertTrue(refused.getMessage().contains("disabled"), refused.getMessage());
                assertEquals("1", rowOf(show(admin, "SHOW DATABASES"), "name", "app").get("disabled"));
            } finally {
                a.execute("ENABLE app");
            }
            router.connect().close();
        }
    }

    /** PAUSE holds new transactions of a running pgbench (none completes while paused); RESUME lets all finish. */
    @Test
    void pauseAndResumeHoldAndReleasePgbench() throws Exception {
        try (Connection admin = console(router); Statement a = admin.createStatement()) {
            long start = xacts(admin);
            AdminTesting.Bench bench = new AdminTesting.Bench(router, "-c", "4", "-j", "2", "-t", "150");
            await("pgbench running", Duration.ofSeconds(30), () -> xacts(admin) > start + 50);
            a.execute("PAUSE app"); // returns once no server connection of app is in use
            long paused = xacts(admin);
            await("a pgbench client held by PAUSE", Duration.ofSeconds(30),
                    () -> Integer.parseInt(pool(admin).get("cl_waiting")) >= 1);
            Map<String, String> pool = pool(admin);
            assertEquals("0", pool.get("sv_active"), pool.toString());
            assertEquals(paused, xacts(admin), "no transaction may finish while paused");
            assertEquals("1", rowOf(show(admin, "SHOW DATABASES"), "name", "app").get("paused"));
            a.execute("RESUME app");
            String out = bench.finish(120);
            assertEquals(0, AdminTesting.Bench.failed(out), out);
            assertEquals(600, AdminTesting.Bench.processed(out), out);
        }
    }

    private static long xacts(Connection admin) {
        try {
            return Long.parseLong(rowOf(show(admin, "SHOW STATS_TOTALS"), "database", "app").get("xact_count"));
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static Map<String, String> pool(Connection admin) {
        try {
            return rowOf(show(admin, "SHOW POOLS"), "user", "app");
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }
}
