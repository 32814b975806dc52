package io.pgsplit.server;

import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.RoutingConfig;
import io.pgsplit.route.Classification;
import io.pgsplit.route.ClassifierSettings;
import io.pgsplit.route.FunctionCatalog;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.RouteRequest;
import io.pgsplit.route.RouteRules;
import io.pgsplit.route.Router;
import io.pgsplit.route.SqlClassifier;
import io.pgsplit.route.StatementInfo;
import java.util.Set;

/** {@code pgsplit explain}: the classification of a statement, its route, and why. */
public final class Explainer {
    private Explainer() {
    }

    public static String explain(PgsplitConfig config, String sql, String database, String user, boolean inTxn) {
        RoutingConfig routing = config == null ? RoutingConfig.defaults() : config.routing();
        RouteRules rules = config == null ? RouteRules.NONE : RulesSupport.load(config);
        SqlClassifier classifier = new SqlClassifier(new ClassifierSettings(routing.maxStatementLength(),
                routing.maxNestingDepth(), routing.classifierCacheBytes(), ClassifierSettings.defaults().parseTimeout(),
                RulesSupport.readOnlyFunctions(config), RulesSupport.writeFunctions(config)));
        Classification c = classifier.classify(sql, FunctionCatalog.EMPTY, true);
        Router router = new Router(routing, rules);
        String db = database != null ? database
                : config != null && !config.databases().isEmpty() ? config.databases().keySet().iterator().next() : "app";
        RouteDecision d = router.decide(new RouteRequest(sql, sql, c.parsed().statements(), c.write(), c.reason(), c,
                db, user == null ? "" : user, "", null, inTxn, "auto", false, false, false, false));
        StringBuilder out = new StringBuilder();
        out.append("statement:      ").append(ClientSession.abbreviate(sql)).append('\n');
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
        if (inTxn) {
            out.append("route:          the connection of the open transaction (a transaction never spans two nodes)\n");
        } else {
            out.append("route:          ").append(d.target() == RouteDecision.Target.NAMED ? "replica " + d.nodeName()
                    : d.target().name().toLowerCase()).append('\n');
            out.append("reason:         ").append(d.reason()).append('\n');
        }
        out.append("note:           function volatility from pgsplit's built-in list; a running router also "
                + "reads pg_proc on the primary\n");
        return out.toString();
    }

    static Set<String> none() {
        return Set.of();
    }
}
