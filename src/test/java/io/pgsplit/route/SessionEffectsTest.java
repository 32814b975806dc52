package io.pgsplit.route;

import io.pgsplit.route.SessionEffect.DiscardAll;
import io.pgsplit.route.SessionEffect.Pin;
import io.pgsplit.route.SessionEffect.ResetAll;
import io.pgsplit.route.SessionEffect.ResetParam;
import io.pgsplit.route.SessionEffect.SetParam;
import io.pgsplit.route.SessionEffect.Unpin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Session-level side effects (what a transaction pooler must replay, pin or unpin), and transaction modes. */
class SessionEffectsTest {

    private static final SqlClassifier CLASSIFIER = new SqlClassifier(ClassifierSettings.defaults());

    static Stream<Arguments> effects() {
        return Stream.of(
                Arguments.of("SET search_path TO public, \"My Schema\"", List.of(new SetParam("search_path", "public, \"My Schema\""))),
                Arguments.of("SET TimeZone = 'UTC'", List.of(new SetParam("timezone", "'UTC'"))),
                Arguments.of("SET SESSION statement_timeout TO 5000", List.of(new SetParam("statement_timeout", "5000"))),
                Arguments.of("set myapp.user_id = '42'", List.of(new SetParam("myapp.user_id", "'42'"))),
                Arguments.of("SET extra_float_digits=-1", List.of(new SetParam("extra_float_digits", "-1"))),
                Arguments.of("SET TIME ZONE 'Europe/Paris'", List.of(new SetParam("timezone", "'Europe/Paris'"))),
                Arguments.of("SET TIME ZONE LOCAL", List.of(new ResetParam("timezone"))),
                Arguments.of("SET SCHEMA 'app'", List.of(new SetParam("search_path", "'app'"))),
                Arguments.of("SET NAMES 'UTF8'", List.of(new SetParam("client_encoding", "'UTF8'"))),
                Arguments.of("SET ROLE admin", List.of(new SetParam("role", "admin"))),
                Arguments.of("SET ROLE NONE", List.of(new ResetParam("role"))),
                Arguments.of("SET SESSION AUTHORIZATION DEFAULT", List.of(new ResetParam("session_authorization"))),
                Arguments.of("SET work_mem TO DEFAULT", List.of(new ResetParam("work_mem"))),
                Arguments.of("SET work_mem = DEFAULT", List.of(new ResetParam("work_mem"))),
                Arguments.of("SET LOCAL work_mem = '64MB'", List.of()),
                Arguments.of("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                        List.of(new SetParam("default_transaction_isolation", "'repeatable read'"))),
                Arguments.of("RESET work_mem", List.of(new ResetParam("work_mem"))),
                Arguments.of("RESET TIME ZONE", List.of(new ResetParam("timezone"))),
                Arguments.of("RESET ALL", List.of(new ResetAll())),
                Arguments.of("DISCARD ALL", List.of(new DiscardAll())),
                Arguments.of("DISCARD TEMP", List.of(new Unpin("DISCARD TEMP"))),
                Arguments.of("DISCARD PLANS", List.of()),
                Arguments.of("PREPARE foo(int) AS SELECT $1", List.of(new Pin("PREPARE foo"))),
                Arguments.of("DEALLOCATE foo", List.of(new Unpin("DEALLOCATE foo"))),
                Arguments.of("DEALLOCATE PREPARE ALL", List.of(new Unpin("DEALLOCATE ALL"))),
                Arguments.of("LISTEN ch", List.of(new Pin("LISTEN ch"))),
                Arguments.of("UNLISTEN ch", List.of(new Unpin("UNLISTEN ch"))),
                Arguments.of("UNLISTEN *", List.of(new Unpin("UNLISTEN *"))),
                Arguments.of("DECLARE c CURSOR WITH HOLD FOR SELECT 1", List.of(new Pin("DECLARE c WITH HOLD"))),
                Arguments.of("DECLARE c CURSOR FOR SELECT 1", List.of()),
                Arguments.of("CLOSE c", List.of(new Unpin("CLOSE c"))),
                Arguments.of("CLOSE ALL", List.of(new Unpin("CLOSE ALL"))),
                Arguments.of("CREATE TEMP TABLE t (a int)", List.of(new Pin("CREATE TEMP TABLE t"))),
                Arguments.of("CREATE LOCAL TEMPORARY TABLE IF NOT EXISTS t2 AS SELECT 1", List.of(new Pin("CREATE TEMP TABLE t2"))),
                Arguments.of("CREATE TEMP TABLE t3 (a int) ON COMMIT DROP", List.of()),
                Arguments.of("CREATE TABLE t4 (a int)", List.of()),
                Arguments.of("DROP TABLE t, s.u", List.of(new Unpin("DROP TABLE t"), new Unpin("DROP TABLE s.u"))),
                Arguments.of("LOAD 'auto_explain'", List.of(new Pin("LOAD"))),
                Arguments.of("SELECT pg_advisory_lock(1)", List.of(new Pin("pg_advisory_lock"))),
                Arguments.of("SELECT pg_try_advisory_lock_shared(1, 2)", List.of(new Pin("pg_try_advisory_lock_shared"))),
                Arguments.of("SELECT pg_advisory_unlock(1)", List.of(new Unpin("pg_advisory_unlock"))),
                Arguments.of("SELECT pg_advisory_unlock_all()", List.of(new Unpin("pg_advisory_unlock_all"))),
                Arguments.of("SELECT pg_advisory_xact_lock(1)", List.of()),
                Arguments.of("SELECT pg_advisory_lock(id) FROM jobs FOR UPDATE", List.of(new Pin("pg_advisory_lock"))),
                Arguments.of("SELECT pg_advisory_lock(1), pg_advisory_lock(2)", List.of(new Pin("pg_advisory_lock"), new Pin("pg_advisory_lock"))),
                Arguments.of("SELECT set_config('search_path', 'app', false)", List.of(new SetParam("search_path", "'app'"))),
                Arguments.of("SELECT set_config('search_path', 'app', true)", List.of()),
                Arguments.of("SELECT set_config('search_path', current_user, false)", List.of(new Pin("set_config with non-literal arguments"))),
                Arguments.of("SELECT 1", List.of()));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("effects")
    void effects(String sql, List<SessionEffect> expected) {
        Classification c = CLASSIFIER.classify(sql, FunctionCatalog.EMPTY, true);
        assertEquals(expected, c.parsed().statements().get(0).effects(), c.toString());
    }

    @Test
    void setLocalIsMarkedLocal() {
        StatementInfo s = CLASSIFIER.classify("SET LOCAL search_path = x", FunctionCatalog.EMPTY, true).parsed().statements().get(0);
        assertTrue(s.local());
        assertFalse(s.write());
    }

    @Test
    void transactionModes() {
        StatementInfo ro = first("BEGIN READ ONLY");
        assertTrue(ro.readOnlyTxn());
        assertFalse(ro.readWriteTxn());
        StatementInfo rw = first("START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE");
        assertTrue(rw.readWriteTxn());
        assertTrue(rw.serializable());
        assertFalse(rw.readOnlyTxn());
        StatementInfo st = first("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE");
        assertEquals(StatementKind.SET_TRANSACTION, st.kind());
        assertTrue(st.serializable());
        assertTrue(st.readOnlyTxn());
        StatementInfo plain = first("BEGIN ISOLATION LEVEL READ COMMITTED");
        assertFalse(plain.serializable() || plain.readOnlyTxn() || plain.readWriteTxn());
    }

    @Test
    void multiStatementStringKeepsEachStatement() {
        ParsedQuery p = CLASSIFIER.classify("SET search_path = a; SELECT pg_advisory_lock(7); LISTEN x", FunctionCatalog.EMPTY, true).parsed();
        assertEquals(3, p.lexerStatementCount());
        assertEquals(List.of(StatementKind.SET, StatementKind.SELECT, StatementKind.LISTEN), p.statements().stream().map(StatementInfo::kind).toList());
        assertEquals(List.of(new SetParam("search_path", "a")), p.statements().get(0).effects());
        assertEquals(List.of(new Pin("LISTEN x")), p.statements().get(2).effects());
        // the string is a write anyway (LISTEN), the SELECT is not parsed: the advisory lock still pins the session
        assertEquals(List.of(new Pin("pg_advisory_lock")), p.statements().get(1).effects());
        // set_config needs the parser to know whether it is a replayable SET: parsed even in a write string
        ParsedQuery q = CLASSIFIER.classify("SELECT set_config('search_path', 'app', false); LISTEN x", FunctionCatalog.EMPTY, true).parsed();
        assertEquals(List.of(new SetParam("search_path", "'app'")), q.statements().get(0).effects());
        // and when it cannot be parsed, it pins
        ParsedQuery r = CLASSIFIER.classify("SELECT set_config('a', 'b', false) FROM t WHERE a = = 1", FunctionCatalog.EMPTY, true).parsed();
        assertEquals(List.of(new Pin("set_config with non-literal arguments")), r.statements().get(0).effects());
        ParsedQuery u = CLASSIFIER.classify("SELECT pg_advisory_unlock(1) FROM t WHERE a = = 1", FunctionCatalog.EMPTY, true).parsed();
        assertEquals(List.of(new Unpin("pg_advisory_unlock")), u.statements().get(0).effects());
    }

    private static StatementInfo first(String sql) {
        return CLASSIFIER.classify(sql, FunctionCatalog.EMPTY, true).parsed().statements().get(0);
    }
}
