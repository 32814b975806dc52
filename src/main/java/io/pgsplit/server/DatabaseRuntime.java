package io.pgsplit.server;

import io.pgsplit.cluster.Node;
import io.pgsplit.config.DatabaseConfig;
import io.pgsplit.config.LoadBalancing;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.PrimaryReads;
import io.pgsplit.config.ReplicaConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.pool.PoolSettings;
import io.pgsplit.pool.ServerCredentials;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One configured database at run time: its primary and replica nodes, the read balancer over
 * them, and the pools (per node and user) its clients borrow server connections from.
 */
public final class DatabaseRuntime {
    private final String name;
    // volatile, replaced by reconfigure() (issue 16: reload); the lists are immutable snapshots
    private volatile DatabaseConfig config;
    private volatile PgsplitConfig root;
    private final PoolManager pools;
    private volatile Node primary;
    private volatile List<Node> replicas;
    private volatile LoadBalancing balancing;
    private volatile PrimaryReads primaryReads;
    private final AtomicInteger roundRobin = new AtomicInteger();
    /** Smooth weighted round robin state (nginx's algorithm), guarded by this. */
    private int[] currentWeights;
    private volatile io.pgsplit.route.FunctionCatalog catalog = io.pgsplit.route.FunctionCatalog.EMPTY;

    public DatabaseRuntime(String name, PgsplitConfig root, PoolManager pools) {
        this.name = name;
        this.root = root;
        this.config = root.databases().get(name);
        this.pools = pools;
        this.primary = new Node("primary", Node.Role.PRIMARY, config.primary().host(), config.primary().port(), 1, null);
        List<Node> rs = new ArrayList<>();
        for (ReplicaConfig r : config.replicas()) {
            rs.add(new Node(r.name(), Node.Role.REPLICA, r.host(), r.port(), r.weight(), r.group()));
        }
        this.replicas = List.copyOf(rs);
        this.balancing = config.effectiveLoadBalancing(root.routing());
        this.primaryReads = config.effectivePrimaryReads(root.routing());
        this.currentWeights = new int[replicas.size() + 1];
    }

    /**
     * Server statement name to a prepare sequence before which its result shape changed: a server copy
     * prepared then was found stale (0A000), so DDL came after it. A client statement parsed no later
     * than that is stale on PostgreSQL too and must fail like it, even where pgsplit has a fresh copy.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, StaleMark> staleBefore =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** PostgreSQL's own ErrorResponse (bytes) for statements prepared no later than {@code before}. */
    private record StaleMark(long before, byte[] error) {
    }

    /** A copy of {@code serverStatement} prepared at {@code preparedAt} was refused with {@code error}. */
    void markStale(String serverStatement, long preparedAt, byte[] error) {
        if (staleBefore.size() > 100_000) {
            staleBefore.clear(); // bounded: forgetting only makes pgsplit lenient (old statements run on new copies)
        }
        staleBefore.merge(serverStatement, new StaleMark(preparedAt, error),
                (old, now) -> old.before() >= now.before() ? old : now);
    }

    /**
     * For a client statement parsed at {@code parsedAt} that predates a shape change of its result: the
     * error PostgreSQL answered (clients such as pgjdbc recognise it, e.g. by its routine field, and
     * prepare again); otherwise null.
     */
    byte[] staleError(String serverStatement, long parsedAt) {
        StaleMark mark = staleBefore.isEmpty() ? null : staleBefore.get(serverStatement);
        return mark != null && parsedAt <= mark.before() ? mark.error() : null;
    }

    public io.pgsplit.route.FunctionCatalog catalog() {
        return catalog;
    }

    void catalog(io.pgsplit.route.FunctionCatalog catalog) {
        this.catalog = catalog;
    }

    public String name() {
        return name;
    }

    public Node primary() {
        return primary;
    }

    public List<Node> replicas() {
        return replicas;
    }

    public List<Node> nodes() {
        List<Node> all = new ArrayList<>(replicas.size() + 1);
        all.add(primary);
        all.addAll(replicas);
        return all;
    }

    /**
     * The pool for {@code node} and {@code user}, found again without allocating: every transaction in
     * transaction pooling asks for it. Config is fixed for the life of a DatabaseRuntime.
     * (Two racing first calls both reach the PoolManager, which hands out a single pool per key.)
     */
    public Pool pool(Node node, UserConfig user) {
        java.util.concurrent.ConcurrentHashMap<String, Pool> byUser = poolsByNode.get(node);
        if (byUser == null) {
            byUser = poolsByNode.computeIfAbsent(node, n -> new java.util.concurrent.ConcurrentHashMap<>());
        }
        Pool pool = byUser.get(user.name());
        if (pool == null) { // a pool is only closed when the whole router shuts down
            pool = newPool(node, user);
            byUser.put(user.name(), pool);
        }
        return pool;
    }

    private final java.util.concurrent.ConcurrentHashMap<Node, java.util.concurrent.ConcurrentHashMap<String, Pool>>
            poolsByNode = new java.util.concurrent.ConcurrentHashMap<>();

    private Pool newPool(Node node, UserConfig user) {
        PoolSettings settings = settingsFor(root, user.name());
        String password = user.serverPassword();
        return pools.pool(node, new ServerCredentials(user.serverUser(), password == null || password.isEmpty()
                ? null : password, config.serverDatabase()), settings);
    }

    private PoolSettings settingsFor(PgsplitConfig cfg, String user) {
        PoolConfig p = cfg.poolFor(name, user);
        return new PoolSettings(p.poolSize(), p.minPoolSize(), p.reservePoolSize(),
                p.reservePoolTimeout(), p.maxDbConnections(), p.maxUserConnections(), p.queryWaitTimeout(),
                p.serverIdleTimeout(), p.serverLifetime(), p.serverConnectTimeout(), p.serverResetQuery(),
                p.preparedStatementCacheSize());
    }

    // ---- issue 16: reload ----

    /**
     * Applies a new configuration of this database without disturbing its clients: pool settings of existing pools
     * change in place; a replica added joins the read rotation; one removed (or moved, re-weighted or regrouped: it
     * is replaced by a new node) leaves it and its connections close as they are released, so running transactions
     * finish; a new primary address takes new transactions. Returns one line per change.
     */
    public synchronized List<String> reconfigure(PgsplitConfig newRoot) {
        List<String> notes = new ArrayList<>();
        DatabaseConfig next = newRoot.databases().get(name);
        Node oldPrimary = primary;
        if (!next.primary().host().equals(oldPrimary.host()) || next.primary().port() != oldPrimary.port()) {
            primary = new Node("primary", Node.Role.PRIMARY, next.primary().host(), next.primary().port(), 1, null);
            retire(oldPrimary, "primary moved to " + primary.address());
            notes.add("database " + name + ": primary " + oldPrimary.address() + " -> " + primary.address());
        }
        List<Node> kept = new ArrayList<>();
        for (ReplicaConfig r : next.replicas()) {
            Node same = null;
            for (Node old : replicas) {
                if (old.name().equals(r.name()) && old.host().equals(r.host()) && old.port() == r.port()
                        && old.weight() == r.weight() && java.util.Objects.equals(old.group(), r.group())) {
                    same = old;
                }
            }
            if (same == null) {
                same = new Node(r.name(), Node.Role.REPLICA, r.host(), r.port(), r.weight(), r.group());
                notes.add("database " + name + ": replica " + r.name() + " " + same.address() + " weight "
                        + r.weight() + (r.group() == null ? "" : " group " + r.group()) + " added");
            }
            kept.add(same);
        }
        for (Node old : replicas) {
            if (!kept.contains(old)) {
                retire(old, "removed from the configuration by a reload");
                notes.add("database " + name + ": replica " + old.name() + " " + old.address()
                        + " removed (its connections close as transactions end)");
            }
        }
        synchronized (this) {
            replicas = List.copyOf(kept);
            currentWeights = new int[kept.size() + 1];
        }
        LoadBalancing lb = next.effectiveLoadBalancing(newRoot.routing());
        PrimaryReads pr = next.effectivePrimaryReads(newRoot.routing());
        if (lb != balancing || pr != primaryReads) {
            notes.add("database " + name + ": load_balancing " + lb.yamlName() + ", primary_reads " + pr.yamlName());
        }
        balancing = lb;
        primaryReads = pr;
        for (java.util.Map.Entry<Node, java.util.concurrent.ConcurrentHashMap<String, Pool>> e : poolsByNode.entrySet()) {
            for (java.util.Map.Entry<String, Pool> byUser : e.getValue().entrySet()) {
                PoolSettings s = settingsFor(newRoot, byUser.getKey());
                if (!s.equals(byUser.getValue().settings())) {
                    byUser.getValue().settings(s);
                    notes.add("database " + name + ": pool " + byUser.getKey() + "@" + e.getKey().name()
                            + " settings changed (pool_size " + s.poolSize() + ")");
                }
            }
        }
        config = next;
        root = newRoot;
        return notes;
    }

    /** A node leaving: no new work, connections closed as they come back. */
    private void retire(Node node, String why) {
        node.markDown(why);
        java.util.concurrent.ConcurrentHashMap<String, Pool> byUser = poolsByNode.remove(node);
        if (byUser != null) {
            byUser.values().forEach(Pool::reconnect);
        }
    }

    /** Every pool of this database (all nodes and users): a database removed by a reload drains them. */
    public List<Pool> allPools() {
        List<Pool> all = new ArrayList<>();
        poolsByNode.values().forEach(m -> all.addAll(m.values()));
        return all;
    }

    boolean primaryServesReads() {
        return primaryReads != PrimaryReads.FALSE;
    }

    boolean primaryInReadRotation() {
        return primaryReads == PrimaryReads.TRUE;
    }

    int replicasUp() {
        int n = 0;
        for (Node r : replicas) {
            if (readCandidate(r, null)) {
                n++;
            }
        }
        return n;
    }

    /** A node for a read: a replica by the configured balancing, or the primary per primary_reads; null if none. */
    Node pickReadNode(Node exclude) {
        if (balancing == LoadBalancing.ROUND_ROBIN) {
            return roundRobinReadNode(exclude); // every read asks: no list per call
        }
        List<Node> candidates = new ArrayList<>(replicas.size() + 1);
        for (Node r : replicas) {
            if (readCandidate(r, exclude)) {
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

    /** A replica that may take reads now: up, with a non-zero weight, and not the one just given up on. */
    private static boolean readCandidate(Node r, Node exclude) {
        return r.isUp() && r.weight() > 0 && r != exclude;
    }

    /** {@link #pickReadNode} for round robin, choosing the same nodes in the same order without a list. */
    private Node roundRobinReadNode(Node exclude) {
        boolean primaryCandidate = primaryReads == PrimaryReads.TRUE && primary != exclude;
        int n = primaryCandidate ? 1 : 0;
        Node only = primaryCandidate ? primary : null;
        for (Node r : replicas) {
            if (readCandidate(r, exclude)) {
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
            if (readCandidate(r, exclude) && k-- == 0) {
                return r;
            }
        }
        // k pointed past the replicas: the primary, listed last (or a replica changed state meanwhile)
        return primaryCandidate ? primary : only;
    }

    private synchronized Node weighted(List<Node> candidates) {
        int total = 0;
        Node best = null;
        int bestIndex = -1;
        for (Node n : candidates) {
            int i = n.isPrimary() ? replicas.size() : replicas.indexOf(n);
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

    /** A replica by name, or one of a group, that is up; null if none. */
    Node pickNamed(String nameOrGroup, Node exclude) {
        List<Node> group = new ArrayList<>();
        for (Node r : replicas) {
            if ((r.name().equals(nameOrGroup) || nameOrGroup.equals(r.group())) && r.isUp() && r != exclude) {
                group.add(r);
            }
        }
        if (group.isEmpty()) {
            return primaryServesReads() && primary != exclude ? primary : null;
        }
        return group.get(Math.floorMod(roundRobin.getAndIncrement(), group.size()));
    }

}
