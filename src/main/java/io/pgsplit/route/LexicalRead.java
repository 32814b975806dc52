package io.pgsplit.route;

import io.pgsplit.route.SqlLexer.Token;
import io.pgsplit.route.SqlLexer.TokenType;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The lexical pass: proves from {@link SqlLexer}'s tokens alone that a plain SELECT can only read, and extracts the
 * facts the parser would (tables read, functions called), so that typical OLTP reads
 * ({@code SELECT abalance FROM pgbench_accounts WHERE aid = $1}) never wait for JSqlParser.
 *
 * <p>It accepts a deliberately small subset of SQL and returns null ("ask the parser") for anything outside it, so
 * that what it settles carries what {@link ParserInspector} would have found (LexicalReadTest compares the two on
 * thousands of generated statements). A SELECT can write only through what it calls or through clauses this pass
 * refuses outright:
 * <ul>
 * <li>locking clauses ({@code FOR ...}), {@code SELECT INTO}, data-modifying CTEs ({@code WITH}, and any INSERT,
 *     UPDATE, DELETE, MERGE word): every statement containing these words goes to the parser (which calls them
 *     writes anyway);</li>
 * <li>function calls: every {@code name(} is either one of a few syntax keywords ({@code IN (}, {@code EXISTS (},
 *     {@code OVER (}...) or a call whose lower-cased, possibly qualified name is collected exactly as the parser
 *     reports it. Volatility is applied later by {@link SqlClassifier#decide}, from the same catalog, overrides and
 *     built-in lists as for parsed statements, so a volatile or unknown function still makes the statement a write.
 *     A {@code name(} in any position this pass does not model (after an alias, a cast's type, a dot after a
 *     parenthesis...) sends the statement to the parser; so do calls of functions that always write or change the
 *     session ({@code nextval}, advisory locks, {@code set_config}), which {@link KeywordClassifier} flags.</li>
 * </ul>
 * Tables are taken from FROM lists (items after FROM, JOIN and commas, at every subquery level), which is what
 * {@code TablesNamesFinder} reports for these shapes (plus the tables of subqueries in ORDER BY, which it skips), so
 * routing rules on {@code tables} match the same.
 *
 * <p>Functions reached without call syntax (user-defined operators, casts, {@code t.f} attribute notation) are not
 * seen, exactly as by the parser. The pass also refuses operators outside a common list, unbalanced parentheses,
 * a SELECT keyword out of place and other shapes of broken SQL, which the parser rejects and the classifier then
 * sends to the primary.
 *
 * <p>The facts never depend on literal values, and whether a statement is accepted depends on them only in one
 * place (a sign glued to an operator, {@code =-1}, is split before a number only), so texts differing only in
 * literals (one {@link QueryFingerprint}) may share the facts.
 */
final class LexicalRead {

    /** Tables read and functions called, lower-case as written, like {@link ParserInspector.Facts}. */
    record Facts(Set<String> tablesRead, Set<String> functions) {}

    private LexicalRead() {}

    /** Unquoted words that send the statement to the parser wherever they appear. */
    private static final Set<String> REFUSED = Set.of(
            // writes or locks inside a query (KeywordClassifier already calls most of them writes)
            "INTO", "FOR", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "RETURNING", "LOCK", "NOWAIT", "SKIP",
            // syntax this pass does not model (or that JSqlParser does not parse: COLLATE)
            "VALUES", "TABLE", "TABLESAMPLE", "OPERATOR", "COLLATE", "UESCAPE", "XMLTABLE", "JSON_TABLE", "ORDINALITY",
            "VARIADIC", "SIMILAR", "ISNULL", "NOTNULL");

    /**
     * PostgreSQL's reserved key words (plus the ones that may only name functions or types): never a table name
     * written without quotes, so one where a FROM item should be means SQL this pass does not understand.
     */
    private static final Set<String> RESERVED = Set.of(
            "ALL", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC", "ASYMMETRIC", "BOTH", "CASE", "CAST",
            "CHECK", "COLLATE", "COLUMN", "CONSTRAINT", "CREATE", "CURRENT_CATALOG", "CURRENT_DATE", "CURRENT_ROLE",
            "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "DEFAULT", "DEFERRABLE", "DESC", "DISTINCT", "DO",
            "ELSE", "END", "EXCEPT", "FALSE", "FETCH", "FOR", "FOREIGN", "FROM", "GRANT", "GROUP", "HAVING", "IN",
            "INITIALLY", "INTERSECT", "INTO", "LATERAL", "LEADING", "LIMIT", "LOCALTIME", "LOCALTIMESTAMP", "NOT",
            "NULL", "OFFSET", "ON", "ONLY", "OR", "ORDER", "PLACING", "PRIMARY", "REFERENCES", "RETURNING", "SELECT",
            "SESSION_USER", "SOME", "SYMMETRIC", "SYSTEM_USER", "TABLE", "THEN", "TO", "TRAILING", "TRUE", "UNION",
            "UNIQUE", "USER", "USING", "VARIADIC", "WHEN", "WHERE", "WINDOW", "WITH",
            "AUTHORIZATION", "BINARY", "COLLATION", "CONCURRENTLY", "CROSS", "CURRENT_SCHEMA", "FREEZE", "FULL",
            "ILIKE", "INNER", "IS", "ISNULL", "JOIN", "LEFT", "LIKE", "NATURAL", "NOTNULL", "OUTER", "OVERLAPS",
            "RIGHT", "SIMILAR", "TABLESAMPLE", "VERBOSE");

    /** Words after which "(" opens a subquery, a list or a grouping, never a call (and the parser reports none). */
    private static final Set<String> PAREN_KEYWORDS = Set.of(
            "SELECT", "FROM", "JOIN", "LATERAL", "WHERE", "AND", "OR", "NOT", "IN", "EXISTS", "ON", "USING", "AS", "BY",
            "HAVING", "THEN", "WHEN", "ELSE", "CASE", "LIMIT", "OFFSET", "DISTINCT", "BETWEEN", "LIKE", "ILIKE",
            "UNION", "INTERSECT", "EXCEPT", "OVER", "FILTER", "CAST", "EXTRACT", "TRIM");

    /**
     * Syntax that looks like a call and that JSqlParser reports as one, by this name: kept for the same facts. (Not
     * ANY, ALL, SOME before a subquery: the parser reports no call there.)
     */
    private static final Set<String> CALL_KEYWORDS = Set.of("ANY", "ALL", "SOME", "ARRAY", "ROW");
    private static final Set<String> SUBQUERY_COMPARISONS = Set.of("ANY", "ALL", "SOME");

    /** Reserved words that may follow "(": (SELECT ...), OVER (ORDER BY ...), FILTER (WHERE ...), count(DISTINCT a). */
    private static final Set<String> PAREN_OPENERS = Set.of("SELECT", "ORDER", "WHERE", "DISTINCT", "ALL");

    /** Reserved words that may start an expression or a FROM item (after a comma or an operator). */
    private static final Set<String> RESERVED_STARTS = Set.of(
            "CASE", "NOT", "NULL", "TRUE", "FALSE", "ARRAY", "CAST", "CURRENT_CATALOG", "CURRENT_DATE", "CURRENT_ROLE",
            "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "CURRENT_SCHEMA", "LOCALTIME", "LOCALTIMESTAMP",
            "SESSION_USER", "SYSTEM_USER", "USER", "LATERAL", "ONLY", "LEFT", "RIGHT", "ANY", "ALL", "SOME");

    /** Words after which an expression, hence a function call, may start. */
    private static final Set<String> BEFORE_EXPRESSION = Set.of(
            "SELECT", "ALL", "DISTINCT", "WHERE", "AND", "OR", "NOT", "ON", "HAVING", "BY", "THEN", "ELSE", "WHEN",
            "CASE", "BETWEEN", "LIKE", "ILIKE", "FROM", "JOIN", "LATERAL", "LIMIT", "OFFSET", "ZONE");

    /** Reserved words that are operands (values), not connectives. */
    private static final Set<String> OPERAND_WORDS = Set.of(
            "TRUE", "FALSE", "NULL", "CURRENT_CATALOG", "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_TIME",
            "CURRENT_TIMESTAMP", "CURRENT_USER", "CURRENT_SCHEMA", "LOCALTIME", "LOCALTIMESTAMP", "SESSION_USER",
            "SYSTEM_USER", "USER");

    /** Words that end a FROM list at its own level. */
    private static final Set<String> FROM_END = Set.of(
            "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "WINDOW", "FETCH", "UNION", "INTERSECT", "EXCEPT");

    private static final Set<String> SET_OPERATIONS = Set.of("UNION", "INTERSECT", "EXCEPT");

    /** Words that cannot end a statement (something must follow them). */
    private static final Set<String> DANGLING = Set.of(
            "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "JOIN", "ON", "USING", "BY", "AS", "HAVING", "LIMIT",
            "OFFSET", "UNION", "INTERSECT", "EXCEPT", "ALL", "DISTINCT", "CASE", "WHEN", "THEN", "ELSE", "IN", "IS",
            "BETWEEN", "LIKE", "ILIKE", "LATERAL", "EXISTS");

    /** Operators PostgreSQL defines for built-in types and JSqlParser parses; anything else goes to the parser. */
    private static final Set<String> OPERATORS = Set.of(
            "=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "^", "||", "::",
            "~", "~*", "!~", "!~*", "~~", "!~~", "~~*", "!~~*",
            "->", "->>", "#>", "#>>", "@>", "<@", "?", "?|", "?&", "&&", "@@");

    private static final int NO_FROM = 0, EXPECT_ITEM = 1, IN_FROM = 2;

    /**
     * Deeper nesting (parentheses or brackets) goes to the parser, whose limits (max_nesting_depth, stack, time-out)
     * then decide as before: OLTP statements are far shallower.
     */
    static final int MAX_DEPTH = 16;

    /**
     * Operators that bind like comparisons for JSqlParser: it accepts one per operand chain ("a = b = c" is an error
     * for PostgreSQL too; "a @> b < c" is not, but is rare). The others are arithmetic-like and chain freely.
     */
    private static final Set<String> CHAINABLE = Set.of("+", "-", "*", "/", "%", "^", "||", "::", "->", "->>", "#>", "#>>");

    /** The operators JSqlParser accepts inside CAST(... AS type). */
    private static final Set<String> CAST_OPERATORS = Set.of("+", "-", "*", "/", "%", "||", "::");

    /** One parenthesis level (or the statement itself). */
    private static final class Level {
        final boolean query; // a SELECT starts right inside it
        final boolean cast; // CAST( ... )
        int from = NO_FROM;
        boolean fromSeen;
        /** A JOIN (not CROSS or NATURAL) whose ON or USING has not come yet. */
        boolean joinNeedsCondition;
        /** A comparison since the last keyword or comma. */
        boolean compared;

        Level(boolean query, boolean cast) {
            this.query = query;
            this.cast = cast;
        }
    }

    /**
     * The facts of {@code st} when it is a SELECT this pass proves free of writes (but for the functions it calls,
     * which the caller's decision checks); null when the parser must look.
     */
    static Facts inspect(LexedStatement st) {
        List<Token> tokens = st.tokens();
        int n = tokens.size();
        if (n == 0 || !tokens.get(0).isWord("SELECT") || !canEnd(tokens.get(n - 1)) || st.maxDepth() > MAX_DEPTH) {
            return null;
        }
        int brackets = 0;
        Set<String> tables = new LinkedHashSet<>();
        Set<String> functions = new LinkedHashSet<>();
        List<Level> levels = new ArrayList<>();
        levels.add(new Level(true, false));
        for (int i = 0; i < n; i++) {
            Token t = tokens.get(i);
            Level level = levels.get(levels.size() - 1);
            switch (t.type()) {
                case WORD, QUOTED_IDENT -> {
                    int end = nameEnd(st, i);
                    if (end < 0) return null;
                    Token next = st.token(end + 1);
                    boolean call = next != null && next.type() == TokenType.LPAREN;
                    if (t.type() == TokenType.WORD && end == i) {
                        String w = t.value();
                        if (REFUSED.contains(w)) return null;
                        boolean keyword;
                        if (call) {
                            keyword = PAREN_KEYWORDS.contains(w)
                                    || (SUBQUERY_COMPARISONS.contains(w) && st.isWord(end + 2, "SELECT"))
                                    || ((w.equals("ALL") || w.equals("DISTINCT"))
                                        && (isSetOperation(st.word(i - 1)) || st.isWord(i - 1, "SELECT")))
                                    || (w.equals("GROUP") && st.isWord(i - 1, "WITHIN"));
                            // other reserved words before "(" are special syntax (CURRENT_TIME(0), ...), except the
                            // ones the parser reports as calls and the functions named like keywords (left, right)
                            if (!keyword && RESERVED.contains(w) && !CALL_KEYWORDS.contains(w)
                                    && !w.equals("LEFT") && !w.equals("RIGHT")) {
                                return null;
                            }
                        } else {
                            keyword = level.from != EXPECT_ITEM || w.equals("ONLY") || w.equals("LATERAL");
                            if (!keyword && RESERVED.contains(w)) return null; // FROM WHERE ...
                        }
                        if (keyword) {
                            if (!keyword(st, i, level)) return null;
                            continue;
                        }
                    }
                    if (level.from == EXPECT_ITEM) {
                        level.from = IN_FROM;
                        if (!call) {
                            // a table (maybe with an alias), reported like the parser does: no quotes, lower-case
                            tables.add(qualifiedName(st, i, end));
                            if (aliasWithColumns(st, end + 1)) return null;
                            i = end;
                            continue;
                        }
                    }
                    if (call) {
                        // a function call (or syntax the parser reports as one): only where an expression may start
                        if (!expressionMayStart(st, i) || isCastType(st, i)) return null;
                        functions.add(qualifiedName(st, i, end));
                    }
                    i = end;
                }
                case LPAREN -> {
                    Token next = st.token(i + 1);
                    if (next == null || !(startsOperand(next) || next.type() == TokenType.RPAREN
                            || (next.type() == TokenType.WORD && PAREN_OPENERS.contains(next.value()))
                            || (next.type() == TokenType.OPERATOR && next.value().equals("*")))) {
                        return null; // "f(, a)"
                    }
                    boolean subquery = st.isWord(i + 1, "SELECT");
                    if (level.from == EXPECT_ITEM) {
                        if (!subquery) return null; // a parenthesised join or VALUES list: not modelled
                        level.from = IN_FROM;
                    }
                    levels.add(new Level(subquery, st.isWord(i - 1, "CAST")));
                }
                case RPAREN -> {
                    if (levels.size() == 1 || level.from == EXPECT_ITEM || level.joinNeedsCondition) return null;
                    levels.remove(levels.size() - 1);
                }
                case COMMA -> {
                    Token next = st.token(i + 1);
                    if (next == null || !startsOperand(next)) return null; // "a, FROM t", "f(a, )"
                    if (level.from == EXPECT_ITEM || level.joinNeedsCondition) return null;
                    if (level.from == IN_FROM) level.from = EXPECT_ITEM;
                    level.compared = false;
                }
                case OPERATOR -> {
                    String op = operator(t.value());
                    if (op == null || level.from == EXPECT_ITEM) return null;
                    if (!op.equals(t.value()) && (st.token(i + 1) == null || st.token(i + 1).type() != TokenType.NUMBER)) {
                        return null; // only "=-1": JSqlParser splits no other way
                    }
                    // "FROM t *" (t and its inheritance children): JSqlParser rejects it
                    if (op.equals("*") && level.from == IN_FROM) return null;
                    if (level.cast && !CAST_OPERATORS.contains(op)) return null;
                    if (!CHAINABLE.contains(op)) {
                        if (level.compared) return null;
                        level.compared = true;
                    }
                    Token next = st.token(i + 1);
                    if (op.equals("::")) {
                        if (next == null || (next.type() != TokenType.WORD && next.type() != TokenType.QUOTED_IDENT)) return null;
                    } else if (!op.equals("*") && (next == null || !startsOperand(next))) {
                        return null;
                    }
                }
                case LBRACKET, RBRACKET -> {
                    brackets += t.type() == TokenType.LBRACKET ? 1 : -1;
                    if (level.from == EXPECT_ITEM || brackets < 0 || brackets > MAX_DEPTH) return null;
                }
                case NUMBER, STRING, PARAM, DOT -> {
                    if (level.from == EXPECT_ITEM) return null;
                }
                default -> {
                    return null; // a ';' inside parentheses, anything new
                }
            }
        }
        if (levels.size() != 1 || brackets != 0 || levels.get(0).from == EXPECT_ITEM || levels.get(0).joinNeedsCondition) {
            return null;
        }
        return new Facts(tables, functions);
    }

    /**
     * A keyword (unquoted word that is not a call) at {@code i}: FROM and SELECT move the FROM-list state, JOIN and
     * the clause words around it too. False when it is out of place for this pass.
     */
    private static boolean keyword(LexedStatement st, int i, Level level) {
        String w = st.word(i);
        // AND, OR, THEN, IS, ...: a new comparison may follow (but not after an operand such as TRUE)
        if (RESERVED.contains(w) && !OPERAND_WORDS.contains(w)) level.compared = false;
        switch (w) {
            case "SELECT" -> {
                if (i == 0) return true;
                Token prev = st.token(i - 1);
                if (prev.type() == TokenType.LPAREN) return level.query;
                String p = st.word(i - 1);
                if (p != null && (isSetOperation(p) || ((p.equals("ALL") || p.equals("DISTINCT")) && isSetOperation(st.word(i - 2))))) {
                    level.fromSeen = false; // a new SELECT of a UNION: it may have its own FROM
                    level.from = NO_FROM;
                    return level.query;
                }
                return false; // SELECT 1 SELECT 2: not one statement
            }
            case "FROM" -> {
                if (!level.query) return true; // extract(x FROM y), trim(... FROM s), (a IS DISTINCT FROM b): no tables
                String p = st.word(i - 1);
                if ("DISTINCT".equals(p)) {
                    // IS [NOT] DISTINCT FROM is a comparison; SELECT DISTINCT FROM is not modelled
                    return st.isWord(i - 2, "IS") || st.isWord(i - 2, "NOT");
                }
                if (level.fromSeen) return false;
                level.fromSeen = true;
                level.from = EXPECT_ITEM;
                return true;
            }
            case "JOIN" -> {
                // a JOIN before the previous one's ON nests joins (a JOIN b JOIN c ON x ON y): JSqlParser rejects it
                if (level.from != IN_FROM || level.joinNeedsCondition) return false;
                level.from = EXPECT_ITEM;
                level.joinNeedsCondition = !st.isWord(i - 1, "CROSS") && !st.isWord(i - 1, "NATURAL")
                        && !st.isWord(i - 2, "NATURAL");
                return true;
            }
            case "ON", "USING" -> {
                if (level.from == IN_FROM) {
                    if (!level.joinNeedsCondition) return false;
                    level.joinNeedsCondition = false;
                }
                return true; // also DISTINCT ON (...), ORDER BY a USING <
            }
            case "ONLY" -> {
                // FROM ONLY t (JSqlParser takes it for the first item only); also FETCH FIRST n ROWS ONLY
                return level.from == EXPECT_ITEM ? st.isWord(i - 1, "FROM") : level.from == NO_FROM;
            }
            case "LATERAL" -> {
                return level.from == EXPECT_ITEM; // FROM a, LATERAL (SELECT ...) l
            }
            default -> {
                if (level.from == IN_FROM && FROM_END.contains(w)) {
                    if (level.joinNeedsCondition) return false;
                    level.from = NO_FROM;
                }
                if (level.from == EXPECT_ITEM) return false;
                return true;
            }
        }
    }

    private static boolean isSetOperation(String word) {
        return word != null && SET_OPERATIONS.contains(word);
    }

    /**
     * The index of the last token of the (possibly qualified) name starting at {@code i}: {@code a}, {@code s.t},
     * {@code "S"."T"}, {@code t.*} (the star is left to the caller). -1 when the name is not one this pass reads:
     * a name after a dot that does not follow a name ({@code (x).f}).
     */
    private static int nameEnd(LexedStatement st, int i) {
        if (isUnicodeIdent(st, i)) return -1;
        Token prev = st.token(i - 1);
        if (prev != null && prev.type() == TokenType.DOT) {
            // (composite).field: field selection, maybe a function in attribute notation; never a call here
            Token next = st.token(i + 1);
            return next != null && next.type() == TokenType.LPAREN ? -1 : i;
        }
        int end = i;
        while (true) {
            Token dot = st.token(end + 1);
            Token part = st.token(end + 2);
            if (dot == null || dot.type() != TokenType.DOT || part == null) return end;
            if (part.type() == TokenType.WORD || part.type() == TokenType.QUOTED_IDENT) {
                if (isUnicodeIdent(st, end + 2)) return -1;
                end += 2;
            } else {
                return end; // t.* or t.$1...: the dot is walked on its own
            }
        }
    }

    /** "schema.table" as the parser reports it: quotes removed, lower-case. */
    private static String qualifiedName(LexedStatement st, int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int j = from; j <= to; j += 2) {
            if (sb.length() > 0) sb.append('.');
            sb.append(st.token(j).value().toLowerCase(Locale.ROOT));
        }
        return sb.toString();
    }

    /** {@code t AS x (a, b)} or {@code t x (a, b)}: column aliases, not modelled. */
    private static boolean aliasWithColumns(LexedStatement st, int i) {
        if (st.isWord(i, "AS")) i++;
        Token alias = st.token(i);
        Token paren = st.token(i + 1);
        return alias != null && paren != null && paren.type() == TokenType.LPAREN
                && (alias.type() == TokenType.QUOTED_IDENT || (alias.type() == TokenType.WORD && !RESERVED.contains(alias.value())));
    }

    /** Whether the name at {@code i} follows something after which an expression may start. */
    private static boolean expressionMayStart(LexedStatement st, int i) {
        Token prev = st.token(i - 1);
        if (prev == null) return false;
        return switch (prev.type()) {
            case OPERATOR -> !prev.value().equals("::");
            case LPAREN, COMMA, LBRACKET -> true;
            case WORD -> BEFORE_EXPRESSION.contains(prev.value());
            default -> false;
        };
    }

    /** {@code x::numeric(10, 2)}, {@code x::character varying(5)}: a type modifier, not a call. */
    private static boolean isCastType(LexedStatement st, int i) {
        int j = i - 1;
        while (j >= 0 && (st.token(j).type() == TokenType.WORD || st.token(j).type() == TokenType.QUOTED_IDENT
                || st.token(j).type() == TokenType.DOT)) {
            j--;
        }
        return j >= 0 && j < i - 1 && st.token(j).type() == TokenType.OPERATOR && st.token(j).value().equals("::");
    }

    /** U&"..." identifiers: their escapes are not resolved by the lexer, so the name is not known. */
    private static boolean isUnicodeIdent(LexedStatement st, int i) {
        if (st.token(i).type() != TokenType.QUOTED_IDENT) return false;
        String raw = st.raw(i);
        return raw.length() > 1 && (raw.charAt(0) == 'U' || raw.charAt(0) == 'u') && raw.charAt(1) == '&';
    }

    /**
     * The operator a token stands for, or null when it is not one of {@link #OPERATORS}. As in PostgreSQL's lexer,
     * a run of operator characters ending in + or - without any of ~!@#%^&|`? is cut before them: "=-1" is "=" then
     * "-1". The sign then starts the operand, as after a space.
     */
    private static String operator(String token) {
        if (OPERATORS.contains(token)) return token;
        int end = token.length();
        while (end > 1 && (token.charAt(end - 1) == '-' || token.charAt(end - 1) == '+')) end--;
        if (end == token.length()) return null;
        for (int k = 0; k < token.length(); k++) {
            if ("~!@#%^&|`?".indexOf(token.charAt(k)) >= 0) return null;
        }
        String base = token.substring(0, end);
        return OPERATORS.contains(base) && !base.equals("::") && !base.equals("*") ? base : null;
    }

    private static boolean isPrefix(String op) {
        return op.equals("-") || op.equals("+");
    }

    /** What may follow a binary operator or a comma: an operand (or FROM item), or a prefix sign. */
    private static boolean startsOperand(Token t) {
        return switch (t.type()) {
            case WORD -> !RESERVED.contains(t.value()) || RESERVED_STARTS.contains(t.value());
            case QUOTED_IDENT, NUMBER, STRING, PARAM, LPAREN -> true;
            case OPERATOR -> isPrefix(t.value());
            default -> false;
        };
    }

    /** Whether a statement may end with this token. */
    private static boolean canEnd(Token t) {
        return switch (t.type()) {
            case WORD -> !DANGLING.contains(t.value());
            case QUOTED_IDENT, NUMBER, STRING, PARAM, RPAREN, RBRACKET -> true;
            case OPERATOR -> t.value().equals("*");
            default -> false;
        };
    }
}
