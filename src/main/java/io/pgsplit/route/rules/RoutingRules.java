package io.pgsplit.route.rules;

import io.pgsplit.route.FunctionOverrides;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.RouteRequest;
import io.pgsplit.route.RouteRules;
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
    public static final RoutingRules EMPTY = new RoutingRules(null, List.of(), List.of(), List.of());

    private final Path file;
    private final Rule[] rules;
    private final Glob[] readOnlyFunctions;
    private final Glob[] writeFunctions;

    RoutingRules(Path file, List<Rule> rules, List<Glob> readOnlyFunctions, List<Glob> writeFunctions) {
        this.file = file;
        this.rules = rules.toArray(new Rule[0]);
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
        for (Rule rule : rules) {
            if (!rule.matches(request)) {
                continue;
            }
            long n = rule.counter().incrementAndGet();
            if (rule.dryRun()) {
                if (log.isInfoEnabled()) {
                    log.info("rule \"{}\" (dry run) would send to {}: {}", rule.name(), rule.targetText(),
                            abbreviate(request.sql()));
                }
                continue;
            }
            if (log.isDebugEnabled()) {
                log.debug("rule \"{}\" matched (match #{}) -> {}: {}", rule.name(), n, rule.targetText(),
                        abbreviate(request.sql()));
            }
            return rule.decision(request);
        }
        return null;
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
