package io.pgsplit.server;

import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.route.Classification;
import io.pgsplit.route.ClassifierSettings;
import io.pgsplit.route.Router;
import io.pgsplit.route.SqlClassifier;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/** What every client session shares: the config, databases, classifier, router and cancel keys. */
public final class RouterContext {
    private final PgsplitConfig config;
    private final Map<String, DatabaseRuntime> databases = new LinkedHashMap<>();
    private final SqlClassifier classifier;
    private final Router router;
    private final CancelRegistry cancels = new CancelRegistry();
    private final AtomicInteger clients = new AtomicInteger();
    /**
     * What clients were told at log-in (ParameterStatus), by database, user and start-up parameters; see
     * ClientSession#authenticated. Bounded: cleared when full (entries are cheap to learn again).
     */
    private final Map<String, Map<String, String>> knownLogins = new java.util.concurrent.ConcurrentHashMap<>();

    Map<String, String> knownLogin(String key) {
        return knownLogins.get(key);
    }

    void rememberLogin(String key, Map<String, String> report) {
        if (knownLogins.size() >= 1024) {
            knownLogins.clear();
        }
        knownLogins.put(key, Map.copyOf(report));
    }

    public RouterContext(PgsplitConfig config, PoolManager pools, Router router, Set<String> readOnlyFunctions,
                         Set<String> writeFunctions) {
        this.config = config;
        for (String db : config.databases().keySet()) {
            databases.put(db, new DatabaseRuntime(db, config, pools));
        }
        ClassifierSettings d = ClassifierSettings.defaults();
        this.classifier = new SqlClassifier(new ClassifierSettings(config.routing().maxStatementLength(),
                config.routing().maxNestingDepth(), config.routing().classifierCacheBytes(), d.parseTimeout(),
                readOnlyFunctions, writeFunctions));
        this.router = router;
    }

    public PgsplitConfig config() {
        return config;
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

    Classification classify(String sql, DatabaseRuntime db, boolean standardConformingStrings) {
        return classifier.classify(sql, db.catalog(), standardConformingStrings);
    }

    int clientOpened() {
        return clients.incrementAndGet();
    }

    int clientCount() {
        return clients.get();
    }

    void clientClosed() {
        clients.decrementAndGet();
    }
}
