package io.pgsplit.route;

import io.pgsplit.config.RoutingConfig;
import io.pgsplit.protocol.ErrorFields;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides where a unit of client work goes, in this order: routing hints in SQL comments, the
 * rules file, the session's own hint ({@code SET pgsplit.route}), then what the statement is.
 * Anything uncertain goes to the primary: a read on the primary is only slower, a write on a
 * replica is an error and a stale read is a wrong answer.
 */
public final class Router {
    /** {@code /* pgsplit: route=primary *}{@code /}, anywhere in the statement. */
    private static final Pattern COMMENT_HINT =
            Pattern.compile("/\\*\\s*pgsplit\\s*:\\s*route\\s*=\\s*([A-Za-z0-9_.-]+)\\s*\\*/");

    private final RoutingConfig config;
    private volatile RouteRules rules;

    public Router(RoutingConfig config, RouteRules rules) {
        this.config = config;
        this.rules = rules == null ? RouteRules.NONE : rules;
    }

    public void rules(RouteRules rules) {
        this.rules = rules == null ? RouteRules.NONE : rules;
    }

    public RouteRules rules() {
        return rules;
    }

    public RouteDecision decide(RouteRequest r) {
        Classification c = r.classification();
        if (!config.splitting()) {
            return RouteDecision.primary("splitting disabled (routing.splitting: false)", c);
        }
        if (r.functionCall()) {
            return RouteDecision.primary("FunctionCall message: may write", c);
        }
        if (r.pinned()) {
            return RouteDecision.primary("the session holds state on the primary (temporary table, lock, ...)", c);
        }
        RouteDecision session = sessionCommand(r);
        if (session != null) {
            return session;
        }
        if (config.hints() && r.hintSql() != null && r.hintSql().indexOf("pgsplit") >= 0) {
            String hint = commentHint(r.hintSql());
            if (hint != null) {
                return hinted(hint, "hint: /* pgsplit: route=" + hint + " */", c);
            }
        }
        RouteDecision ruled = rules.match(r);
        if (ruled != null) {
            return ruled;
        }
        if (config.hints() && !"auto".equals(r.sessionRoute())) {
            return hinted(r.sessionRoute(), "hint: pgsplit.route=" + r.sessionRoute(), c);
        }
        RouteDecision txn = transactionStart(r);
        if (txn != null) {
            return txn;
        }
        if (r.write()) {
            return RouteDecision.primary(r.reason(), c);
        }
        return RouteDecision.replica(r.reason(), c);
    }

    /**
     * The value of the first routing hint written in a comment, or null. Text that only looks like a hint inside
     * a string literal, quoted identifier or dollar-quoted body is data, not a hint (it used to count: a row
     * holding the text sent a write transaction to a replica).
     */
    static String commentHint(String sql) {
        return commentHint(sql, COMMENT_HINT);
    }

    /** The first group of {@code hint}'s first match in a comment of {@code sql} (not in a literal), or null. */
    public static String commentHint(String sql, Pattern hint) {
        Matcher m = hint.matcher(sql);
        SqlLexer.Result lexed = null;
        while (m.find()) {
            if (lexed == null) {
                lexed = SqlLexer.lex(sql, true);
            }
            if (!insideToken(lexed, m.start())) {
                return m.group(1);
            }
        }
        return null;
    }

    /** Comments are not tokens: an offset inside a token is inside a string, identifier, ... */
    private static boolean insideToken(SqlLexer.Result lexed, int offset) {
        for (LexedStatement st : lexed.statements()) {
            for (SqlLexer.Token t : st.tokens()) {
                if (t.start() <= offset && offset < t.end()) {
                    return true;
                }
                if (t.start() > offset) {
                    break;
                }
            }
        }
        return false;
    }

    /** Transaction control, SET and other session commands: never moved by hints or rules. */
    private static RouteDecision sessionCommand(RouteRequest r) {
        for (StatementInfo i : r.statements()) {
            if (!i.effects().isEmpty()) {
                for (SessionEffect e : i.effects()) {
                    if (e instanceof SessionEffect.Pin p) {
                        return RouteDecision.primary("session state: " + p.what() + " stays on the primary",
                                r.classification());
                    }
                }
            }
            switch (i.kind()) {
                case SET, RESET, DISCARD, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK_TO, PREPARE_TRANSACTION,
                        LISTEN, UNLISTEN, LOAD, DECLARE, FETCH, MOVE, CLOSE, EXECUTE, DEALLOCATE ->
                        {
                            if (i.kind() == StatementKind.SET && i.local()) {
                                continue;
                            }
                            return RouteDecision.primary("session command: " + i.kind().name().replace('_', ' '),
                                    r.classification());
                        }
                default -> {
                }
            }
        }
        return null;
    }

    private RouteDecision transactionStart(RouteRequest r) {
        StatementKind k = r.firstKind();
        if (k != StatementKind.BEGIN && k != StatementKind.START_TRANSACTION) {
            return null;
        }
        StatementInfo begin = r.statements().get(0);
        List<StatementInfo> rest = r.statements().subList(1, r.statements().size());
        for (StatementInfo i : rest) {
            if (i.write()) {
                return RouteDecision.primary("read-write transaction (" + i.reason() + ")", r.classification());
            }
        }
        return decideTransaction(List.of(begin), rest, null, r.readOnlyDefault(), r.serializableDefault(),
                r.classification());
    }

    /**
     * Where a whole transaction goes, from its BEGIN and its first statements: read-only and not
     * serializable (a hot standby cannot run SERIALIZABLE) goes to a replica, anything else to the primary.
     */
    public RouteDecision decideTransaction(List<StatementInfo> begin, List<StatementInfo> first, RouteDecision fallback,
                                           boolean readOnlyDefault, boolean serializableDefault) {
        return decideTransaction(begin, first, fallback, readOnlyDefault, serializableDefault,
                fallback == null ? null : fallback.classification());
    }

    private RouteDecision decideTransaction(List<StatementInfo> begin, List<StatementInfo> first, RouteDecision fallback,
                                            boolean readOnlyDefault, boolean serializableDefault, Classification c) {
        if (!config.splitting()) {
            return RouteDecision.primary("splitting disabled (routing.splitting: false)", c);
        }
        if (fallback != null && fallback.reason().startsWith("hint:")) {
            return fallback;
        }
        if (fallback != null && isRule(fallback)) {
            // A rule may always move a transaction to the primary; it may pick another replica (a named one,
            // "any") only for a transaction that goes to replicas anyway: a read-write transaction sent to a
            // replica would fail at its first write, where no retry is possible.
            if (fallback.isPrimary()) {
                return fallback;
            }
            RouteDecision plain = decideTransaction(begin, first, null, readOnlyDefault, serializableDefault, c);
            return plain.isPrimary() ? plain : fallback;
        }
        StatementInfo b = begin.isEmpty() ? null : begin.get(0);
        boolean readOnly = b != null && b.readOnlyTxn();
        boolean readWrite = b != null && b.readWriteTxn();
        boolean serializable = b != null && b.serializable();
        String how = b == null ? "BEGIN" : "BEGIN READ ONLY";
        // an explicit isolation level other than SERIALIZABLE overrides a serializable default
        boolean explicitLevel = b != null && hasIsolation(b);
        if (!first.isEmpty() && first.get(0).kind() == StatementKind.SET_TRANSACTION) {
            StatementInfo s = first.get(0);
            readOnly |= s.readOnlyTxn();
            readWrite |= s.readWriteTxn();
            serializable |= s.serializable();
            explicitLevel |= hasIsolation(s);
            how = "SET TRANSACTION READ ONLY";
        }
        if (!readOnly && !readWrite && readOnlyDefault) {
            readOnly = true;
            how = "default_transaction_read_only = on";
        }
        if (readOnly && !readWrite) {
            if (serializable || serializableDefault && !explicitLevel) {
                return RouteDecision.primary("serializable read-only transaction: a hot standby cannot run "
                        + "SERIALIZABLE", c);
            }
            for (StatementInfo i : first) {
                if (i.write() && i.kind() != StatementKind.SET_TRANSACTION) {
                    return RouteDecision.primary("read-only transaction with a write (" + i.reason() + ")", c);
                }
            }
            return RouteDecision.replica("read-only transaction (" + how + ")", c);
        }
        return RouteDecision.primary("read-write transaction", c);
    }

    /** Decisions made by the routing-rules file say so: {@code rule "name"}. */
    public static boolean isRule(RouteDecision d) {
        return d.reason() != null && d.reason().startsWith("rule \"");
    }

    private static boolean hasIsolation(StatementInfo b) {
        return b.reason() != null && b.reason().toUpperCase(Locale.ROOT).contains("ISOLATION");
    }

    private RouteDecision hinted(String value, String reason, Classification c) {
        String v = value.toLowerCase(Locale.ROOT);
        return switch (v) {
            case "primary", "write", "master" -> RouteDecision.primary(reason, c);
            case "replica", "read", "standby" -> RouteDecision.replica(reason, c);
            case "any" -> new RouteDecision(RouteDecision.Target.ANY, null, reason, c);
            case "auto" -> null == c ? RouteDecision.primary(reason, c)
                    : c.write() ? RouteDecision.primary(c.reason(), c) : RouteDecision.replica(c.reason(), c);
            default -> new RouteDecision(RouteDecision.Target.NAMED, value, reason, c);
        };
    }

    /**
     * A replica's refusal of a write: read-only transaction (25006) or recovery in progress. Such a
     * statement may be re-run on the primary when the client has seen nothing of it yet.
     */
    public boolean isReadOnlyRefusal(ErrorFields err) {
        String code = err.sqlState();
        if ("25006".equals(code)) {
            return true;
        }
        String msg = err.message().toLowerCase(Locale.ROOT);
        return ("55000".equals(code) || "XX000".equals(code) || "0A000".equals(code))
                && (msg.contains("recovery") || msg.contains("hot standby") || msg.contains("read-only"));
    }
}
