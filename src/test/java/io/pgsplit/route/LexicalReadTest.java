package io.pgsplit.route;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lexical pass ({@link LexicalRead}): the reads it settles without JSqlParser carry the same facts as a parse,
 * and everything near them that it does not fully understand still goes to the parser, with the parser's verdict.
 * Every case is checked against a classifier without the lexical pass.
 */
class LexicalReadTest {

    private static final SqlClassifier LEXICAL = new SqlClassifier(ClassifierSettings.defaults());
    private static final SqlClassifier PARSER = new SqlClassifier(ClassifierSettings.defaults(), false);

    private static boolean lexical(Classification c) {
        return SqlClassifier.LEXICAL_NOTE.equals(c.parsed().note());
    }

    private static Set<String> set(String csv) {
        return csv == null ? Set.of() : new LinkedHashSet<>(Arrays.asList(csv.split(",")));
    }

    /** Reads settled by the lexical pass, with the tables and functions routing rules see (as the parser reports them). */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT abalance FROM pgbench_accounts WHERE aid = $1                          | pgbench_accounts |
            select abalance from pgbench_accounts where aid = 12345;                      | pgbench_accounts |
            SELECT abalance FROM pgbench_accounts WHERE aid = $1 -- a comment             | pgbench_accounts |
            SELECT 1                                                                      |                  |
            SELECT u1_0.id, u1_0.email FROM users u1_0 WHERE u1_0.id = $1                 | users            |
            SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2                | users            |
            SELECT COUNT(*) AS "__count" FROM "app_order" WHERE ("app_order"."status" = 'paid') | app_order  | count
            SELECT * FROM "Sch"."Tab" t JOIN s.b ON s.b.id = t.id LEFT JOIN c USING (id)  | sch.tab,s.b,c    |
            SELECT * FROM a, b AS bb, c WHERE a.x IN (SELECT x FROM f)                    | a,b,c,f          |
            SELECT t.* FROM ONLY t CROSS JOIN u NATURAL JOIN v                            | t,u,v            |
            SELECT * FROM (SELECT * FROM t) sub JOIN u ON true                            | t,u              |
            SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.a = t.a) l                  | t,u              |
            SELECT (SELECT max(a) FROM u) AS m FROM t                                     | u,t              | max
            SELECT a FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = t.id)          | t,u              |
            SELECT a FROM t1 UNION ALL SELECT b FROM t2 ORDER BY 1                        | t1,t2            |
            SELECT 1 FROM t1 INTERSECT SELECT 1 FROM t2 EXCEPT (SELECT 1 FROM t3)         | t1,t2,t3         |
            SELECT count(*), sum(a), coalesce(b, 0), lower(c), now() FROM t GROUP BY b, c HAVING sum(a) > 1 | t | count,sum,coalesce,lower,now
            SELECT NOW(), Pg_Catalog.Lower('x'), "Upper"(1) FROM T                        | t                | now,pg_catalog.lower,upper
            SELECT * FROM generate_series(1, 3) g                                         |                  | generate_series
            SELECT a FROM t WHERE b = ANY($1::int[]) AND c = ALL(ARRAY[1, 2])             | t                | any,all
            SELECT a FROM t WHERE b = ANY (SELECT c FROM u)                               | t,u              |
            SELECT count(*) OVER (PARTITION BY a ORDER BY b) FROM t                       | t                | count
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a), count(*) FILTER (WHERE a > 1) FROM t | t | percentile_cont,count
            SELECT CAST($1 AS int), extract(year FROM d), a IS DISTINCT FROM b FROM t     | t                |
            SELECT x->>'a', y @> '{}'::jsonb, z #>> '{k}' FROM t WHERE b ~ 'x' AND c ILIKE $1 | t            |
            SELECT a FROM t WHERE a = -1 AND b=-1 AND c BETWEEN $1 AND $2 AND d IS NOT NULL | t              |
            SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END, interval '1 day', E'\\n' FROM t | t                |
            SELECT DISTINCT ON (a) a, b FROM t ORDER BY a DESC NULLS LAST LIMIT 10 OFFSET 5 | t              |
            SELECT 1 FROM t WHERE a = $1 FETCH FIRST 1 ROWS ONLY                          | t                |
            SELECT pg_is_in_recovery(), inet_server_port(), current_setting('x')          |                  | pg_is_in_recovery,inet_server_port,current_setting
            SELECT 'for update', 'insert into t', "update" FROM t                         | t                |
            """)
    void lexicalReads(String sql, String tables, String functions) {
        Classification c = LEXICAL.classify(sql, FunctionCatalog.EMPTY, true);
        String detail = sql + "\n" + c;
        assertTrue(lexical(c), detail);
        assertTrue(c.read(), detail);
        assertTrue(c.reason().endsWith("(lexical pass)"), detail);
        StatementInfo s = c.parsed().statements().get(0);
        assertEquals(StatementKind.SELECT, s.kind());
        assertEquals(set(tables), s.tablesRead(), detail);
        assertEquals(set(functions), s.functions(), detail);
        assertEquals(Set.of(), s.tablesWritten());
        assertEquals(0, s.effects().size());
        // what the parser finds in the same text
        Classification p = PARSER.classify(sql, FunctionCatalog.EMPTY, true);
        StatementInfo ps = p.parsed().statements().get(0);
        assertTrue(p.parsed().parsed(), p.toString());
        assertEquals(p.write(), c.write());
        assertEquals(ps.kind(), s.kind());
        assertEquals(ps.tablesRead(), s.tablesRead(), detail);
        assertEquals(ps.functions(), s.functions(), detail);
        assertFalse(LEXICAL.needsParser(sql));
    }

    /** Functions found by the lexical pass are judged like parsed ones: volatile or unknown means write. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT my_function(1)                                    | write: function my_function() is not known to be read-only
            SELECT * FROM my_srf(1) AS x                             | my_srf
            SELECT a FROM t WHERE b IN (SELECT audit_it(c) FROM u)   | audit_it
            SELECT a FROM t ORDER BY volatile_key(a)                 | volatile_key
            SELECT * FROM t JOIN u ON match_it(t.a, u.b)             | match_it
            SELECT * FROM t LIMIT compute_limit()                    | compute_limit
            SELECT my_agg(a) WITHIN GROUP (ORDER BY a) FROM t        | my_agg
            SELECT public.report(1) FROM t                           | public.report
            SELECT data ->> my_fn(1) FROM t                          | my_fn
            """)
    void functionsStillMakeWrites(String sql, String reasonFragment) {
        Classification c = LEXICAL.classify(sql, FunctionCatalog.EMPTY, true);
        assertTrue(lexical(c), c.toString());
        assertTrue(c.write(), c.toString());
        assertTrue(c.reason().contains(reasonFragment), c.reason());
        Classification p = PARSER.classify(sql, FunctionCatalog.EMPTY, true);
        assertEquals(p.reason(), c.reason());
        assertEquals(p.function(), c.function());
        // and a catalog that knows the function decides, as for parsed statements
        FunctionCatalog stable = fn -> Volatility.STABLE;
        assertTrue(LEXICAL.decide(c.parsed(), stable).read());
        FunctionCatalog volatileFns = fn -> Volatility.VOLATILE;
        assertTrue(LEXICAL.classify("SELECT now()", volatileFns, true).write());
    }

    /**
     * Near misses: what the lexical pass leaves to the parser (or to the keyword classifier's writes). Each keeps the
     * verdict and reason of the classifier without the lexical pass.
     */
    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
            // writes and locks inside a SELECT
            "SELECT * FROM t FOR UPDATE",
            "SELECT * FROM t WHERE a = $1 FOR NO KEY UPDATE",
            "SELECT * FROM t FOR SHARE",
            "SELECT * FROM t FOR KEY SHARE",
            "SELECT 1 FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.x = t.x FOR UPDATE)",
            "SELECT * INTO newt FROM t",
            "SELECT * INTO TEMP newt FROM t",
            "SELECT a FROM t WHERE b IN (WITH d AS (DELETE FROM u RETURNING id) SELECT id FROM d)",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "SELECT t.update FROM t",
            // functions that always write or change the session
            "SELECT nextval('s')",
            "SELECT a FROM t WHERE b = (SELECT nextval('s'))",
            "SELECT pg_catalog.setval('s', 1)",
            "SELECT \"nextval\"('s')",
            "SELECT pg_advisory_lock(1)",
            "SELECT pg_advisory_unlock(1) FROM t",
            "SELECT pg_try_advisory_xact_lock(1)",
            "SELECT set_config('search_path', 'x', false)",
            "SELECT txid_current()",
            "SELECT pg_notify('c', 'x')",
            "SELECT lo_create(0)",
            // more than one statement: the parser's count is a second opinion on the lexer's split
            "SELECT 1; SELECT 2",
            "SELECT a FROM t; DELETE FROM t",
            "SELECT E'\\''; UPDATE t SET a = 1; --'",
            // syntax outside the subset
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "(SELECT 1) UNION (SELECT 2)",
            "VALUES (1)",
            "TABLE t",
            "SELECT * FROM (VALUES (1)) v(a)",
            "SELECT a FROM t AS x(a)",
            "SELECT a FROM t x(a)",
            "SELECT * FROM generate_series(1, 3) AS g(i)",
            "SELECT a FROM (t JOIN u ON true)",
            "SELECT * FROM ROWS FROM (generate_series(1, 2))",
            "SELECT a FROM t TABLESAMPLE SYSTEM (10)",
            "SELECT * FROM unnest($1::int[]) WITH ORDINALITY",
            "SELECT a FROM t * WHERE b = 1",
            "SELECT a FROM t JOIN u JOIN v ON true ON true",
            "SELECT a FROM t JOIN u",
            "SELECT CAST($1 AS varchar(10))",
            "SELECT a::numeric(10, 2) FROM t",
            "SELECT (t).f(1) FROM t",
            "SELECT U&\"nextv\\0061l\"('s')",
            "SELECT a FROM t WHERE a = 'x' COLLATE \"C\"",
            "SELECT a FROM t WHERE b OPERATOR(pg_catalog.=) 1",
            "SELECT a FROM t WHERE b === 1",
            "SELECT a[1:2] FROM t",
            "SELECT CURRENT_TIME(0)",
            "SELECT CAST(a <> $1 AS int) FROM t",
            // JSqlParser reads these operators differently from PostgreSQL
            "SELECT 1 // nextval('s')\n",
            "SELECT 1 ` nextval('s') `",
            "SELECT 1 # nextval('s')",
            // broken SQL: the parser rejects it, so it goes to the primary
            "SELECT 1 SELECT 2",
            "SELECT 1\n\nSELECT 2",
            "SELECT 1 +",
            "SELECT * FROM t WHERE a = = 1",
            "SELECT a = b = c FROM t",
            "SELECT (1; SELECT 2)",
            "SELECT FROM WHERE )(",
            "SELECT a, FROM t",
            "SELECT f(, a)",
            "SELECT (1",
            "SELECT * FROM",
            "SELECT * FROM t WHERE",
            "SELECT a FROM t ORDER BY a USING <",
    })
    void nearMissesAreLeftToTheParser(String sql) {
        Classification c = LEXICAL.classify(sql, FunctionCatalog.EMPTY, true);
        assertFalse(lexical(c), c.toString());
        assertTrue(LEXICAL.lexicalRead(sql) == null);
        Classification p = PARSER.classify(sql, FunctionCatalog.EMPTY, true);
        assertEquals(p.write(), c.write(), c.toString());
        assertEquals(p.reason(), c.reason());
        assertEquals(p.parsed().statements(), c.parsed().statements());
    }

    @Test
    void lexicalReadSharesFactsAcrossLiterals() {
        ParsedQuery a = LEXICAL.lexicalRead("SELECT abalance FROM pgbench_accounts WHERE aid = 1");
        ParsedQuery b = LEXICAL.lexicalRead("SELECT abalance FROM pgbench_accounts WHERE aid = 'x'");
        assertNotNull(a);
        assertEquals(a.statements(), b.statements());
        assertNull(LEXICAL.cachedOrNull("SELECT abalance FROM pgbench_accounts WHERE aid = 1"), "lexicalRead never caches");
        assertNull(LEXICAL.lexicalRead("SELECT nextval('s')"));
        assertNull(LEXICAL.lexicalRead("UPDATE t SET a = 1"));
        assertNull(new SqlClassifier(ClassifierSettings.defaults(), false).lexicalRead("SELECT 1"));
    }

    @Test
    void wrappedQueriesUseTheLexicalPassToo() {
        Classification explain = LEXICAL.classify("EXPLAIN ANALYZE SELECT * FROM t WHERE a = $1", FunctionCatalog.EMPTY, true);
        assertTrue(lexical(explain), explain.toString());
        assertTrue(explain.read());
        assertEquals(StatementKind.EXPLAIN, explain.parsed().statements().get(0).kind());
        assertEquals(Set.of("t"), explain.parsed().statements().get(0).tablesRead());
        Classification cursor = LEXICAL.classify("DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t", FunctionCatalog.EMPTY, true);
        assertTrue(lexical(cursor), cursor.toString());
        assertEquals(PARSER.classify("DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t", FunctionCatalog.EMPTY, true)
                .parsed().statements().get(0).effects(), cursor.parsed().statements().get(0).effects());
        Classification copy = LEXICAL.classify("COPY (SELECT * FROM t) TO '/tmp/x'", FunctionCatalog.EMPTY, true);
        assertTrue(copy.write(), "a server-side file stays a write");
    }

    /** Found by the comparison below: JSqlParser keeps the operands of JSON operators where the tree walk missed them. */
    @Test
    void parserSeesFunctionsRightOfJsonOperators() {
        for (String sql : new String[]{"SELECT data ->> audit_fn(1) FROM t", "SELECT a[1] #>> audit_fn(1) FROM t"}) {
            Classification p = PARSER.classify(sql, FunctionCatalog.EMPTY, true);
            assertTrue(p.write(), p.toString());
            assertEquals("audit_fn", p.function());
        }
    }

    /**
     * Random SELECTs from a small grammar (valid, invalid, with and without writes), with fixed seeds: whenever the
     * lexical pass settles one that the parser can parse, both agree on the verdict, kind, functions and tables (the
     * lexical pass may list a table the parser's TablesNamesFinder skips, never fewer); a statement with a write in
     * it is never a lexical read.
     */
    @Test
    void agreesWithTheParserOnRandomSelects() {
        int settled = 0, compared = 0;
        for (long seed = 1; seed <= 4; seed++) {
            Generator g = new Generator(seed);
            for (int i = 0; i < 1500; i++) {
                String sql = g.select(0);
                if (g.random.nextInt(15) == 0) sql = "WITH d AS (DELETE FROM t RETURNING *) " + sql;
                ParsedQuery facts = LEXICAL.lexicalRead(sql); // never parses: broken SQL can keep JSqlParser busy
                if (facts == null) continue;
                Classification c = LEXICAL.decide(facts, FunctionCatalog.EMPTY);
                settled++;
                String upper = sql.toUpperCase();
                for (String w : new String[]{"FOR UPDATE", "FOR SHARE", "FOR NO KEY", "FOR KEY", " INTO ", "DELETE",
                        "NEXTVAL", "SET_CONFIG", "ADVISORY", "TXID_CURRENT"}) {
                    assertFalse(upper.contains(w), "settled lexically despite " + w + ": " + sql);
                }
                Classification p = PARSER.classify(sql, FunctionCatalog.EMPTY, true);
                if (!p.parsed().parsed()) continue; // JSqlParser cannot parse some valid PostgreSQL
                StatementInfo s = c.parsed().statements().get(0), ps = p.parsed().statements().get(0);
                // JSqlParser misreads "WHERE (value IN (SELECT ... LIMIT 1))" as a call of a function "in" (a
                // reserved word: no such function can be called so); the parser path then calls it a write
                if (ps.functions().contains("in") && !s.functions().contains("in")) continue;
                compared++;
                String detail = sql + "\nlexical: " + c + "\nparser:  " + p;
                assertEquals(p.write(), c.write(), detail);
                assertEquals(ps.kind(), s.kind(), detail);
                assertEquals(ps.functions(), s.functions(), detail);
                assertTrue(s.tablesRead().containsAll(ps.tablesRead()), detail);
                assertEquals(ps.effects(), s.effects(), detail);
            }
        }
        assertTrue(settled > 500 && compared > 500, "the grammar should produce many lexical reads: " + settled + "/" + compared);
    }

    /** Random SELECT text: mostly plausible, with writes, unusual syntax and mistakes mixed in. */
    private static final class Generator {
        final Random random;

        Generator(long seed) {
            random = new Random(seed);
        }

        String pick(String... options) {
            return options[random.nextInt(options.length)];
        }

        String table() {
            return pick("t", "accounts", "s.orders", "\"Users\"", "public.t2", "pg_catalog.pg_class", "\"S\".\"T\"", "rows", "name");
        }

        String col() {
            return pick("a", "b", "t.a", "x.id", "\"Col\"", "u.name", "value", "data", "type", "t.*");
        }

        String fn() {
            return pick("now", "count", "lower", "coalesce", "my_fn", "app.report", "random", "nextval", "pg_advisory_lock",
                    "set_config", "\"MyFn\"", "pg_catalog.lower", "substring", "abs", "generate_series", "left", "txid_current");
        }

        String literal() {
            return pick("1", "'x'", "$1", "$2", "1.5", "-1", "NULL", "TRUE", "'a''b'", "E'\\n'", "$$z$$", "interval '1 day'");
        }

        String op() {
            return pick("=", "<>", "<", ">=", "+", "-", "*", "||", "~", "@>", "->>", "&&", "!=", "//", "#", "`", "=-", "::int =");
        }

        String expr(int d) {
            return switch (random.nextInt(d > 2 ? 4 : 16)) {
                case 0, 1 -> col();
                case 2, 3 -> literal();
                case 4 -> expr(d + 1) + " " + op() + " " + expr(d + 1);
                case 5 -> fn() + "(" + (random.nextBoolean() ? expr(d + 1) + (random.nextInt(4) == 0 ? ", " + expr(d + 1) : "") : "") + ")";
                case 6 -> "(" + select(d + 1, 1) + ")";
                case 7 -> "CASE WHEN " + cond(d + 1) + " THEN " + expr(d + 1) + " ELSE " + expr(d + 1) + " END";
                case 8 -> expr(d + 1) + "::" + pick("int", "text", "numeric(10,2)", "int[]", "jsonb", "character varying(5)");
                case 9 -> "CAST(" + expr(d + 1) + " AS " + pick("int", "varchar(10)", "text") + ")";
                case 10 -> "count(*) OVER (PARTITION BY " + col() + " ORDER BY " + col() + ")";
                case 11 -> "ARRAY[" + literal() + ", " + literal() + "]";
                case 12 -> "extract(year FROM " + col() + ")";
                case 13 -> "(" + expr(d + 1) + ")";
                case 14 -> "(EXISTS (" + select(d + 1) + "))";
                default -> col() + "[1]";
            };
        }

        String cond(int d) {
            return switch (random.nextInt(d > 2 ? 3 : 12)) {
                case 0, 1, 2 -> expr(d + 1) + " " + pick("=", "<", ">", "<>", ">=") + " " + expr(d + 1);
                case 3 -> cond(d + 1) + " AND " + cond(d + 1);
                case 4 -> cond(d + 1) + " OR " + cond(d + 1);
                case 5 -> "NOT (" + cond(d + 1) + ")";
                case 6 -> col() + " IN (" + literal() + ", " + literal() + ")";
                case 7 -> col() + " IN (" + select(d + 1, 1) + ")";
                case 8 -> col() + " = ANY(" + pick("$1", "$1::int[]", "ARRAY[1,2]", select(d + 1, 1)) + ")";
                case 9 -> col() + " BETWEEN " + literal() + " AND " + literal();
                case 10 -> col() + " IS " + pick("NULL", "NOT NULL", "DISTINCT FROM " + col(), "TRUE");
                default -> col() + pick(" LIKE ", " ILIKE ") + literal();
            };
        }

        String fromItem(int d) {
            return switch (random.nextInt(d > 2 ? 2 : 9)) {
                case 0, 1 -> table() + pick("", " x", " AS y", " \"Q\"", " *");
                case 2 -> "(" + select(d + 1) + ") " + pick("s", "AS s", "s(a)");
                case 3 -> fn() + "(" + literal() + ")" + pick("", " g", " AS g(i)");
                case 4 -> "ONLY " + table();
                case 5 -> fromItem(d + 1) + pick(" JOIN ", " LEFT JOIN ", " CROSS JOIN ", " NATURAL JOIN ", " FULL OUTER JOIN ")
                        + fromItem(d + 1) + pick(" ON " + cond(d + 1), " USING (id)", "");
                case 6 -> "LATERAL (" + select(d + 1) + ") l";
                case 7 -> pick("(t JOIN u ON true)", "(VALUES (1)) v(a)", "ROWS FROM (f())", "t TABLESAMPLE SYSTEM (1)");
                default -> fromItem(d + 1) + ", " + fromItem(d + 1);
            };
        }

        String select(int d) {
            return select(d, 1 + random.nextInt(3));
        }

        String select(int d, int columns) {
            StringBuilder sb = new StringBuilder("SELECT ");
            if (random.nextInt(8) == 0) sb.append(pick("DISTINCT ", "ALL ", "DISTINCT ON (a) "));
            for (int i = 0; i < columns; i++) {
                if (i > 0) sb.append(", ");
                boolean star = random.nextInt(6) == 0;
                sb.append(star ? "*" : expr(d + 1));
                if (!star && random.nextInt(5) == 0) sb.append(" AS c").append(i);
            }
            if (random.nextInt(20) == 0) sb.append(" INTO newt");
            if (random.nextInt(6) != 0) sb.append(" FROM ").append(fromItem(d + 1));
            if (random.nextBoolean()) sb.append(" WHERE ").append(cond(d + 1));
            if (random.nextInt(5) == 0) sb.append(" GROUP BY ").append(col()).append(random.nextBoolean() ? " HAVING " + cond(d + 1) : "");
            if (random.nextInt(4) == 0) sb.append(" ORDER BY ").append(expr(d + 1)).append(pick("", " DESC", " NULLS LAST"));
            if (random.nextInt(4) == 0) sb.append(" LIMIT ").append(pick("1", "$1", "ALL"));
            if (random.nextInt(10) == 0) sb.append(" OFFSET 5");
            if (random.nextInt(20) == 0) sb.append(pick(" FOR UPDATE", " FOR SHARE", " FOR NO KEY UPDATE", " FOR KEY SHARE"));
            if (random.nextInt(12) == 0) {
                sb.append(pick(" UNION ", " UNION ALL ", " EXCEPT ", " INTERSECT ")).append(select(d + 1, columns));
            }
            return sb.toString();
        }
    }
}
