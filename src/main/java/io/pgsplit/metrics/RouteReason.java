package io.pgsplit.metrics;

import io.pgsplit.route.RouteDecision;

/**
 * Why a statement went where it went, in a few fixed words: the router's reasons are sentences naming the
 * statement's tables or the rule, far too many distinct values for a metric label or a console row.
 */
public enum RouteReason {
    /** A routing rule matched. */
    RULE,
    /** A comment hint or the session's pgsplit.route. */
    HINT,
    /** A transaction's start or its read-only/read-write mode decided. */
    TRANSACTION,
    /** Session commands and pinned session state stay on the primary. */
    SESSION,
    /** routing.splitting is off. */
    SPLITTING_OFF,
    /** A FunctionCall message. */
    FUNCTION_CALL,
    /** The classifier found (or could not rule out) a write: the primary. */
    WRITE,
    /** The classifier found a read: a replica. */
    READ;

    /** Lower-case label value. */
    public final String label = name().toLowerCase();

    public static RouteReason of(RouteDecision d) {
        String r = d.reason() == null ? "" : d.reason();
        if (r.startsWith("rule \"")) {
            return RULE;
        }
        if (r.startsWith("hint:")) {
            return HINT;
        }
        if (r.startsWith("splitting disabled")) {
            return SPLITTING_OFF;
        }
        if (r.startsWith("FunctionCall")) {
            return FUNCTION_CALL;
        }
        if (r.startsWith("session") || r.startsWith("the session")) {
            return SESSION;
        }
        if (r.contains("transaction")) {
            return TRANSACTION;
        }
        return d.isPrimary() ? WRITE : READ;
    }
}
