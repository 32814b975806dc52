package io.pgsplit.route;

/** Operator overrides (the routing-rules file): a decision, or null to let classification decide. */
public interface RouteRules {
    RouteRules NONE = r -> null;

    RouteDecision match(RouteRequest request);
}
