package io.pgsplit.metrics;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.pgsplit.admin.AdminConsole;
import io.pgsplit.topology.Node;
import io.pgsplit.config.HostPort;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Prometheus endpoint ({@code admin.metrics}): {@code GET /metrics} in the text format, served by the Prometheus
 * Java client's HTTP server on a thread of its own (never an event loop). Gauges and counters are read at scrape
 * time from the same sources as the admin console's SHOW POOLS, SHOW STATS, SHOW NODES and SHOW ROUTING, so the two
 * agree; the latency histograms are fed by the sessions ({@link DatabaseStats}).
 */
public final class MetricsEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);

    private final HTTPServer server;
    private final ExecutorService threads;

    private MetricsEndpoint(HTTPServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    /** Registers the metrics and starts listening on {@code address}. */
    public static MetricsEndpoint start(HostPort address, RouterStats stats, AdminConsole console)
            throws IOException {
        register(stats.registry(), stats, console);
        ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "pgsplit-metrics");
            t.setDaemon(true);
            return t;
        });
        HTTPServer server;
        try {
            server = HTTPServer.builder().hostname(address.host()).port(address.port()).registry(stats.registry())
                    .executorService(threads).buildAndStart();
        } catch (IOException e) {
            threads.shutdownNow();
            throw new IOException("cannot serve metrics on " + address + ": " + e.getMessage(), e);
        }
        log.info("metrics endpoint: http://{}:{}/metrics", address.host(), server.getPort());
        return new MetricsEndpoint(server, threads);
    }

    public int port() {
        return server.getPort();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(server.getPort());
    }

    @Override
    public void close() {
        server.close();
        threads.shutdownNow();
    }

    private static void register(PrometheusRegistry registry, RouterStats stats, AdminConsole console) {
        GaugeWithCallback.builder().name("pgsplit_clients")
                .help("Logged-in clients per pool (SHOW POOLS cl_active, cl_waiting): waiting = for a server "
                        + "connection or a RESUME")
                .labelNames("database", "user", "state")
                .callback(cb -> console.poolCounts().forEach(p -> {
                    cb.call(p.clActive(), p.database(), p.user(), "active");
                    cb.call(p.clWaiting(), p.database(), p.user(), "waiting");
                })).register(registry);
        GaugeWithCallback.builder().name("pgsplit_server_connections")
                .help("Server connections per pool, all nodes (SHOW POOLS sv_active, sv_idle, sv_login)")
                .labelNames("database", "user", "state")
                .callback(cb -> console.poolCounts().forEach(p -> {
                    cb.call(p.svActive(), p.database(), p.user(), "active");
                    cb.call(p.svIdle(), p.database(), p.user(), "idle");
                    cb.call(p.svLogin(), p.database(), p.user(), "login");
                })).register(registry);
        GaugeWithCallback.builder().name("pgsplit_pool_maxwait_seconds")
                .help("How long the oldest waiting client of a pool has waited (SHOW POOLS maxwait)")
                .labelNames("database", "user")
                .callback(cb -> console.poolCounts().forEach(p -> cb.call(p.maxWaitMicros() / 1e6, p.database(),
                        p.user()))).register(registry);
        GaugeWithCallback.builder().name("pgsplit_database_paused").help("1 while PAUSE holds the database")
                .labelNames("database")
                .callback(cb -> console.databases().forEach(d -> cb.call(console.isPaused(d) ? 1 : 0, d)))
                .register(registry);
        traffic(registry, stats, console);
        nodes(registry, console);
        CounterWithCallback.builder().name("pgsplit_routed_total")
                .help("Units of work sent, by node role and reason (SHOW ROUTING)")
                .labelNames("database", "target", "reason")
                .callback(cb -> {
                    for (String d : console.databases()) {
                        DatabaseStats s = stats.database(d);
                        for (RouteReason r : RouteReason.values()) {
                            cb.call(s.routedCount(true, r), d, "primary", r.label);
                            cb.call(s.routedCount(false, r), d, "replica", r.label);
                        }
                    }
                }).register(registry);
        CounterWithCallback.builder().name("pgsplit_write_retries_total")
                .help("Statements a replica refused as read-only and that ran again on the primary")
                .labelNames("database")
                .callback(cb -> console.databases().forEach(d -> cb.call(stats.database(d).writeRetries(), d)))
                .register(registry);
        CounterWithCallback.builder().name("pgsplit_auth_failures_total")
                .help("Client log-ins refused (wrong password or unknown user)")
                .callback(cb -> cb.call(stats.authFailures())).register(registry);
        CounterWithCallback.builder().name("pgsplit_classifier_cache_requests_total")
                .help("Statement classification cache look-ups (SHOW CLASSIFIER)").labelNames("result")
                .callback(cb -> {
                    CacheStats c = console.classifierCache();
                    cb.call(c.hitCount(), "hit");
                    cb.call(c.missCount(), "miss");
                }).register(registry);
        CounterWithCallback.builder().name("pgsplit_classifier_cache_evictions_total")
                .help("Statement classifications evicted from the cache")
                .callback(cb -> cb.call(console.classifierCache().evictionCount())).register(registry);
    }

    /** SHOW STATS_TOTALS' counters, per database. */
    private static void traffic(PrometheusRegistry registry, RouterStats stats, AdminConsole console) {
        counter(registry, stats, console, "pgsplit_transactions_total",
                "Transactions (SHOW STATS total_xact_count)", DatabaseStats.Totals::transactions, 1);
        counter(registry, stats, console, "pgsplit_queries_total", "Queries (SHOW STATS total_query_count)",
                DatabaseStats.Totals::queries, 1);
        counter(registry, stats, console, "pgsplit_received_bytes_total",
                "Bytes received from clients (SHOW STATS total_received)", DatabaseStats.Totals::bytesReceived, 1);
        counter(registry, stats, console, "pgsplit_sent_bytes_total",
                "Bytes sent to clients (SHOW STATS total_sent)", DatabaseStats.Totals::bytesSent, 1);
        counter(registry, stats, console, "pgsplit_server_assignments_total",
                "Server connections handed to clients (SHOW STATS total_server_assignment_count)",
                DatabaseStats.Totals::serverAssignments, 1);
        counter(registry, stats, console, "pgsplit_client_logins_total", "Client log-ins",
                DatabaseStats.Totals::logins, 1);
    }

    private static void counter(PrometheusRegistry registry, RouterStats stats, AdminConsole console, String name,
                                String help, java.util.function.ToLongFunction<DatabaseStats.Totals> value,
                                double scale) {
        CounterWithCallback.builder().name(name).help(help).labelNames("database")
                .callback(cb -> console.databases().forEach(d -> cb.call(
                        value.applyAsLong(stats.database(d).totals()) * scale, d)))
                .register(registry);
    }

    /** SHOW NODES: health and connections per node. */
    private static void nodes(PrometheusRegistry registry, AdminConsole console) {
        GaugeWithCallback.builder().name("pgsplit_node_up")
                .help("1 when the node takes work, 0 while it is marked down (SHOW NODES health)")
                .labelNames("database", "node", "role")
                .callback(cb -> console.nodeCounts().forEach(n -> cb.call(n.node().isUp() ? 1 : 0, n.database(),
                        n.node().name(), role(n.node())))).register(registry);
        GaugeWithCallback.builder().name("pgsplit_node_server_connections")
                .help("Server connections to the node, all users (SHOW NODES sv_active, sv_idle, sv_login)")
                .labelNames("database", "node", "state")
                .callback(cb -> console.nodeCounts().forEach(n -> {
                    cb.call(n.svActive(), n.database(), n.node().name(), "active");
                    cb.call(n.svIdle(), n.database(), n.node().name(), "idle");
                    cb.call(n.svLogin(), n.database(), n.node().name(), "login");
                })).register(registry);
        GaugeWithCallback.builder().name("pgsplit_node_lag_bytes")
                .help("Replay lag of a replica behind the primary, in bytes (SHOW NODES lag_bytes; absent until "
                        + "measured)")
                .labelNames("database", "node")
                .callback(cb -> console.nodeCounts().forEach(n -> {
                    io.pgsplit.topology.ReplicationState r = n.node().replication();
                    if (r.known() && r.lagBytes() >= 0) {
                        cb.call(r.lagBytes(), n.database(), n.node().name());
                    }
                })).register(registry);
        GaugeWithCallback.builder().name("pgsplit_node_lag_seconds")
                .help("Replay lag of a replica in time (SHOW NODES lag_seconds; absent until measured)")
                .labelNames("database", "node")
                .callback(cb -> console.nodeCounts().forEach(n -> {
                    io.pgsplit.topology.ReplicationState r = n.node().replication();
                    if (r.known() && r.lagMillis() >= 0) {
                        cb.call(r.lagMillis() / 1000.0, n.database(), n.node().name());
                    }
                })).register(registry);
        GaugeWithCallback.builder().name("pgsplit_node_outstanding")
                .help("Statements sent to the node and not answered yet")
                .labelNames("database", "node")
                .callback(cb -> console.nodeCounts().forEach(n -> cb.call(n.node().outstanding.get(), n.database(),
                        n.node().name()))).register(registry);
    }

    private static String role(Node n) {
        return n.isPrimary() ? "primary" : "replica";
    }
}
