package io.pgsplit.topology;

import io.pgsplit.config.DatabaseConfig;
import io.pgsplit.config.ReplicaConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The servers of one configured database and which of them is the primary now. The set of nodes is
 * fixed by the config (pools are kept per node, so a node keeps its pools when its role changes); the
 * roles are not: {@link #assignPrimary} is the one place a role changes, for the role discovery and
 * failover of issue 14. Readers take {@link #primary()} and {@link #replicas()} once per decision; each
 * is a consistent snapshot.
 *
 * <p>Health is per node ({@link Node#health()}); this class answers the questions routing asks of it
 * together: which replicas may take reads, how many are up, which match a name or group.
 */
public final class Topology {
    private final String database;
    /** Every node, in config order (primary first, then the replicas); fixed. */
    private final List<Node> nodes;
    private volatile Node primary;
    /** The nodes that are not the primary, in config order; replaced as a whole on a role change. */
    private volatile List<Node> replicas;

    public Topology(String database, Node primary, List<Node> replicas) {
        this.database = database;
        List<Node> all = new ArrayList<>(replicas.size() + 1);
        all.add(primary);
        all.addAll(replicas);
        this.nodes = List.copyOf(all);
        this.primary = primary;
        this.replicas = List.copyOf(replicas);
    }

    /** The nodes of a configured database: its primary, then its replicas in file order. */
    public static Topology of(String database, DatabaseConfig config) {
        Node primary = new Node("primary", Node.Role.PRIMARY, config.primary().host(), config.primary().port(), 1, null);
        List<Node> replicas = new ArrayList<>();
        for (ReplicaConfig r : config.replicas()) {
            replicas.add(new Node(r.name(), Node.Role.REPLICA, r.host(), r.port(), r.weight(), r.group()));
        }
        return new Topology(database, primary, replicas);
    }

    public String database() {
        return database;
    }

    /** The node writes go to now. */
    public Node primary() {
        return primary;
    }

    /** The other nodes, up or down (an unmodifiable snapshot). */
    public List<Node> replicas() {
        return replicas;
    }

    /** All nodes, primary first as configured (an unmodifiable list; membership does not change). */
    public List<Node> nodes() {
        return nodes;
    }

    /** Position of {@code node} in {@link #nodes()}: a stable index for per-node state such as balancer weights. */
    public int indexOf(Node node) {
        return nodes.indexOf(node);
    }

    /**
     * Whether replica {@code r} may take reads now: up, with a non-zero weight, and not {@code exclude} (the
     * one just given up on). Issue 13's lag limits and issue 14's bans belong here too.
     */
    public boolean isReadCandidate(Node r, Node exclude) {
        return r.isUp() && r.weight() > 0 && r != exclude;
    }

    /** The replicas that may take reads now (see {@link #isReadCandidate}), in config order. */
    public List<Node> readCandidates(Node exclude) {
        List<Node> candidates = new ArrayList<>(replicas.size());
        for (Node r : replicas) {
            if (isReadCandidate(r, exclude)) {
                candidates.add(r);
            }
        }
        return candidates;
    }

    /** How many replicas may take reads now. */
    public int readCandidateCount() {
        int n = 0;
        for (Node r : replicas) {
            if (isReadCandidate(r, null)) {
                n++;
            }
        }
        return n;
    }

    /** The replicas named {@code nameOrGroup} or in that group that are up, other than {@code exclude}. */
    public List<Node> upNamed(String nameOrGroup, Node exclude) {
        List<Node> named = new ArrayList<>();
        for (Node r : replicas) {
            if ((r.name().equals(nameOrGroup) || nameOrGroup.equals(r.group())) && r.isUp() && r != exclude) {
                named.add(r);
            }
        }
        return named;
    }

    /**
     * Makes {@code newPrimary} (one of {@link #nodes()}) the primary and every other node a replica. Nothing
     * calls it yet: it is where issue 14's role discovery (pg_is_in_recovery on each node) and failover
     * land, so that pools, balancing and the client side see the new roles without being rebuilt.
     */
    public synchronized void assignPrimary(Node newPrimary) {
        if (!nodes.contains(newPrimary)) {
            throw new IllegalArgumentException(newPrimary + " is not a node of database \"" + database + "\"");
        }
        List<Node> others = new ArrayList<>(nodes.size() - 1);
        for (Node n : nodes) {
            if (n != newPrimary) {
                n.role(Node.Role.REPLICA);
                others.add(n);
            }
        }
        newPrimary.role(Node.Role.PRIMARY);
        replicas = List.copyOf(others);
        primary = newPrimary;
    }

    @Override
    public String toString() {
        return "database \"" + database + "\": " + nodes;
    }
}
