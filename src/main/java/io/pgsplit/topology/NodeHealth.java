package io.pgsplit.topology;

/**
 * Whether a node can be used now, since when and why not. Only the topology package changes it, from
 * the reports a {@link Node} receives; everything else reads it.
 *
 * <p>Policy (issue 14): a failed TCP connect or a failed health check marks the node down at once, and bans
 * it: it is not checked again before the ban ends, and each further failure doubles the ban (from the check
 * interval up to {@link #MAX_BAN_NANOS}), so a dead server costs little. A passed check, or a successful
 * connect, marks it up and clears the count. Each change reports whether it was a transition, so the
 * caller logs each transition once.
 */
public final class NodeHealth {
    /** The longest ban between two checks of a node that keeps failing. */
    static final long MAX_BAN_NANOS = 30_000_000_000L;

    private volatile boolean up = true;
    private volatile long downSinceNanos;
    private volatile String downReason;
    /** Failures (connects or checks) since the node was last seen up. */
    private volatile int consecutiveFailures;
    /** System.nanoTime() before which the node is not checked again; 0: not banned. */
    private volatile long bannedUntilNanos;

    NodeHealth() {
    }

    public boolean isUp() {
        return up;
    }

    /** Why the node is down (the connect or check error, without the address), or null while up. */
    public String downReason() {
        return downReason;
    }

    /** System.nanoTime() when the node went down (meaningful only while down). */
    public long downSinceNanos() {
        return downSinceNanos;
    }

    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    public long bannedUntilNanos() {
        return bannedUntilNanos;
    }

    /** Whether a check of this down node is due (its ban is over); an up node is always checked. */
    public boolean checkDue(long nowNanos) {
        return up || nowNanos - bannedUntilNanos >= 0;
    }

    /** A failure; returns true if the node was up until now. {@code baseBanNanos}: the first ban (the check interval). */
    synchronized boolean onFailure(String reason, long baseBanNanos) {
        boolean wasUp = up;
        long now = System.nanoTime();
        if (wasUp) {
            downSinceNanos = now;
        }
        downReason = reason;
        consecutiveFailures++;
        int doublings = Math.min(consecutiveFailures - 1, 16);
        long ban = Math.min(MAX_BAN_NANOS, Math.max(0, baseBanNanos) << doublings);
        bannedUntilNanos = now + ban;
        up = false;
        return wasUp;
    }

    /** The node answered; returns true if it was down until now. */
    synchronized boolean onSuccess() {
        boolean wasDown = !up;
        up = true;
        downReason = null;
        consecutiveFailures = 0;
        bannedUntilNanos = 0;
        return wasDown;
    }

    @Override
    public String toString() {
        return up ? "up" : "down (" + downReason + ")";
    }
}
