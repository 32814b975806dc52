package io.pgsplit.pool;

import io.pgsplit.config.DatabaseConfig;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.pool.ServerCredentials;
import io.pgsplit.topology.Node;
import io.pgsplit.topology.ReadBalancer;
import io.pgsplit.topology.Topology;
import java.util.List;

/**
 * One configured database at run time: its {@link Topology} (nodes, their roles and health), the
 * {@link ReadBalancer} over it, and the pools (per node and user) its clients borrow server
 * connections from. Node state is read here, never set: see {@link io.pgsplit.topology.Node}.
 */
public final class DatabaseRuntime {
    private final String name;
    // volatile: replaced together by reconfigure() (issue 16: reload)
    private volatile DatabaseConfig config;
    private volatile PgsplitConfig root;
    private final PoolManager pools;
    private volatile Topology topology;
    private volatile ReadBalancer balancer;
    private volatile io.pgsplit.route.FunctionCatalog catalog = io.pgsplit.route.FunctionCatalog.EMPTY;

    public DatabaseRuntime(String name, PgsplitConfig root, PoolManager pools) {
        this.name = name;
        this.root = root;
        this.config = root.databases().get(name);
        this.pools = pools;
        this.topology = Topology.of(name, config);
        this.balancer = new ReadBalancer(topology, config.effectiveLoadBalancing(root.routing()),
                config.effectivePrimaryReads(root.routing()));
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
    public void markStale(String serverStatement, long preparedAt, byte[] error) {
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
    public byte[] staleError(String serverStatement, long parsedAt) {
        StaleMark mark = staleBefore.isEmpty() ? null : staleBefore.get(serverStatement);
        return mark != null && parsedAt <= mark.before() ? mark.error() : null;
    }

    public io.pgsplit.route.FunctionCatalog catalog() {
        return catalog;
    }

    public void catalog(io.pgsplit.route.FunctionCatalog catalog) {
        this.catalog = catalog;
    }

    public String name() {
        return name;
    }

    public Topology topology() {
        return topology;
    }

    /** The primary now (it may change at run time: take it once per decision). */
    public Node primary() {
        return topology.primary();
    }

    public List<Node> replicas() {
        return topology.replicas();
    }

    public List<Node> nodes() {
        return topology.nodes();
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
        PoolConfig settings = root.poolFor(name, user.name());
        return pools.pool(node, credentials(user, null), settings);
    }

    /** How {@code user} logs in to this database's servers, under {@code applicationName} (null: pgsplit). */
    public ServerCredentials credentials(UserConfig user, String applicationName) {
        String password = user.serverPassword();
        // issue 15: without a server password, a user with a stored verifier or hash logs in with its clients' keys
        io.pgsplit.auth.PassThroughSecret passThrough = (password == null || password.isEmpty())
                && user.password() != null && !io.pgsplit.config.PasswordFormats.isPlaintext(user.password())
                ? passThroughs.of(user.serverUser()) : null;
        return new ServerCredentials(user.serverUser(), password == null || password.isEmpty() ? null : password,
                config.serverDatabase(), applicationName, passThrough, serverTls);
    }

    private io.pgsplit.auth.PassThroughSecrets passThroughs = new io.pgsplit.auth.PassThroughSecrets();

    public void passThroughs(io.pgsplit.auth.PassThroughSecrets secrets) {
        this.passThroughs = secrets;
    }

    /** Issue 15: TLS to this database's servers, null = plaintext. */
    private io.pgsplit.tls.ServerTls serverTls;

    public void serverTls(io.pgsplit.tls.ServerTls tls) {
        this.serverTls = tls;
    }

    public io.pgsplit.tls.ServerTls serverTls() {
        return serverTls;
    }

    // ---- issue 16: reload ----

    /**
     * Applies a new configuration of this database without disturbing its clients: a new {@link Topology} keeps the
     * nodes whose address, weight and group are unchanged (and with them their pools and health); a node added
     * joins; one removed (or moved, re-weighted or regrouped: it is replaced by a new node) leaves, and its
     * connections close as they are released, so running transactions finish. Pool settings of existing pools
     * change in place. Returns one line per change.
     */
    public synchronized List<String> reconfigure(PgsplitConfig newRoot) {
        List<String> notes = new java.util.ArrayList<>();
        DatabaseConfig next = newRoot.databases().get(name);
        Topology old = topology;
        // Membership follows the file; roles do not: they are what the health checks last found (issue 14), so a
        // reload after a failover keeps writing to the promoted server, not to the one the file names first.
        List<Node> members = new java.util.ArrayList<>();
        members.add(reuseOrAdd(old, next.primaryName(), next.primary().host(), next.primary().port(), 1, null, notes));
        for (io.pgsplit.config.ReplicaConfig r : next.replicas()) {
            members.add(reuseOrAdd(old, r.name(), r.host(), r.port(), r.weight(), r.group(), notes));
        }
        for (Node n : old.nodes()) {
            if (!members.contains(n)) {
                retire(n);
                notes.add("database " + name + ": server " + n.name() + " " + n.address()
                        + " removed (its connections close as their transactions end)");
            }
        }
        Node primary = members.contains(old.primary()) ? old.primary() : members.get(0);
        List<Node> replicas = new java.util.ArrayList<>(members);
        replicas.remove(primary);
        Topology fresh = new Topology(name, primary, replicas);
        fresh.assignPrimary(primary); // roles of reused nodes as the topology says
        io.pgsplit.config.LoadBalancing lb = next.effectiveLoadBalancing(newRoot.routing());
        io.pgsplit.config.PrimaryReads pr = next.effectivePrimaryReads(newRoot.routing());
        if (lb != config.effectiveLoadBalancing(root.routing()) || pr != config.effectivePrimaryReads(root.routing())) {
            notes.add("database " + name + ": load_balancing " + lb.yamlName() + ", primary_reads " + pr.yamlName());
        }
        for (java.util.Map.Entry<Node, java.util.concurrent.ConcurrentHashMap<String, Pool>> e : poolsByNode.entrySet()) {
            for (java.util.Map.Entry<String, Pool> byUser : e.getValue().entrySet()) {
                PoolConfig s = newRoot.poolFor(name, byUser.getKey());
                if (!s.equals(byUser.getValue().settings())) {
                    byUser.getValue().settings(s);
                    notes.add("database " + name + ": pool " + byUser.getKey() + "@" + e.getKey().name()
                            + " settings changed (pool_size " + s.poolSize() + ")");
                }
            }
        }
        balancer = new ReadBalancer(fresh, lb, pr);
        topology = fresh;
        config = next;
        root = newRoot;
        return notes;
    }

    /** The node of {@code old} with exactly this name, address, weight and group, else a new one (noted). */
    private Node reuseOrAdd(Topology old, String server, String host, int port, int weight, String group,
                            List<String> notes) {
        for (Node n : old.nodes()) {
            if (n.name().equals(server) && n.host().equals(host) && n.port() == port && n.weight() == weight
                    && java.util.Objects.equals(n.group(), group)) {
                return n;
            }
        }
        Node added = new Node(server, Node.Role.REPLICA, host, port, weight, group);
        notes.add("database " + name + ": server " + server + " " + added.address() + " weight " + weight
                + (group == null ? "" : " group " + group) + " added");
        return added;
    }

    /** A node leaving the configuration: no new work, its connections closed as they come back. */
    private void retire(Node node) {
        node.connectFailed("removed from the configuration by a reload");
        java.util.concurrent.ConcurrentHashMap<String, Pool> byUser = poolsByNode.remove(node);
        if (byUser != null) {
            byUser.values().forEach(Pool::reconnect);
        }
    }

    /** Every pool of this database (all nodes and users): a database removed by a reload drains them. */
    public List<Pool> allPools() {
        List<Pool> all = new java.util.ArrayList<>();
        poolsByNode.values().forEach(m -> all.addAll(m.values()));
        return all;
    }

    public boolean primaryServesReads() {
        return balancer.primaryServesReads();
    }

    public boolean primaryInReadRotation() {
        return balancer.primaryInReadRotation();
    }

    /** Replicas that may take reads now. */
    public int replicasUp() {
        return topology.readCandidateCount();
    }

    /** A node for a read: a replica by the configured balancing, or the primary per primary_reads; null if none. */
    public Node pickReadNode(Node exclude) {
        return balancer.pickReadNode(exclude);
    }

    /**
     * As {@link #pickReadNode(Node)}, among the replicas {@code filter} admits for a read that needs WAL position
     * {@code minLsn} replayed (the causal-reads gate: lag limits, replayed positions).
     */
    public Node pickReadNode(Node exclude, io.pgsplit.topology.ReplicaFilter filter, long minLsn) {
        return balancer.pickReadNode(exclude, filter, minLsn);
    }

    /** A replica by name, or one of a group, that is up; null if none. */
    public Node pickNamed(String nameOrGroup, Node exclude) {
        return balancer.pickNamed(nameOrGroup, exclude);
    }

    /** As {@link #pickNamed(String, Node)}, among the replicas {@code filter} admits for {@code minLsn}. */
    public Node pickNamed(String nameOrGroup, Node exclude, io.pgsplit.topology.ReplicaFilter filter, long minLsn) {
        return balancer.pickNamed(nameOrGroup, exclude, filter, minLsn);
    }

    /**
     * A pool of its own (one connection, never a client's) on {@code node}, logged in as the first configured
     * user, for pgsplit's own queries there: the WAL-position probes of causal reads.
     */
    public Pool privatePool(Node node, String applicationName) {
        UserConfig user = root.users().values().iterator().next();
        PoolConfig settings = root.pool().toBuilder().poolSize(1).minPoolSize(0).reservePoolSize(0)
                .maxDbConnections(0).maxUserConnections(0).queryWaitTimeout(java.time.Duration.ofSeconds(10))
                .serverIdleTimeout(java.time.Duration.ZERO).serverLifetime(java.time.Duration.ZERO)
                .serverResetQuery("").preparedStatementCacheSize(1).build();
        return pools.privatePool(node, credentials(user, applicationName), settings);
    }
}
