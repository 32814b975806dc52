package io.pgsplit.topology;

/**
 * A node as it stands at one moment ({@link Topology#snapshot()}): for the admin console's SHOW NODES,
 * {@code pgsplit explain} and metrics. Immutable; read it, never act on it later.
 *
 * @param database       the configured database
 * @param role           what pgsplit routes to it as now
 * @param up             answering its health checks (or connects)
 * @param downForMillis  how long it has been down, 0 while up
 * @param downReason     why it is down, null while up
 * @param failures       failed checks or connects in a row
 * @param bannedForMillis how long until it is checked again (while down), 0 otherwise
 * @param lastCheck      what its last passed check said (null before one passed)
 * @param fenced         why it gets no writes or reads in a split brain, null if not fenced
 * @param outstanding    statements routed to it and not answered yet
 */
public record NodeView(String database, String name, String host, int port, Node.Role role, boolean up,
                       long downForMillis, String downReason, int failures, long bannedForMillis, NodeStatus lastCheck,
                       String fenced, int outstanding) {
}
