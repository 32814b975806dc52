package io.pgsplit.consistency;

import io.pgsplit.config.Consistency;

/**
 * One read's consistency requirement, from the moment it is about to pick a server until it has one: the
 * acknowledgement it must see, the WAL position that covers it, and how it was settled. Created and read by the
 * client's event loop; a wait is settled by {@link ReadGate} before the client is resumed (the loop's task
 * queue orders the writes before the reads).
 */
public final class ReadCheck {
    /** How the read was settled (also the key of {@link ReadStats}). */
    public enum Outcome {
        /** Eventual consistency, or nothing acknowledged to wait for. */
        NOT_REQUIRED("no write to wait for"),
        /** A replica had already replayed the position: no wait. */
        CAUGHT_UP("caught up"),
        /** A replica reached the position while the read waited. */
        CAUGHT_UP_AFTER_WAIT("caught up after a wait"),
        /** No replica reached it within causal_wait. */
        TIMED_OUT("causal_wait elapsed"),
        /** No replica could serve it (none up, within the lag limits, or near enough): no wait. */
        NO_REPLICA("no replica can catch up");

        final String text;

        Outcome(String text) {
            this.text = text;
        }
    }

    final Consistency level;
    /** For session consistency: the client's own latest acknowledgement. */
    final long ownAck;
    long requiredAck = -1;
    /** Position a replica must have replayed: 0 = none; {@link Long#MAX_VALUE} = no replica will do. */
    volatile long requiredLsn;
    long startNanos;
    volatile long waitedNanos;
    volatile Outcome outcome;
    volatile boolean waiting;
    /** A replica this read waits for rather than the first to catch up (a session-pooled client's sticky one). */
    volatile ReplicaReplay preferred;

    ReadCheck(Consistency level, long ownAck) {
        this.level = level;
        this.ownAck = ownAck;
    }

    public Consistency level() {
        return level;
    }

    /** What a replica must have replayed to serve this read (0 = anything; {@link Long#MAX_VALUE}: none may). */
    public long requiredLsn() {
        return requiredLsn;
    }

    public Outcome outcome() {
        return outcome;
    }

    public long waitedNanos() {
        return waitedNanos;
    }
}
