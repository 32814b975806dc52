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
 * statements from their keywords; what may be a read is checked by the lexical pass ({@link LexicalRead}), which
 * settles plain SELECTs in a subset of SQL it fully understands (typical OLTP reads), and otherwise by JSqlParser
 * ({@link ParserInspector}). The result, a {@link ParsedQuery}, is cached by query text. Function volatility is
 * applied afterwards by {@link #decide}, for the lexical pass and the parser alike, so a refreshed
 * {@link FunctionCatalog} never needs cache invalidation.
 *
 * <p>Thread-safe. On an event loop, avoid long parses (tens of microseconds to milliseconds on a miss):
 * <pre>{@code
 * ParsedQuery p = classifier.cachedOrNull(sql);
 * if (p != null) use(classifier.decide(p, catalog));                       // ~tens of ns
 * else if (!classifier.needsParser(sql)) use(classifier.classify(sql, catalog, true)); // lexer only
 * else offload(() -> classifier.classify(sql, catalog, true));             // parses on a miss
 * }</pre>
 */
public final class SqlClassifier {

    /** Per-entry memory besides the key's chars (record, lists, sets, Caffeine node): rough, errs high. */
    private static final int ENTRY_OVERHEAD_BYTES = 256;
    private static final int STATEMENT_OVERHEAD_BYTES = 160;
    /** {@link ParsedQuery#note()} of a query string settled by the lexical pass. */
    static final String LEXICAL_NOTE = "parser not needed: the lexical pass proved a read";

    private final ClassifierSettings settings;
    private final Cache<String, ParsedQuery> cache;
    private final ParserInspector parser;
    /** False only in tests that compare the lexical pass with the parser. */
    private final boolean lexicalPass;
    /** Operator declarations from the routing-rules file; replaced on reload, read on every decision. */
    private volatile FunctionOverrides overrides = FunctionOverrides.NONE;

    public SqlClassifier(ClassifierSettings settings) {
        this(settings, true);
    }

    SqlClassifier(ClassifierSettings settings, boolean lexicalPass) {
        this.settings = settings;
        this.lexicalPass = lexicalPass;
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

    /** Consults the cache; on a miss lexes, parses if needed, caches. Then decides. A miss may take up to parseTimeout. */
    public Classification classify(String sql, FunctionCatalog catalog, boolean standardConformingStrings) {
        if (!standardConformingStrings) {
            // backslashes in plain strings change where strings end: never trust any of it (and never cache it,
            // the cache holds standard_conforming_strings = on results)
            return decide(analyze(sql, false).parsed(), catalog);
        }
        ParsedQuery parsed = cache.getIfPresent(sql);
        if (parsed == null) {
            Analysis analysis = analyze(sql, true);
            parsed = analysis.parsed();
            // over-long strings would crowd the cache; time-outs depend on load and may not happen next time
            if (analysis.cacheable() && sql.length() <= settings.maxLength()) cache.put(sql, parsed);
        }
        return decide(parsed, catalog);
    }

    /**
     * A cheap cache probe that never parses (for standard_conforming_strings = on); follow a hit with
     * {@link #decide}. It counts in {@link #cacheStats()} like any lookup, so a miss here followed by
     * {@link #classify} counts two misses.
     */
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
        List<Draft> drafts = new ArrayList<>();
        for (LexedStatement st : lexed.statements()) drafts.add(KeywordClassifier.classify(st));
        if (drafts.size() == 1 && settleLexically(drafts.get(0))) return false;
        return !toParse(drafts).isEmpty();
    }

    /**
     * The lexical pass alone, for a caller that shares facts between texts differing only in literal values (see
     * {@link QueryFingerprint}): the facts of a single statement the lexical pass proves a read, else null (then use
     * {@link #classify}). Never parses, never caches; follow with {@link #decide}. The facts do not depend on the
     * literals' values. For standard_conforming_strings = on.
     */
    public ParsedQuery lexicalRead(String sql) {
        if (!lexicalPass) return null;
        SqlLexer.Result lexed = SqlLexer.lex(sql, true);
        if (lexed.statements().size() != 1 || skipReason(sql, lexed) != null) return null;
        Draft d = KeywordClassifier.classify(lexed.statements().get(0));
        return settleLexically(d) ? result(List.of(d), lexed, sql, false, LEXICAL_NOTE) : null;
    }

    /**
     * For a caller sharing facts between texts that differ only in literal values ({@link QueryFingerprint#ofWrite}):
     * the facts of a text that is one INSERT, UPDATE or DELETE, settled without the parser and with no session
     * effect, else null (then use {@link #classify}). Never caches. For standard_conforming_strings = on.
     */
    public ParsedQuery sharableWrite(String sql) {
        Analysis a = analyze(sql, true);
        ParsedQuery p = a.parsed();
        if (!a.cacheable() || p.parsed() || p.statements().size() != 1) return null;
        StatementInfo s = p.statements().get(0);
        boolean plainWrite = s.kind() == StatementKind.INSERT || s.kind() == StatementKind.UPDATE
                || s.kind() == StatementKind.DELETE;
        return plainWrite && s.write() && s.effects().isEmpty() ? p : null;
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

    /** A query's facts, and whether they may be cached. */
    record Analysis(ParsedQuery parsed, boolean cacheable) {}

    Analysis analyze(String sql, boolean standardConformingStrings) {
        SqlLexer.Result lexed = SqlLexer.lex(sql, standardConformingStrings);
        if (lexed.statements().isEmpty() && lexed.ok()) {
            StatementInfo empty = new StatementInfo(StatementKind.EMPTY, "", false, "empty query",
                    Set.of(), Set.of(), Set.of(), false, false, false, false, List.of());
            return new Analysis(new ParsedQuery(List.of(empty), 0, 0, sql.length(), false, "empty query"), true);
        }
        List<Draft> drafts = new ArrayList<>();
        for (LexedStatement st : lexed.statements()) drafts.add(KeywordClassifier.classify(st));

        String skip = standardConformingStrings ? skipReason(sql, lexed) : "standard_conforming_strings is off";
        if (skip != null) {
            if (drafts.isEmpty()) {
                // e.g. an unterminated comment and nothing else: still a verdict, and still a write
                Draft nothing = new Draft();
                nothing.reason = "write: " + skip;
                drafts.add(nothing);
            }
            drafts.forEach(d -> d.forceWrite(skip));
            drafts.forEach(SqlClassifier::setConfigNotParsed);
            return new Analysis(result(drafts, lexed, sql, false, "not parsed: " + skip), true);
        }
        if (drafts.size() == 1 && settleLexically(drafts.get(0))) {
            return new Analysis(result(drafts, lexed, sql, false, LEXICAL_NOTE), true);
        }
        List<Draft> toParse = toParse(drafts);
        if (toParse.isEmpty()) {
            boolean skippedReads = drafts.stream().anyMatch(d -> d.parseTarget != null);
            drafts.forEach(SqlClassifier::setConfigNotParsed);
            String firstWrite = drafts.stream().filter(d -> d.write).map(d -> d.reason).findFirst().orElse("");
            drafts.forEach(d -> d.parseTarget = null);
            return new Analysis(result(drafts, lexed, sql, false, skippedReads
                    ? "not parsed: the query writes anyway (" + firstWrite + ")" : "parser not needed"), true);
        }
        List<LexedStatement> targets = new ArrayList<>();
        for (Draft d : toParse) targets.add(d.parseTarget);
        ParserInspector.Outcome outcome = parser.inspect(targets);
        if (outcome.failure() != null) {
            toParse.forEach(d -> d.forceWrite(outcome.failure()));
            drafts.forEach(SqlClassifier::setConfigNotParsed);
            return new Analysis(result(drafts, lexed, sql, false, outcome.failure()), !outcome.transientFailure());
        }
        for (int i = 0; i < toParse.size(); i++) {
            Draft d = toParse.get(i);
            ParserInspector.Facts f = outcome.facts().get(i);
            d.tablesRead.addAll(f.tablesRead());
            d.functions.addAll(f.functions());
            d.effects.addAll(f.effects());
            if (f.writeReason() != null) d.forceWrite(f.writeReason());
        }
        for (Draft d : drafts) {
            if (d.parseTarget != null && d.alwaysWriteCall != null && !parserSawCall(d, d.alwaysWriteCall)) {
                d.forceWrite("function " + d.alwaysWriteCall + "() has side effects (not seen by the parser)");
            }
            d.parseTarget = null;
        }
        return new Analysis(result(drafts, lexed, sql, true, null), true);
    }

    /**
     * Settles a query that may be a read by the lexical pass when it can: a read with the tables and functions the
     * parser would report (their volatility is checked by {@link #decide}). Only for the single statement of a query
     * string (several statements keep the parser's statement count as a second opinion on the lexer's split), and
     * never for a query calling a function that always writes or set_config (whose session effect needs the parser).
     */
    private boolean settleLexically(Draft d) {
        if (!lexicalPass || d.write || d.parseTarget == null || d.alwaysWriteCall != null || d.callsSetConfig) {
            return false;
        }
        LexicalRead.Facts facts = LexicalRead.inspect(d.parseTarget);
        if (facts == null) return false;
        d.tablesRead.addAll(facts.tablesRead());
        d.functions.addAll(facts.functions());
        d.reason = d.reason + " (lexical pass)";
        d.parseTarget = null;
        return true;
    }

    /** set_config in a statement that was not parsed: its arguments are unknown, so it cannot be replayed. */
    private static void setConfigNotParsed(Draft d) {
        if (d.callsSetConfig) d.effects.add(new SessionEffect.Pin("set_config with non-literal arguments"));
    }

    private static boolean parserSawCall(Draft d, String name) {
        for (String fn : d.functions) {
            if (fn.equals(name) || fn.endsWith("." + name)) return true;
        }
        return false;
    }

    /**
     * The statements to hand to the parser: those that may be reads. When the string writes anyway it goes to the
     * primary whatever its reads do, so they are not parsed, unless one calls set_config, whose session effect
     * (replayable SET or pin) depends on its arguments. (Advisory lock effects come from the lexer.)
     */
    private static List<Draft> toParse(List<Draft> drafts) {
        boolean writesAnyway = drafts.stream().anyMatch(d -> d.write);
        List<Draft> toParse = new ArrayList<>();
        for (Draft d : drafts) {
            if (d.parseTarget != null && (!writesAnyway || d.callsSetConfig)) toParse.add(d);
        }
        return toParse;
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
        if (all.isEmpty()) return new Classification(parsed, true, "write: no statement information", null);
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
