package io.pgsplit.metrics;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.concurrent.atomic.LongAdder;

/**
 * Traffic counters of one database, as PgBouncer's {@code SHOW STATS} counts them, plus the latency histograms
 * the metrics endpoint serves. Sessions on any event loop add to them: {@link LongAdder}s (a per-thread cell, no
 * contended cache line) and pre-bound histogram points, so counting costs a few nanoseconds per query.
 */
public final class DatabaseStats {
    private final String database;
    final LongAdder serverAssignments = new LongAdder();
    final LongAdder transactions = new LongAdder();
    final LongAdder queries = new LongAdder();
    final LongAdder bytesReceived = new LongAdder();
    final LongAdder bytesSent = new LongAdder();
    final LongAdder transactionMicros = new LongAdder();
    final LongAdder queryMicros = new LongAdder();
    final LongAdder waitMicros = new LongAdder();
    final LongAdder clientParses = new LongAdder();
    final LongAdder serverParses = new LongAdder();
    final LongAdder binds = new LongAdder();
    final LongAdder logins = new LongAdder();
    /** Units sent, by [node role][reason]: index {@code (primary ? 0 : 1) * REASONS + reason.ordinal()}. */
    private final LongAdder[] routed = new LongAdder[2 * REASONS];
    final LongAdder writeRetries = new LongAdder();
    private static final int REASONS = RouteReason.values().length;
    private final DistributionDataPoint queryLatency;
    private final DistributionDataPoint transactionLatency;
    private final DistributionDataPoint waitLatency;

    DatabaseStats(String database, DistributionDataPoint queryLatency, DistributionDataPoint transactionLatency,
                  DistributionDataPoint waitLatency) {
        this.database = database;
        this.queryLatency = queryLatency;
        this.transactionLatency = transactionLatency;
        this.waitLatency = waitLatency;
        for (int i = 0; i < routed.length; i++) {
            routed[i] = new LongAdder();
        }
    }

    /** A unit of work was sent to a primary ({@code toPrimary}) or a replica, for this reason. */
    public void routed(boolean toPrimary, io.pgsplit.route.RouteDecision decision) {
        routed[(toPrimary ? 0 : REASONS) + RouteReason.of(decision).ordinal()].increment();
    }

    /** Units sent so far to the primary or to replicas for {@code reason}. */
    public long routedCount(boolean toPrimary, RouteReason reason) {
        return routed[(toPrimary ? 0 : REASONS) + reason.ordinal()].sum();
    }

    /** A replica refused a statement as read-only and it ran again on the primary. */
    public void writeRetriedOnPrimary() {
        writeRetries.increment();
    }

    public long writeRetries() {
        return writeRetries.sum();
    }

    public String database() {
        return database;
    }

    /** A server connection was handed to a client after {@code waitNanos} of waiting (0 when one was idle). */
    public void assigned(long waitNanos) {
        serverAssignments.increment();
        if (waitNanos > 0) {
            waitMicros.add(waitNanos / 1000);
        }
        waitLatency.observe(waitNanos / 1e9);
    }

    /** A query (one request answered with ReadyForQuery) took {@code nanos}. */
    public void query(long nanos) {
        queries.increment();
        queryMicros.add(nanos / 1000);
        queryLatency.observe(nanos / 1e9);
    }

    /** A transaction (from its first statement to ReadyForQuery 'I') took {@code nanos}. */
    public void transaction(long nanos) {
        transactions.increment();
        transactionMicros.add(nanos / 1000);
        transactionLatency.observe(nanos / 1e9);
    }

    public void received(int bytes) {
        bytesReceived.add(bytes);
    }

    public void sent(int bytes) {
        bytesSent.add(bytes);
    }

    public void clientParse() {
        clientParses.increment();
    }

    public void serverParse() {
        serverParses.increment();
    }

    public void bind() {
        binds.increment();
    }

    public void login() {
        logins.increment();
    }

    /** The counters now. */
    public Totals totals() {
        return new Totals(serverAssignments.sum(), transactions.sum(), queries.sum(), bytesReceived.sum(),
                bytesSent.sum(), transactionMicros.sum(), queryMicros.sum(), waitMicros.sum(), clientParses.sum(),
                serverParses.sum(), binds.sum(), logins.sum());
    }

    /** PgBouncer's per-database totals (times in microseconds). */
    public record Totals(long serverAssignments, long transactions, long queries, long bytesReceived,
                         long bytesSent, long transactionMicros, long queryMicros, long waitMicros,
                         long clientParses, long serverParses, long binds, long logins) {
        public static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        public Totals plus(Totals o) {
            return new Totals(serverAssignments + o.serverAssignments, transactions + o.transactions,
                    queries + o.queries, bytesReceived + o.bytesReceived, bytesSent + o.bytesSent,
                    transactionMicros + o.transactionMicros, queryMicros + o.queryMicros, waitMicros + o.waitMicros,
                    clientParses + o.clientParses, serverParses + o.serverParses, binds + o.binds, logins + o.logins);
        }

        /**
         * PgBouncer's averages between {@code old} and this, {@code seconds} apart: counts and bytes per second,
         * times per query, transaction and assignment (microseconds).
         */
        public Totals averageSince(Totals old, double seconds) {
            if (seconds <= 0) {
                return ZERO;
            }
            long q = queries - old.queries;
            long x = transactions - old.transactions;
            long a = serverAssignments - old.serverAssignments;
            return new Totals(perSecond(a, seconds), perSecond(x, seconds), perSecond(q, seconds),
                    perSecond(bytesReceived - old.bytesReceived, seconds), perSecond(bytesSent - old.bytesSent, seconds),
                    x > 0 ? (transactionMicros - old.transactionMicros) / x : 0,
                    q > 0 ? (queryMicros - old.queryMicros) / q : 0,
                    a > 0 ? (waitMicros - old.waitMicros) / a : 0,
                    perSecond(clientParses - old.clientParses, seconds),
                    perSecond(serverParses - old.serverParses, seconds), perSecond(binds - old.binds, seconds),
                    perSecond(logins - old.logins, seconds));
        }

        private static long perSecond(long delta, double seconds) {
            return Math.round(delta / seconds);
        }
    }
}
