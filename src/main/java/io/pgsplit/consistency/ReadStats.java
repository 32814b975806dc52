package io.pgsplit.consistency;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads of one database by where they went (replica or primary) and why ({@link ReadCheck.Outcome}), and the
 * time reads spent waiting for a replica: for the admin console and metrics. Thread-safe, lock-free.
 */
public final class ReadStats {
    private final LongAdder[] toReplica = adders();
    private final LongAdder[] toPrimary = adders();
    private final LongAdder waits = new LongAdder();
    private final LongAdder waitedNanos = new LongAdder();

    private static LongAdder[] adders() {
        LongAdder[] a = new LongAdder[ReadCheck.Outcome.values().length];
        for (int i = 0; i < a.length; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    void routed(boolean primary, ReadCheck.Outcome outcome, long waited) {
        (primary ? toPrimary : toReplica)[outcome.ordinal()].increment();
        if (waited > 0) {
            waits.increment();
            waitedNanos.add(waited);
        }
    }

    /** Reads sent to replicas (or to the primary) settled with {@code outcome}. */
    public long count(boolean primary, ReadCheck.Outcome outcome) {
        return (primary ? toPrimary : toReplica)[outcome.ordinal()].sum();
    }

    public long replicaReads() {
        long n = 0;
        for (LongAdder a : toReplica) {
            n += a.sum();
        }
        return n;
    }

    public long primaryReads() {
        long n = 0;
        for (LongAdder a : toPrimary) {
            n += a.sum();
        }
        return n;
    }

    /** Reads that waited for a replica, and their total wait. */
    public long waits() {
        return waits.sum();
    }

    public long waitedNanos() {
        return waitedNanos.sum();
    }

    /** {@code "replica caught up" -> 120, "primary causal_wait elapsed" -> 3, ...}, non-zero entries only. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (ReadCheck.Outcome o : ReadCheck.Outcome.values()) {
            long r = toReplica[o.ordinal()].sum();
            long p = toPrimary[o.ordinal()].sum();
            if (r > 0) {
                out.put("replica " + o.text, r);
            }
            if (p > 0) {
                out.put("primary " + o.text, p);
            }
        }
        return out;
    }
}
