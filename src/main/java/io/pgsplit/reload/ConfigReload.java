package io.pgsplit.reload;

import io.pgsplit.config.AdminConfig;
import io.pgsplit.config.ListenConfig;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.RoutingConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.pool.DatabaseRuntime;
import io.pgsplit.session.RouterContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Applies a new, already validated configuration to a running router without dropping a client (SIGHUP and the
 * console's RELOAD): users, pool settings, databases and their servers take effect for the next log-in or the next
 * transaction; what only a restart can change (the listen address, the event loops, the metrics address, the
 * routing switches the router was built with) is reported, and keeps its running value. Every change is one line
 * of the returned list, so the log and the console say exactly what happened.
 */
public final class ConfigReload {
    private ConfigReload() {
    }

    public static List<String> apply(RouterContext ctx, PoolManager pools, PgsplitConfig wanted) {
        PgsplitConfig old = ctx.config();
        List<String> notes = new ArrayList<>();
        restartOnly(old, wanted, notes);
        PgsplitConfig next = keepRestartOnly(old, wanted);
        Map<String, DatabaseRuntime> databases = new LinkedHashMap<>();
        for (String name : next.databases().keySet()) {
            DatabaseRuntime db = ctx.database(name);
            if (db == null) {
                databases.put(name, ctx.newDatabase(name, next));
                notes.add("database " + name + " added");
            } else {
                notes.addAll(db.reconfigure(next));
                databases.put(name, db);
            }
        }
        for (Map.Entry<String, DatabaseRuntime> e : ctx.databases().entrySet()) {
            if (!next.databases().containsKey(e.getKey())) {
                e.getValue().allPools().forEach(Pool::reconnect);
                notes.add("database " + e.getKey() + " removed: new log-ins are refused, connected clients go on "
                        + "until they leave");
            }
        }
        users(old, next, notes);
        if (!Objects.equals(old.admin().adminUsers(), next.admin().adminUsers())
                || !Objects.equals(old.admin().statsUsers(), next.admin().statsUsers())
                || !Objects.equals(old.admin().user(), next.admin().user())
                || !Objects.equals(old.admin().password(), next.admin().password())) {
            notes.add("admin console users changed");
        }
        ctx.reconfigure(next, databases);
        return notes;
    }

    private static void users(PgsplitConfig old, PgsplitConfig next, List<String> notes) {
        for (UserConfig u : next.users().values()) {
            UserConfig before = old.users().get(u.name());
            if (before == null) {
                notes.add("user " + u.name() + " added");
            } else if (!same(before, u)) {
                notes.add("user " + u.name() + " changed (for new log-ins)");
            }
        }
        for (String name : old.users().keySet()) {
            if (!next.users().containsKey(name)) {
                notes.add("user " + name + " removed: new log-ins are refused, connected clients go on");
            }
        }
    }

    private static boolean same(UserConfig a, UserConfig b) {
        return a.auth() == b.auth() && Objects.equals(a.password(), b.password())
                && Objects.equals(a.serverUser(), b.serverUser()) && Objects.equals(a.serverPassword(), b.serverPassword())
                && a.poolMode() == b.poolMode();
    }

    /** {@code wanted} with the restart-only settings of {@code running}: what the router now really runs with. */
    static PgsplitConfig keepRestartOnly(PgsplitConfig running, PgsplitConfig wanted) {
        ListenConfig a = running.listen();
        ListenConfig b = wanted.listen();
        ListenConfig listen = new ListenConfig(a.host(), a.port(), b.maxClientConn(), b.startupTimeout(),
                a.maxMessageSize(), a.workerThreads(), a.reusePort(), a.peerId(), b.peers());
        RoutingConfig r = running.routing();
        RoutingConfig s = wanted.routing();
        RoutingConfig routing = new RoutingConfig(r.splitting(), s.rulesFile(), r.hints(), s.loadBalancing(),
                s.primaryReads(), r.maxStatementLength(), r.maxNestingDepth(), r.catalogRefresh(),
                r.retryWriteOnReplica(), r.classifierCacheBytes(), r.maxReplicaLag(), r.consistency(), r.causalWait(),
                r.maxReplicaLagBytes());
        AdminConfig x = running.admin();
        AdminConfig y = wanted.admin();
        AdminConfig admin = new AdminConfig(x.enabled(), y.user(), y.password(), y.adminUsers(), y.statsUsers(),
                x.metrics());
        return new PgsplitConfig(listen, wanted.databases(), wanted.users(), wanted.pool(), routing, admin,
                wanted.source());
    }

    /** Settings the running router keeps until a restart: reported, never silently ignored. */
    private static void restartOnly(PgsplitConfig old, PgsplitConfig next, List<String> notes) {
        ListenConfig a = old.listen();
        ListenConfig b = next.listen();
        restart(notes, "listen.host", a.host(), b.host());
        restart(notes, "listen.port", a.port(), b.port());
        restart(notes, "listen.worker_threads", a.workerThreads(), b.workerThreads());
        restart(notes, "listen.max_message_size", a.maxMessageSize(), b.maxMessageSize());
        restart(notes, "listen.reuse_port", a.reusePort(), b.reusePort());
        restart(notes, "listen.peer_id", a.peerId(), b.peerId());
        AdminConfig x = old.admin();
        AdminConfig y = next.admin();
        restart(notes, "admin.enabled", x.enabled(), y.enabled());
        restart(notes, "admin.metrics", x.metrics(), y.metrics());
        RoutingConfig r = old.routing();
        RoutingConfig s = next.routing();
        restart(notes, "routing.splitting", r.splitting(), s.splitting());
        restart(notes, "routing.hints", r.hints(), s.hints());
        restart(notes, "routing.max_statement_length", r.maxStatementLength(), s.maxStatementLength());
        restart(notes, "routing.max_nesting_depth", r.maxNestingDepth(), s.maxNestingDepth());
        restart(notes, "routing.classifier_cache_bytes", r.classifierCacheBytes(), s.classifierCacheBytes());
        restart(notes, "routing.retry_write_on_replica", r.retryWriteOnReplica(), s.retryWriteOnReplica());
        restart(notes, "routing.catalog_refresh", r.catalogRefresh(), s.catalogRefresh());
        // read by each database's causal-reads gate when it is made (consistency package)
        restart(notes, "routing.max_replica_lag", r.maxReplicaLag(), s.maxReplicaLag());
        restart(notes, "routing.max_replica_lag_bytes", r.maxReplicaLagBytes(), s.maxReplicaLagBytes());
        restart(notes, "routing.consistency", r.consistency(), s.consistency());
        restart(notes, "routing.causal_wait", r.causalWait(), s.causalWait());
    }

    private static void restart(List<String> notes, String key, Object running, Object wanted) {
        if (!Objects.equals(running, wanted)) {
            notes.add(key + " changed (" + running + " -> " + wanted + ") but needs a restart: still " + running);
        }
    }
}
