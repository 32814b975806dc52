package io.pgsplit.session;

import io.pgsplit.consistency.ReadGate;
import io.pgsplit.pool.DatabaseRuntime;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.session.CancelRegistry;
import io.pgsplit.pool.PoolManager;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.pgsplit.route.Classification;
import io.pgsplit.route.ParsedQuery;
import io.pgsplit.route.QueryFingerprint;
import io.pgsplit.route.ClassifierSettings;
import io.pgsplit.route.Router;
import io.pgsplit.route.SqlClassifier;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/** What every client session shares: the config, databases, classifier, router and cancel keys. */
public final class RouterContext {
    /** Replaced as a whole by a reload (issue 16); sessions read it per event. */
    private volatile PgsplitConfig config;
    /** Copy-on-write (a reload adds or removes databases): readers iterate a snapshot without locks. */
    private volatile Map<String, DatabaseRuntime> databases = Map.of();
    private final SqlClassifier classifier;
    private final Router router;
    private final CancelRegistry cancels = new CancelRegistry();
    private final AtomicInteger clients = new AtomicInteger();
    // ---- issue 16: counters, and the admin console (null until the server installs it) ----
    private final io.pgsplit.metrics.RouterStats stats = new io.pgsplit.metrics.RouterStats();
    private volatile io.pgsplit.admin.AdminConsole admin;

    public io.pgsplit.metrics.RouterStats stats() {
        return stats;
    }

    public io.pgsplit.admin.AdminConsole admin() {
        return admin;
    }

    public void admin(io.pgsplit.admin.AdminConsole console) {
        this.admin = console;
    }
    // ----
    /** Statements at least this long are parsed off the event loop on a cache miss (a 1 KB parse takes ~0.5 ms). */
    static final int OFFLOAD_LENGTH = 1024;
    private final java.util.concurrent.ExecutorService classifierPool = java.util.concurrent.Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors() / 2), r -> {
                Thread t = new Thread(r, "pgsplit-classifier");
                t.setDaemon(true);
                return t;
            });
    private final Cache<String, ParsedQuery> fingerprints = Caffeine.newBuilder()
            .maximumWeight(8L << 20).weigher((String k, ParsedQuery v) -> 64 + 2 * k.length()).build();
    /**
     * What clients were told at log-in (ParameterStatus), by database, user and start-up parameters; see
     * LoginHandler#finish. Bounded: cleared when full (entries are cheap to learn again).
     */
    private final Map<String, Map<String, String>> knownLogins = new java.util.concurrent.ConcurrentHashMap<>();

    public Map<String, String> knownLogin(String key) {
        return knownLogins.get(key);
    }

    public void rememberLogin(String key, Map<String, String> report) {
        if (knownLogins.size() >= 1024) {
            knownLogins.clear();
        }
        knownLogins.put(key, Map.copyOf(report));
    }

    public RouterContext(PgsplitConfig config, PoolManager pools, Router router, Set<String> readOnlyFunctions,
                         Set<String> writeFunctions) {
        this.config = config;
        this.pools = pools;
        cancels.peerId(config.listen().peerId()); // issue 16: cancel keys carry the instance id
        Map<String, DatabaseRuntime> dbs = new LinkedHashMap<>();
        for (String db : config.databases().keySet()) {
            DatabaseRuntime runtime = newDatabase(db, config);
            dbs.put(db, runtime);
            readGates.put(db, newReadGate(db, runtime, config));
        }
        this.databases = java.util.Collections.unmodifiableMap(dbs);
        this.authQuery = new io.pgsplit.authquery.AuthQueryService(config.authQuery(), pools,
                config.pool(), pools.eventLoopGroup());
        ClassifierSettings d = ClassifierSettings.defaults();
        this.classifier = new SqlClassifier(new ClassifierSettings(config.routing().maxStatementLength(),
                config.routing().maxNestingDepth(), config.routing().classifierCacheBytes(), d.parseTimeout(),
                readOnlyFunctions, writeFunctions));
        this.router = router;
    }

    public PgsplitConfig config() {
        return config;
    }

    /**
     * Issue 16, reload: the configuration new sessions see, and the databases they may log in to (the runtimes of
     * kept databases are reconfigured in place by the caller). Sessions already logged in keep what they have.
     */
    public synchronized void reconfigure(PgsplitConfig newConfig, Map<String, DatabaseRuntime> newDatabases) {
        // A database added, or whose nodes changed, gets a new causal-reads gate over its current nodes (new
        // sessions use it); the old one is closed, so sessions still holding it read from the primary.
        for (Map.Entry<String, DatabaseRuntime> e : newDatabases.entrySet()) {
            List<io.pgsplit.topology.Node> nodes = e.getValue().nodes();
            if (!nodes.equals(gateNodes.get(e.getKey()))) {
                ReadGate gate = newReadGate(e.getKey(), e.getValue(), newConfig);
                gate.start();
                ReadGate old = readGates.put(e.getKey(), gate);
                if (old != null) {
                    old.close(); // stops probing nodes that left; its waiting reads settle as timed out
                }
            }
        }
        for (String gone : new java.util.ArrayList<>(readGates.keySet())) {
            if (!newDatabases.containsKey(gone)) {
                gateNodes.remove(gone);
                readGates.remove(gone).close();
            }
        }
        this.databases = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(newDatabases));
        this.config = newConfig;
    }

    private final PoolManager pools;
    /** The nodes each gate was made for (issue 16: a reload that changes them makes a new gate). */
    private final Map<String, List<io.pgsplit.topology.Node>> gateNodes = new java.util.concurrent.ConcurrentHashMap<>();

    /** The runtime of database {@code db} of {@code cfg}: its servers, pools, server TLS and pass-through keys. */
    public DatabaseRuntime newDatabase(String db, PgsplitConfig cfg) {
        DatabaseRuntime runtime = new DatabaseRuntime(db, cfg, pools);
        runtime.passThroughs(passThroughs); // issue 15
        try {
            runtime.serverTls(io.pgsplit.tls.ServerTls.of(cfg.databases().get(db).serverTls()));
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException("database \"" + db + "\": server_tls: " + e.getMessage(), e);
        }
        return runtime;
    }

    private ReadGate newReadGate(String db, DatabaseRuntime runtime, PgsplitConfig cfg) {
        gateNodes.put(db, runtime.nodes());
        return new ReadGate(db, runtime.primary(), runtime.replicas(),
                node -> runtime.privatePool(node, ReadGate.PROBE_APPLICATION_NAME),
                pools.eventLoopGroup().next(), cfg.routing());
    }

    /** Causal and session reads and the lag limits of each database (package consistency). */
    private final Map<String, ReadGate> readGates = new java.util.concurrent.ConcurrentHashMap<>();

    /** The causal-reads gate of database {@code name}, or null. */
    public ReadGate reads(String name) {
        return readGates.get(name);
    }

    public Map<String, ReadGate> readGates() {
        return readGates;
    }

    // ---- issue 15: client TLS (set by PgsplitServer) ----
    private volatile io.pgsplit.tls.ClientTls clientTls = io.pgsplit.tls.ClientTls.disabled();

    public io.pgsplit.tls.ClientTls clientTls() {
        return clientTls;
    }

    public void clientTls(io.pgsplit.tls.ClientTls tls) {
        this.clientTls = tls;
    }

    // ---- issue 15: failed logins (wrong password, unknown or expired user, bad certificate), for metrics ----

    /** Logins refused for their credentials since start (each is also logged with the client's address). */
    public long authFailures() {
        return stats().authFailures();
    }

    void authFailed() {
        stats().authFailed();
    }

    // ---- issue 15: auth_query and pass-through ----
    private final io.pgsplit.auth.PassThroughSecrets passThroughs = new io.pgsplit.auth.PassThroughSecrets();
    private io.pgsplit.authquery.AuthQueryService authQuery;

    public io.pgsplit.auth.PassThroughSecrets passThroughs() {
        return passThroughs;
    }

    public io.pgsplit.authquery.AuthQueryService authQuery() {
        return authQuery;
    }

    public DatabaseRuntime database(String name) {
        return databases.get(name);
    }

    public Map<String, DatabaseRuntime> databases() {
        return databases;
    }

    public SqlClassifier classifier() {
        return classifier;
    }

    public Router router() {
        return router;
    }

    public CancelRegistry cancels() {
        return cancels;
    }

    /**
     * Whether classifying {@code sql} now would run the parser on a long statement (milliseconds):
     * such work goes to {@link #classifierPool()} so it never stalls an event loop.
     */
    public boolean slowToClassify(String sql, boolean standardConformingStrings) {
        if (sql.length() < OFFLOAD_LENGTH || !standardConformingStrings
                || sql.length() > config.routing().maxStatementLength()) {
            return false;
        }
        if (classifier.cachedOrNull(sql) != null) {
            return false;
        }
        String key = QueryFingerprint.of(sql);
        return (key == null || fingerprints.getIfPresent(key) == null) && classifier.needsParser(sql);
    }

    /** Threads for parsing long statements off the event loops. */
    public java.util.concurrent.Executor classifierPool() {
        return classifierPool;
    }

    /**
     * Classifies with the statement cache, and for reads that differ only in literal values (as
     * pgbench's and most ORMs' simple-protocol queries do) with a second cache keyed by
     * {@link QueryFingerprint}, so they are parsed once rather than once per value.
     */
    public Classification classify(String sql, DatabaseRuntime db, boolean standardConformingStrings) {
        if (!standardConformingStrings || sql.length() > config.routing().maxStatementLength()) {
            return classifier.classify(sql, db.catalog(), standardConformingStrings);
        }
        ParsedQuery exact = classifier.cachedOrNull(sql);
        if (exact != null) {
            return classifier.decide(exact, db.catalog());
        }
        String key = QueryFingerprint.of(sql);
        if (key != null) {
            ParsedQuery shared = fingerprints.getIfPresent(key);
            if (shared != null) {
                return classifier.decide(shared, db.catalog());
            }
        }
        if (key != null) {
            // The lexical pass settles most such reads without a parse; its facts do not depend on the literals, so
            // every text of this fingerprint may share them.
            ParsedQuery lexical = classifier.lexicalRead(sql);
            if (lexical != null) {
                fingerprints.put(key, lexical);
                return classifier.decide(lexical, db.catalog());
            }
            // Parse the literal-free text with value lists collapsed: the same answer, minus the cost of
            // parsing 2000 literals. If the reduced text does not parse, fall back to the full text.
            Classification reduced = classifier.classify(QueryFingerprint.collapseLists(key), db.catalog(), true);
            if (reduced.parsed().parsed() && reduced.parsed().statements().size() == 1) {
                fingerprints.put(key, reduced.parsed());
                return reduced;
            }
        }
        String writeKey = key == null ? QueryFingerprint.ofWrite(sql) : null;
        if (writeKey != null) {
            ParsedQuery shared = fingerprints.getIfPresent(writeKey);
            if (shared == null) {
                shared = classifier.sharableWrite(sql);
                if (shared != null) {
                    fingerprints.put(writeKey, shared);
                }
            }
            if (shared != null) {
                return classifier.decide(shared, db.catalog());
            }
        }
        return classifier.classify(sql, db.catalog(), true);
    }

    public int clientOpened() {
        return clients.incrementAndGet();
    }

    public int clientCount() {
        return clients.get();
    }

    public void clientClosed() {
        clients.decrementAndGet();
    }

    public void close() {
        classifierPool.shutdownNow();
    }
}
