package io.pgsplit.route.rules;

import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.RouteRequest;
import io.pgsplit.route.StatementInfo;
import io.pgsplit.route.StatementKind;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * One compiled rule of a routing-rules file: what it matches (every condition given must hold; absent ones
 * are not checked) and where it sends what it matches.
 */
public final class Rule {
    /** {@code route:} value. */
    public enum Target { PRIMARY, REPLICA, ANY, NAMED }

    private final String name;
    private final int line;
    private final Pattern sql;
    private final Set<StatementKind> kinds;
    private final Glob[] tables;
    private final Glob[] tablesRead;
    private final Glob[] tablesWritten;
    private final Glob[] functions;
    private final Glob[] databases;
    private final Glob[] users;
    private final Glob[] applicationNames;
    private final Cidr[] clientAddresses;
    private final Boolean inTransaction;
    private final Target target;
    private final String targetName;
    /** {@code consistency:} for the reads this rule matches, or null (the session's). */
    private final io.pgsplit.config.Consistency consistency;
    private final Duration maxLag;
    private final boolean dryRun;
    private final String reason;
    /** Replaced (before publication) by the counter of the same-named rule of the previous file, so counts survive reloads. */
    private AtomicLong matches = new AtomicLong();

    Rule(String name, int line, Pattern sql, Set<StatementKind> kinds, List<Glob> tables, List<Glob> tablesRead,
         List<Glob> tablesWritten, List<Glob> functions, List<Glob> databases, List<Glob> users,
         List<Glob> applicationNames, List<Cidr> clientAddresses, Boolean inTransaction, Target target,
         String targetName, io.pgsplit.config.Consistency consistency, Duration maxLag, boolean dryRun) {
        this.name = name;
        this.line = line;
        this.sql = sql;
        this.kinds = kinds == null ? null : EnumSet.copyOf(kinds);
        this.tables = array(tables);
        this.tablesRead = array(tablesRead);
        this.tablesWritten = array(tablesWritten);
        this.functions = array(functions);
        this.databases = array(databases);
        this.users = array(users);
        this.applicationNames = array(applicationNames);
        this.clientAddresses = clientAddresses == null ? null : clientAddresses.toArray(new Cidr[0]);
        this.inTransaction = inTransaction;
        this.target = target;
        this.targetName = targetName;
        this.consistency = consistency;
        this.maxLag = maxLag;
        this.dryRun = dryRun;
        this.reason = "rule \"" + name + "\"";
    }

    private static Glob[] array(List<Glob> globs) {
        return globs == null ? null : globs.toArray(new Glob[0]);
    }

    public String name() {
        return name;
    }

    /** The line of the rule in its file. */
    public int line() {
        return line;
    }

    public Target target() {
        return target;
    }

    /** The replica or group name for {@link Target#NAMED}, else null. */
    public String targetName() {
        return targetName;
    }

    /** {@code max_lag}: stored for lag-aware routing (not enforced yet), or null. */
    public Duration maxLag() {
        return maxLag;
    }

    public boolean dryRun() {
        return dryRun;
    }

    public long matchCount() {
        return matches.get();
    }

    AtomicLong counter() {
        return matches;
    }

    void counter(AtomicLong shared) {
        this.matches = shared;
    }

    /** Where this rule sends a statement, described for logs: "replica r2", "primary". */
    public String targetText() {
        return target == Target.NAMED ? "replica " + targetName : target.name().toLowerCase(java.util.Locale.ROOT);
    }

    RouteDecision decision(RouteRequest r) {
        return switch (target) {
            case PRIMARY -> RouteDecision.primary(reason, r.classification());
            case REPLICA -> new RouteDecision(RouteDecision.Target.REPLICA, null, reason, r.classification(), consistency);
            case ANY -> new RouteDecision(RouteDecision.Target.ANY, null, reason, r.classification(), consistency);
            case NAMED -> new RouteDecision(RouteDecision.Target.NAMED, targetName, reason, r.classification(),
                    consistency);
        };
    }

    /** True when every condition of the rule holds for {@code r}. */
    boolean matches(RouteRequest r) {
        return sessionMatches(r) && statementMatches(r);
    }

    /** True when the rule has conditions on the statement (not only on the session). */
    boolean hasStatementConditions() {
        return sql != null || kinds != null || tables != null || tablesRead != null || tablesWritten != null
                || functions != null;
    }

    /** The conditions on who sends the statement: database, user, application, address, transaction. */
    boolean sessionMatches(RouteRequest r) {
        if (inTransaction != null && inTransaction != r.inTransaction()) {
            return false;
        }
        if (databases != null && !any(databases, r.database())) {
            return false;
        }
        if (users != null && !any(users, r.user())) {
            return false;
        }
        if (applicationNames != null && !any(applicationNames, r.applicationName())) {
            return false;
        }
        return clientAddresses == null || inNetworks(r.clientAddress());
    }

    /**
     * The conditions on the statement itself: kinds, tables, functions, then the regex. They depend only on the
     * query text and its statement facts, so {@link RoutingRules} remembers their outcome per query text.
     */
    boolean statementMatches(RouteRequest r) {
        List<StatementInfo> statements = r.statements();
        if (kinds != null && !kindsMatch(statements)) {
            return false;
        }
        if (tables != null && !namesMatch(statements, tables, true, true)) {
            return false;
        }
        if (tablesRead != null && !namesMatch(statements, tablesRead, true, false)) {
            return false;
        }
        if (tablesWritten != null && !namesMatch(statements, tablesWritten, false, true)) {
            return false;
        }
        if (functions != null && !functionsMatch(statements)) {
            return false;
        }
        return sql == null || r.sql() != null && sql.matcher(r.sql()).find();
    }

    /** Every statement (an empty one aside) is of one of the kinds: "select" never matches "select 1; delete ...". */
    private boolean kindsMatch(List<StatementInfo> statements) {
        boolean any = false;
        for (int i = 0, n = statements.size(); i < n; i++) {
            StatementKind k = statements.get(i).kind();
            if (k == StatementKind.EMPTY) {
                continue;
            }
            if (!kinds.contains(k)) {
                return false;
            }
            any = true;
        }
        return any;
    }

    private static boolean namesMatch(List<StatementInfo> statements, Glob[] globs, boolean read, boolean written) {
        for (int i = 0, n = statements.size(); i < n; i++) {
            StatementInfo s = statements.get(i);
            if (read && anyName(s.tablesRead(), globs)) {
                return true;
            }
            if (written && anyName(s.tablesWritten(), globs)) {
                return true;
            }
        }
        return false;
    }

    private boolean functionsMatch(List<StatementInfo> statements) {
        for (int i = 0, n = statements.size(); i < n; i++) {
            if (anyName(statements.get(i).functions(), functions)) {
                return true;
            }
        }
        return false;
    }

    private static boolean anyName(Set<String> names, Glob[] globs) {
        if (names.isEmpty()) {
            return false;
        }
        for (String name : names) {
            if (any(globs, name)) {
                return true;
            }
        }
        return false;
    }

    private static boolean any(Glob[] globs, String value) {
        for (Glob g : globs) {
            if (g.matches(value)) {
                return true;
            }
        }
        return false;
    }

    private boolean inNetworks(InetSocketAddress address) {
        for (Cidr c : clientAddresses) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return reason + " -> " + targetText() + (dryRun ? " (dry run)" : "");
    }
}
