package io.pgsplit.metrics;

import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters one router keeps: {@link DatabaseStats} per database, authentication failures, and the Prometheus
 * registry whose histograms they feed. The admin console and the metrics endpoint both read these, so their
 * numbers agree.
 */
public final class RouterStats {
    /** PgBouncer's default stats_period: SHOW STATS_AVERAGES averages over at least this window. */
    static final long PERIOD_NANOS = 60_000_000_000L;
    private static final double[] LATENCY_BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
            0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram queryLatency = latency("pgsplit_query_duration_seconds",
            "Time from a query's arrival to its ReadyForQuery");
    private final Histogram transactionLatency = latency("pgsplit_transaction_duration_seconds",
            "Time from a transaction's first statement to its end (ReadyForQuery with status idle)");
    private final Histogram waitLatency = latency("pgsplit_client_wait_seconds",
            "Time a client waited for a server connection, per assignment (0 when one was idle)");
    private final Map<String, DatabaseStats> databases = new ConcurrentHashMap<>();
    private final LongAdder authFailures = new LongAdder();
    private final long startNanos = System.nanoTime();
    // averages window (see averages()): guarded by this
    private Map<String, DatabaseStats.Totals> markOld;
    private long markOldAt;
    private Map<String, DatabaseStats.Totals> markNew;
    private long markNewAt;

    private Histogram latency(String name, String help) {
        return Histogram.builder().name(name).help(help).labelNames("database").classicOnly()
                .classicUpperBounds(LATENCY_BUCKETS).register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** The counters of {@code database}, created on first use. */
    public DatabaseStats database(String database) {
        DatabaseStats s = databases.get(database);
        return s != null ? s : databases.computeIfAbsent(database, d -> new DatabaseStats(d,
                queryLatency.labelValues(d), transactionLatency.labelValues(d), waitLatency.labelValues(d)));
    }

    public List<DatabaseStats> all() {
        return new ArrayList<>(databases.values());
    }

    public void authFailed() {
        authFailures.increment();
    }

    public long authFailures() {
        return authFailures.sum();
    }

    /**
     * PgBouncer's averages per database: over a window of one to two stats periods (60-120 s) ending now, or
     * since the start when younger.
     */
    public synchronized Map<String, DatabaseStats.Totals> averages() {
        long now = System.nanoTime();
        Map<String, DatabaseStats.Totals> current = new java.util.LinkedHashMap<>();
        for (DatabaseStats s : databases.values()) {
            current.put(s.database(), s.totals());
        }
        if (markNew == null) {
            markNew = current;
            markNewAt = now;
        } else if (now - markNewAt >= PERIOD_NANOS) {
            markOld = markNew;
            markOldAt = markNewAt;
            markNew = current;
            markNewAt = now;
        }
        Map<String, DatabaseStats.Totals> base = markOld == null ? Map.of() : markOld;
        long from = markOld == null ? startNanos : markOldAt;
        double seconds = (now - from) / 1e9;
        Map<String, DatabaseStats.Totals> out = new java.util.LinkedHashMap<>();
        current.forEach((db, t) -> out.put(db, t.averageSince(base.getOrDefault(db, DatabaseStats.Totals.ZERO),
                seconds)));
        return out;
    }
}
