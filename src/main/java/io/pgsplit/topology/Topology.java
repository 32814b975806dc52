package io.pgsplit.topology;

import io.pgsplit.config.DatabaseConfig;
import io.pgsplit.config.ReplicaConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The servers of one configured database and which of them is the primary now. The set of nodes is
 * fixed by the config (pools are kept per node, so a node keeps its pools when its role changes); the
 * roles are not: {@link #assignPrimary} is the one place a role changes, from role discovery
 * ({@link #apply}, fed by {@code io.pgsplit.ha.HealthMonitor}). Readers take {@link #primary()} and {@link #replicas()} once per decision; each
 * is a consistent snapshot.
 *
 * <p>Health is per node ({@link Node#health()}); this class answers the questions routing asks of it
 * together: which replicas may take reads, how many are up, which match a name or group.
 */
public final class Topology {
    private static final Logger log = LoggerFactory.getLogger(Topology.class);

    private final String database;
    /** Nodes that accept writes but are not the primary (a split brain), with why: no writes, no reads. */
    private volatile Map<Node, String> fenced = Map.of();
    /** Why no primary can take writes now (none accepts writes, or a split brain), or null. */
    private volatile String problem;
    /** Writes waiting for a usable primary; guarded by this. */
    private final List<CompletableFuture<Node>> waitingForPrimary = new ArrayList<>();
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
        Node primary = new Node(config.primaryName(), Node.Role.PRIMARY, config.primary().host(), config.primary().port(), 1, null);
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
     * one just given up on), not fenced by a split brain. Issue 13's lag limits belong here too.
     */
    public boolean isReadCandidate(Node r, Node exclude) {
        return r.isUp() && r.weight() > 0 && r != exclude && !fenced.containsKey(r);
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
     * Makes {@code newPrimary} (one of {@link #nodes()}) the primary and every other node a replica: called by
     * role discovery ({@link #apply}), so that pools, balancing and the client side see the new roles without
     * being rebuilt.
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

    // ---- failover: role discovery applies its findings here; writes wait here for a usable primary ----

    /**
     * The primary if writes can go to it now: it answers, accepts writes and is not fenced by a split brain;
     * else null (see {@link #whyNoPrimary}).
     */
    public Node writablePrimary() {
        Node p = primary;
        return problem == null && p.isUp() && !fenced.containsKey(p) ? p : null;
    }

    /** Why {@link #writablePrimary()} is null, naming the servers and the cause; null when there is a usable primary. */
    public String whyNoPrimary() {
        String why = problem;
        if (why != null) {
            return why;
        }
        Node p = primary;
        if (!p.isUp()) {
            return "the primary " + p.name() + " " + p.address() + " is down (" + p.downReason() + ")";
        }
        String fence = fenced.get(p);
        return fence;
    }

    /** Nodes fenced by a split brain (accept writes, get neither writes nor reads), with why. */
    public Map<Node, String> fenced() {
        return fenced;
    }

    /**
     * Applies role discovery: a new primary is assigned (logged once), fenced nodes and the problem replaced, and
     * writes waiting for a primary released if one is usable now. A resolution without a primary keeps the roles.
     */
    public void apply(RoleResolver.Resolution resolution) {
        synchronized (this) {
            Node newPrimary = resolution.primary();
            Node old = primary;
            if (newPrimary != null && newPrimary != old) {
                assignPrimary(newPrimary);
                log.warn("database \"{}\": the primary is now {} {} (was {} {})", database, newPrimary.name(),
                        newPrimary.address(), old.name(), old.address());
            }
            if (!resolution.fenced().equals(fenced)) {
                resolution.fenced().forEach((n, why) -> {
                    if (!fenced.containsKey(n)) {
                        log.error("database \"{}\": {} {} FENCED: {}", database, n.name(), n.address(), why);
                    }
                });
                fenced.keySet().forEach(n -> {
                    if (!resolution.fenced().containsKey(n)) {
                        log.warn("database \"{}\": {} {} no longer fenced", database, n.name(), n.address());
                    }
                });
                fenced = Map.copyOf(resolution.fenced());
            }
            String was = problem;
            problem = resolution.problem();
            if (problem != null && !problem.equals(was)) {
                log.error("database \"{}\": writes held: {}", database, problem);
            } else if (problem == null && was != null) {
                log.warn("database \"{}\": writes go to {} {} again", database, primary.name(), primary.address());
            }
        }
        releaseWaiters();
    }

    /**
     * Completes with the primary as soon as one is usable (at once if it is now); never fails on its own: the
     * caller bounds the wait ({@code ha.failover_wait}) and cancels the future when it gives up.
     */
    public CompletableFuture<Node> awaitWritablePrimary() {
        Node now = writablePrimary();
        if (now != null) {
            return CompletableFuture.completedFuture(now);
        }
        CompletableFuture<Node> f = new CompletableFuture<>();
        synchronized (this) {
            waitingForPrimary.removeIf(CompletableFuture::isDone); // given up on (failover_wait over)
            waitingForPrimary.add(f);
        }
        releaseWaiters(); // it may have become usable in between
        return f;
    }

    /** Node health changed (the health monitor calls this after each check): waiting writes may go now. */
    public void releaseWaiters() {
        Node now = writablePrimary();
        if (now == null) {
            return;
        }
        List<CompletableFuture<Node>> ready;
        synchronized (this) {
            if (waitingForPrimary.isEmpty()) {
                return;
            }
            ready = new ArrayList<>(waitingForPrimary);
            waitingForPrimary.clear();
        }
        ready.forEach(f -> f.complete(now)); // cancelled ones ignore it
    }

    /** One line for logs: each node with its role, health and what its last check said. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        Node p = primary;
        for (Node n : nodes) {
            b.append(b.length() == 0 ? "" : "; ").append(n.name()).append(' ').append(n.address()).append(' ')
                    .append(n == p ? "primary" : "replica").append(", ").append(n.health());
            if (fenced.containsKey(n)) {
                b.append(", FENCED");
            }
        }
        String why = whyNoPrimary();
        return why == null ? b.toString() : b + "; writes held: " + why;
    }

    /** A read-only view of every node now, for the admin console, {@code pgsplit explain} and metrics. */
    public List<NodeView> snapshot() {
        List<NodeView> views = new ArrayList<>(nodes.size());
        Node p = primary;
        long now = System.nanoTime();
        for (Node n : nodes) {
            NodeHealth h = n.health();
            views.add(new NodeView(database, n.name(), n.host(), n.port(), n == p ? Node.Role.PRIMARY : Node.Role.REPLICA,
                    h.isUp(), h.isUp() ? 0 : (now - h.downSinceNanos()) / 1_000_000, h.downReason(),
                    h.consecutiveFailures(), h.isUp() ? 0 : Math.max(0, (h.bannedUntilNanos() - now) / 1_000_000),
                    n.lastStatus(), fenced.get(n), n.outstanding.get()));
        }
        return views;
    }

    @Override
    public String toString() {
        return "database \"" + database + "\": " + nodes;
    }
}
