package io.pgsplit.topology;

/**
 * Whether a node can be used now, since when and why not. Only the topology package changes it, from
 * the reports a {@link Node} receives; everything else reads it.
 *
 * <p>Today's policy, unchanged from before this package existed: a failed TCP connect marks the node
 * down at once; a successful connect or an answered health probe marks it up. The failure count and
 * the ban deadline are kept for the high-availability work (issue 14: back-off between probes, a ban
 * after repeated failures, split-brain fencing), which changes the policy here and nowhere else.
 */
public final class NodeHealth {
    private volatile boolean up = true;
    private volatile long downSinceNanos;
    private volatile String downReason;
    /** Connect failures since the node was last seen up. */
    private volatile int consecutiveFailures;
    /** System.nanoTime() before which the node must not be used even if it answers; 0: not banned. Unused yet. */
    private volatile long bannedUntilNanos;

    NodeHealth() {
    }

    public boolean isUp() {
        return up;
    }

    /** Why the node is down (the connect error, without the address), or null while up. */
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

    synchronized void onConnectFailed(String reason) {
        if (up) {
            downSinceNanos = System.nanoTime();
        }
        downReason = reason;
        consecutiveFailures++;
        up = false;
    }

    synchronized void onConnected() {
        up = true;
        downReason = null;
        consecutiveFailures = 0;
    }

    @Override
    public String toString() {
        return up ? "up" : "down (" + downReason + ")";
    }
}
