package io.pgsplit.topology;

import io.pgsplit.config.LoadBalancing;
import io.pgsplit.config.PrimaryReads;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses the node for a read among one database's nodes, as its {@link Topology} stands at the moment
 * of the call: a replica by the configured {@code load_balancing}, or the primary per
 * {@code primary_reads}. Reads node state only; never changes it.
 */
public final class ReadBalancer {
    private final Topology topology;
    private final LoadBalancing balancing;
    private final PrimaryReads primaryReads;
    private final AtomicInteger roundRobin = new AtomicInteger();
    /** Smooth weighted round robin state (nginx's algorithm) by {@link Topology#indexOf}, guarded by this. */
    private final int[] currentWeights;

    public ReadBalancer(Topology topology, LoadBalancing balancing, PrimaryReads primaryReads) {
        this.topology = topology;
        this.balancing = balancing;
        this.primaryReads = primaryReads;
        this.currentWeights = new int[topology.nodes().size()];
    }

    /** The primary may answer reads (always with primary_reads true, when no replica can with fallback). */
    public boolean primaryServesReads() {
        return primaryReads != PrimaryReads.FALSE;
    }

    /** The primary is one more read target beside the replicas (primary_reads: true). */
    public boolean primaryInReadRotation() {
        return primaryReads == PrimaryReads.TRUE;
    }

    /** A node for a read other than {@code exclude}: a replica by the configured balancing, or the primary per primary_reads; null if none. */
    public Node pickReadNode(Node exclude) {
        return pickReadNode(exclude, null, 0);
    }

    /**
     * As {@link #pickReadNode(Node)}, among the replicas {@code filter} (null: all) admits for a read that needs
     * {@code minLsn} replayed.
     */
    public Node pickReadNode(Node exclude, ReplicaFilter filter, long minLsn) {
        if (balancing == LoadBalancing.ROUND_ROBIN) {
            return roundRobinReadNode(exclude, filter, minLsn); // every read asks: no list per call
        }
        Node primary = topology.primary();
        List<Node> candidates = new ArrayList<>(topology.nodes().size());
        for (Node r : topology.replicas()) {
            if (candidate(r, exclude, filter, minLsn)) {
                candidates.add(r);
            }
        }
        if (primaryReads == PrimaryReads.TRUE && primary != exclude) {
            candidates.add(primary);
        }
        if (candidates.isEmpty()) {
            return primaryReads == PrimaryReads.FALSE || primary == exclude ? null : primary;
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        return switch (balancing) {
            case ROUND_ROBIN -> candidates.get(Math.floorMod(roundRobin.getAndIncrement(), candidates.size()));
            case LEAST_OUTSTANDING -> {
                Node best = null;
                for (Node n : candidates) {
                    if (best == null || n.outstanding.get() < best.outstanding.get()) {
                        best = n;
                    }
                }
                yield best;
            }
            case WEIGHTED -> weighted(candidates);
        };
    }

    /** {@link #pickReadNode} for round robin, choosing the same nodes in the same order without a list. */
    private Node roundRobinReadNode(Node exclude, ReplicaFilter filter, long minLsn) {
        Node primary = topology.primary();
        List<Node> replicas = topology.replicas();
        boolean primaryCandidate = primaryReads == PrimaryReads.TRUE && primary != exclude;
        int n = primaryCandidate ? 1 : 0;
        Node only = primaryCandidate ? primary : null;
        for (Node r : replicas) {
            if (candidate(r, exclude, filter, minLsn)) {
                n++;
                only = r;
            }
        }
        if (n == 0) {
            return primaryReads == PrimaryReads.FALSE || primary == exclude ? null : primary;
        }
        if (n == 1) {
            return only;
        }
        int k = Math.floorMod(roundRobin.getAndIncrement(), n);
        for (Node r : replicas) {
            if (candidate(r, exclude, filter, minLsn) && k-- == 0) {
                return r;
            }
        }
        // k pointed past the replicas: the primary, listed last (or a replica changed state meanwhile)
        return primaryCandidate ? primary : only;
    }

    private boolean candidate(Node r, Node exclude, ReplicaFilter filter, long minLsn) {
        return topology.isReadCandidate(r, exclude) && (filter == null || filter.admits(r, minLsn));
    }

    private synchronized Node weighted(List<Node> candidates) {
        int total = 0;
        Node best = null;
        int bestIndex = -1;
        for (Node n : candidates) {
            int i = topology.indexOf(n);
            currentWeights[i] += n.weight();
            total += n.weight();
            if (best == null || currentWeights[i] > currentWeights[bestIndex]) {
                best = n;
                bestIndex = i;
            }
        }
        currentWeights[bestIndex] -= total;
        return best;
    }

    /** A replica by name, or one of a group, that is up; else the primary if it serves reads; null if neither. */
    public Node pickNamed(String nameOrGroup, Node exclude) {
        return pickNamed(nameOrGroup, exclude, null, 0);
    }

    /** As {@link #pickNamed(String, Node)}, among the replicas {@code filter} (null: all) admits. */
    public Node pickNamed(String nameOrGroup, Node exclude, ReplicaFilter filter, long minLsn) {
        List<Node> group = topology.upNamed(nameOrGroup, exclude);
        if (filter != null) {
            group.removeIf(r -> !filter.admits(r, minLsn));
        }
        if (group.isEmpty()) {
            Node primary = topology.primary();
            return primaryServesReads() && primary != exclude ? primary : null;
        }
        return group.get(Math.floorMod(roundRobin.getAndIncrement(), group.size()));
    }
}
