package io.pgsplit.route;

import io.pgsplit.route.SqlLexer.Token;
import io.pgsplit.route.SqlLexer.TokenType;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.Statements;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.TableFunction;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.util.TablesNamesFinder;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.IdentityHashMap;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs JSqlParser on the statements that may be reads and extracts what routing needs: tables, functions called,
 * locking clauses, SELECT INTO, data-modifying CTEs, and the session effect of set_config.
 * Functions called through operators (user-defined operators) are not seen: only function-call syntax is.
 *
 * <p>The parser gets a normalised copy of the text built from {@link SqlLexer}'s tokens: comments are dropped and
 * every string that is not a plain {@code '...'} ({@code E'...'}, {@code $$...$$}, {@code U&'...'}, {@code B'...'})
 * is rewritten as a plain string, because JSqlParser does not lex those the way PostgreSQL does. The statement
 * counts are still compared, as a second line of defence.
 *
 * <p>Parses run on a small shared pool so they can be abandoned after {@code parseTimeout} (JSqlParser's own time-out
 * mechanism: {@code parseStatements(sql, executor, consumer)}, which waits on a Future); on time-out the parser's
 * {@code interrupted} flag is set so most of its loops stop soon. The hand-off to the pool costs a few tens of microseconds
 * per parse; cache hits and reads settled by {@link LexicalRead} never pay it. Short statements pay it too, on
 * purpose: JSqlParser's running time is not bounded by length. Broken statements of 14 to 22 characters
 * ({@code SELECT ((1 +))}, {@code SELECT ((((((((1 +))))))))}) took from seconds to more than 30 s in tests, and
 * the {@code interrupted} flag does not stop every such parse, so a parse on the caller's thread (an event loop)
 * could hold it for that long; on the pool only a parser thread is lost for that time.
 */
final class ParserInspector {

    /** What the parser found in one statement; {@code writeReason} non-null means it writes whatever functions do. */
    record Facts(String writeReason, Set<String> tablesRead, Set<String> functions, List<SessionEffect> effects) {}

    /**
     * Either {@code facts} (one per input statement) or a {@code failure} reason. {@code transientFailure}: the
     * failure may not happen again (time-out, full queue: load-dependent), so the result must not be cached.
     */
    record Outcome(List<Facts> facts, String failure, boolean transientFailure) {
        static Outcome failed(String why) {
            return new Outcome(null, why, false);
        }
    }

    private final Duration timeout;
    private final ExecutorService executor;

    ParserInspector(Duration timeout) {
        this.timeout = timeout;
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(1024), r -> {
                    Thread t = new Thread(null, r, "pgsplit-sql-parser-" + n.incrementAndGet(), 4L << 20); // 4 MiB stack: the parser is recursive
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.executor = pool;
    }

    Outcome inspect(List<LexedStatement> targets) {
        for (LexedStatement t : targets) {
            String hazard = jsqlParserHazard(t);
            if (hazard != null) return Outcome.failed(hazard);
        }
        StringBuilder text = new StringBuilder();
        for (LexedStatement t : targets) {
            if (text.length() > 0) text.append(";\n");
            appendParserText(t, text);
        }
        Statements statements;
        List<CCJSqlParser> parsers = new ArrayList<>(2);
        // JSqlParser makes up to two attempts (simple, then "complex" parsing when the simple one fails), each
        // with the configured time-out: give each half, so parseTimeout bounds the total
        long perAttemptMillis = Math.max(1, timeout.toMillis() / 2);
        try {
            statements = CCJSqlParserUtil.parseStatements(text.toString(), executor, p -> {
                parsers.add(p);
                p.withSquareBracketQuotation(false)
                        .withBackslashEscapeCharacter(false)
                        .withTimeOut(perAttemptMillis);
            });
        } catch (JSQLParserException e) {
            if (hasCause(e, TimeoutException.class) || String.valueOf(e.getMessage()).contains("Time out")) {
                parsers.forEach(p -> p.interrupted = true); // JSqlParser's loops check this flag: stop burning the thread
                return new Outcome(null, "parse timed out after " + timeout.toMillis() + " ms", true);
            }
            if (hasCause(e, StackOverflowError.class)) return Outcome.failed("parser stack overflow");
            return Outcome.failed("parser failed (" + shortMessage(e) + ")");
        } catch (RejectedExecutionException e) {
            return new Outcome(null, "parser queue full", true);
        } catch (RuntimeException | StackOverflowError e) {
            return Outcome.failed("parser failed (" + e.getClass().getSimpleName() + ")");
        }
        int parsedCount = statements == null ? 0 : (int) statements.stream().filter(s -> s != null).count();
        if (parsedCount != targets.size()) {
            return Outcome.failed("statement counts disagree (lexer " + targets.size() + ", parser " + parsedCount + ")");
        }
        List<Facts> facts = new ArrayList<>();
        for (Statement s : statements) {
            if (s == null) continue;
            try {
                facts.add(facts(s));
            } catch (RuntimeException | StackOverflowError e) {
                // e.g. TablesNamesFinder throws ClassCastException on some data-modifying CTEs
                facts.add(new Facts("parse tree not understood (" + e.getClass().getSimpleName() + ")", Set.of(), Set.of(), List.of()));
            }
        }
        return new Outcome(facts, null, false);
    }

    /**
     * Operators that JSqlParser reads as something else, hiding what follows: "//" starts a comment for it, a
     * backtick quotes an identifier. For PostgreSQL both are (user-defined) operator characters.
     */
    private static String jsqlParserHazard(LexedStatement st) {
        for (Token t : st.tokens()) {
            if (t.type() == TokenType.OPERATOR && (t.value().contains("//") || t.value().contains("`"))) {
                return "operator " + t.value() + " is read differently by the parser";
            }
        }
        return null;
    }

    /** The statement's tokens as text JSqlParser lexes like PostgreSQL: comments dropped, strings made plain. */
    static void appendParserText(LexedStatement st, StringBuilder out) {
        String source = st.text();
        int base = st.tokens().isEmpty() ? 0 : st.tokens().get(0).start();
        int previousEnd = -1;
        for (Token t : st.tokens()) {
            if (previousEnd >= 0 && t.start() > previousEnd) out.append(' ');
            if (t.type() == TokenType.STRING && t.style() != SqlLexer.StringStyle.STANDARD) {
                out.append('\'').append(t.value().replace("'", "''")).append('\'');
            } else {
                out.append(source, t.start() - base, t.end() - base);
            }
            previousEnd = t.end();
        }
    }

    private static Facts facts(Statement s) {
        if (!(s instanceof Select select)) {
            return new Facts("parser found " + s.getClass().getSimpleName(), Set.of(), Set.of(), List.of());
        }
        // functions, locking clauses and nested writes: a walk over the whole tree, so no clause can hide them
        TreeFacts tree = new TreeFacts();
        tree.walk(select, 0);
        String write = tree.writeReason();
        // tables are informational only: if TablesNamesFinder trips over some construct, report none
        Set<String> tables = new LinkedHashSet<>();
        try {
            for (String t : new TablesNamesFinder<Void>().getTables((Statement) select)) tables.add(unquote(t));
        } catch (RuntimeException | StackOverflowError e) {
            tables.clear();
        }
        Set<String> functions = new LinkedHashSet<>();
        List<SessionEffect> effects = new ArrayList<>();
        for (String name : tree.functionNames) functions.add(name);
        for (Function f : tree.calls) {
            // (advisory lock effects come from the lexer: KeywordClassifier.sessionFunctionCalls)
            String base = BuiltinFunctions.baseName(functionName(f));
            if (base.equals("set_config")) {
                SessionEffect e = setConfigEffect(f);
                if (e != null) effects.add(e);
            }
        }
        return new Facts(write, tables, functions, effects);
    }

    /**
     * set_config('name', 'value', false) is SET name TO 'value'; with is_local true it ends with the transaction
     * (no session effect); with anything but literals we cannot replay it, so the session is pinned.
     */
    private static SessionEffect setConfigEffect(Function f) {
        List<Expression> args = new ArrayList<>();
        if (f.getParameters() != null) {
            for (Object o : f.getParameters()) args.add((Expression) o);
        }
        if (args.size() == 3 && args.get(0) instanceof StringValue name && args.get(1) instanceof StringValue value) {
            String local = args.get(2).toString().trim().toLowerCase(Locale.ROOT);
            if (local.equals("false") || local.equals("'false'") || local.equals("'f'") || local.equals("'off'")) {
                return new SessionEffect.SetParam(name.getValue().replace("''", "'").toLowerCase(Locale.ROOT),
                        "'" + value.getValue() + "'");
            }
            if (local.equals("true") || local.equals("'true'") || local.equals("'t'") || local.equals("'on'")) return null;
        }
        return new SessionEffect.Pin("set_config with non-literal arguments");
    }

    static String functionName(Function f) {
        List<String> parts = f.getMultipartName();
        String name = parts == null || parts.isEmpty() ? f.getName() : String.join(".", parts);
        return name == null || name.isBlank() ? "?" : unquote(name); // "?" is unknown, hence a write
    }

    private static String unquote(String name) {
        return name.replace("\"", "").toLowerCase(Locale.ROOT);
    }

    private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) return true;
            if (t.getCause() == t) break;
        }
        return false;
    }

    private static String shortMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        m = m.strip();
        int nl = m.indexOf('\n');
        if (nl > 0) m = m.substring(0, nl);
        return m.length() > 120 ? m.substring(0, 120) + "…" : m;
    }

    /**
     * Walks every field of every JSqlParser object in the tree (by reflection, fields cached per class) and collects
     * function calls, window/aggregate calls, locking clauses, SELECT INTO and nested data-modifying statements.
     * JSqlParser's visitors skip some clauses (ORDER BY, WITHIN GROUP, OVER, ...), which would let a volatile
     * function through; a walk over all fields cannot miss a node.
     */
    private static final class TreeFacts {
        private static final int MAX_DEPTH = 2_000;
        private static final ClassValue<List<Field>> FIELDS = new ClassValue<>() {
            @Override
            protected List<Field> computeValue(Class<?> type) {
                List<Field> fields = new ArrayList<>();
                for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                    for (Field f : c.getDeclaredFields()) {
                        if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive() || f.getType() == String.class
                                || f.getType().isEnum() || isParserInternal(f.getType())) {
                            continue;
                        }
                        f.setAccessible(true);
                        fields.add(f);
                    }
                }
                return List.copyOf(fields);
            }
        };

        final List<Function> calls = new ArrayList<>();
        final Set<String> functionNames = new LinkedHashSet<>();
        private final Set<Object> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        private String lockMode;
        private boolean selectInto;
        private String nestedWrite;

        String writeReason() {
            if (nestedWrite != null) return nestedWrite + " inside a query";
            if (lockMode != null) return "SELECT ... FOR " + lockMode;
            if (selectInto) return "SELECT INTO creates a table";
            return null;
        }

        void walk(Object node, int depth) {
            if (node == null || depth > MAX_DEPTH) {
                if (node != null) nestedWrite = "parse tree too deep";
                return;
            }
            if (node instanceof Collection<?> c) {
                for (Object o : c) walk(o, depth + 1);
                return;
            }
            if (node instanceof Object[] array) {
                for (Object o : array) walk(o, depth + 1);
                return;
            }
            // some nodes keep expressions in map entries (JsonExpression: the operands right of -> and ->>), which
            // would hide a function call such as "data ->> my_volatile_fn()" from the walk
            if (node instanceof java.util.Map.Entry<?, ?> e) {
                walk(e.getKey(), depth + 1);
                walk(e.getValue(), depth + 1);
                return;
            }
            if (node instanceof java.util.Map<?, ?> m) {
                for (java.util.Map.Entry<?, ?> e : m.entrySet()) walk(e, depth + 1);
                return;
            }
            Class<?> type = node.getClass();
            if (!type.getName().startsWith("net.sf.jsqlparser.") || isParserInternal(type) || type.isEnum()) return;
            if (!seen.add(node)) return;
            inspect(node);
            try {
                for (Field f : FIELDS.get(type)) walk(f.get(node), depth + 1);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }

        private void inspect(Object node) {
            if (node instanceof TableFunction) {
                return; // a wrapper (it extends Function, without a name): the function inside it is walked next
            }
            if (node instanceof Function f) {
                calls.add(f);
                functionNames.add(functionName(f));
            } else if (node instanceof AnalyticExpression a && a.getName() != null) {
                functionNames.add(unquote(a.getName())); // count(*) OVER (...), percentile_cont(...) WITHIN GROUP
            } else if (node instanceof Select sel) {
                if (sel.getForMode() != null) lockMode = sel.getForMode().toString().replace('_', ' ');
                if (sel instanceof PlainSelect ps && ps.getIntoTables() != null && !ps.getIntoTables().isEmpty()) selectInto = true;
            } else if (node instanceof Insert || node instanceof Update || node instanceof Delete || node instanceof Merge) {
                nestedWrite = node.getClass().getSimpleName().toUpperCase(Locale.ROOT);
            }
        }

        /** The parser's own token and syntax-tree objects (reachable from AST nodes): not part of the statement. */
        private static boolean isParserInternal(Class<?> type) {
            return type.getName().startsWith("net.sf.jsqlparser.parser.");
        }
    }
}
