package io.pgsplit.topology;

/**
 * What one health check of a node saw: its role as the server itself reports it, how many standbys stream from
 * it, whom it streams from, and its timeline. Role discovery ({@link RoleResolver}) decides from these.
 *
 * @param inRecovery      {@code pg_is_in_recovery()}: a standby (true) or a server accepting writes (false)
 * @param walSenders      rows of {@code pg_stat_replication}: standbys streaming from this node (any user sees
 *                        the rows, if not their details)
 * @param upstream        on a standby: {@code sender_host:sender_port} of {@code pg_stat_wal_receiver}, or null
 *                        when not streaming or not visible (needs {@code pg_read_all_stats})
 * @param timeline        on a server accepting writes: its current timeline, -1 if unknown
 * @param observedAtNanos System.nanoTime() of the answer
 */
public record NodeStatus(boolean inRecovery, int walSenders, String upstream, long timeline, long observedAtNanos) {

    /** The application_name of pgsplit's health-check connections, as pg_stat_activity shows them. */
    public static final String APPLICATION_NAME = "pgsplit health check";

    /** The SQL of a health check; its one row is read by {@link #parse}. */
    public static final String CHECK_QUERY = "SET application_name = '" + APPLICATION_NAME + "'; "
            + "SELECT pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_replication), "
            + "(SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver LIMIT 1), "
            + "CASE WHEN pg_is_in_recovery() THEN NULL "
            + "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END";

    /** The row of {@link #CHECK_QUERY}, as text. */
    public static NodeStatus parse(String[] row, long observedAtNanos) {
        if (row.length < 4 || row[0] == null) {
            throw new IllegalArgumentException("unexpected health-check row");
        }
        return new NodeStatus("t".equals(row[0]), row[1] == null ? 0 : Integer.parseInt(row[1]), row[2],
                row[3] == null ? -1 : Long.parseLong(row[3]), observedAtNanos);
    }

    @Override
    public String toString() {
        if (inRecovery) {
            return "standby" + (upstream == null ? "" : " of " + upstream);
        }
        return "accepts writes" + (timeline < 0 ? "" : " (timeline " + timeline + ")") + ", " + walSenders
                + " standby(s) streaming from it";
    }
}
