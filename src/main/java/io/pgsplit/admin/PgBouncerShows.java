package io.pgsplit.admin;

import static io.pgsplit.admin.ResultSet.Type.INT4;
import static io.pgsplit.admin.ResultSet.Type.NUMERIC;
import static io.pgsplit.admin.ResultSet.Type.TEXT;

import io.pgsplit.topology.Node;
import io.pgsplit.config.DatabaseConfig;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.metrics.DatabaseStats;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.DatabaseRuntime;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * PgBouncer 1.25's SHOW commands: the same column names, order and types (text, int4, numeric; timestamps as
 * text), filled from pgsplit's pools, clients and counters. A (database, user) pool of PgBouncer is, in pgsplit,
 * one pool per node: SHOW POOLS adds them up (per node: SHOW NODES).
 *
 * <p>Two columns older exporters read are appended after PgBouncer's own (SHOW STATS {@code total_requests},
 * SHOW DATABASES {@code reserve_pool}: the names before PgBouncer 1.8 and 1.25), so tools reading by name or by
 * position both work.
 */
final class PgBouncerShows {
    static final String PGBOUNCER_VERSION = "1.25.2";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private final AdminConsole console;

    PgBouncerShows(AdminConsole console) {
        this.console = console;
    }

    // ---- pools ----

    /** One (database, user) with the pools of all its nodes. */
    record PoolGroup(DatabaseRuntime db, UserConfig user, List<Pool> pools) {
    }

    ResultSet pools() {
        ResultSet rs = new ResultSet().columns(TEXT, "database", "user")
                .columns(INT4, "cl_active", "cl_waiting", "cl_active_cancel_req", "cl_waiting_cancel_req",
                        "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used", "sv_tested",
                        "sv_login", "maxwait", "maxwait_us")
                .columns(TEXT, "pool_mode", "load_balance_hosts");
        for (AdminConsole.PoolCounts p : console.poolCounts()) {
            rs.row(p.database(), p.user(), p.clActive(), p.clWaiting(), 0, 0, p.svActive(), 0, 0, p.svIdle(), 0, 0,
                    p.svLogin(), p.maxWaitMicros() / 1_000_000, p.maxWaitMicros() % 1_000_000, p.poolMode(),
                    loadBalanceHosts(console.database(p.database())));
        }
        return rs;
    }

    private static String loadBalanceHosts(DatabaseRuntime db) {
        return db.replicas().isEmpty() ? null : "round-robin";
    }

    // ---- stats ----

    private static final String[] TOTAL_NAMES = {"server_assignment_count", "xact_count", "query_count",
            "received", "sent", "xact_time", "query_time", "wait_time", "client_parse_count", "server_parse_count",
            "bind_count"};

    ResultSet stats() {
        ResultSet rs = new ResultSet().column("database", TEXT);
        for (String n : TOTAL_NAMES) {
            rs.column("total_" + n, NUMERIC);
        }
        rs.columns(NUMERIC, "avg_server_assignment_count", "avg_xact_count", "avg_query_count", "avg_recv",
                "avg_sent", "avg_xact_time", "avg_query_time", "avg_wait_time", "avg_client_parse_count",
                "avg_server_parse_count", "avg_bind_count");
        rs.column("total_requests", NUMERIC); // PgBouncer < 1.8's name of total_query_count (old exporters read it)
        Map<String, DatabaseStats.Totals> averages = console.stats().averages();
        for (String db : console.databaseNames()) {
            DatabaseStats.Totals t = console.stats().database(db).totals();
            DatabaseStats.Totals a = averages.getOrDefault(db, DatabaseStats.Totals.ZERO);
            Object[] row = new Object[rs.columns().size()];
            row[0] = db;
            fill(row, 1, t);
            fill(row, 12, a);
            row[23] = t.queries();
            rs.row(row);
        }
        return rs;
    }

    ResultSet statsTotals() {
        ResultSet rs = new ResultSet().column("database", TEXT).columns(NUMERIC, "server_assignment_count",
                "xact_count", "query_count", "bytes_received", "bytes_sent", "xact_time", "query_time", "wait_time",
                "client_parse_count", "server_parse_count", "bind_count");
        for (String db : console.databaseNames()) {
            Object[] row = new Object[12];
            row[0] = db;
            fill(row, 1, console.stats().database(db).totals());
            rs.row(row);
        }
        return rs;
    }

    ResultSet statsAverages() {
        ResultSet rs = new ResultSet().column("database", TEXT).columns(NUMERIC, "server_assignment_count",
                "xact_count", "query_count", "bytes_received", "bytes_sent", "xact_time", "query_time", "wait_time",
                "avg_client_parse_count", "avg_server_parse_count", "avg_bind_count");
        Map<String, DatabaseStats.Totals> averages = console.stats().averages();
        for (String db : console.databaseNames()) {
            Object[] row = new Object[12];
            row[0] = db;
            fill(row, 1, averages.getOrDefault(db, DatabaseStats.Totals.ZERO));
            rs.row(row);
        }
        return rs;
    }

    ResultSet totals() {
        ResultSet rs = new ResultSet().column("name", TEXT).column("value", NUMERIC);
        DatabaseStats.Totals sum = DatabaseStats.Totals.ZERO;
        DatabaseStats.Totals avg = DatabaseStats.Totals.ZERO;
        Map<String, DatabaseStats.Totals> averages = console.stats().averages();
        for (String db : console.databaseNames()) {
            sum = sum.plus(console.stats().database(db).totals());
            avg = avg.plus(averages.getOrDefault(db, DatabaseStats.Totals.ZERO));
        }
        String[] names = {"server_assignment_count", "xact_count", "query_count", "client_bytes", "server_bytes",
                "xact_time", "query_time", "wait_time", "ps_client_parse_count", "ps_server_parse_count",
                "ps_bind_count"};
        Object[] t = new Object[11];
        Object[] a = new Object[11];
        fill(t, 0, sum);
        fill(a, 0, avg);
        for (int i = 0; i < names.length; i++) {
            rs.row("total_" + names[i], t[i]);
        }
        for (int i = 0; i < names.length; i++) {
            rs.row("avg_" + names[i], a[i]);
        }
        return rs;
    }

    private static void fill(Object[] row, int at, DatabaseStats.Totals t) {
        long[] v = {t.serverAssignments(), t.transactions(), t.queries(), t.bytesReceived(), t.bytesSent(),
                t.transactionMicros(), t.queryMicros(), t.waitMicros(), t.clientParses(), t.serverParses(), t.binds()};
        for (int i = 0; i < v.length; i++) {
            row[at + i] = v[i];
        }
    }

    // ---- clients and servers ----

    private static final String[] SOCKET_COLUMNS = {"type:s", "user:s", "database:s", "replication:s", "state:s",
            "addr:s", "port:i", "local_addr:s", "local_port:i", "connect_time:s", "request_time:s", "wait:i",
            "wait_us:i", "close_needed:i", "ptr:s", "link:s", "remote_pid:i", "tls:s", "application_name:s",
            "prepared_statements:i", "id:i"};

    private static ResultSet socketColumns() {
        ResultSet rs = new ResultSet();
        for (String c : SOCKET_COLUMNS) {
            String[] nt = c.split(":");
            rs.column(nt[0], nt[1].equals("i") ? INT4 : TEXT);
        }
        return rs;
    }

    ResultSet clients() {
        ResultSet rs = socketColumns();
        long now = System.nanoTime();
        for (ClientView c : console.clients()) {
            long waitMicros = c.waitingSinceNanos() == 0 ? 0 : (now - c.waitingSinceNanos()) / 1000;
            ServerConnection s = c.server();
            rs.row("C", c.user(), c.database(), "none", c.state(), host(c.remoteAddress()), port(c.remoteAddress()),
                    host(c.localAddress()), port(c.localAddress()), time(c.connectedAtMillis()),
                    time(c.lastRequestAtMillis()), waitMicros / 1_000_000, waitMicros % 1_000_000, 0, clientPtr(c),
                    s == null ? "" : serverPtr(s), 0, "", c.applicationName(), c.preparedStatements(), c.id());
        }
        return rs;
    }

    ResultSet servers() {
        ResultSet rs = socketColumns();
        Map<ServerConnection, ClientView> linked = new java.util.IdentityHashMap<>();
        List<ClientView> clients = console.clients();
        for (ClientView c : clients) {
            ServerConnection s = c.server();
            if (s != null) {
                linked.put(s, c);
            }
        }
        long nowMillis = System.currentTimeMillis();
        long nowNanos = System.nanoTime();
        for (PoolGroup g : console.poolGroups(clients)) {
            for (Pool p : g.pools()) {
                List<ServerConnection> idle = p.connections(true);
                for (ServerConnection s : p.connections(false)) {
                    ClientView c = linked.get(s);
                    boolean isIdle = idle.contains(s);
                    Node n = s.node();
                    SocketAddress local = s.channel().localAddress();
                    long connectedAt = nowMillis - (nowNanos - s.createdNanos()) / 1_000_000;
                    rs.row("S", g.user().name(), g.db().name(), "none", isIdle ? "idle" : c == null ? "used" : "active",
                            n.host(), n.port(), host(local), port(local), time(connectedAt),
                            time(c == null ? connectedAt : c.lastRequestAtMillis()), 0, 0, 0, serverPtr(s),
                            c == null ? "" : clientPtr(c), s.backendProcessId(), "",
                            c == null ? "" : c.applicationName(), s.state.statements.size(), s.backendProcessId());
                }
            }
        }
        return rs;
    }

    private static String clientPtr(ClientView c) {
        return "0x" + Long.toHexString(c.id());
    }

    private static String serverPtr(ServerConnection s) {
        return "0x" + Integer.toHexString(System.identityHashCode(s));
    }

    private static String host(SocketAddress a) {
        return a instanceof InetSocketAddress i ? i.getAddress() == null ? i.getHostString()
                : i.getAddress().getHostAddress() : a == null ? "unix" : a.toString();
    }

    private static int port(SocketAddress a) {
        return a instanceof InetSocketAddress i ? i.getPort() : 0;
    }

    static String time(long epochMillis) {
        return epochMillis <= 0 ? null : TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    // ---- configuration ----

    ResultSet databases() {
        ResultSet rs = new ResultSet().columns(TEXT, "name", "host").column("port", INT4)
                .columns(TEXT, "database", "force_user")
                .columns(INT4, "pool_size", "min_pool_size", "reserve_pool_size", "server_lifetime")
                .columns(TEXT, "pool_mode", "load_balance_hosts")
                .columns(INT4, "max_connections", "current_connections", "max_client_connections",
                        "current_client_connections", "paused", "disabled")
                .column("reserve_pool", INT4); // PgBouncer < 1.25's name of reserve_pool_size (old exporters read it)
        List<ClientView> clients = console.clients();
        List<PoolGroup> groups = console.poolGroups(clients);
        for (String name : console.databaseNames()) {
            DatabaseRuntime db = console.database(name);
            DatabaseConfig dc = console.config().databases().get(name);
            PoolConfig p = console.config().poolFor(name, null);
            int serverConns = 0;
            for (PoolGroup g : groups) {
                if (g.db() == db) {
                    for (Pool pool : g.pools()) {
                        serverConns += pool.active() + pool.idle() + pool.connecting();
                    }
                }
            }
            int clientConns = (int) clients.stream().filter(c -> c.database().equals(name)).count();
            boolean poolModeSet = dc.poolOverrides().containsKey("pool_mode");
            rs.row(name, db.primary().host(), db.primary().port(), dc.serverDatabase(), null, p.poolSize(),
                    p.minPoolSize(), p.reservePoolSize(), (int) p.serverLifetime().toSeconds(),
                    poolModeSet ? p.mode().name().toLowerCase() : null, loadBalanceHosts(db), p.maxDbConnections(),
                    serverConns, 0, clientConns, console.gate().isPaused(name) ? 1 : 0,
                    console.gate().isDisabled(name) ? 1 : 0, p.reservePoolSize());
        }
        for (String admin : AdminConsole.NAMES) {
            rs.row(admin, null, console.config().listen().port(), admin, admin, 2, 0, 0, 0, "statement", null, 0, 0,
                    0, (int) console.adminClients(), 0, 0, 0);
        }
        return rs;
    }

    ResultSet users() {
        ResultSet rs = new ResultSet().columns(TEXT, "name", "pool_size", "reserve_pool_size", "pool_mode")
                .columns(INT4, "max_user_connections", "current_connections", "max_user_client_connections",
                        "current_client_connections");
        List<ClientView> clients = console.clients();
        List<PoolGroup> groups = console.poolGroups(clients);
        for (UserConfig u : console.config().users().values()) {
            int serverConns = 0;
            for (PoolGroup g : groups) {
                if (g.user().name().equals(u.name())) {
                    for (Pool pool : g.pools()) {
                        serverConns += pool.active() + pool.idle() + pool.connecting();
                    }
                }
            }
            int clientConns = (int) clients.stream().filter(c -> c.user().equals(u.name())).count();
            rs.row(u.name(), "", "", u.poolMode() == null ? null : u.poolMode().name().toLowerCase(),
                    console.config().pool().maxUserConnections(), serverConns, 0, clientConns);
        }
        return rs;
    }

    ResultSet config() {
        ResultSet rs = new ResultSet().columns(TEXT, "key", "value", "default", "changeable");
        for (ConfigRows.Row r : ConfigRows.of(console.config())) {
            rs.row(r.key(), r.value(), r.defaultValue(), r.reloadable() ? "yes" : "no");
        }
        return rs;
    }

    ResultSet lists() {
        List<ClientView> clients = console.clients();
        int pools = 0;
        int servers = 0;
        for (PoolGroup g : console.poolGroups(clients)) {
            pools++;
            for (Pool p : g.pools()) {
                servers += p.active() + p.idle() + p.connecting();
            }
        }
        ResultSet rs = new ResultSet().column("list", TEXT).column("items", INT4);
        rs.row("databases", console.databaseNames().size() + AdminConsole.NAMES.size());
        rs.row("users", console.config().users().size());
        rs.row("peers", 0);
        rs.row("pools", pools);
        rs.row("peer_pools", 0);
        rs.row("free_clients", 0);
        rs.row("used_clients", clients.size() + (int) console.adminClients());
        rs.row("login_clients", Math.max(0, console.openClients() - clients.size()));
        rs.row("free_servers", 0);
        rs.row("used_servers", servers);
        rs.row("dns_names", 0);
        rs.row("dns_zones", 0);
        rs.row("dns_queries", 0);
        rs.row("dns_pending", 0);
        return rs;
    }

    ResultSet version() {
        return new ResultSet().column("version", TEXT).row("pgsplit " + AdminConsole.pgsplitVersion()
                + " (PgBouncer " + PGBOUNCER_VERSION + " compatible console)");
    }

    ResultSet state() {
        boolean paused = console.gate().allPaused();
        return new ResultSet().columns(TEXT, "key", "value").row("active", paused ? "no" : "yes")
                .row("paused", paused ? "yes" : "no").row("suspended", "no");
    }
}
