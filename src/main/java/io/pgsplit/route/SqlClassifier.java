package io.pgsplit.route;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.pgsplit.route.KeywordClassifier.Draft;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Decides whether a query string may run on a replica (read) or must run on the primary (write), and collects the
 * facts routing and pooling need. When in doubt: write.
 *
 * <p>Three stages: {@link SqlLexer} splits and tokenizes like PostgreSQL; {@link KeywordClassifier} settles most
 * statements from their keywords; JSqlParser ({@link ParserInspector}) checks only what may be a read. The result of
 * the first two stages and the parse, a {@link ParsedQuery}, is cached by query text. Function volatility is applied
 * afterwards by {@link #decide}, so a refreshed {@link FunctionCatalog} never needs cache invalidation.
 *
 * <p>Thread-safe.
 */
public final class SqlClassifier {

    /** Per-entry memory besides the key's chars (record, lists, sets, Caffeine node): rough, errs high. */
    private static final int ENTRY_OVERHEAD_BYTES = 256;
    private static final int STATEMENT_OVERHEAD_BYTES = 160;

    private final ClassifierSettings settings;
    private final Cache<String, ParsedQuery> cache;
    private final ParserInspector parser;
    /** Operator declarations from the routing-rules file; replaced on reload, read on every decision. */
    private volatile FunctionOverrides overrides = FunctionOverrides.NONE;

    public SqlClassifier(ClassifierSettings settings) {
        this.settings = settings;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(settings.cacheMaxWeightBytes())
                .weigher(SqlClassifier::weigh)
                .recordStats()
                .build();
        this.parser = new ParserInspector(settings.parseTimeout());
    }

    private static int weigh(String sql, ParsedQuery parsed) {
        long weight = 2L * sql.length() + ENTRY_OVERHEAD_BYTES;
        for (StatementInfo s : parsed.statements()) {
            weight += STATEMENT_OVERHEAD_BYTES + 48L * (s.tablesRead().size() + s.tablesWritten().size() + s.functions().size() + s.effects().size());
        }
        return (int) Math.min(Integer.MAX_VALUE, weight);
    }

    /** Lexes, consults the cache, parses if needed, and decides. May take up to parseTimeout on a cache miss. */
    public Classification classify(String sql, FunctionCatalog catalog, boolean standardConformingStrings) {
        if (!standardConformingStrings) {
            // backslashes in plain strings change where strings end: never trust any of it (and never cache it,
            // the cache holds standard_conforming_strings = on results)
            return decide(analyze(sql, false), catalog);
        }
        ParsedQuery parsed = cache.getIfPresent(sql);
        if (parsed == null) {
            parsed = analyze(sql, true);
            if (sql.length() <= settings.maxLength()) cache.put(sql, parsed);
        }
        return decide(parsed, catalog);
    }

    /** A cheap cache probe that never parses (for standard_conforming_strings = on). */
    public ParsedQuery cachedOrNull(String sql) {
        return cache.getIfPresent(sql);
    }

    /**
     * True when {@link #classify} would run JSqlParser for this text (a cache miss on something that may be a read),
     * so the caller can move the call off an event loop. Lexes the text (linear, cheap) but never parses.
     */
    public boolean needsParser(String sql) {
        if (cache.asMap().containsKey(sql)) return false;
        SqlLexer.Result lexed = SqlLexer.lex(sql, true);
        if (skipReason(sql, lexed) != null) return false;
        boolean anyTarget = false;
        for (LexedStatement st : lexed.statements()) {
            Draft d = KeywordClassifier.classify(st);
            if (d.write) return false;
            anyTarget |= d.parseTarget != null;
        }
        return anyTarget;
    }

    /** Installs the function declarations of a (re)loaded rules file; they apply to the next decision. */
    public void functionOverrides(FunctionOverrides overrides) {
        this.overrides = overrides == null ? FunctionOverrides.NONE : overrides;
    }

    public FunctionOverrides functionOverrides() {
        return overrides;
    }

    public CacheStats cacheStats() {
        return cache.stats();
    }

    // ---- facts ----

    ParsedQuery analyze(String sql, boolean standardConformingStrings) {
        SqlLexer.Result lexed = SqlLexer.lex(sql, standardConformingStrings);
        if (lexed.statements().isEmpty() && lexed.ok()) {
            StatementInfo empty = new StatementInfo(StatementKind.EMPTY, "", false, "empty query",
                    Set.of(), Set.of(), Set.of(), false, false, false, false, List.of());
            return new ParsedQuery(List.of(empty), 0, 0, sql.length(), false, "empty query");
        }
        List<Draft> drafts = new ArrayList<>();
        for (LexedStatement st : lexed.statements()) drafts.add(KeywordClassifier.classify(st));

        String skip = standardConformingStrings ? skipReason(sql, lexed) : "standard_conforming_strings is off";
        if (skip != null) {
            drafts.forEach(d -> d.forceWrite(skip));
            return result(drafts, lexed, sql, false, "not parsed: " + skip);
        }
        List<Draft> toParse = new ArrayList<>();
        Draft firstWrite = null;
        for (Draft d : drafts) {
            if (d.write && firstWrite == null) firstWrite = d;
            if (d.parseTarget != null) toParse.add(d);
        }
        if (toParse.isEmpty()) return result(drafts, lexed, sql, false, "parser not needed");
        if (firstWrite != null) {
            // the whole string goes to the primary anyway: do not spend a parse on its reads
            for (Draft d : toParse) d.parseTarget = null;
            return result(drafts, lexed, sql, false, "not parsed: the query writes anyway (" + firstWrite.reason + ")");
        }
        List<LexedStatement> targets = new ArrayList<>();
        for (Draft d : toParse) targets.add(d.parseTarget);
        ParserInspector.Outcome outcome = parser.inspect(targets);
        if (outcome.failure() != null) {
            toParse.forEach(d -> d.forceWrite(outcome.failure()));
            return result(drafts, lexed, sql, false, outcome.failure());
        }
        for (int i = 0; i < toParse.size(); i++) {
            Draft d = toParse.get(i);
            ParserInspector.Facts f = outcome.facts().get(i);
            d.tablesRead.addAll(f.tablesRead());
            d.functions.addAll(f.functions());
            d.effects.addAll(f.effects());
            if (f.writeReason() != null) d.forceWrite(f.writeReason());
            d.parseTarget = null;
        }
        return result(drafts, lexed, sql, true, null);
    }

    /** Why the parser must not run on this text at all, or null. */
    private String skipReason(String sql, SqlLexer.Result lexed) {
        if (!lexed.ok()) return "lexer: " + lexed.error();
        if (sql.length() > settings.maxLength()) return "query longer than " + settings.maxLength() + " chars";
        if (lexed.maxDepth() > settings.maxNesting()) return "nesting depth " + lexed.maxDepth() + " over " + settings.maxNesting();
        return null;
    }

    private static ParsedQuery result(List<Draft> drafts, SqlLexer.Result lexed, String sql, boolean parsed, String note) {
        List<StatementInfo> infos = new ArrayList<>(drafts.size());
        for (Draft d : drafts) infos.add(d.toInfo());
        return new ParsedQuery(infos, lexed.statementCount(), lexed.maxDepth(), sql.length(), parsed, note);
    }

    // ---- decision ----

    /** The final decision from cached facts: statement writes first, then the volatility of the functions called. */
    public Classification decide(ParsedQuery parsed, FunctionCatalog catalog) {
        FunctionCatalog cat = catalog == null ? FunctionCatalog.EMPTY : catalog;
        for (StatementInfo s : parsed.statements()) {
            if (s.write()) return new Classification(parsed, true, s.reason(), null);
            for (String fn : s.functions()) {
                String why = functionWriteReason(fn, cat);
                if (why != null) return new Classification(parsed, true, why, fn);
            }
        }
        List<StatementInfo> all = parsed.statements();
        String reason = all.size() == 1 ? all.get(0).reason() : "read: all " + all.size() + " statements are reads";
        return new Classification(parsed, false, reason, null);
    }

    /** Null when calling {@code fn} is a read; else why it is a write. */
    private String functionWriteReason(String fn, FunctionCatalog catalog) {
        String base = BuiltinFunctions.baseName(fn);
        if (settings.writeFunctions().contains(fn) || settings.writeFunctions().contains(base)) {
            return "write: function " + fn + "() is configured as a write";
        }
        FunctionOverrides.Declared declared = overrides.declared(fn);
        if (declared == FunctionOverrides.Declared.WRITE) {
            return "write: function " + fn + "() is declared a write in the rules file";
        }
        if (BuiltinFunctions.isAlwaysWrite(fn)) return "write: function " + fn + "() has side effects";
        if (declared == FunctionOverrides.Declared.READ_ONLY) return null;
        Volatility v = catalog.volatility(fn);
        if ((v == null || v == Volatility.UNKNOWN) && !base.equals(fn)) v = catalog.volatility(base);
        if (v == null) v = Volatility.UNKNOWN;
        if (v == Volatility.IMMUTABLE || v == Volatility.STABLE) return null;
        if (settings.readOnlyFunctions().contains(fn) || settings.readOnlyFunctions().contains(base)
                || BuiltinFunctions.isVolatileButReadOnly(fn)) {
            return null;
        }
        if (v == Volatility.UNKNOWN && BuiltinFunctions.isKnownReadOnly(fn)) return null;
        return v == Volatility.VOLATILE
                ? "write: function " + fn + "() is volatile"
                : "write: function " + fn + "() is not known to be read-only";
    }
}
