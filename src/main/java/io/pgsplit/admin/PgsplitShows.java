package io.pgsplit.admin;

import static io.pgsplit.admin.ResultSet.Type.INT4;
import static io.pgsplit.admin.ResultSet.Type.INT8;
import static io.pgsplit.admin.ResultSet.Type.NUMERIC;
import static io.pgsplit.admin.ResultSet.Type.TEXT;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.pgsplit.topology.Node;
import io.pgsplit.metrics.DatabaseStats;
import io.pgsplit.metrics.RouteReason;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.ServerConnection;
import java.util.List;
import java.util.Map;

/**
 * pgsplit's own SHOW commands: NODES, ROUTING, RULES, CLASSIFIER, PREPARED. Lag and replay columns are there
 * (NULL) for the causal-reads and high-availability work to fill.
 */
final class PgsplitShows {
    private final AdminConsole console;

    PgsplitShows(AdminConsole console) {
        this.console = console;
    }

    ResultSet nodes() {
        ResultSet rs = new ResultSet().columns(TEXT, "database", "node", "role", "host").column("port", INT4)
                .column("weight", INT4).columns(TEXT, "group", "health", "ban_reason").column("down_seconds", INT8)
                .columns(INT4, "sv_active", "sv_idle", "sv_login", "outstanding")
                .column("replay_lsn", TEXT).column("lag_bytes", INT8).column("lag_seconds", NUMERIC); // NULL until measured
        long now = System.nanoTime();
        for (AdminConsole.NodeCounts nc : console.nodeCounts()) {
            Node n = nc.node();
            rs.row(nc.database(), n.name(), n.isPrimary() ? "primary" : "replica", n.host(), n.port(), n.weight(),
                    n.group(), n.isUp() ? "up" : "down", n.downReason(),
                    n.isUp() ? null : (now - n.downSinceNanos()) / 1_000_000_000L, nc.svActive(), nc.svIdle(),
                    nc.svLogin(), n.outstanding.get(), replayLsn(n), lagBytes(n), lagSeconds(n));
        }
        return rs;
    }

    /** Filled once something measures replication (issue 13); NULL until then. */
    private static String replayLsn(Node n) {
        io.pgsplit.topology.ReplicationState r = n.replication();
        io.pgsplit.topology.Lsn lsn = n.isPrimary() ? r.walLsn() : r.replayLsn();
        return r.known() && lsn != null ? lsn.toString() : null;
    }

    private static Long lagBytes(Node n) {
        io.pgsplit.topology.ReplicationState r = n.replication();
        return r.known() && r.lagBytes() >= 0 ? r.lagBytes() : null;
    }

    private static String lagSeconds(Node n) {
        io.pgsplit.topology.ReplicationState r = n.replication();
        return r.known() && r.lagMillis() >= 0 ? String.format(java.util.Locale.ROOT, "%.3f", r.lagMillis() / 1000.0)
                : null;
    }

    ResultSet routing() {
        ResultSet rs = new ResultSet().columns(TEXT, "database", "target", "reason").column("units", INT8);
        for (String db : console.databaseNames()) {
            DatabaseStats s = console.stats().database(db);
            for (boolean primary : new boolean[] {true, false}) {
                for (RouteReason r : RouteReason.values()) {
                    long n = s.routedCount(primary, r);
                    if (n > 0) {
                        rs.row(db, primary ? "primary" : "replica", r.label, n);
                    }
                }
            }
            rs.row(db, "primary", "write_retry", s.writeRetries());
        }
        return rs;
    }

    ResultSet rules() {
        ResultSet rs = new ResultSet().column("rule", TEXT).column("matches", INT8);
        for (Map.Entry<String, Long> e : console.operator().ruleCounts().entrySet()) {
            rs.row(e.getKey(), e.getValue());
        }
        return rs;
    }

    ResultSet classifier() {
        CacheStats c = console.classifierCache();
        ResultSet rs = new ResultSet().columns(TEXT, "key", "value");
        rs.row("cache_requests", c.requestCount());
        rs.row("cache_hits", c.hitCount());
        rs.row("cache_misses", c.missCount());
        rs.row("cache_hit_rate", String.format(java.util.Locale.ROOT, "%.4f", c.requestCount() == 0 ? 0 : c.hitRate()));
        rs.row("cache_evictions", c.evictionCount());
        rs.row("cache_bytes_limit", console.config().routing().classifierCacheBytes());
        return rs;
    }

    ResultSet prepared() {
        ResultSet rs = new ResultSet().columns(TEXT, "database", "user", "node")
                .columns(INT4, "server_connections", "server_statements", "cache_size");
        for (AdminConsole.NodePools np : console.nodePools()) {
            for (Pool p : np.pools()) {
                int statements = 0;
                List<ServerConnection> conns = p.connections(false);
                for (ServerConnection s : conns) {
                    statements += s.state.statements.size();
                }
                rs.row(np.db().name(), p.user(), np.node().name(), conns.size(), statements,
                        p.settings().preparedStatementCacheSize());
            }
        }
        return rs;
    }

}
