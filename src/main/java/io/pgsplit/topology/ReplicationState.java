package io.pgsplit.topology;

/**
 * What pgsplit last learned about a node's WAL position, replaced as a whole (one volatile write) so
 * readers never see half an update. Nothing measures it yet: every node is {@link #UNKNOWN} until the
 * causal-reads work (issue 13) polls {@code pg_current_wal_lsn()} on the primary and
 * {@code pg_last_wal_replay_lsn()} with the replay lag on each replica, and decides from it whether a
 * replica has replayed a client's last acknowledged write.
 *
 * @param walLsn          on the primary: the WAL position covering acknowledged writes; null if unknown
 * @param replayLsn       on a replica: the last replayed WAL position; null if unknown
 * @param lagMillis       on a replica: replay lag in time, -1 if unknown
 * @param lagBytes        on a replica: replay lag in bytes behind the primary, -1 if unknown
 * @param observedAtNanos System.nanoTime() of the measurement, 0 if never measured
 */
public record ReplicationState(Lsn walLsn, Lsn replayLsn, long lagMillis, long lagBytes, long observedAtNanos) {
    public static final ReplicationState UNKNOWN = new ReplicationState(null, null, -1, -1, 0);

    public boolean known() {
        return observedAtNanos != 0;
    }
}
