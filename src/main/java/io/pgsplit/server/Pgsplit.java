package io.pgsplit.server;

import io.pgsplit.session.RouterContext;
import io.pgsplit.config.ConfigException;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.ha.HealthMonitor;
import io.pgsplit.pool.ServerCredentials;
import io.pgsplit.route.rules.RoutingRules;
import io.pgsplit.route.rules.RulesWatcher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running router: the server plus what runs beside it (function catalog refresh, rules reload).
 * What {@code pgsplit run} and {@code pgsplit demo} start, and what tests embed.
 */
public final class Pgsplit implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Pgsplit.class);

    private final PgsplitServer server;
    private final CatalogRefresher catalog;
    /** Health checks and role discovery, by database name (started anew when a reload changes the servers). */
    private volatile Map<String, HealthMonitor> health;
    private final Runnable hangup = this::onHangup;
    private final Runnable tlsReload = () -> context().clientTls().reload();
    private volatile RoutingRules rules;
    private RulesWatcher watcher;
    private volatile boolean closed;
    /** The Prometheus endpoint (admin.metrics), or null. */
    private volatile io.pgsplit.metrics.MetricsEndpoint metrics;

    private Pgsplit(PgsplitServer server, CatalogRefresher catalog, Map<String, HealthMonitor> health,
                    RoutingRules rules) {
        this.server = server;
        this.catalog = catalog;
        this.health = health;
        this.rules = rules;
    }

    /**
     * Starts the router. An invalid rules file ({@code routing.rules}) stops the start, with every error in the
     * exception; once running, the rules reload on SIGHUP and when the file changes.
     */
    public static Pgsplit start(PgsplitConfig config) throws InterruptedException, ConfigException {
        RoutingRules rules = RulesSupport.load(config);
        PgsplitServer server = new PgsplitServer(config);
        RulesSupport.install(server.context(), rules);
        server.start();
        // Every server is checked, and the roles learned, before the first client is served; the catalog is
        // then read from the primary found.
        Map<String, HealthMonitor> health = startHealthMonitors(server, config);
        CatalogRefresher catalog = new CatalogRefresher(server.context(), server.group());
        catalog.start();
        // WAL positions of the primary and the replicas, for causal reads and the lag limits
        server.context().readGates().values().forEach(io.pgsplit.consistency.ReadGate::start);
        Pgsplit p = new Pgsplit(server, catalog, health, rules);
        if (server.context().clientTls().enabled()) { // issue 15: certificates reload on SIGHUP
            RulesSupport.onHangup(p.tlsReload);
        }
        server.context().admin().operator(p.consoleOperator()); // issue 16: RELOAD, SHUTDOWN, SHOW RULES
        if (config.admin().metrics() != null) {
            try {
                p.metrics = io.pgsplit.metrics.MetricsEndpoint.start(config.admin().metrics(),
                        server.context().stats(), server.context().admin());
            } catch (java.io.IOException e) {
                p.close();
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        if (config.source() != null && config.routing().rulesFile() == null) {
            RulesSupport.onHangup(p.hangup); // issue 16: SIGHUP reloads the configuration file
        }
        if (config.routing().rulesFile() != null) {
            log.info("routing rules from {}: {} rules, {} function declarations", config.routing().rulesFile(),
                    rules.rules().size(), rules.functionDeclarationCount());
            RulesSupport.onHangup(p.hangup);
            synchronized (p) {
                p.watcher = RulesWatcher.start(config.routing().rulesFile(), p::reloadRules);
            }
        }
        return p;
    }

    private static Map<String, HealthMonitor> startHealthMonitors(PgsplitServer server, PgsplitConfig config)
            throws InterruptedException {
        return startHealthMonitors(server, config, true);
    }

    /**
     * A health monitor per database, started; with {@code awaitFirstRound} (at start-up) returns once every
     * server answered its first check or the check timeout passed.
     */
    private static Map<String, HealthMonitor> startHealthMonitors(PgsplitServer server, PgsplitConfig config,
                                                                  boolean awaitFirstRound) throws InterruptedException {
        Map<String, HealthMonitor> monitors = new LinkedHashMap<>();
        UserConfig user = config.ha().checkUser() != null ? config.users().get(config.ha().checkUser())
                : config.users().values().stream().findFirst().orElse(null);
        if (user == null) {
            return monitors;
        }
        List<CompletableFuture<Void>> firstRounds = new ArrayList<>();
        server.context().databases().forEach((name, db) -> {
            // the database's own server TLS and pass-through keys, like every other connection to its servers
            HealthMonitor m = new HealthMonitor(db.topology(), server.pools(), db.credentials(user, null),
                    config.ha(), config.databases().get(name).patroni());
            monitors.put(name, m);
            firstRounds.add(m.start());
        });
        if (!awaitFirstRound) {
            return monitors;
        }
        try {
            CompletableFuture.allOf(firstRounds.toArray(CompletableFuture[]::new))
                    .get(config.ha().checkTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("not every server answered its first health check: {}", e.toString());
        }
        server.context().databases().forEach((name, db) -> log.info("database \"{}\": {}", name,
                db.topology().describe()));
        return monitors;
    }

    /** The health monitor of database {@code name} (null if no user is configured to check with). */
    public HealthMonitor health(String name) {
        return health.get(name);
    }

    /**
     * Re-reads the rules file. Valid: the new rules (and function declarations) apply to the next statement,
     * match counts of rules kept by name go on, and connected clients are not disturbed. Invalid: every error
     * is logged and the old rules stay. Returns whether the new file was installed (false without a rules file).
     */
    public synchronized boolean reloadRules() {
        PgsplitConfig config = server.context().config();
        if (closed || config.routing().rulesFile() == null) {
            return false;
        }
        RoutingRules fresh;
        try {
            fresh = RulesSupport.load(config);
        } catch (ConfigException e) {
            log.error("routing rules NOT reloaded, keeping the previous rules: {} has {} error(s)",
                    config.routing().rulesFile(), e.errors().size());
            RulesSupport.forEachError(e, err -> log.error("  {}", err));
            return false;
        }
        RoutingRules old = rules;
        Map<String, Long> before = old.counts();
        fresh.inheritCounters(old);
        RulesSupport.install(server.context(), fresh);
        rules = fresh;
        log.info("routing rules reloaded from {}: {} rules, {} function declarations; matches so far: {}",
                config.routing().rulesFile(), fresh.rules().size(), fresh.functionDeclarationCount(), before);
        return true;
    }

    /** What the admin console asks of this router (issue 16). */
    private io.pgsplit.admin.Operator consoleOperator() {
        return new io.pgsplit.admin.Operator() {
            @Override
            public List<String> reload() throws Exception {
                return Pgsplit.this.reload();
            }

            @Override
            public void shutdown(boolean waitForClients) {
                Pgsplit.this.shutdown(waitForClients);
            }

            @Override
            public boolean shuttingDown() {
                return closed;
            }

            @Override
            public Map<String, Long> ruleCounts() {
                return Pgsplit.this.ruleCounts();
            }
        };
    }

    /** SIGHUP: the configuration file (when started from one), else the rules file. Errors are logged. */
    private void onHangup() {
        if (server.context().config().source() == null) {
            reloadRules();
            return;
        }
        try {
            reload();
        } catch (ConfigException e) {
            // logged by reload()
        }
    }

    /**
     * RELOAD and SIGHUP (issue 16): re-reads the configuration file and its rules file and applies them without
     * dropping a client (reload/ConfigReload). Returns one line per change; a new file with errors changes nothing
     * and throws with every error (also logged). Without a configuration file (embedded, tests): the rules only.
     */
    public synchronized List<String> reload() throws ConfigException {
        PgsplitConfig config = server.context().config();
        List<String> notes = new ArrayList<>();
        if (closed) {
            throw new IllegalStateException("pgsplit is shutting down");
        }
        if (config.source() == null) {
            if (config.routing().rulesFile() == null) {
                notes.add("nothing to reload: started without a configuration file or rules file");
                return notes;
            }
            if (!reloadRules()) {
                RulesSupport.load(config); // throws with every error
            }
            notes.add("routing rules reloaded from " + config.routing().rulesFile() + ": " + rules.rules().size()
                    + " rules");
            return notes;
        }
        PgsplitConfig next;
        RoutingRules fresh;
        try {
            next = io.pgsplit.config.ConfigLoader.load(config.source());
            fresh = RulesSupport.load(next);
        } catch (ConfigException e) {
            log.error("configuration NOT reloaded, the running one stays: {} error(s)", e.errors().size());
            RulesSupport.forEachError(e, err -> log.error("  {}", err));
            throw e;
        }
        notes.addAll(io.pgsplit.reload.ConfigReload.apply(server.context(), server.pools(), next));
        // the databases' topologies may be new objects now (servers added or removed): check those
        Map<String, HealthMonitor> before = health;
        try {
            health = startHealthMonitors(server, server.context().config(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        before.values().forEach(HealthMonitor::close);
        fresh.inheritCounters(rules);
        RulesSupport.install(server.context(), fresh);
        rules = fresh;
        if (next.routing().rulesFile() != null) {
            notes.add("routing rules from " + next.routing().rulesFile() + ": " + fresh.rules().size() + " rules");
        }
        catalog.refreshAll(); // function volatility of databases just added
        if (notes.isEmpty()) {
            notes.add("configuration reloaded from " + config.source() + ": no changes");
        }
        log.info("configuration reloaded from {}:", config.source());
        notes.forEach(n -> log.info("  {}", n));
        return notes;
    }

    /**
     * SHUTDOWN from the console, on a thread of its own (never an event loop): now, or once every client has
     * left ({@code waitForClients}: new connections are refused meanwhile).
     */
    public void shutdown(boolean waitForClients) {
        Thread t = new Thread(() -> {
            if (waitForClients) {
                server.stopAccepting();
                while (!closed && server.context().clientCount() > 0) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            log.info("pgsplit: SHUTDOWN from the admin console");
            close();
        }, "pgsplit-admin-shutdown");
        t.setDaemon(false);
        t.start();
    }

    /** The rules in use. */
    public RoutingRules rules() {
        return rules;
    }

    /** Matches per rule name of the rules in use (counts of same-named rules carry over reloads). */
    public Map<String, Long> ruleCounts() {
        return rules.counts();
    }

    public int port() {
        return server.port();
    }

    /** Whether it has stopped (close(), or a console SHUTDOWN that completed). */
    public boolean isClosed() {
        return closed;
    }

    /** The metrics endpoint's port, or -1 without one. */
    public int metricsPort() {
        return metrics == null ? -1 : metrics.port();
    }

    public PgsplitServer server() {
        return server;
    }

    public RouterContext context() {
        return server.context();
    }

    public CatalogRefresher catalog() {
        return catalog;
    }

    public void awaitClose() throws InterruptedException {
        server.awaitClose();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RulesSupport.removeHangup(hangup);
        RulesSupport.removeHangup(tlsReload);
        if (watcher != null) {
            watcher.close();
        }
        catalog.stop();
        server.context().readGates().values().forEach(io.pgsplit.consistency.ReadGate::close);
        health.values().forEach(HealthMonitor::close);
        if (metrics != null) {
            metrics.close();
        }
        server.close();
        log.info("pgsplit stopped");
    }
}
