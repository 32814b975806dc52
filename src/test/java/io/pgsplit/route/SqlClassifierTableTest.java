package io.pgsplit.route;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static io.pgsplit.route.StatementKind.*;

/**
 * The decision table: one statement (or query string) per row, with its expected read/write verdict, the kind of its
 * first statement, and a fragment of the reason a human reads in "pgsplit explain". No catalog (FunctionCatalog.EMPTY):
 * the built-in function lists apply.
 */
class SqlClassifierTableTest {

    private static final SqlClassifier CLASSIFIER = new SqlClassifier(ClassifierSettings.defaults());

    private static final boolean R = false, W = true;

    private static Arguments row(String sql, boolean write, StatementKind kind, String reasonFragment) {
        return Arguments.of(sql, write, kind, reasonFragment);
    }

    static Stream<Arguments> table() {
        return Stream.of(
                // ---- plain reads ----
                row("SELECT 1", R, SELECT, "read: SELECT"),
                row("select abalance from pgbench_accounts where aid = $1", R, SELECT, "read: SELECT (lexical pass)"),
                row("SELECT a FROM t WHERE id = $1 FOR UPDATE", W, SELECT, "write: SELECT ... FOR UPDATE"),
                row("SELECT a FROM t WHERE id = ANY($1::int[])", R, SELECT, "read"),
                row("VALUES (1, 2), (3, 4)", R, VALUES, "read: VALUES"),
                row("TABLE foo", R, TABLE, "read: TABLE"),
                row("(SELECT 1) UNION (SELECT 2)", R, SELECT, "read"),
                row("WITH x(a) AS (SELECT 1) SELECT * FROM x", R, SELECT, "read"),
                row("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r", R, SELECT, "read"),
                row("SELECT count(*), max(a), now(), coalesce(b, 0), lower(c) FROM t GROUP BY b, c", R, SELECT, "read"),
                row("SELECT x->>'a', y @> '{}'::jsonb, jsonb_build_object('k', 1) FROM t", R, SELECT, "read"),
                row("SELECT * FROM t, LATERAL generate_series(1, t.n) AS g(i)", R, SELECT, "read"),
                row("SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t", R, SELECT, "read"),
                row("SELECT random(), clock_timestamp(), gen_random_uuid(), pg_sleep(0)", R, SELECT, "read"),
                row("SELECT pg_is_in_recovery(), version(), current_setting('search_path')", R, SELECT, "read"),
                row("SHOW search_path", R, SHOW, "read: SHOW"),
                row("SHOW ALL", R, SHOW, "read: SHOW"),
                row("/* leading comment */ SELECT 1 -- trailing", R, SELECT, "read"),
                row("SELECT 1;", R, SELECT, "read"),
                row("SELECT 1; SELECT 2", R, SELECT, "read: all 2 statements are reads"),
                row("SELECT * FROM t WHERE a = 'for update'", R, SELECT, "read"),
                row("SELECT 'insert into t values (1)' AS s", R, SELECT, "read"),
                row("SELECT \"update\" FROM t", R, SELECT, "read"),

                // ---- lexer edge cases ----
                row("SELECT 'it''s; DELETE FROM t'", R, SELECT, "read"),
                row("SELECT E'\\'; DELETE FROM t; --'", R, SELECT, "read"),
                row("SELECT E'\\''; UPDATE t SET a = 1; --'", W, SELECT, "write: UPDATE"),
                row("SELECT $$a;b$$, $tag$ it's; $$ $tag$", R, SELECT, "read"),
                row("SELECT U&'d\\0061t\\+000061; x'", R, SELECT, "read"),
                row("SELECT \"weird;\"\"name\" FROM t", R, SELECT, "read"),
                row("SELECT 1 /* outer /* inner; */ still comment; */ ", R, SELECT, "read"),
                row("SELECT 1 -- ; DELETE FROM t\n", R, SELECT, "read"),
                row("SELECT $1::text || $2", R, SELECT, "read"),
                row("SELECT B'0101', X'1F'", R, SELECT, "read"),
                row("SELECT 'unterminated", W, SELECT, "lexer: unterminated quoted string"),
                row("SELECT 1 /* unterminated", W, SELECT, "lexer: unterminated /* comment"),
                row("SELECT $$ unterminated", W, SELECT, "lexer: unterminated dollar-quoted string"),
                row("/* only an unterminated comment", W, OTHER, "lexer: unterminated /* comment"),
                row("'only an unterminated string", W, OTHER, "lexer: unterminated quoted string"),
                row("", R, EMPTY, "empty"),
                row(" ; ; -- nothing\n", R, EMPTY, "empty"),

                // ---- writes settled by the lexer ----
                row("INSERT INTO t VALUES (1)", W, INSERT, "write: INSERT"),
                row("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", W, UPDATE, "write: UPDATE"),
                row("DELETE FROM t WHERE id = 1", W, DELETE, "write: DELETE"),
                row("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", W, MERGE, "write: MERGE"),
                row("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", W, INSERT, "write: INSERT"),
                row("CREATE TABLE t (a int)", W, DDL, "write: CREATE TABLE"),
                row("CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", W, DDL, "write: CREATE FUNCTION"),
                row("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", W, DDL, "write: CREATE FUNCTION"),
                row("ALTER TABLE t ADD COLUMN b int", W, DDL, "write: ALTER TABLE"),
                row("DROP TABLE IF EXISTS t", W, DDL, "write: DROP TABLE"),
                row("TRUNCATE t, u", W, TRUNCATE, "write: TRUNCATE"),
                row("GRANT SELECT ON t TO bob", W, GRANT, "write: GRANT"),
                row("REVOKE SELECT ON t FROM bob", W, REVOKE, "write: REVOKE"),
                row("COMMENT ON TABLE t IS 'x'", W, COMMENT, "write: COMMENT"),
                row("SECURITY LABEL ON TABLE t IS 'x'", W, SECURITY_LABEL, "write: SECURITY LABEL"),
                row("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", W, LOCK, "write: LOCK"),
                row("CALL p(1)", W, CALL, "write: CALL"),
                row("DO $$ BEGIN PERFORM 1; END $$", W, DO, "write: DO"),
                row("VACUUM ANALYZE t", W, VACUUM, "write: VACUUM"),
                row("ANALYZE t", W, ANALYZE, "write: ANALYZE"),
                row("CLUSTER t USING t_pkey", W, CLUSTER, "write: CLUSTER"),
                row("REINDEX TABLE t", W, REINDEX, "write: REINDEX"),
                row("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", W, REFRESH, "write: REFRESH"),
                row("CHECKPOINT", W, CHECKPOINT, "write: CHECKPOINT"),
                row("IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO l", W, DDL, "write: IMPORT"),
                row("COPY t FROM STDIN", W, COPY_FROM, "write: COPY ... FROM"),
                row("COPY t (a, b) FROM STDIN WITH (FORMAT csv)", W, COPY_FROM, "write: COPY ... FROM"),
                row("COPY t TO STDOUT", R, COPY_TO, "read: COPY ... TO"),
                row("COPY (SELECT * FROM t) TO STDOUT", R, COPY_TO, "read: COPY (query) TO of SELECT"),
                row("COPY (DELETE FROM t RETURNING *) TO STDOUT", W, COPY_TO, "write: COPY (query) TO of DELETE"),
                row("COPY t TO '/tmp/t.csv'", W, COPY_TO, "server file"),
                row("COPY t TO PROGRAM 'gzip > /tmp/t.gz'", W, COPY_TO, "server file or program"),
                row("LISTEN ch", W, LISTEN, "write: LISTEN"),
                row("UNLISTEN *", W, UNLISTEN, "write: UNLISTEN"),
                row("NOTIFY ch, 'x'", W, NOTIFY, "write: NOTIFY"),
                row("LOAD 'auto_explain'", W, LOAD, "write: LOAD"),
                row("EXECUTE p(1)", W, EXECUTE, "write: EXECUTE"),
                row("FROBNICATE t", W, OTHER, "unrecognised statement FROBNICATE"),

                // ---- writes found inside queries ----
                row("SELECT * FROM t FOR UPDATE", W, SELECT, "write: SELECT ... FOR UPDATE"),
                row("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", W, SELECT, "FOR NO KEY UPDATE"),
                row("SELECT * FROM t FOR SHARE", W, SELECT, "FOR SHARE"),
                row("SELECT * FROM t FOR KEY SHARE OF t NOWAIT", W, SELECT, "FOR KEY SHARE"),
                row("SELECT * FROM (SELECT * FROM t FOR UPDATE) s", W, SELECT, "FOR UPDATE"),
                row("SELECT * INTO newt FROM t", W, SELECT, "SELECT INTO"),
                row("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", W, SELECT, "DELETE inside a query"),
                row("WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT count(*) FROM u", W, SELECT, "UPDATE inside a query"),
                row("SELECT nextval('s')", W, SELECT, "write: function nextval() has side effects"),
                row("SELECT pg_catalog.setval('s', 1)", W, SELECT, "setval"),
                row("SELECT pg_advisory_lock(1)", W, SELECT, "pg_advisory_lock"),
                row("SELECT pg_advisory_xact_lock(1)", W, SELECT, "pg_advisory_xact_lock"),
                row("SELECT lo_create(0)", W, SELECT, "lo_create"),
                row("SELECT set_config('a.b', 'x', false)", W, SELECT, "set_config"),
                row("SELECT pg_notify('ch', 'x')", W, SELECT, "pg_notify"),
                row("SELECT txid_current()", W, SELECT, "txid_current"),
                row("SELECT pg_current_xact_id()", W, SELECT, "pg_current_xact_id"),
                row("SELECT my_function(1)", W, SELECT, "write: function my_function() is not known to be read-only"),
                row("SELECT * FROM my_srf(1) AS x", W, SELECT, "my_srf"),
                row("SELECT a FROM t WHERE b IN (SELECT audit_it(c) FROM u)", W, SELECT, "audit_it"),
                row("VALUES (nextval('s'))", W, VALUES, "nextval"),
                row("SELECT a FROM t ORDER BY volatile_key(a)", W, SELECT, "volatile_key"),
                row("SELECT a FROM t GROUP BY a HAVING check_it(a) > 1", W, SELECT, "check_it"),
                row("SELECT my_agg(a) WITHIN GROUP (ORDER BY a) FROM t", W, SELECT, "my_agg"),
                row("SELECT my_window(a) OVER (ORDER BY a) FROM t", W, SELECT, "my_window"),
                row("SELECT * FROM t JOIN u ON match_it(t.a, u.b)", W, SELECT, "match_it"),
                row("SELECT CASE WHEN a THEN side_effect(1) END, CAST(other(2) AS int) FROM t", W, SELECT, "side_effect"),
                row("SELECT * FROM t LIMIT compute_limit()", W, SELECT, "compute_limit"),
                row("SELECT data ->> audit_fn(1) FROM t", W, SELECT, "audit_fn"),
                row("WITH x AS (SELECT 1) SELECT data ->> audit_fn(1) FROM t, x", W, SELECT, "audit_fn"), // parsed
                row("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a), count(*) OVER () FROM t", R, SELECT, "read"),
                row("SELECT d::date FROM generate_series(now(), now() + '1 week'::interval, '1 day') d", R, SELECT, "read"),
                row("SELECT * FROM t WHERE a = ANY(ARRAY[1, 2]) ORDER BY a DESC NULLS LAST FETCH FIRST 10 ROWS ONLY", R, SELECT, "read"),
                row("SELECT \"users\".* FROM \"users\" WHERE \"users\".\"id\" = $1 LIMIT $2", R, SELECT, "read"),
                row("SELECT 1; DELETE FROM t", W, SELECT, "write: DELETE"),
                row("SHOW x; INSERT INTO t VALUES (1)", W, SHOW, "write: INSERT"),

                // ---- EXPLAIN, PREPARE, DECLARE ----
                row("EXPLAIN SELECT * FROM t", R, EXPLAIN, "read: EXPLAIN without ANALYZE"),
                row("EXPLAIN INSERT INTO t VALUES (1)", R, EXPLAIN, "does not execute INSERT"),
                row("EXPLAIN ANALYZE SELECT * FROM t", R, EXPLAIN, "read: EXPLAIN ANALYZE of SELECT"),
                row("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", W, EXPLAIN, "write: EXPLAIN ANALYZE of INSERT"),
                row("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t", W, EXPLAIN, "write: EXPLAIN ANALYZE of DELETE"),
                row("EXPLAIN (ANALYZE false) DELETE FROM t", R, EXPLAIN, "without ANALYZE"),
                row("EXPLAIN (\"analyze\") DELETE FROM t", W, EXPLAIN, "write: EXPLAIN ANALYZE of DELETE"),
                row("EXPLAIN ANALYZE VERBOSE WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d", W, EXPLAIN, "write"),
                row("EXPLAIN (FORMAT json, ANALYZE) SELECT nextval('s')", W, EXPLAIN, "nextval"),
                row("PREPARE q(int) AS SELECT * FROM t WHERE a = $1", R, PREPARE, "read: PREPARE of SELECT"),
                row("PREPARE q AS UPDATE t SET a = 1", W, PREPARE, "write: PREPARE of UPDATE"),
                row("DECLARE c CURSOR FOR SELECT * FROM t", R, DECLARE, "read: DECLARE CURSOR of SELECT"),
                row("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM t FOR UPDATE", W, DECLARE, "FOR UPDATE"),
                row("FETCH 10 FROM c", R, FETCH, "cursor: FETCH"),
                row("MOVE NEXT IN c", R, MOVE, "cursor: MOVE"),
                row("CLOSE c", R, CLOSE, "cursor: CLOSE"),
                row("DEALLOCATE q", R, DEALLOCATE, "session: DEALLOCATE"),

                // ---- transaction control and session statements: not writes, routed by kind ----
                row("BEGIN", R, BEGIN, "transaction: BEGIN"),
                row("BEGIN READ ONLY", R, BEGIN, "transaction"),
                row("START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE", R, START_TRANSACTION, "transaction"),
                row("COMMIT", R, COMMIT, "transaction: COMMIT"),
                row("END", R, COMMIT, "transaction: END"),
                row("ROLLBACK", R, ROLLBACK, "transaction: ROLLBACK"),
                row("ABORT", R, ROLLBACK, "transaction: ABORT"),
                row("SAVEPOINT s1", R, SAVEPOINT, "transaction: SAVEPOINT"),
                row("RELEASE SAVEPOINT s1", R, RELEASE, "transaction: RELEASE"),
                row("ROLLBACK TO SAVEPOINT s1", R, ROLLBACK_TO, "transaction: ROLLBACK TO"),
                row("ROLLBACK WORK TO s1", R, ROLLBACK_TO, "transaction: ROLLBACK TO"),
                row("PREPARE TRANSACTION 'gid'", W, PREPARE_TRANSACTION, "two-phase"),
                row("COMMIT PREPARED 'gid'", W, OTHER, "write: COMMIT PREPARED"),
                row("ROLLBACK PREPARED 'gid'", W, OTHER, "write: ROLLBACK PREPARED"),
                row("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", R, SET_TRANSACTION, "transaction: SET TRANSACTION"),
                row("SET search_path TO public", R, SET, "session: SET search_path"),
                row("SET LOCAL statement_timeout = '5s'", R, SET, "transaction: SET LOCAL statement_timeout"),
                row("RESET ALL", R, RESET, "session: RESET ALL"),
                row("DISCARD ALL", R, DISCARD, "session: DISCARD ALL"),
                row("BEGIN; SELECT 1; COMMIT", R, BEGIN, "read: all 3 statements are reads"),
                row("BEGIN; UPDATE t SET a = 1; COMMIT", W, BEGIN, "write: UPDATE"),

                // ---- parser failures and disagreements: write ----
                row("SELECT FROM WHERE )(", W, SELECT, "write: parser failed"),
                row("SELECT 1 +", W, SELECT, "write: parser failed"),
                row("SELECT (1; SELECT 2)", W, SELECT, "write: parser failed"),
                // JSqlParser reads "//" as a comment and backticks as quotes; for PostgreSQL they are operators
                row("SELECT 1 // nextval('s')\n", W, SELECT, "operator // is read differently"),
                row("SELECT 1 ` nextval('s') `", W, SELECT, "is read differently"),
                row("SELECT 1 # nextval('s')", W, SELECT, "write"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("table")
    void classifies(String sql, boolean write, StatementKind kind, String reasonFragment) {
        Classification c = CLASSIFIER.classify(sql, FunctionCatalog.EMPTY, true);
        String detail = "sql: " + sql + "\nreason: " + c.reason() + "\nparsed: " + c.parsed();
        Assertions.assertEquals(write, c.write(), detail);
        Assertions.assertEquals(kind, c.parsed().statements().get(0).kind(), detail);
        Assertions.assertTrue(c.reason().contains(reasonFragment), "reason should contain '" + reasonFragment + "'\n" + detail);
        // the same answer from the cache
        Classification again = CLASSIFIER.classify(sql, FunctionCatalog.EMPTY, true);
        Assertions.assertEquals(c.write(), again.write(), detail);
        Assertions.assertEquals(c.reason(), again.reason(), detail);
    }
}
