package io.pgsplit.server;

import io.pgsplit.session.RouterContext;
import io.pgsplit.config.ConfigException;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.ha.HealthMonitor;
import io.pgsplit.pool.ServerCredentials;
import io.pgsplit.route.rules.RoutingRules;
import io.pgsplit.route.rules.RulesWatcher;
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
    /** Health checks and role discovery, by database name. */
    private final Map<String, HealthMonitor> health;
    private final Runnable hangup = this::reloadRules;
    private final Runnable tlsReload = () -> context().clientTls().reload();
    private volatile RoutingRules rules;
    private RulesWatcher watcher;
    private volatile boolean closed;

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
        Map<String, HealthMonitor> monitors = new LinkedHashMap<>();
        UserConfig user = config.ha().checkUser() != null ? config.users().get(config.ha().checkUser())
                : config.users().values().stream().findFirst().orElse(null);
        if (user == null) {
            return monitors;
        }
        String password = user.serverPassword();
        List<CompletableFuture<Void>> firstRounds = new java.util.ArrayList<>();
        server.context().databases().forEach((name, db) -> {
            HealthMonitor m = new HealthMonitor(db.topology(), server.pools(), new ServerCredentials(user.serverUser(),
                    password == null || password.isEmpty() ? null : password, config.databases().get(name)
                    .serverDatabase()), config.ha(), config.databases().get(name).patroni());
            monitors.put(name, m);
            firstRounds.add(m.start());
        });
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
        server.close();
        log.info("pgsplit stopped");
    }
}
