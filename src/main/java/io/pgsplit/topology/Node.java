package io.pgsplit.topology;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One PostgreSQL server behind pgsplit: the primary or a replica of a configured database.
 * Health ({@link #up}) is updated by failed connects and health checks and read by the load balancer.
 */
public final class Node {
    public enum Role { PRIMARY, REPLICA }

    private final String name;
    private final Role role;
    private final String host;
    private final int port;
    private final int weight;
    private final String group;
    private volatile boolean up = true;
    private volatile long downSinceNanos;
    private volatile String downReason;
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

    public Role role() {
        return role;
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

    public boolean isUp() {
        return up;
    }

    public String downReason() {
        return downReason;
    }

    public long downSinceNanos() {
        return downSinceNanos;
    }

    public void markDown(String reason) {
        if (up) {
            downSinceNanos = System.nanoTime();
        }
        downReason = reason;
        up = false;
    }

    public void markUp() {
        up = true;
        downReason = null;
    }

    public String address() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return (isPrimary() ? "primary" : "replica " + name) + " " + address();
    }
}
