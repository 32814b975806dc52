package io.pgsplit.topology;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One PostgreSQL server behind pgsplit, as the router sees it: its address and weight (fixed), its
 * current role (changed only by its {@link Topology}), its health ({@link NodeHealth}) and, for
 * causal reads and lag-aware routing, its replication position ({@link ReplicationState}).
 *
 * <p>Pools, routing and the client side read this state. They do not set it: they report what they
 * saw ({@link #connectFailed}, {@link #connected}, {@link #probeAnswered}) and the topology package
 * decides what that means for the node's health.
 */
public final class Node {
    public enum Role { PRIMARY, REPLICA }

    private final String name;
    private final String host;
    private final int port;
    private final int weight;
    private final String group;
    private volatile Role role;
    private final NodeHealth health = new NodeHealth();
    private volatile ReplicationState replication = ReplicationState.UNKNOWN;
    /** Statements routed here and not yet answered: the least-outstanding balancer reads it. */
    public final AtomicInteger outstanding = new AtomicInteger();

    public Node(String name, Role role, String host, int port, int weight, String group) {
        this.name = name;
        this.role = role;
        this.host = host;
        this.port = port;
        this.weight = weight;
        this.group = group;
    }

    public String name() {
        return name;
    }

    /** The role now; a {@link Topology} may change it at run time (failover), so read it each time. */
    public Role role() {
        return role;
    }

    /** Only {@link Topology#assignPrimary} changes roles, so a database never has two primaries in its view. */
    void role(Role newRole) {
        role = newRole;
    }

    public boolean isPrimary() {
        return role == Role.PRIMARY;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public int weight() {
        return weight;
    }

    /** Optional group name from the config (a named set of replicas rules can target), or null. */
    public String group() {
        return group;
    }

    /** Up or down, since when and why (read-only view; see the reports below for how it changes). */
    public NodeHealth health() {
        return health;
    }

    public boolean isUp() {
        return health.isUp();
    }

    public String downReason() {
        return health.downReason();
    }

    public long downSinceNanos() {
        return health.downSinceNanos();
    }

    /** The last known WAL positions and lag ({@link ReplicationState#UNKNOWN} until something measures them). */
    public ReplicationState replication() {
        return replication;
    }

    /** For the replication monitor of the causal-reads work (issue 13), which lives in this package. */
    void replication(ReplicationState state) {
        replication = state;
    }

    /** The causal-reads gate (package consistency) measured this node's WAL position and lag. */
    public void replicationObserved(ReplicationState state) {
        replication(state);
    }

    // ---- reports: what pools and health probes saw; NodeHealth decides what they mean ----

    /** A TCP connect to the node failed (a refused login is not a connect failure: the node is up). */
    public void connectFailed(String reason) {
        health.onConnectFailed(reason);
    }

    /** A TCP connect to the node succeeded. */
    public void connected() {
        health.onConnected();
    }

    /** A health probe of a down node was answered. */
    public void probeAnswered() {
        health.onConnected();
    }

    public String address() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return (isPrimary() ? "primary" : "replica " + name) + " " + address();
    }
}
