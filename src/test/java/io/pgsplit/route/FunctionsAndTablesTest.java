package io.pgsplit.route;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Function volatility (catalog, built-in lists, configured rules) and the tables and functions reported. */
class FunctionsAndTablesTest {

    private static final FunctionCatalog CATALOG = name -> Map.of(
            "my_stable", Volatility.STABLE,
            "my_immutable", Volatility.IMMUTABLE,
            "my_volatile", Volatility.VOLATILE,
            "app.report", Volatility.STABLE,
            "now", Volatility.VOLATILE, // a catalog that disagrees with the built-in list wins
            "nextval", Volatility.STABLE, // ... except for the functions that always write
            "random", Volatility.VOLATILE).getOrDefault(name, Volatility.UNKNOWN);

    private static final ClassifierSettings SETTINGS = new ClassifierSettings(100_000, 100, 1 << 20,
            java.time.Duration.ofSeconds(2), Set.of("my_harmless"), Set.of("lower", "audit.log"));
    private final SqlClassifier classifier = new SqlClassifier(SETTINGS);
    /** The same rules must hold for what JSqlParser checks and for what the lexical pass settles. */
    private final SqlClassifier parserOnly = new SqlClassifier(SETTINGS, false);

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT my_stable(1)                     | false | read: SELECT                                       |
            SELECT my_immutable(1)                  | false | read: SELECT                                       |
            SELECT my_volatile(1)                   | true  | write: function my_volatile() is volatile          | my_volatile
            SELECT unknown_fn(1)                    | true  | write: function unknown_fn() is not known to be read-only | unknown_fn
            SELECT app.report()                     | false | read: SELECT                                       |
            SELECT other.report()                   | true  | write: function other.report() is not known to be read-only | other.report
            SELECT now()                            | true  | write: function now() is volatile                  | now
            SELECT nextval('s')                     | true  | write: function nextval() has side effects         | nextval
            SELECT random()                         | false | read: SELECT                                       |
            SELECT my_harmless()                    | false | read: SELECT                                       |
            SELECT lower('X')                       | true  | write: function lower() is configured as a write   | lower
            SELECT audit.log('x')                   | true  | write: function audit.log() is configured as a write | audit.log
            SELECT count(*) FROM t WHERE a = my_volatile(2) | true | write: function my_volatile() is volatile | my_volatile
            """)
    void volatility(String sql, boolean write, String reason, String function) {
        Classification c = classifier.classify(sql, CATALOG, true);
        assertEquals(write, c.write(), c.toString());
        assertEquals(write ? reason : reason + " (lexical pass)", c.reason());
        assertEquals(function, c.function());
        if (function == null || !BuiltinFunctions.isAlwaysWrite(function)) {
            assertEquals(SqlClassifier.LEXICAL_NOTE, c.parsed().note(), "settled without the parser");
        }
        Classification parsed = parserOnly.classify(sql, CATALOG, true);
        assertEquals(write, parsed.write(), parsed.toString());
        assertEquals(reason, parsed.reason());
        assertEquals(function, parsed.function());
        assertTrue(parsed.parsed().parsed());
    }

    @Test
    void catalogRefreshNeedsNoCacheInvalidation() {
        String sql = "SELECT my_fn(a) FROM t";
        assertTrue(classifier.classify(sql, FunctionCatalog.EMPTY, true).write());
        ParsedQuery cached = classifier.cachedOrNull(sql);
        FunctionCatalog loaded = n -> n.equals("my_fn") ? Volatility.STABLE : Volatility.UNKNOWN;
        assertTrue(classifier.decide(cached, loaded).read());
        assertTrue(classifier.classify(sql, loaded, true).read());
    }

    @Test
    void functionsAreLowerCasedAsWritten() {
        StatementInfo s = info("SELECT NOW(), Pg_Catalog.Lower('x'), \"MyFn\"(1) FROM T");
        assertEquals(Set.of("now", "pg_catalog.lower", "myfn"), s.functions());
        assertEquals(Set.of("t"), s.tablesRead());
    }

    @Test
    void tablesReadFromTheParser() {
        String sql = "SELECT * FROM a JOIN S.B ON true WHERE x IN (SELECT y FROM c) AND EXISTS (SELECT 1 FROM d)";
        StatementInfo s = info(sql);
        assertEquals(Set.of("a", "s.b", "c", "d"), s.tablesRead());
        assertEquals(s.tablesRead(), parserOnly.classify(sql, CATALOG, true).parsed().statements().get(0).tablesRead());
        assertEquals(Set.of(), s.tablesWritten());
        // a CTE name is not a table
        assertEquals(Set.of("t"), info("WITH x AS (SELECT * FROM t) SELECT * FROM x").tablesRead());
        assertEquals(Set.of("t"), info("COPY t TO STDOUT").tablesRead());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            INSERT INTO S.T (a) VALUES (1)          | s.t
            UPDATE ONLY accounts SET a = 1          | accounts
            DELETE FROM "Quoted" WHERE a = 1        | quoted
            MERGE INTO tgt USING src ON true WHEN MATCHED THEN DELETE | tgt
            TRUNCATE TABLE a, ONLY b, c * CASCADE   | a,b,c
            COPY pgbench_history FROM STDIN         | pgbench_history
            CREATE TABLE IF NOT EXISTS n (a int)    | n
            ALTER TABLE IF EXISTS ONLY x ADD b int  | x
            DROP TABLE a, b                         | a,b
            WITH x AS (SELECT 1) UPDATE t SET a = 1 | t
            SELECT * INTO newt FROM t               | newt
            """)
    void tablesWrittenFromTheLexer(String sql, String tables) {
        assertEquals(Set.of(tables.split(",")), info(sql).tablesWritten());
    }

    @Test
    void writesAreNotParsed() {
        ParsedQuery p = classifier.classify("UPDATE t SET a = f(b)", FunctionCatalog.EMPTY, true).parsed();
        assertFalse(p.parsed());
        assertEquals("parser not needed", p.note());
        assertNull(p.statements().get(0).functions().isEmpty() ? null : "functions");
    }

    private StatementInfo info(String sql) {
        return classifier.classify(sql, CATALOG, true).parsed().statements().get(0);
    }
}
