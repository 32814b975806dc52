package io.pgsplit.route.rules;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.pgsplit.route.FunctionOverrides;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.RouteRequest;
import io.pgsplit.route.RouteRules;
import io.pgsplit.route.StatementInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A compiled routing-rules file: the ordered rules (the first that matches decides; a {@code dry_run} rule only
 * logs and counts, then matching goes on) and the function declarations for the classifier. Immutable apart
 * from the match counters; thread-safe. A reload builds a new instance and swaps it in.
 */
public final class RoutingRules implements RouteRules, FunctionOverrides {
    private static final Logger log = LoggerFactory.getLogger(RoutingRules.class);

    /** No file: no rules, no declarations. */
    private static final int MEMO_ENTRIES = 10_000;
    private static final int MEMO_MAX_SQL = 10_000;

    public static final RoutingRules EMPTY = new RoutingRules(null, List.of(), List.of(), List.of());

    private final Path file;
    private final Rule[] rules;
    private final Glob[] readOnlyFunctions;
    private final Glob[] writeFunctions;
    /** Rules whose statement conditions hold, per query text: see {@link #statementMask}. Null: not memoized. */
    private final Cache<String, Memo> memo;
    /** Bits of the rules without statement conditions (they always pass that half). */
    private final long sessionOnly;

    /** The statements a mask was computed for (compared by identity) and the mask. */
    private record Memo(StatementInfo[] statements, long mask) {
    }

    RoutingRules(Path file, List<Rule> rules, List<Glob> readOnlyFunctions, List<Glob> writeFunctions) {
        this.file = file;
        this.rules = rules.toArray(new Rule[0]);
        long always = 0;
        boolean statementConditions = false;
        for (int i = 0; i < this.rules.length && i < 64; i++) {
            if (this.rules[i].hasStatementConditions()) {
                statementConditions = true;
            } else {
                always |= 1L << i;
            }
        }
        this.sessionOnly = always;
        this.memo = statementConditions && this.rules.length <= 64
                ? Caffeine.newBuilder().maximumSize(MEMO_ENTRIES).build() : null;
        this.readOnlyFunctions = readOnlyFunctions.toArray(new Glob[0]);
        this.writeFunctions = writeFunctions.toArray(new Glob[0]);
    }

    /** The file these rules were read from, or null. */
    public Path file() {
        return file;
    }

    public List<Rule> rules() {
        return List.of(rules);
    }

    public int functionDeclarationCount() {
        return readOnlyFunctions.length + writeFunctions.length;
    }

    @Override
    public RouteDecision match(RouteRequest request) {
        if (rules.length == 0) {
            return null;
        }
        if (memo == null) {
            for (Rule rule : rules) {
                if (rule.matches(request)) {
                    RouteDecision d = matched(rule, request);
                    if (d != null) {
                        return d;
                    }
                }
            }
            return null;
        }
        long mask = statementMask(request);
        while (mask != 0) {
            int i = Long.numberOfTrailingZeros(mask);
            mask &= mask - 1;
            Rule rule = rules[i];
            if (rule.sessionMatches(request)) {
                RouteDecision d = matched(rule, request);
                if (d != null) {
                    return d;
                }
            }
        }
        return null;
    }

    /** Counts and logs a match; the decision, or null for a dry-run rule (matching goes on). */
    private RouteDecision matched(Rule rule, RouteRequest request) {
        long n = rule.counter().incrementAndGet();
        if (rule.dryRun()) {
            if (log.isInfoEnabled()) {
                log.info("rule \"{}\" (dry run) would send to {}: {}", rule.name(), rule.targetText(),
                        abbreviate(request.sql()));
            }
            return null;
        }
        if (log.isDebugEnabled()) {
            log.debug("rule \"{}\" matched (match #{}) -> {}: {}", rule.name(), n, rule.targetText(),
                    abbreviate(request.sql()));
        }
        return rule.decision(request);
    }

    /**
     * Bit i set: rule i's statement conditions hold. They depend only on the query text and its statement facts,
     * which the classifier caches as shared objects, so the mask is remembered per query text together with
     * those objects; a request whose facts are other objects (a multi-message batch, an evicted
     * classification, standard_conforming_strings off) is computed afresh, never served a stale mask.
     */
    private long statementMask(RouteRequest request) {
        String sql = request.sql();
        List<StatementInfo> statements = request.statements();
        boolean memoizable = sql != null && sql.length() <= MEMO_MAX_SQL;
        if (memoizable) {
            Memo m = memo.getIfPresent(sql);
            if (m != null && same(m.statements(), statements)) {
                return m.mask();
            }
        }
        long mask = sessionOnly;
        for (int i = 0; i < rules.length; i++) {
            if ((mask & (1L << i)) == 0 && rules[i].statementMatches(request)) {
                mask |= 1L << i;
            }
        }
        if (memoizable) {
            memo.put(sql, new Memo(statements.toArray(new StatementInfo[0]), mask));
        }
        return mask;
    }

    private static boolean same(StatementInfo[] a, List<StatementInfo> b) {
        if (a.length != b.size()) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** The rules that would match {@code request}, without counting or logging (for {@code pgsplit explain}). */
    public List<Rule> matching(RouteRequest request) {
        List<Rule> out = new ArrayList<>();
        for (Rule rule : rules) {
            if (rule.matches(request)) {
                out.add(rule);
                if (!rule.dryRun()) {
                    break;
                }
            }
        }
        return out;
    }

    /** These rules as a {@link RouteRules} that neither counts nor logs (for {@code pgsplit explain}). */
    public RouteRules quiet() {
        return request -> {
            for (Rule rule : rules) {
                if (!rule.dryRun() && rule.matches(request)) {
                    return rule.decision(request);
                }
            }
            return null;
        };
    }

    @Override
    public Declared declared(String function) {
        // writes first: declaring a function both ways is a mistake, and the safe reading is "write"
        for (Glob g : writeFunctions) {
            if (g.matches(function)) {
                return Declared.WRITE;
            }
        }
        for (Glob g : readOnlyFunctions) {
            if (g.matches(function)) {
                return Declared.READ_ONLY;
            }
        }
        return null;
    }

    /** Matches per rule name, in file order (a snapshot). */
    public Map<String, Long> counts() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Rule r : rules) {
            out.put(r.name(), r.matchCount());
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Makes each rule share the counter of the same-named rule in {@code previous}, so counts go on across a
     * reload. Call before the rules are published to other threads.
     */
    public void inheritCounters(RoutingRules previous) {
        if (previous == null) {
            return;
        }
        for (Rule r : rules) {
            for (Rule old : previous.rules) {
                if (old.name().equals(r.name())) {
                    r.counter(old.counter());
                    break;
                }
            }
        }
    }

    static String abbreviate(String sql) {
        if (sql == null) {
            return "";
        }
        String s = sql.strip().replaceAll("\\s+", " ");
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public String toString() {
        return "RoutingRules(" + rules.length + " rules, " + functionDeclarationCount() + " function declarations"
                + (file == null ? "" : ", " + file) + ")";
    }
}
