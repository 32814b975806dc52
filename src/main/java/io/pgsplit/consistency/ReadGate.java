package io.pgsplit.consistency;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.topology.Lsn;
import io.pgsplit.topology.Node;
import io.pgsplit.topology.ReplicationState;
import io.pgsplit.config.Consistency;
import io.pgsplit.config.RoutingConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Causal and session reads, and the replica lag limits, for one database.
 *
 * <p>A read about to choose a server asks {@link #mustWait}. It needs a replica that has replayed the WAL
 * position covering every acknowledgement it must see ({@link PrimaryWal}). The common case costs two
 * comparisons: no write acknowledged since the last probe answer, and a replica already known past that
 * position. Otherwise the read waits, asynchronously (its client's loop serves others meanwhile), for a
 * probe of the primary and for a replica to report that position, at most {@code routing.causal_wait}; then
 * it goes to the primary. Probes are coalesced: at most one query in flight per server, each answer serving
 * every read waiting for it. Positions are also refreshed periodically, which keeps the lag of each replica
 * (in WAL bytes and in time, see {@link PrimaryWal}) up to date for {@code max_replica_lag} and
 * {@code max_replica_lag_bytes}.
 *
 * <p>Thread-safe: clients of every event loop call in; waits and probes are kept under this object's lock
 * (list and flag updates only), answers arrive on the probe loop.
 */
public final class ReadGate implements AutoCloseable, io.pgsplit.topology.ReplicaFilter {
    private static final Logger log = LoggerFactory.getLogger(ReadGate.class);
    /** What the position probes' dedicated connections call themselves (application_name in pg_stat_activity). */
    public static final String PROBE_APPLICATION_NAME = "pgsplit-wal-probe";
    /**
     * The flush position covers every commit acknowledged with synchronous_commit on (the default: a commit is
     * acknowledged after its WAL is flushed); only it is sure to reach the replicas soon. The insert position
     * also holds WAL of transactions still open, which the WAL writer does not flush on its own (it flushes
     * whole pages and asynchronous commits), so reads waited for it and went to the primary under write load.
     * With a server default of synchronous_commit = off, commits are acknowledged before the flush: then the
     * insert position.
     */
    static final String PRIMARY_SQL = "SELECT CASE WHEN current_setting('synchronous_commit') = 'off' "
            + "THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_flush_lsn() END";
    static final String REPLICA_SQL = "SELECT pg_last_wal_replay_lsn()";
    /** While reads wait, a replica is asked again at most this often (its answers are usually a few µs behind). */
    private static final long REPROBE_GAP_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    /** A replica behind what reads need, while another serves them, is asked again at most this often. */
    private static final long LAGGARD_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** How long a read that may go to one replica waits for the answer of another asked at the same time. */
    private static final long GRACE_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    /** After a failed probe, that server is not asked again for this long (a down server is not hammered). */
    private static final long FAILURE_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String database;
    private final PrimaryWal primary;
    private final NodeProbe primaryProbe;
    private final Node primaryNode;
    private final List<ReplicaReplay> replicas = new ArrayList<>();
    private final boolean splitting;
    private final long causalWaitNanos;
    private final long maxLagNanos;
    private final long maxLagBytes;
    private final long refreshMillis;
    private final ReadStats stats = new ReadStats();
    private final EventLoop loop;

    // ---- guarded by this ----
    private final List<Waiter> waiters = new ArrayList<>();
    private boolean primaryProbing;
    private long primaryRetryAfter;
    private String primaryError;
    private ScheduledFuture<?> refresher;
    private boolean closed;

    /** A read waiting for a position. */
    private static final class Waiter {
        final ReadCheck check;
        final EventLoop loop;
        final Runnable resume;
        long lsn;
        /** When a replica first reached {@link #lsn} while another's answer was still on its way. */
        long readyNanos;
        ScheduledFuture<?> timeout;

        Waiter(ReadCheck check, EventLoop loop, Runnable resume, long lsn) {
            this.check = check;
            this.loop = loop;
            this.resume = resume;
            this.lsn = lsn;
        }
    }

    /**
     * @param probePool a dedicated connection pool (of one) for a node's position queries
     * @param loop      where probes run and answers are handled
     */
    public ReadGate(String database, Node primaryNode, List<Node> replicaNodes,
                    Function<Node, io.pgsplit.pool.Pool> probePool, EventLoop loop, RoutingConfig routing) {
        this.database = database;
        this.loop = loop;
        this.splitting = routing.splitting();
        this.causalWaitNanos = routing.causalWait().toNanos();
        this.maxLagNanos = routing.maxReplicaLag().toNanos();
        this.maxLagBytes = routing.maxReplicaLagBytes();
        Duration lag = routing.maxReplicaLag();
        // positions are refreshed four times per lag limit (so a replica crossing it is seen within a quarter
        // of it), between every 50 ms and every second
        this.refreshMillis = lag.isZero() ? 1000 : Math.max(50, Math.min(1000, lag.toMillis() / 4));
        this.primary = new PrimaryWal(Math.max(TimeUnit.MILLISECONDS.toNanos(1), maxLagNanos / 64));
        this.primaryNode = primaryNode;
        this.primaryProbe = new NodeProbe(probePool.apply(primaryNode), loop);
        for (Node r : replicaNodes) {
            replicas.add(new ReplicaReplay(r, new NodeProbe(probePool.apply(r), loop)));
        }
    }

    /**
     * Starts the periodic refresh of positions and lag; nothing to do (no probe connection is opened) for a database
     * without replicas or a router that does not split.
     */
    public synchronized void start() {
        if (refresher == null && !closed && !replicas.isEmpty() && splitting) {
            refresher = loop.scheduleWithFixedDelay(this::refresh, 0, refreshMillis, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        List<Waiter> left;
        synchronized (this) {
            closed = true;
            if (refresher != null) {
                refresher.cancel(false);
            }
            left = new ArrayList<>(waiters);
            waiters.clear();
        }
        for (Waiter w : left) {
            settle(w, ReadCheck.Outcome.TIMED_OUT);
        }
        primaryProbe.close();
        replicas.forEach(r -> r.probe.close());
    }

    public ReadStats stats() {
        return stats;
    }

    // =============================================================================================
    // The client path
    // =============================================================================================

    /**
     * Work that ran on the primary is being acknowledged (its ReadyForQuery, outside a transaction, goes to the
     * client now). Returns this acknowledgement's number (a session keeps it for session consistency).
     */
    public long acknowledged() {
        return primary.acknowledge();
    }

    /** A new requirement for one read at {@code level}; {@code ownAck}: the client's latest acknowledgement. */
    public ReadCheck check(Consistency level, long ownAck) {
        return new ReadCheck(level, ownAck);
    }

    /**
     * Settles {@code c} now when it can (false: choose among the nodes {@link #admits} admits for
     * {@link ReadCheck#requiredLsn()}); otherwise arranges for {@code resume} to run on {@code loop} once a replica
     * has caught up or causal_wait has passed, and returns true. Never blocks.
     */
    public boolean mustWait(ReadCheck c, EventLoop clientLoop, Runnable resume) {
        return mustWait(c, null, clientLoop, resume);
    }

    /**
     * As {@link #mustWait(ReadCheck, EventLoop, Runnable)}, waiting for {@code preferred} (a session-pooled
     * client's sticky replica, which holds a server connection for it) rather than the first replica to catch up,
     * as long as that replica may catch up within causal_wait.
     */
    public boolean mustWait(ReadCheck c, Node preferred, EventLoop clientLoop, Runnable resume) {
        if (c.outcome != null) {
            return false;
        }
        if (c.waiting) {
            return true;
        }
        if (c.requiredAck < 0) {
            c.requiredAck = c.level == Consistency.EVENTUAL ? 0 : c.level == Consistency.SESSION ? c.ownAck
                    : primary.acks();
            c.startNanos = System.nanoTime();
        }
        if (c.requiredAck == 0) {
            c.requiredLsn = 0;
            c.outcome = ReadCheck.Outcome.NOT_REQUIRED;
            return false;
        }
        ReplicaReplay prefer = preferred == null ? null : replay(preferred);
        c.preferred = prefer != null && candidate(prefer) && prefer.lagNanos <= causalWaitNanos ? prefer : null;
        long lsn = primary.covering(c.requiredAck);
        if (lsn >= 0 && reached(c, lsn)) {
            c.requiredLsn = lsn;
            c.outcome = ReadCheck.Outcome.CAUGHT_UP;
            refreshLaggards(lsn);
            return false;
        }
        if (!anyCandidateNear()) {
            c.requiredLsn = lsn >= 0 ? lsn : Long.MAX_VALUE;
            c.outcome = ReadCheck.Outcome.NO_REPLICA;
            return false;
        }
        Waiter w = new Waiter(c, clientLoop, resume, lsn);
        c.waiting = true;
        w.timeout = clientLoop.schedule(() -> expire(w), causalWaitNanos, TimeUnit.NANOSECONDS);
        synchronized (this) {
            if (closed) {
                w.timeout.cancel(false);
                c.waiting = false;
                c.requiredLsn = Long.MAX_VALUE;
                c.outcome = ReadCheck.Outcome.NO_REPLICA;
                return false;
            }
            waiters.add(w);
        }
        progress();
        return true;
    }

    /** Whether {@code node} may serve a read that needs {@code lsn} replayed: within the lag limits, and there. */
    @Override
    public boolean admits(Node node, long lsn) {
        ReplicaReplay r = replay(node);
        return r == null || r.withinLimits && r.reached(lsn);
    }

    /** The read went to {@code node}: counted, and logged at debug with why. */
    public void routed(ReadCheck c, Node node) {
        if (c == null || c.outcome == null || node == null) {
            return;
        }
        stats.routed(node.isPrimary(), c.outcome, c.waitedNanos);
        if (log.isDebugEnabled()) {
            log.debug("database \"{}\": read -> {}: {}", database, node.isPrimary() ? "primary" : node.name(),
                    explain(c));
        }
    }

    /**
     * Why a read went where it went, e.g. {@code causal needs 0/3000100; replica r1 replayed 0/3000060, r2
     * replayed 0/3000120; waited 4 ms (caught up after a wait)}.
     */
    public String explain(ReadCheck c) {
        StringBuilder b = new StringBuilder(c.level.yamlName());
        if (c.requiredLsn == 0) {
            b.append(": nothing to wait for");
        } else if (c.requiredLsn == Long.MAX_VALUE) {
            b.append(" needs acknowledgement ").append(c.requiredAck).append(" (position not known yet)");
        } else {
            b.append(" needs ").append(PrimaryWal.format(c.requiredLsn));
        }
        String sep = "; ";
        for (ReplicaReplay r : replicas) {
            b.append(sep).append("replica ").append(r.node.name()).append(" replayed ").append(PrimaryWal.format(r.replayed));
            if (!r.withinLimits) {
                b.append(" (beyond the lag limit)");
            } else if (!r.node.isUp()) {
                b.append(" (down)");
            }
            sep = ", ";
        }
        if (c.waitedNanos > 0) {
            b.append("; waited ").append(TimeUnit.NANOSECONDS.toMillis(c.waitedNanos)).append(" ms");
        }
        return b.append(" (").append(c.outcome == null ? "pending" : c.outcome.text).append(')').toString();
    }

    /** The error for a read no node may serve (primary_reads: false), naming the consistency that kept it off. */
    public String unavailable(ReadCheck c) {
        if (c == null || c.outcome != ReadCheck.Outcome.TIMED_OUT && c.outcome != ReadCheck.Outcome.NO_REPLICA) {
            return null;
        }
        return "pgsplit: no replica of database \"" + database + "\" has replayed the writes this read must see ("
                + explain(c) + ") within routing.causal_wait (" + TimeUnit.NANOSECONDS.toMillis(causalWaitNanos)
                + " ms), and routing.primary_reads is false";
    }

    // =============================================================================================
    // Positions
    // =============================================================================================

    private ReplicaReplay replay(Node node) {
        for (ReplicaReplay r : replicas) {
            if (r.node == node) {
                return r;
            }
        }
        return null;
    }

    /** A replica that takes reads: up, with a weight, within the lag limits. */
    private static boolean candidate(ReplicaReplay r) {
        return r.node.isUp() && r.node.weight() > 0 && r.withinLimits;
    }

    /** The read's preferred replica, else any candidate, has replayed {@code lsn}. */
    private boolean reached(ReadCheck c, long lsn) {
        ReplicaReplay p = c.preferred;
        if (p != null && candidate(p)) {
            return p.reached(lsn);
        }
        return anyCandidateReached(lsn);
    }

    /** A candidate still below {@code lsn} has a position query in flight (its answer may admit it too). */
    private boolean candidateAnswering(long lsn) {
        for (ReplicaReplay r : replicas) {
            if (r.probing && candidate(r) && !r.reached(lsn)) {
                return true;
            }
        }
        return false;
    }

    private boolean anyCandidateReached(long lsn) {
        for (ReplicaReplay r : replicas) {
            if (candidate(r) && r.reached(lsn)) {
                return true;
            }
        }
        return false;
    }

    /** A candidate that may catch up within causal_wait: one further behind than that is not waited for. */
    private boolean anyCandidateNear() {
        for (ReplicaReplay r : replicas) {
            if (candidate(r) && r.lagNanos <= causalWaitNanos) {
                return true;
            }
        }
        return false;
    }

    /**
     * Some replicas are known past {@code lsn}, others not (yet): ask those again, so reads are spread over every
     * replica that has caught up rather than the first that said so. At most one question per replica per
     * {@link #LAGGARD_GAP_NANOS}: a read never waits for it.
     */
    private void refreshLaggards(long lsn) {
        long now = 0;
        for (ReplicaReplay r : replicas) {
            if (!r.reached(lsn) && candidateOrLimited(r) && !r.probing && !r.probeScheduled) {
                if (now == 0) {
                    now = System.nanoTime();
                }
                if (now - r.answeredNanos >= LAGGARD_GAP_NANOS) {
                    synchronized (this) {
                        probeReplicaLocked(r, now);
                    }
                }
            }
        }
    }

    /** Up and with a weight (within the lag limits or not: limits are re-checked on each answer). */
    private static boolean candidateOrLimited(ReplicaReplay r) {
        return r.node.isUp() && r.node.weight() > 0;
    }

    private void expire(Waiter w) {
        synchronized (this) {
            if (!waiters.remove(w)) {
                return;
            }
        }
        settle(w, ReadCheck.Outcome.TIMED_OUT);
    }

    private void settle(Waiter w, ReadCheck.Outcome outcome) {
        ReadCheck c = w.check;
        c.requiredLsn = w.lsn >= 0 ? w.lsn : Long.MAX_VALUE;
        c.waitedNanos = Math.max(1, System.nanoTime() - c.startNanos);
        c.outcome = outcome;
        c.waiting = false;
        if (w.timeout != null) {
            w.timeout.cancel(false);
        }
        w.loop.execute(w.resume);
    }

    /** Settles the waiters a replica now serves; asks the primary and the replicas what the others still need. */
    private void progress() {
        List<Waiter> ready = null;
        synchronized (this) {
            if (waiters.isEmpty() || closed) {
                return;
            }
            boolean needPrimary = false;
            long lowest = Long.MAX_VALUE;
            for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.lsn < 0) {
                    w.lsn = primary.covering(w.check.requiredAck);
                }
                if (w.lsn < 0) {
                    needPrimary = true;
                } else if (reached(w.check, w.lsn)) {
                    if (w.check.preferred == null && candidateAnswering(w.lsn)) {
                        // Another replica's answer is on its way (asked at the same moment): settle when it is in,
                        // so reads after a write are spread over every replica that caught up, not always given to
                        // the one that answers first. At most GRACE later.
                        if (w.readyNanos == 0) {
                            w.readyNanos = System.nanoTime();
                            loop.schedule(this::progress, GRACE_NANOS, TimeUnit.NANOSECONDS);
                            continue;
                        }
                        if (System.nanoTime() - w.readyNanos < GRACE_NANOS) {
                            continue;
                        }
                    }
                    it.remove();
                    if (ready == null) {
                        ready = new ArrayList<>(2);
                    }
                    ready.add(w);
                } else {
                    lowest = Math.min(lowest, w.lsn);
                }
            }
            long now = System.nanoTime();
            if (needPrimary) {
                probePrimaryLocked(now);
            }
            if (lowest != Long.MAX_VALUE) {
                for (ReplicaReplay r : replicas) {
                    if (candidate(r) && !r.reached(lowest)) {
                        probeReplicaLocked(r, now);
                    }
                }
            }
        }
        if (ready != null) {
            for (Waiter w : ready) {
                settle(w, ReadCheck.Outcome.CAUGHT_UP_AFTER_WAIT);
            }
        }
    }

    private void probePrimaryLocked(long now) {
        if (primaryProbing || closed || now < primaryRetryAfter) {
            return; // the answer (or the next refresh) calls progress() again
        }
        primaryProbing = true;
        long[] ackAtSend = new long[1];
        primaryProbe.run(PRIMARY_SQL, () -> ackAtSend[0] = primary.acks())
                .addListener((Future<String> f) -> primaryAnswered(f, ackAtSend[0]));
    }

    private void primaryAnswered(Future<String> f, long ackAtSend) {
        long now = System.nanoTime();
        long lsn = f.isSuccess() ? PrimaryWal.parse(f.getNow()) : -1;
        synchronized (this) {
            primaryProbing = false;
            if (lsn >= 0) {
                primary.answered(ackAtSend, lsn, now);
                primaryNode.replicationObserved(new ReplicationState(new Lsn(primary.coverage().lsn()), null, -1, -1,
                        now));
                if (primaryError != null) {
                    log.info("database \"{}\": the primary's WAL position is known again", database);
                    primaryError = null;
                }
            } else {
                String why = f.isSuccess() ? "it answered " + f.getNow() + " (is it in recovery?)"
                        : String.valueOf(f.cause().getMessage());
                primaryRetryAfter = now + FAILURE_BACKOFF_NANOS;
                if (!why.equals(primaryError)) {
                    log.warn("database \"{}\": cannot read the primary's WAL position ({}); causal and session reads "
                            + "go to the primary after routing.causal_wait", database, why);
                    primaryError = why;
                }
            }
        }
        if (lsn >= 0) {
            for (ReplicaReplay r : replicas) {
                updateLag(r, now);
            }
        }
        progress();
    }

    private void probeReplicaLocked(ReplicaReplay r, long now) {
        if (r.probing || r.probeScheduled || closed) {
            return;
        }
        long next = r.lastError != null ? r.answeredNanos + FAILURE_BACKOFF_NANOS : r.answeredNanos + REPROBE_GAP_NANOS;
        if (now < next) {
            r.probeScheduled = true;
            loop.schedule(() -> {
                synchronized (this) {
                    r.probeScheduled = false;
                }
                progress();
            }, next - now, TimeUnit.NANOSECONDS);
            return;
        }
        r.probing = true;
        r.probe.run(REPLICA_SQL, () -> { }).addListener((Future<String> f) -> replicaAnswered(r, f));
    }

    private void replicaAnswered(ReplicaReplay r, Future<String> f) {
        long now = System.nanoTime();
        synchronized (this) {
            r.probing = false;
            r.answeredNanos = now;
            if (f.isSuccess()) {
                r.replayed = PrimaryWal.parse(f.getNow()); // NULL: not in recovery, so not a replica of this primary now
                if (r.lastError != null) {
                    log.info("database \"{}\": replica {} answers position queries again", database, r.node.name());
                    r.lastError = null;
                }
            } else {
                String why = String.valueOf(f.cause().getMessage());
                if (!why.equals(r.lastError)) {
                    log.info("database \"{}\": cannot read the replay position of replica {}: {}", database,
                            r.node.name(), why);
                }
                r.lastError = why;
            }
        }
        updateLag(r, now);
        progress();
    }

    /** Recomputes a replica's lag and applies the limits (logged once at each change). */
    private void updateLag(ReplicaReplay r, long now) {
        long replayed = r.replayed;
        long latest = primary.latestLsn();
        if (replayed < 0 || latest < 0) {
            r.lagBytes = -1;
            r.lagNanos = 0;
        } else {
            r.lagBytes = Math.max(0, latest - replayed);
            long since = primary.firstSeenBeyond(replayed);
            r.lagNanos = since < 0 ? 0 : Math.max(0, now - since);
        }
        r.node.replicationObserved(new ReplicationState(null, replayed < 0 ? null : new Lsn(replayed),
                replayed < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(r.lagNanos), r.lagBytes, now));
        boolean within = (maxLagNanos == 0 || r.lagNanos <= maxLagNanos)
                && (maxLagBytes == 0 || r.lagBytes <= maxLagBytes);
        synchronized (this) {
            if (within == r.withinLimits) {
                return;
            }
            r.withinLimits = within;
        }
        if (within) {
            log.info("database \"{}\": replica {} caught up (lag {} ms, {} bytes): it takes reads again", database,
                    r.node.name(), TimeUnit.NANOSECONDS.toMillis(r.lagNanos), r.lagBytes);
        } else {
            log.warn("database \"{}\": replica {} is {} ms and {} bytes behind the primary (max_replica_lag {} ms, "
                            + "max_replica_lag_bytes {}): no reads until it catches up", database, r.node.name(),
                    TimeUnit.NANOSECONDS.toMillis(r.lagNanos), r.lagBytes, TimeUnit.NANOSECONDS.toMillis(maxLagNanos),
                    maxLagBytes);
        }
    }

    /** Periodic: ask every server where it is, and recompute lags (a replica that stopped answering falls behind). */
    private void refresh() {
        long now = System.nanoTime();
        synchronized (this) {
            probePrimaryLocked(now);
            for (ReplicaReplay r : replicas) {
                if (r.node.isUp()) {
                    probeReplicaLocked(r, now);
                }
            }
        }
        for (ReplicaReplay r : replicas) {
            updateLag(r, now);
        }
    }

    // =============================================================================================
    // For the admin console, explain and tests
    // =============================================================================================

    /** Acknowledgements counted so far. */
    public long acks() {
        return primary.acks();
    }

    /** The replayed position of a replica (-1 unknown), its lag in ms and bytes, and whether it takes reads. */
    public record ReplicaState(String name, long replayed, long lagMillis, long lagBytes, boolean withinLimits) {
    }

    public List<ReplicaState> replicaStates() {
        List<ReplicaState> out = new ArrayList<>(replicas.size());
        for (ReplicaReplay r : replicas) {
            out.add(new ReplicaState(r.node.name(), r.replayed, TimeUnit.NANOSECONDS.toMillis(r.lagNanos), r.lagBytes,
                    r.withinLimits));
        }
        return out;
    }
}
