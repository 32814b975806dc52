package io.pgsplit.route;

/**
 * Where one unit of client work goes and why. {@link #reason} is what {@code pgsplit explain} and
 * the debug log print: the rule, hint, keyword, construct or function that decided. {@link #consistency}: the
 * consistency a routing rule gives the reads it matches (null: the session's).
 */
public record RouteDecision(Target target, String nodeName, String reason, Classification classification,
                            io.pgsplit.config.Consistency consistency) {

    public RouteDecision(Target target, String nodeName, String reason, Classification classification) {
        this(target, nodeName, reason, classification, null);
    }

    public enum Target {
        /** The primary: writes, read-write transactions, anything uncertain. */
        PRIMARY,
        /** The balanced set of replicas (with the primary too when primary_reads says so). */
        REPLICA,
        /** A replica by name or group ({@link #nodeName}). */
        NAMED,
        /** Any node, replicas preferred: for statements that run the same everywhere (SHOW, a rule's "any"). */
        ANY
    }

    public static RouteDecision primary(String reason, Classification c) {
        return new RouteDecision(Target.PRIMARY, null, reason, c);
    }

    public static RouteDecision replica(String reason, Classification c) {
        return new RouteDecision(Target.REPLICA, null, reason, c);
    }

    public boolean isPrimary() {
        return target == Target.PRIMARY;
    }

    @Override
    public String toString() {
        return (target == Target.NAMED ? "replica " + nodeName : target.name().toLowerCase()) + " (" + reason + ")";
    }
}
