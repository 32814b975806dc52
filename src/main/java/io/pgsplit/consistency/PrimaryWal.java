package io.pgsplit.consistency;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The primary's side of causal reads: how many units of work that ran on the primary pgsplit has acknowledged,
 * and the WAL position that covers them.
 *
 * <p>Every unit of work that ran on the primary and ended outside a transaction counts when its ReadyForQuery is
 * forwarded to the client ({@link #acknowledge}; counting more than the commits only costs speed). A probe on a
 * dedicated connection reads the ack counter just before it is sent: every unit counted by then had committed on
 * the primary. The probe returns {@code pg_current_wal_flush_lsn()} (with synchronous_commit on, the default, a
 * commit is acknowledged only once its WAL is flushed, so the flush position covers it) or, on a server whose
 * default is {@code synchronous_commit = off}, {@code pg_current_wal_insert_lsn()} (commits are acknowledged
 * before their WAL is written). Not the insert position always: it also holds WAL of transactions still open,
 * which nobody flushes until their commit, so reads waited out causal_wait for it. A client that sets
 * synchronous_commit off for its own session gets its commits covered once they are flushed (within
 * wal_writer_delay, 200 ms by default): a read in that window may miss them.
 *
 * <p>Also keeps when the primary was first seen at each position (sampled): the replica lag in time is how long
 * ago the primary first had WAL that the replica has not replayed (see {@link #firstSeenBeyond}). An idle primary
 * adds no samples, so a replica that replayed everything has no lag, whatever pg_last_xact_replay_timestamp()
 * would suggest.
 */
final class PrimaryWal {
    /** What a probe answer says: every ack up to {@code ack} is covered by WAL position {@code lsn}. */
    record Coverage(long ack, long lsn) {
    }

    private final AtomicLong acks = new AtomicLong();
    private volatile Coverage coverage = new Coverage(0, 0);
    /**
     * Recent answers, ack and position both increasing, newest last: a read needs the EARLIEST answer covering
     * its ack, not the latest (which also holds WAL written since, by autovacuum or clients of other routers, that a
     * replica may not have yet). So reads with no write since stay satisfied by the replicas that were, and are
     * spread over all of them. Guarded by this; {@link #coverage} is the newest, read without the lock.
     */
    private final Coverage[] history = new Coverage[64];
    private int historyEnd;
    private int historySize;
    /** The latest position learned, and when (System.nanoTime); -1 before the first answer. */
    private volatile long latestLsn = -1;
    private volatile long latestNanos;

    // Samples of (first time seen, position), oldest first in a ring; guarded by this.
    private static final int SAMPLES = 1024;
    private final long[] sampleNanos = new long[SAMPLES];
    private final long[] sampleLsn = new long[SAMPLES];
    private int first;
    private int count;
    private final long spacingNanos;

    /** @param spacingNanos keep at most one sample per this interval (the ring then spans 1024 intervals) */
    PrimaryWal(long spacingNanos) {
        this.spacingNanos = spacingNanos;
    }

    /** WAL page size of every PostgreSQL build pgsplit has met (wal_block_size); see {@link #coveringEnd}. */
    static final int PAGE = 8192;

    /**
     * The position a replica must have replayed to (pg_last_wal_replay_lsn(), the END of its last record) to
     * hold everything before the insert position {@code insert} (pg_current_wal_insert_lsn()). At a page
     * start, the insert position points past the page header (24 bytes, 40 at a segment start), while a replica
     * that replayed the record ending at the page boundary reports the boundary itself: without this, such a
     * read would wait for the next WAL record, up to 15 s on an idle primary. No record ends inside a header
     * (records are at least 24 bytes), so lowering the requirement to the boundary loses nothing.
     */
    static long coveringEnd(long insert) {
        long inPage = insert % PAGE;
        return inPage == 24 || inPage == 40 ? insert - inPage : insert;
    }

    /** {@code X/Y} as PostgreSQL prints it, as a number; -1 for SQL NULL or text that is not a position. */
    static long parse(String text) {
        if (text == null) {
            return -1;
        }
        try {
            return io.pgsplit.topology.Lsn.parse(text).value();
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    static String format(long lsn) {
        return lsn < 0 ? "unknown" : new io.pgsplit.topology.Lsn(lsn).toString();
    }

    long acknowledge() {
        return acks.incrementAndGet();
    }

    long acks() {
        return acks.get();
    }

    Coverage coverage() {
        return coverage;
    }

    /** The lowest known position covering ack {@code ack}, or -1 if no answer covers it yet. */
    long covering(long ack) {
        Coverage c = coverage;
        if (ack > c.ack()) {
            return -1;
        }
        synchronized (this) {
            long lsn = coverage.lsn();
            for (int i = 1; i <= historySize; i++) {
                Coverage h = history[Math.floorMod(historyEnd - i, history.length)];
                if (h.ack() < ack) {
                    break;
                }
                lsn = h.lsn();
            }
            return lsn;
        }
    }

    long latestLsn() {
        return latestLsn;
    }

    long latestNanos() {
        return latestNanos;
    }

    /** A probe sent when the counter stood at {@code ackAtSend} answered position {@code insertLsn}. */
    synchronized void answered(long ackAtSend, long insertLsn, long nowNanos) {
        Coverage c = coverage;
        long lsn = coveringEnd(insertLsn);
        if (ackAtSend > c.ack() || historySize == 0) {
            // the same acks as the previous answer: that one's (lower) position still covers them
            Coverage next = new Coverage(ackAtSend, Math.max(lsn, c.lsn()));
            history[historyEnd] = next;
            historyEnd = (historyEnd + 1) % history.length;
            historySize = Math.min(historySize + 1, history.length);
            coverage = next;
        }
        if (insertLsn > latestLsn) {
            latestLsn = insertLsn;
            record(nowNanos, insertLsn);
        }
        latestNanos = nowNanos;
    }

    private void record(long nanos, long lsn) {
        if (count > 0) {
            int last = (first + count - 1) % SAMPLES;
            if (nanos - sampleNanos[last] < spacingNanos) {
                return; // the previous sample stands for this one too: lag is under-stated by at most the spacing
            }
        }
        if (count == SAMPLES) {
            first = (first + 1) % SAMPLES;
            count--;
        }
        int at = (first + count) % SAMPLES;
        sampleNanos[at] = nanos;
        sampleLsn[at] = lsn;
        count++;
    }

    /**
     * When the primary was first seen past {@code replayed} (System.nanoTime), or -1 if it never was (a replica
     * that replayed everything known). If every sample kept is past it, the oldest sample's time: the lag is then
     * at least that old.
     */
    synchronized long firstSeenBeyond(long replayed) {
        for (int i = 0; i < count; i++) {
            int at = (first + i) % SAMPLES;
            if (sampleLsn[at] > replayed) {
                return sampleNanos[at];
            }
        }
        return -1;
    }
}
