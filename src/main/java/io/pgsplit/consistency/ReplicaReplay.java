package io.pgsplit.consistency;

import io.pgsplit.topology.Node;

/**
 * What pgsplit knows of one replica's progress: the WAL position it has replayed (pg_last_wal_replay_lsn(),
 * asked on its dedicated connection on demand and periodically), its lag, and whether that lag keeps it out of
 * the read rotation. Read lock-free on the client path; written under the owning {@link ReadGate}'s lock.
 */
final class ReplicaReplay {
    final Node node;
    final NodeProbe probe;
    /** Replayed position, -1 until the first answer (or when the server is not in recovery). */
    volatile long replayed = -1;
    volatile long answeredNanos;
    /** Lag as last computed; bytes -1 while unknown. */
    volatile long lagNanos;
    volatile long lagBytes = -1;
    /** Within max_replica_lag and max_replica_lag_bytes (true while unknown). */
    volatile boolean withinLimits = true;
    // guarded by the gate's lock
    boolean probing;
    boolean probeScheduled;
    String lastError;

    ReplicaReplay(Node node, NodeProbe probe) {
        this.node = node;
        this.probe = probe;
    }

    /** Has replayed at least {@code lsn} (0 = nothing required). */
    boolean reached(long lsn) {
        return lsn <= 0 || replayed >= lsn;
    }
}
