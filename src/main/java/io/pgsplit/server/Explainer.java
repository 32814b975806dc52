package io.pgsplit.server;

import io.pgsplit.route.SqlText;
import io.pgsplit.config.ConfigException;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.RoutingConfig;
import io.pgsplit.route.Classification;
import io.pgsplit.route.ClassifierSettings;
import io.pgsplit.route.FunctionCatalog;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.RouteRequest;
import io.pgsplit.route.rules.Rule;
import io.pgsplit.route.rules.RoutingRules;
import io.pgsplit.route.Router;
import io.pgsplit.route.SqlClassifier;
import io.pgsplit.route.StatementInfo;
import java.util.Set;

/** {@code pgsplit explain}: the classification of a statement, its route, and why. */
public final class Explainer {
    private Explainer() {
    }

    /** @throws ConfigException when the config's rules file is invalid (every error) */
    public static String explain(PgsplitConfig config, String sql, String database, String user, boolean inTxn)
            throws ConfigException {
        return explain(config, sql, database, user, null, inTxn);
    }

    public static String explain(PgsplitConfig config, String sql, String database, String user,
                                 String applicationName, boolean inTxn) throws ConfigException {
        RoutingConfig routing = config == null ? RoutingConfig.defaults() : config.routing();
        RoutingRules rules = RulesSupport.load(config);
        SqlClassifier classifier = new SqlClassifier(new ClassifierSettings(routing.maxStatementLength(),
                routing.maxNestingDepth(), routing.classifierCacheBytes(), ClassifierSettings.defaults().parseTimeout(),
                RulesSupport.readOnlyFunctions(config), RulesSupport.writeFunctions(config)));
        classifier.functionOverrides(rules);
        Classification c = classifier.classify(sql, FunctionCatalog.EMPTY, true);
        String db = database != null ? database
                : config != null && !config.databases().isEmpty() ? config.databases().keySet().iterator().next() : "app";
        RouteRequest request = new RouteRequest(sql, sql, c.parsed().statements(), c.write(), c.reason(), c,
                db, user == null ? "" : user, applicationName == null ? "" : applicationName, null, inTxn, "auto",
                false, false, false, false);
        // what the rules say, without counting or logging
        java.util.List<Rule> matched = rules.matching(request);
        Rule deciding = matched.isEmpty() || matched.get(matched.size() - 1).dryRun() ? null
                : matched.get(matched.size() - 1);
        RouteDecision d = new Router(routing, rules.quiet()).decide(request);
        StringBuilder out = new StringBuilder();
        out.append("statement:      ").append(SqlText.abbreviate(sql)).append('\n');
        out.append("classification: ").append(c.write() ? "write" : "read").append(" (").append(c.reason()).append(")\n");
        int n = 1;
        for (StatementInfo i : c.parsed().statements()) {
            out.append("  statement ").append(n++).append(": ").append(i.kind().name().toLowerCase())
                    .append(i.write() ? ", write" : ", read").append(" (").append(i.reason()).append(')');
            if (!i.tablesRead().isEmpty()) {
                out.append(", reads ").append(String.join(", ", i.tablesRead()));
            }
            if (!i.tablesWritten().isEmpty()) {
                out.append(", writes ").append(String.join(", ", i.tablesWritten()));
            }
            if (!i.functions().isEmpty()) {
                out.append(", calls ").append(String.join(", ", i.functions()));
            }
            out.append('\n');
        }
        if (config != null && config.routing().rulesFile() != null) {
            out.append("rules:          ").append(config.routing().rulesFile()).append(" (")
                    .append(rules.rules().size()).append(" rules)");
            if (deciding != null && Router.isRule(d)) {
                out.append(", matched rule \"").append(deciding.name()).append("\" (line ").append(deciding.line())
                        .append(") -> ").append(deciding.targetText());
            } else if (deciding != null) {
                out.append(", rule \"").append(deciding.name()).append("\" matches but does not apply here (")
                        .append(d.reason()).append(')');
            } else {
                out.append(", none matches");
            }
            out.append('\n');
            for (Rule r : matched) {
                if (r.dryRun()) {
                    out.append("dry run:        rule \"").append(r.name()).append("\" would send it to ")
                            .append(r.targetText()).append(" (logged, route unchanged)\n");
                }
            }
        }
        if (inTxn) {
            out.append("route:          the connection of the open transaction (a transaction never spans two nodes)\n");
        } else {
            out.append("route:          ").append(d.target() == RouteDecision.Target.NAMED ? "replica " + d.nodeName()
                    : d.target().name().toLowerCase()).append('\n');
            out.append("reason:         ").append(d.reason()).append('\n');
            if (!d.isPrimary()) {
                out.append("consistency:    ").append(io.pgsplit.consistency.SessionConsistency.describe(config, db,
                        user, sql)).append('\n');
            }
        }
        out.append("note:           function volatility from pgsplit's built-in list; a running router also "
                + "reads pg_proc on the primary\n");
        return out.toString();
    }

    static Set<String> none() {
        return Set.of();
    }
}
