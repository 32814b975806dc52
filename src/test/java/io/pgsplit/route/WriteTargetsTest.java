package io.pgsplit.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

/**
 * A table of statements, each executed through pgsplit (simple and extended protocol, a fresh client each) and
 * required to SUCCEED, with where it ran asked of the server: the statement itself reports
 * {@code inet_server_port()} (or {@code SHOW port}, or a plan with the port folded in), and writes are also
 * checked on the primary. The router runs with {@code retry_write_on_replica: false}, so a write misrouted to a
 * replica fails instead of being rescued by the retry.
 */
@ExtendWith(PgClusterExtension.class)
class WriteTargetsTest {
    enum Target { PRIMARY, REPLICA }

    /** Steps run in order on one client; the port is read from the last result that reports one. */
    record Row(Target target, String verifyOnPrimary, String... steps) {
    }

    static Row w(String... steps) {
        return new Row(Target.PRIMARY, null, steps);
    }

    static Row wv(String verify, String... steps) {
        return new Row(Target.PRIMARY, verify, steps);
    }

    static Row r(String... steps) {
        return new Row(Target.REPLICA, null, steps);
    }

    static final String COPY = "COPY ";

    static final List<Row> ROWS = List.of(
            // ---- writes ----
            w("INSERT INTO wt_items(a) VALUES (1) RETURNING inet_server_port()"),
            w("INSERT INTO wt_items(a) SELECT 2 RETURNING inet_server_port()"),
            w("insert into wt_items(a, note) values (2, 'lower case') returning inet_server_port()"),
            w("INSERT INTO wt_items DEFAULT VALUES RETURNING inet_server_port()"),
            w("INSERT INTO wt_items(id, a) VALUES (1, 1) ON CONFLICT DO NOTHING RETURNING inet_server_port()"),
            w("UPDATE wt_items SET a = a + 1 WHERE a = 2 RETURNING inet_server_port()"),
            w("DELETE FROM wt_items WHERE a = 3 RETURNING inet_server_port()"),
            wv("SELECT count(*) = 1 FROM wt_items WHERE id = 777",
                    "MERGE INTO wt_items t USING (VALUES (777, 7)) v(id, a) ON t.id = v.id "
                            + "WHEN MATCHED THEN UPDATE SET a = v.a WHEN NOT MATCHED THEN INSERT (id, a) VALUES (v.id, v.a)"),
            wv("SELECT to_regclass('wt_ddl') IS NOT NULL", "CREATE TABLE wt_ddl (id int)"),
            wv("SELECT count(*) = 1 FROM pg_attribute WHERE attrelid = 'wt_ddl'::regclass AND attname = 'b'",
                    "ALTER TABLE wt_ddl ADD COLUMN b text"),
            wv("SELECT to_regclass('wt_ddl_b') IS NOT NULL", "CREATE INDEX wt_ddl_b ON wt_ddl (b)"),
            wv("SELECT to_regclass('wt_ddl_b') IS NULL", "DROP INDEX wt_ddl_b"),
            wv("SELECT to_regclass('wt_ddl') IS NULL", "DROP TABLE wt_ddl"),
            wv("SELECT count(*) = 1 FROM pg_proc WHERE proname = 'wt_tmp_fn'",
                    "CREATE FUNCTION wt_tmp_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
            wv("SELECT count(*) = 0 FROM pg_proc WHERE proname = 'wt_tmp_fn'", "DROP FUNCTION wt_tmp_fn()"),
            wv("SELECT to_regclass('wt_view2') IS NOT NULL", "CREATE VIEW wt_view2 AS SELECT 1 AS x"),
            wv("SELECT to_regclass('wt_view2') IS NULL", "DROP VIEW wt_view2"),
            wv("SELECT count(*) = 1 FROM pg_namespace WHERE nspname = 'wt_schema'", "CREATE SCHEMA wt_schema"),
            wv("SELECT count(*) = 0 FROM pg_namespace WHERE nspname = 'wt_schema'", "DROP SCHEMA wt_schema"),
            wv("SELECT obj_description('wt_items'::regclass) = 'items'", "COMMENT ON TABLE wt_items IS 'items'"),
            w("GRANT SELECT ON wt_items TO md5user"),
            wv("SELECT count(*) = 0 FROM wt_scratch", "TRUNCATE wt_scratch"),
            wv("SELECT count(*) = 2 FROM wt_items WHERE note = 'copied'", COPY + "wt_items(a, note)\n41\tcopied\n42\tcopied\n"),
            w("BEGIN", "LOCK TABLE wt_items IN SHARE MODE", "SELECT inet_server_port()", "COMMIT"),
            w("SELECT inet_server_port() FROM wt_items FOR UPDATE"),
            w("SELECT inet_server_port() FROM wt_items FOR NO KEY UPDATE"),
            w("SELECT inet_server_port() FROM wt_items FOR SHARE"),
            w("SELECT inet_server_port() FROM wt_items FOR KEY SHARE"),
            w("SELECT i.id, inet_server_port() FROM wt_items i JOIN wt_scratch s ON true FOR UPDATE OF i"),
            wv("SELECT to_regclass('wt_into') IS NOT NULL", "SELECT a, inet_server_port() AS p INTO wt_into FROM wt_items"),
            wv("SELECT to_regclass('wt_into') IS NULL", "DROP TABLE wt_into"),
            w("WITH ins AS (INSERT INTO wt_items(a) VALUES (50) RETURNING id) SELECT inet_server_port() FROM ins"),
            w("WITH u AS (UPDATE wt_items SET a = 51 WHERE a = 50 RETURNING id) SELECT inet_server_port() FROM u"),
            w("WITH d AS (DELETE FROM wt_items WHERE a = 51 RETURNING id) SELECT inet_server_port() FROM d"),
            w("WITH x AS (SELECT 1) INSERT INTO wt_items(a) SELECT 52 FROM x RETURNING inet_server_port()"),
            wv("SELECT port = inet_server_port() FROM wt_log WHERE tag = 'call'", "CALL wt_proc('call')"),
            wv("SELECT port = inet_server_port() FROM wt_log WHERE tag = 'do'",
                    "DO $$ BEGIN INSERT INTO wt_log VALUES ('do', inet_server_port()); END $$"),
            w("VACUUM wt_items"),
            w("ANALYZE wt_items"),
            w("VACUUM (ANALYZE) wt_scratch"),
            w("CLUSTER wt_items USING wt_items_pkey"),
            w("REINDEX TABLE wt_items"),
            w("LISTEN wt_chan", "SELECT inet_server_port()", "UNLISTEN wt_chan"),
            w("NOTIFY wt_chan, 'x'"),
            w("SELECT pg_notify('wt_chan', 'y'), inet_server_port()"),
            w("SELECT nextval('wt_seq'), inet_server_port()"),
            w("SELECT setval('wt_seq', 10), inet_server_port()"),
            w("SELECT txid_current(), inet_server_port()"),
            w("SELECT pg_advisory_lock(42), inet_server_port()", "SELECT pg_advisory_unlock(42), inet_server_port()"),
            w("SELECT pg_try_advisory_lock(43), inet_server_port()", "SELECT pg_advisory_unlock_all()"),
            w("SELECT lo_create(424242), inet_server_port()", "SELECT lo_unlink(424242), inet_server_port()"),
            wv("SELECT count(*) = 1 FROM wt_log WHERE tag = 'fn' AND port = inet_server_port()",
                    "SELECT wt_write_fn('fn')"),
            w("SELECT wt_write_fn('fn2'), inet_server_port()"),
            w("SELECT x, inet_server_port() FROM wt_write_fn('fn3') x"),
            w("SELECT public.wt_write_fn('fn4'), inet_server_port()"),
            w("SELECT \"wt_write_fn\"('fn5'), inet_server_port()"),
            w("SELECT WT_WRITE_FN('fn6'), inet_server_port()"),
            w("SELECT (SELECT wt_write_fn('fn7')), inet_server_port()"),
            w("VALUES (wt_write_fn('fn8'), inet_server_port())"),
            w("SELECT CASE WHEN a > 0 THEN wt_write_fn('fn9') END, inet_server_port() FROM wt_items LIMIT 1"),
            w("SELECT inet_server_port() FROM wt_items WHERE a = wt_write_fn('fn10') OR true LIMIT 1"),
            w("SELECT wt_over('text'::text), inet_server_port()"),
            // argument types are not resolved: an overloaded name counts as its most volatile overload
            w("SELECT wt_over(1), inet_server_port()"),
            w("SELECT nextval('wt_seq'::regclass), inet_server_port()"),
            w("CREATE TEMP TABLE wt_tmp (a int)", "INSERT INTO wt_tmp VALUES (1)",
                    "SELECT count(*), inet_server_port() FROM wt_tmp"),
            w("PREPARE wt_p AS SELECT inet_server_port()", "EXECUTE wt_p", "DEALLOCATE wt_p"),
            wv("SELECT count(*) = 1 FROM wt_items WHERE a = 60",
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) INSERT INTO wt_items(a) VALUES (60)"),
            wv("SELECT count(*) = 1 FROM wt_log WHERE tag = 'explain-analyze'",
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT wt_write_fn('explain-analyze')"),
            w("BEGIN", "DECLARE wt_cur CURSOR FOR SELECT inet_server_port()", "FETCH wt_cur", "CLOSE wt_cur", "COMMIT"),
            r("BEGIN READ ONLY", "DECLARE wt_cur CURSOR FOR SELECT inet_server_port()", "FETCH wt_cur", "CLOSE wt_cur",
                    "COMMIT"),
            // ---- reads ----
            r("SELECT inet_server_port()"),
            r("select inet_server_port()"),
            r("-- a comment\nSELECT inet_server_port()"),
            r("/* a comment */ SELECT inet_server_port()"),
            r("(SELECT inet_server_port())"),
            r("SELECT a, inet_server_port() FROM wt_items WHERE a >= 1000 LIMIT 1"),
            r("SELECT count(*), inet_server_port() FROM wt_items i LEFT JOIN wt_log l ON l.tag = i.note"),
            r("SELECT inet_server_port() FROM wt_items i JOIN wt_items j ON i.id = j.id WHERE i.a >= 1000 LIMIT 1"),
            r("WITH c AS (SELECT count(*) n FROM wt_items) SELECT n, inet_server_port() FROM c"),
            r("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) "
                    + "SELECT max(n), inet_server_port() FROM t"),
            r("VALUES (1, inet_server_port())"),
            r("TABLE wt_port_view"),
            r("SELECT * FROM wt_port_view"),
            r("EXPLAIN (VERBOSE, COSTS OFF) SELECT wt_port_imm()"),
            r("EXPLAIN (VERBOSE, COSTS OFF) SELECT a, wt_port_imm() FROM wt_items"),
            r("SELECT now(), inet_server_port()"),
            r("SELECT lower('ABC'), inet_server_port()"),
            r("SELECT wt_stable_fn(), inet_server_port()"),
            r("SELECT public.wt_stable_fn(), inet_server_port()"),
            r("SELECT inet_server_port() FROM wt_items ORDER BY lower(note), wt_stable_fn() LIMIT 1"),
            r("SELECT random(), inet_server_port()"),
            r("SELECT pg_sleep(0), inet_server_port()"),
            r("SELECT clock_timestamp(), inet_server_port()"),
            r("SHOW port"),
            r("SELECT current_setting('port')"),
            r("SELECT inet_server_port() WHERE EXISTS (SELECT 1 FROM wt_items)"),
            r("SELECT sub.p FROM (SELECT inet_server_port() p) sub"),
            r("SELECT inet_server_port() UNION ALL SELECT inet_server_port()"),
            r("SELECT count(*) OVER (), inet_server_port() FROM wt_items LIMIT 1"),
            r("SELECT inet_server_port(), pg_is_in_recovery()"),
            r("SELECT inet_server_port(), version()"),
            r("SELECT inet_server_port(), current_user, current_database()"),
            r("SELECT inet_server_port(), array_agg(a) FROM wt_items"),
            r("SELECT inet_server_port(), json_build_object('a', 1)"),
            r("SELECT inet_server_port(), (SELECT max(id) FROM wt_items)"),
            r("SELECT DISTINCT inet_server_port() FROM wt_items"),
            r("SELECT inet_server_port(), x FROM generate_series(1, 3) x LIMIT 1"),
            r("SELECT inet_server_port(), 'INSERT INTO wt_items VALUES (1)' AS s"),
            r("SELECT inet_server_port() AS \"update\""),
            r("SELECT inet_server_port(), $$DELETE FROM wt_items$$"),
            r("SELECT inet_server_port(), has_table_privilege('wt_items', 'SELECT')"));

    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        c.execute(PgClusterExtension.DB, """
                DROP TABLE IF EXISTS wt_items, wt_log, wt_scratch, wt_ddl, wt_into CASCADE;
                DROP FUNCTION IF EXISTS wt_over(int), wt_over(text);
                DROP SEQUENCE IF EXISTS wt_seq;
                DROP SCHEMA IF EXISTS wt_schema;
                SELECT lo_unlink(oid) FROM pg_largeobject_metadata WHERE oid = 424242;
                CREATE TABLE wt_items (id serial PRIMARY KEY, a int, note text);
                INSERT INTO wt_items (a) SELECT 1000 + g FROM generate_series(1, 5) g;
                CREATE TABLE wt_log (tag text, port int);
                CREATE TABLE wt_scratch (x int);
                INSERT INTO wt_scratch VALUES (1);
                CREATE SEQUENCE wt_seq;
                CREATE OR REPLACE VIEW wt_port_view AS SELECT inet_server_port() AS port;
                CREATE OR REPLACE FUNCTION wt_port_imm() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT inet_server_port()';
                CREATE OR REPLACE FUNCTION wt_stable_fn() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM wt_items';
                CREATE OR REPLACE FUNCTION wt_write_fn(t text) RETURNS int LANGUAGE plpgsql VOLATILE AS
                  $$ BEGIN INSERT INTO wt_log VALUES (t, inet_server_port()); RETURN inet_server_port(); END $$;
                CREATE OR REPLACE FUNCTION wt_over(i int) RETURNS int LANGUAGE sql STABLE AS 'SELECT i';
                CREATE OR REPLACE FUNCTION wt_over(t text) RETURNS int LANGUAGE sql VOLATILE AS
                  $$ INSERT INTO wt_log VALUES (t, inet_server_port()) RETURNING port $$;
                ALTER FUNCTION wt_over(int) OWNER TO app; ALTER FUNCTION wt_over(text) OWNER TO app;
                CREATE OR REPLACE PROCEDURE wt_proc(t text) LANGUAGE sql AS
                  $$ INSERT INTO wt_log VALUES (t, inet_server_port()) $$;
                GRANT ALL ON ALL TABLES IN SCHEMA public TO app;
                GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO app;
                ALTER TABLE wt_items OWNER TO app; ALTER TABLE wt_log OWNER TO app; ALTER TABLE wt_scratch OWNER TO app;
                ALTER SEQUENCE wt_seq OWNER TO app; ALTER VIEW wt_port_view OWNER TO app;
                ALTER FUNCTION wt_port_imm() OWNER TO app; ALTER FUNCTION wt_stable_fn() OWNER TO app;
                ALTER FUNCTION wt_write_fn(text) OWNER TO app; ALTER PROCEDURE wt_proc(text) OWNER TO app;
                """);
        c.waitForReplay();
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 5")
                .routing("retry_write_on_replica: false").start();
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    @Test
    void tableHasEnoughStatements() {
        assertTrue(ROWS.size() >= 60, "only " + ROWS.size() + " rows");
        assertTrue(ROWS.stream().filter(r -> r.target == Target.REPLICA).count() >= 25);
        assertTrue(ROWS.stream().filter(r -> r.target == Target.PRIMARY).count() >= 40);
    }

    @Test
    void simpleProtocol() throws Exception {
        runTable(Map.of("preferQueryMode", "simple"), "simple");
    }

    @Test
    void extendedProtocol() throws Exception {
        runTable(Map.of("prepareThreshold", "1"), "extended");
    }

    private void runTable(Map<String, String> props, String mode) throws Exception {
        cluster.execute(PgClusterExtension.DB, "DELETE FROM wt_log; DELETE FROM wt_items WHERE note = 'copied' OR a = 60; DROP TABLE IF EXISTS wt_into;");
        List<String> failures = new ArrayList<>();
        for (Row row : ROWS) {
            String what = mode + ": " + String.join(" ; ", row.steps());
            try {
                Integer port = run(row, props);
                Target where = port == null ? null
                        : port == cluster.primaryPort() ? Target.PRIMARY
                        : cluster.replicaPorts().contains(port) ? Target.REPLICA : null;
                if (row.target == Target.REPLICA && where == null) {
                    failures.add(what + ": no port reported (" + port + ")");
                } else if (where != null && where != row.target) {
                    failures.add(what + ": ran on " + where + " (port " + port + "), expected " + row.target);
                }
                if (row.verifyOnPrimary() != null) {
                    try (Connection p = router.direct("primary")) {
                        Object ok = io.pgsplit.testing.Jdbc.queryValue(p, row.verifyOnPrimary());
                        if (!Boolean.TRUE.equals(ok)) {
                            failures.add(what + ": not visible on the primary: " + row.verifyOnPrimary());
                        }
                    }
                }
            } catch (SQLException e) {
                failures.add(what + ": failed: " + e.getSQLState() + " " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + ROWS.size() + " statements misrouted or failed:\n  "
                    + String.join("\n  ", failures));
        }
    }

    private static final Pattern NUMBER = Pattern.compile("\\b(\\d{2,5})\\b");

    /** Runs the steps on a fresh client; the port reported by the last step reporting one, or null. */
    private Integer run(Row row, Map<String, String> props) throws Exception {
        Integer port = null;
        try (Connection c = router.connect(props); Statement st = c.createStatement()) {
            for (String step : row.steps()) {
                if (step.startsWith(COPY)) {
                    String[] parts = step.substring(COPY.length()).split("\n", 2);
                    ((PGConnection) c).getCopyAPI().copyIn("COPY " + parts[0] + " FROM STDIN",
                            new StringReader(parts[1]));
                    continue;
                }
                boolean hasResult = st.execute(step);
                if (!hasResult) {
                    continue;
                }
                try (ResultSet rs = st.getResultSet()) {
                    Integer p = portIn(rs);
                    if (p != null) {
                        port = p;
                    }
                }
            }
        }
        return port;
    }

    /** The first node port appearing in any cell of the result. */
    private Integer portIn(ResultSet rs) throws SQLException {
        int cols = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            for (int i = 1; i <= cols; i++) {
                String v = rs.getString(i);
                if (v == null) {
                    continue;
                }
                Matcher m = NUMBER.matcher(v);
                while (m.find()) {
                    int n = Integer.parseInt(m.group(1));
                    if (n == cluster.primaryPort() || cluster.replicaPorts().contains(n)) {
                        return n;
                    }
                }
            }
        }
        return null;
    }

    @Test
    void primaryPortIsDistinct() {
        assertEquals(2, cluster.replicaPorts().size());
        assertTrue(!cluster.replicaPorts().contains(cluster.primaryPort()));
    }
}
