package io.pgsplit.route;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Everything that makes the classifier give up: it gives up towards the primary. Plus the cache contract. */
class ClassifierSafetyTest {

    private static ClassifierSettings settings(int maxLength, int maxNesting, Duration timeout) {
        ClassifierSettings d = ClassifierSettings.defaults();
        return new ClassifierSettings(maxLength, maxNesting, d.cacheMaxWeightBytes(), timeout, Set.of(), Set.of());
    }

    private final SqlClassifier classifier = new SqlClassifier(ClassifierSettings.defaults());

    @Test
    void standardConformingStringsOffMakesEverythingWrite() {
        Classification c = classifier.classify("SELECT 1", FunctionCatalog.EMPTY, false);
        assertTrue(c.write());
        assertEquals("write: standard_conforming_strings is off", c.reason());
        assertFalse(c.parsed().parsed());
        // the kind survives, so the router can still track transactions
        Classification begin = classifier.classify("BEGIN", FunctionCatalog.EMPTY, false);
        assertTrue(begin.write());
        assertEquals(StatementKind.BEGIN, begin.parsed().statements().get(0).kind());
        // and such results are not cached (the cache holds standard_conforming_strings = on facts)
        assertNull(classifier.cachedOrNull("SELECT 1"));
    }

    @Test
    void standardConformingStringsOffLexesBackslashesLikeTheServer() {
        // with backslash escapes, this is one statement: SELECT of one long string
        Classification c = classifier.classify("SELECT '\\'; UPDATE t SET a = 1; --'", FunctionCatalog.EMPTY, false);
        assertEquals(1, c.parsed().lexerStatementCount());
        assertTrue(c.write());
    }

    @Test
    void tooLongIsWriteWithoutParsing() {
        SqlClassifier small = new SqlClassifier(settings(40, 100, Duration.ofSeconds(2)));
        String sql = "SELECT a, b, c, d, e, f, g FROM some_table WHERE x = 1";
        assertFalse(small.needsParser(sql));
        Classification c = small.classify(sql, FunctionCatalog.EMPTY, true);
        assertTrue(c.write());
        assertTrue(c.reason().contains("longer than 40"), c.reason());
        assertFalse(c.parsed().parsed());
        assertNull(small.cachedOrNull(sql), "over-long strings are not cached");
    }

    @Test
    void tooDeepIsWriteWithoutParsing() {
        SqlClassifier shallow = new SqlClassifier(settings(100_000, 3, Duration.ofSeconds(2)));
        Classification c = shallow.classify("SELECT ((((1))))", FunctionCatalog.EMPTY, true);
        assertTrue(c.write());
        assertTrue(c.reason().contains("nesting depth 4 over 3"), c.reason());
        assertEquals(4, c.parsed().maxNestingDepth());
        assertTrue(shallow.classify("SELECT (((1)))", FunctionCatalog.EMPTY, true).read());
    }

    @Test
    void parseTimeoutIsWrite() {
        // without the lexical pass, which would settle this long but simple read without the parser
        SqlClassifier hasty = new SqlClassifier(settings(1_000_000, 1000, Duration.ofMillis(1)), false);
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < 3000; i++) sql.append(i == 0 ? "" : " + ").append("coalesce(a").append(i).append(", abs(b), lower(c))");
        sql.append(" FROM t");
        Classification c = hasty.classify(sql.toString(), FunctionCatalog.EMPTY, true);
        assertTrue(c.write());
        assertTrue(c.reason().contains("timed out"), c.reason());
        // a time-out depends on load: not cached, the next call tries again
        assertNull(hasty.cachedOrNull(sql.toString()));
    }

    @Test
    void veryDeepNestingBeyondTheLimitDoesNotCrash() {
        SqlClassifier reckless = new SqlClassifier(settings(1_000_000, 1_000_000, Duration.ofSeconds(10)));
        String sql = "SELECT " + "(".repeat(20_000) + "1" + ")".repeat(20_000);
        Classification c = reckless.classify(sql, FunctionCatalog.EMPTY, true);
        assertTrue(c.write(), c.reason());
        assertTrue(c.reason().startsWith("write: "), c.reason());
        // deep nesting is left to the parser's limits by the lexical pass, brackets included (not parsed here:
        // JSqlParser takes seconds on nested ARRAY[...])
        String brackets = "SELECT " + "ARRAY[".repeat(LexicalRead.MAX_DEPTH + 1) + "1" + "]".repeat(LexicalRead.MAX_DEPTH + 1);
        assertNull(reckless.lexicalRead(brackets));
        assertNotNull(reckless.lexicalRead("SELECT " + "ARRAY[".repeat(LexicalRead.MAX_DEPTH) + "1" + "]".repeat(LexicalRead.MAX_DEPTH)));
    }

    @Test
    void parserFailureIsWriteWithReason() {
        Classification c = classifier.classify("SELECT * FROM t WHERE a = = 1", FunctionCatalog.EMPTY, true);
        assertTrue(c.write());
        assertTrue(c.reason().startsWith("write: parser failed ("), c.reason());
        assertFalse(c.parsed().parsed());
        assertNotNull(c.parsed().note());
    }

    @Test
    void statementCountsMustAgree() {
        // PostgreSQL sees one (invalid) statement; JSqlParser treats a blank line as a statement separator
        Classification c = classifier.classify("SELECT 1\n\nSELECT 2", FunctionCatalog.EMPTY, true);
        assertTrue(c.write(), c.reason());
        assertTrue(c.reason().startsWith("write: statement counts disagree (lexer 1, parser 2)")
                || c.reason().startsWith("write: parser failed"), c.reason());
    }

    @Test
    void eStringTrickIsCaught() {
        Classification c = classifier.classify("SELECT E'\\''; UPDATE t SET a = 1; --'", FunctionCatalog.EMPTY, true);
        assertTrue(c.write());
        assertEquals(2, c.parsed().lexerStatementCount());
        assertEquals(Set.of("t"), c.parsed().statements().get(1).tablesWritten());
    }

    @Test
    void cacheContract() {
        // the pgbench SELECT needs no parser: the lexical pass settles it (and its result is cached like a parse)
        String pgbench = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
        assertFalse(classifier.needsParser(pgbench));
        Classification lexical = classifier.classify(pgbench, FunctionCatalog.EMPTY, true);
        assertTrue(lexical.read());
        assertEquals(SqlClassifier.LEXICAL_NOTE, lexical.parsed().note());
        assertEquals(lexical.parsed(), classifier.cachedOrNull(pgbench));

        // a CTE is beyond the lexical pass: parsed
        String sql = "WITH a AS (SELECT aid FROM pgbench_accounts) SELECT aid FROM a WHERE aid = $1";
        assertNull(classifier.cachedOrNull(sql));
        assertTrue(classifier.needsParser(sql));
        assertFalse(classifier.needsParser("INSERT INTO t VALUES (1)"));
        assertFalse(classifier.needsParser("BEGIN"));
        assertFalse(classifier.needsParser("SELECT 1; DELETE FROM t"));
        assertFalse(classifier.needsParser("SELECT pg_advisory_lock(1); DELETE FROM t")); // the pin comes from the lexer
        assertTrue(classifier.needsParser("SELECT set_config('a.b', 'c', false); DELETE FROM t")); // SetParam or Pin?
        assertEquals("not parsed: the query writes anyway (write: DELETE)",
                classifier.classify("SELECT 1; DELETE FROM t", FunctionCatalog.EMPTY, true).parsed().note());
        long missesBefore = classifier.cacheStats().missCount();
        Classification first = classifier.classify(sql, FunctionCatalog.EMPTY, true);
        assertTrue(first.read());
        assertTrue(first.parsed().parsed());
        assertEquals(missesBefore + 1, classifier.cacheStats().missCount());
        ParsedQuery cached = classifier.cachedOrNull(sql);
        assertNotNull(cached);
        assertEquals(first.parsed(), cached);
        assertFalse(classifier.needsParser(sql));
        long hitsBefore = classifier.cacheStats().hitCount();
        classifier.classify(sql, FunctionCatalog.EMPTY, true);
        assertEquals(hitsBefore + 1, classifier.cacheStats().hitCount());
        assertEquals(first, classifier.decide(cached, FunctionCatalog.EMPTY));
    }

    @Test
    void parametersParse() {
        SqlClassifier parserOnly = new SqlClassifier(ClassifierSettings.defaults(), false);
        Classification c = parserOnly.classify("SELECT * FROM t WHERE a = $1 AND b = ANY($2) LIMIT $3", FunctionCatalog.EMPTY, true);
        assertTrue(c.read(), c.reason());
        assertTrue(c.parsed().parsed());
    }
}
