package io.pgsplit.topology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides which node is the primary from what the health checks saw ({@link NodeStatus} per node that answered).
 * Pure: no I/O, no state; the {@link Topology} applies the result.
 *
 * <ul>
 *   <li>No node accepting writes: no primary (writes wait, see {@code ha.failover_wait}).</li>
 *   <li>Exactly one: that one, wherever it was configured (a promotion is followed).</li>
 *   <li>Two or more (a split brain: a standby promoted while the old primary still runs): the one the standbys
 *       follow, by whom they stream from ({@code pg_stat_wal_receiver}, when visible) or else by how many stream
 *       from each ({@code pg_stat_replication}). If that does not single one out, none: writes are refused with
 *       the reason until it is unambiguous. The others are fenced: no writes, no reads.</li>
 * </ul>
 * Nodes that did not answer keep no claim: a primary that is down is simply not usable until it answers again.
 */
public final class RoleResolver {

    /**
     * @param primary the node to write to, or null if none can be chosen
     * @param fenced  nodes that accept writes but must get none (and no reads), with why
     * @param problem why there is no primary, or null when there is one
     */
    public record Resolution(Node primary, Map<Node, String> fenced, String problem) {
    }

    private RoleResolver() {
    }

    /** @param answers what each node that answered its last check said, in topology order */
    public static Resolution resolve(List<Node> nodes, Map<Node, NodeStatus> answers) {
        List<Node> claimants = new ArrayList<>();
        for (Node n : nodes) {
            NodeStatus s = answers.get(n);
            if (s != null && !s.inRecovery()) {
                claimants.add(n);
            }
        }
        if (claimants.isEmpty()) {
            return new Resolution(null, Map.of(), "no server accepts writes (" + describe(nodes, answers) + ")");
        }
        if (claimants.size() == 1) {
            return new Resolution(claimants.get(0), Map.of(), null);
        }
        // split brain: count who follows whom
        Map<Node, Integer> followers = new LinkedHashMap<>();
        boolean upstreamKnown = false;
        for (Node n : nodes) {
            NodeStatus s = answers.get(n);
            if (s != null && s.inRecovery() && s.upstream() != null) {
                Node upstream = byAddress(claimants, s.upstream());
                if (upstream != null) {
                    upstreamKnown = true;
                    followers.merge(upstream, 1, Integer::sum);
                }
            }
        }
        String how = "the standbys stream from it (pg_stat_wal_receiver)";
        if (!upstreamKnown) {
            how = "standbys stream from it (pg_stat_replication)";
            for (Node c : claimants) {
                followers.put(c, answers.get(c).walSenders());
            }
        }
        Node best = null;
        int bestCount = 0;
        boolean tie = false;
        for (Node c : claimants) {
            int count = followers.getOrDefault(c, 0);
            if (count > bestCount) {
                best = c;
                bestCount = count;
                tie = false;
            } else if (count == bestCount && count > 0) {
                tie = true;
            }
        }
        Map<Node, String> fenced = new LinkedHashMap<>();
        if (best == null || tie) {
            String problem = "split brain: " + names(claimants) + " all accept writes and no standby singles one out ("
                    + describe(nodes, answers) + "); writes are refused until only one accepts writes "
                    + "or the standbys follow one";
            for (Node c : claimants) {
                fenced.put(c, problem);
            }
            return new Resolution(null, fenced, problem);
        }
        for (Node c : claimants) {
            if (c != best) {
                fenced.put(c, "accepts writes but is not the primary the standbys follow (" + best.name() + " "
                        + best.address() + "): a split brain; fenced, no reads or writes go to it");
            }
        }
        return new Resolution(best, fenced, null);
    }

    /** The node at {@code hostPort} ({@code host:port} as PostgreSQL reports it): same host and port, else the only one with that port. */
    static Node byAddress(List<Node> candidates, String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return null;
        }
        String host = hostPort.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        Node samePort = null;
        int samePortCount = 0;
        for (Node n : candidates) {
            if (n.port() == port) {
                if (n.host().equalsIgnoreCase(host)) {
                    return n;
                }
                samePort = n;
                samePortCount++;
            }
        }
        return samePortCount == 1 ? samePort : null;
    }

    private static String names(List<Node> nodes) {
        StringBuilder b = new StringBuilder();
        for (Node n : nodes) {
            b.append(b.length() == 0 ? "" : " and ").append(n.name()).append(' ').append(n.address());
        }
        return b.toString();
    }

    private static String describe(List<Node> nodes, Map<Node, NodeStatus> answers) {
        StringBuilder b = new StringBuilder();
        for (Node n : nodes) {
            NodeStatus s = answers.get(n);
            b.append(b.length() == 0 ? "" : "; ").append(n.name()).append(' ').append(n.address()).append(": ")
                    .append(s != null ? s.toString() : n.isUp() ? "no answer yet" : "down (" + n.downReason() + ")");
        }
        return b.toString();
    }
}
