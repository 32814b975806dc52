package io.pgsplit.topology;

/**
 * A further condition a replica must meet to take a read, beyond being a read candidate of its
 * {@link Topology}: the causal-reads gate (package {@code consistency}) admits only replicas within the lag
 * limits that have replayed the WAL position a read needs.
 */
@FunctionalInterface
public interface ReplicaFilter {
    /** Whether {@code replica} may serve a read that needs WAL position {@code minLsn} replayed (0: none). */
    boolean admits(Node replica, long minLsn);
}
