package io.pgsplit.route;

import io.pgsplit.route.SqlLexer.TokenType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PostgreSQL's lexical rules: statement splitting, quoting forms, comments, parameters, nesting. */
class SqlLexerTest {

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            SELECT 1                                           | 1 | SELECT
            SELECT 1; SELECT 2                                 | 2 | SELECT
            SELECT 1;;; ;                                      | 1 | SELECT
            ;                                                  | 0 | ''
            -- only a comment                                  | 0 | ''
            SELECT 'a;b'                                       | 1 | SELECT
            SELECT 'it''s; x'                                  | 1 | SELECT
            SELECT E'\\'; x'                                   | 1 | SELECT
            SELECT E'\\''; UPDATE t SET a = 1; --'             | 2 | SELECT
            SELECT '\\'; UPDATE t SET a = 1; --'               | 2 | SELECT
            SELECT e'a\\\\'; SELECT 2                          | 2 | SELECT
            SELECT U&'\\0041;'                                 | 1 | SELECT
            SELECT "a;""b"                                     | 1 | SELECT
            SELECT $$;$$; SELECT $x$ $$ ; $x$                  | 2 | SELECT
            SELECT $1; SELECT $2                               | 2 | SELECT
            SELECT a$b FROM t; SELECT 2                        | 2 | SELECT
            SELECT 1 /* ; /* ; */ ; */ ; SELECT 2              | 2 | SELECT
            SELECT 1 -- ; SELECT 2                             | 1 | SELECT
            SELECT (1; 2)                                      | 1 | SELECT
            (SELECT 1) UNION (SELECT 2); VALUES (1)            | 2 | SELECT
            CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; SELECT 3 | 2 | CREATE
            BEGIN; SELECT 1; END;                              | 3 | BEGIN
            """)
    void splitsStatements(String sql, int count, String firstKeyword) {
        SqlLexer.Result r = SqlLexer.lex(sql);
        assertNull(r.error(), r.error());
        assertEquals(count, r.statementCount(), () -> r.statements().toString());
        if (count > 0) assertEquals(firstKeyword, r.statements().get(0).firstKeyword());
    }

    @Test
    void standardConformingStringsOffMakesBackslashEscapeInPlainStrings() {
        String sql = "SELECT '\\'; UPDATE t SET a = 1; --'";
        assertEquals(2, SqlLexer.lex(sql, true).statementCount());
        // with backslash escapes, \' does not end the string: everything up to the last quote is one string
        assertEquals(1, SqlLexer.lex(sql, false).statementCount());
    }

    @Test
    void escapeStringValues() {
        SqlLexer.Token t = SqlLexer.lex("SELECT E'a\\tb\\x41\\101\\u0042\\''").statements().get(0).token(1);
        assertEquals(TokenType.STRING, t.type());
        assertEquals(SqlLexer.StringStyle.ESCAPE, t.style());
        assertEquals("a\tbAAB'", t.value());
    }

    @Test
    void dollarQuotedBodyIsOneString() {
        LexedStatement st = SqlLexer.lex("DO $body$ BEGIN RAISE NOTICE 'x;'; END $body$").statements().get(0);
        assertEquals(2, st.size());
        assertEquals(SqlLexer.StringStyle.DOLLAR, st.token(1).style());
        assertEquals(" BEGIN RAISE NOTICE 'x;'; END ", st.token(1).value());
    }

    @Test
    void parametersAreNotDollarQuotes() {
        LexedStatement st = SqlLexer.lex("SELECT $1 + $12").statements().get(0);
        assertEquals(TokenType.PARAM, st.token(1).type());
        assertEquals("$12", st.token(3).value());
    }

    @Test
    void keywordsAreUpperCasedUnquotedWords() {
        LexedStatement st = SqlLexer.lex("select \"Mixed\" from Foo where x = 'WHERE'").statements().get(0);
        assertEquals(List.of("SELECT", "FROM", "FOO", "WHERE", "X"), st.keywords());
        assertEquals("SELECT", st.firstKeyword());
    }

    @Test
    void castsAndOperators() {
        LexedStatement st = SqlLexer.lex("SELECT a::int, b->>'k', c <> d").statements().get(0);
        assertTrue(st.tokens().stream().anyMatch(t -> t.value().equals("::")));
        assertTrue(st.tokens().stream().anyMatch(t -> t.value().equals("->>")));
    }

    @Test
    void onlyPostgresWhitespaceSeparatesTokens() {
        // U+3000 is a space to Java but an identifier character to PostgreSQL
        LexedStatement st = SqlLexer.lex("SELECT a\u3000FROM t").statements().get(0);
        assertEquals(List.of("SELECT", "A\u3000FROM", "T"), st.keywords());
    }

    @Test
    void nestingDepth() {
        assertEquals(3, SqlLexer.lex("SELECT ((( 1 ))); SELECT (2)").maxDepth());
        assertEquals(0, SqlLexer.lex("SELECT '((('").maxDepth());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            SELECT 'abc                 | unterminated quoted string
            SELECT E'abc\\'             | unterminated quoted string
            SELECT "abc                 | unterminated quoted identifier
            SELECT $x$ abc $y$          | unterminated dollar-quoted string
            SELECT 1 /* /* */           | unterminated /* comment
            """)
    void unterminated(String sql, String error) {
        SqlLexer.Result r = SqlLexer.lex(sql);
        assertFalse(r.ok());
        assertNotNull(r.error());
        assertTrue(r.error().startsWith(error), r.error());
    }
}
