package io.pgsplit.admin;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.pgsplit.topology.Node;
import io.pgsplit.config.AdminConfig;
import io.pgsplit.config.AuthMethod;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.metrics.RouterStats;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.SqlState;
import io.pgsplit.pool.DatabaseRuntime;
import io.pgsplit.session.RouterContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin console: who may use it, and what each command answers or does. Sessions of the virtual database
 * ({@link AdminSession}) hand it one command at a time; answers are built from the router's live state (pools,
 * clients, nodes, counters) on the session's event loop, and nothing here blocks: PAUSE waits by re-checking on a
 * timer.
 */
public final class AdminConsole {
    private static final Logger log = LoggerFactory.getLogger(AdminConsole.class);
    /** The virtual database's names: pgsplit's own, and PgBouncer's so exporters and scripts work unchanged. */
    public static final List<String> NAMES = List.of("pgsplit", "pgbouncer");
    private static final long PAUSE_POLL_MILLIS = 10;
    private static final java.util.regex.Pattern SESSION_SET = java.util.regex.Pattern.compile(
            "(?is)\\s*set\\s+(session\\s+)?[a-z_][a-z0-9_.]*\\s*(=|to)\\s*[^;]*;?\\s*");

    public enum Role { ADMIN, STATS }

    private final RouterContext ctx;
    private final PoolManager pools;
    private final PauseGate gate = new PauseGate();
    private final AtomicInteger adminClients = new AtomicInteger();
    private final PgBouncerShows pgbouncer = new PgBouncerShows(this);
    private final PgsplitShows own = new PgsplitShows(this);
    private volatile Operator operator = Operator.NONE;

    public AdminConsole(RouterContext ctx, PoolManager pools) {
        this.ctx = ctx;
        this.pools = pools;
    }

    public void operator(Operator operator) {
        this.operator = operator;
    }

    Operator operator() {
        return operator;
    }

    public PauseGate gate() {
        return gate;
    }

    public RouterStats stats() {
        return ctx.stats();
    }

    PgsplitConfig config() {
        return ctx.config();
    }

    // ---- who ----

    /** Whether a client asking for {@code database} gets the console (it is enabled and no real database has the name). */
    public boolean isConsole(String database) {
        return config().admin().enabled() && NAMES.contains(database) && !config().databases().containsKey(database);
    }

    /** The console role of a user name, or null if it has none. */
    public Role roleFor(String user) {
        AdminConfig a = config().admin();
        if (user.equals(a.user()) || a.adminUsers().contains(user)) {
            return Role.ADMIN;
        }
        return a.statsUsers().contains(user) ? Role.STATS : null;
    }

    /**
     * The credentials a console user logs in with: the admin section's user and password, or the user's own entry
     * in {@code users}. Null for anyone else (authentication then fails like a wrong password).
     */
    public UserConfig credentialsFor(String user) {
        AdminConfig a = config().admin();
        if (user.equals(a.user()) && !config().users().containsKey(user)) {
            UserConfig scram = new UserConfig(user, AuthMethod.SCRAM_SHA_256, a.password(), null, null, null);
            return scram.passwordIsMd5Hash() ? new UserConfig(user, AuthMethod.MD5, a.password(), null, null, null)
                    : scram;
        }
        return roleFor(user) == null ? null : config().users().get(user);
    }

    void sessionOpened() {
        adminClients.incrementAndGet();
    }

    void sessionClosed() {
        adminClients.decrementAndGet();
    }

    long adminClients() {
        return adminClients.get();
    }

    int openClients() {
        return ctx.clientCount();
    }

    // ---- what is there ----

    List<ClientView> clients() {
        return ctx.cancels().clients();
    }

    List<String> databaseNames() {
        return new ArrayList<>(ctx.databases().keySet());
    }

    DatabaseRuntime database(String name) {
        return ctx.database(name);
    }

    public CacheStats classifierCache() {
        return ctx.classifier().cacheStats();
    }

    /** The pools of one node of one database, over all users. */
    record NodePools(DatabaseRuntime db, Node node, List<Pool> pools) {
    }

    List<NodePools> nodePools() {
        List<NodePools> out = new ArrayList<>();
        for (DatabaseRuntime db : ctx.databases().values()) {
            String serverDb = config().databases().get(db.name()).serverDatabase();
            for (Node n : db.nodes()) {
                List<Pool> ps = new ArrayList<>();
                for (UserConfig u : config().users().values()) {
                    Pool p = pools.existing(n, serverDb, u.serverUser());
                    if (p != null && !ps.contains(p)) {
                        ps.add(p);
                    }
                }
                out.add(new NodePools(db, n, ps));
            }
        }
        return out;
    }

    /** (database, user) pairs with a pool on some node or a client, and their pools. */
    List<PgBouncerShows.PoolGroup> poolGroups(List<ClientView> clients) {
        List<PgBouncerShows.PoolGroup> out = new ArrayList<>();
        for (DatabaseRuntime db : ctx.databases().values()) {
            String serverDb = config().databases().get(db.name()).serverDatabase();
            for (UserConfig u : config().users().values()) {
                List<Pool> ps = new ArrayList<>();
                for (Node n : db.nodes()) {
                    Pool p = pools.existing(n, serverDb, u.serverUser());
                    if (p != null) {
                        ps.add(p);
                    }
                }
                boolean hasClient = false;
                for (ClientView c : clients) {
                    if (c.database().equals(db.name()) && c.user().equals(u.name())) {
                        hasClient = true;
                        break;
                    }
                }
                if (!ps.isEmpty() || hasClient) {
                    out.add(new PgBouncerShows.PoolGroup(db, u, ps));
                }
            }
        }
        return out;
    }

    // ---- the numbers SHOW POOLS and SHOW NODES print, and the metrics endpoint serves ----

    /** One (database, user) pool, all nodes together. Wait times in microseconds. */
    public record PoolCounts(String database, String user, String poolMode, int clActive, int clWaiting,
                             int svActive, int svIdle, int svLogin, long maxWaitMicros) {
    }

    public List<PoolCounts> poolCounts() {
        List<ClientView> clients = clients();
        List<PoolCounts> out = new ArrayList<>();
        long now = System.nanoTime();
        for (PgBouncerShows.PoolGroup g : poolGroups(clients)) {
            int clActive = 0;
            int clWaiting = 0;
            long maxWaitNanos = 0;
            for (ClientView c : clients) {
                if (c.database().equals(g.db().name()) && c.user().equals(g.user().name())) {
                    long since = c.waitingSinceNanos();
                    if (since != 0) {
                        clWaiting++;
                        maxWaitNanos = Math.max(maxWaitNanos, now - since);
                    } else {
                        clActive++;
                    }
                }
            }
            int active = 0;
            int idle = 0;
            int login = 0;
            for (Pool p : g.pools()) {
                io.pgsplit.pool.PoolStats ps = p.stats();
                active += ps.active();
                idle += ps.idle();
                login += ps.connecting();
                maxWaitNanos = Math.max(maxWaitNanos, ps.maxWaitMillis() * 1_000_000L);
            }
            String mode = config().poolFor(g.db().name(), g.user().name()).mode().name().toLowerCase();
            out.add(new PoolCounts(g.db().name(), g.user().name(), mode, clActive, clWaiting, active, idle, login,
                    maxWaitNanos / 1000));
        }
        return out;
    }

    /** One node of one database, all users together. */
    public record NodeCounts(String database, Node node, int svActive, int svIdle, int svLogin) {
    }

    public List<NodeCounts> nodeCounts() {
        List<NodeCounts> out = new ArrayList<>();
        for (NodePools np : nodePools()) {
            int active = 0;
            int idle = 0;
            int login = 0;
            for (Pool p : np.pools()) {
                io.pgsplit.pool.PoolStats ps = p.stats();
                active += ps.active();
                idle += ps.idle();
                login += ps.connecting();
            }
            out.add(new NodeCounts(np.db().name(), np.node(), active, idle, login));
        }
        return out;
    }

    /** Whether {@code database} is paused (PAUSE of it or of all). */
    public boolean isPaused(String database) {
        return gate.isPaused(database);
    }

    /** The configured databases' names. */
    public List<String> databases() {
        return databaseNames();
    }

    // ---- commands ----

    /**
     * Runs one query's text. {@code reply} gets the messages to send before ReadyForQuery (a result, a
     * CommandComplete, or an ErrorResponse), on {@code loop}, possibly later (PAUSE waits for transactions).
     */
    public void execute(String sql, Role role, EventLoop loop, Consumer<List<ByteBuf>> reply) {
        if (SESSION_SET.matcher(sql).matches()) {
            // Drivers set session parameters after log-in (pgjdbc: application_name). Nothing to apply here;
            // pgsplit's settings change through the configuration file and RELOAD.
            reply.accept(done("SET"));
            return;
        }
        AdminCommand cmd;
        try {
            cmd = AdminCommand.parse(sql);
        } catch (AdminCommand.SyntaxError e) {
            reply.accept(error(SqlState.SYNTAX_ERROR, e.getMessage()));
            return;
        }
        if (cmd == null) {
            reply.accept(List.of(Messages.emptyQueryResponse()));
            return;
        }
        try {
            if (cmd.verb().equals("SHOW")) {
                reply.accept(show(cmd, sql));
                return;
            }
            if (role != Role.ADMIN) {
                reply.accept(error(SqlState.INSUFFICIENT_PRIVILEGE, "admin access needed: " + cmd.verb()
                        + " is for admin users; stats users may only run SHOW commands"));
                return;
            }
            act(cmd, sql, loop, reply);
        } catch (CommandError e) {
            reply.accept(error(e.sqlState, e.getMessage()));
        } catch (RuntimeException e) {
            log.warn("admin console: {} failed", cmd, e);
            reply.accept(error(SqlState.INTERNAL_ERROR, "pgsplit: " + cmd.verb() + " failed: " + e));
        }
    }

    /** A command refused with a PostgreSQL-style error. */
    static final class CommandError extends RuntimeException {
        final String sqlState;

        CommandError(String sqlState, String message) {
            super(message);
            this.sqlState = sqlState;
        }
    }

    private List<ByteBuf> show(AdminCommand cmd, String sql) {
        if (cmd.arg() != null) {
            throw new CommandError(SqlState.SYNTAX_ERROR, "SHOW " + cmd.subject() + " takes no argument");
        }
        ResultSet rs = switch (cmd.subject()) {
            case "POOLS" -> pgbouncer.pools();
            case "STATS" -> pgbouncer.stats();
            case "STATS_TOTALS" -> pgbouncer.statsTotals();
            case "STATS_AVERAGES" -> pgbouncer.statsAverages();
            case "TOTALS" -> pgbouncer.totals();
            case "CLIENTS" -> pgbouncer.clients();
            case "SERVERS" -> pgbouncer.servers();
            case "DATABASES" -> pgbouncer.databases();
            case "USERS" -> pgbouncer.users();
            case "CONFIG" -> pgbouncer.config();
            case "LISTS" -> pgbouncer.lists();
            case "VERSION" -> pgbouncer.version();
            case "STATE" -> pgbouncer.state();
            case "NODES" -> own.nodes();
            case "ROUTING" -> own.routing();
            case "RULES" -> own.rules();
            case "CLASSIFIER" -> own.classifier();
            case "PREPARED" -> own.prepared();
            case "HELP" -> help();
            case "FDS", "PEERS", "PEER_POOLS", "SOCKETS", "ACTIVE_SOCKETS", "MEM", "DNS_HOSTS", "DNS_ZONES" ->
                    throw new CommandError(SqlState.FEATURE_NOT_SUPPORTED, "SHOW " + cmd.subject()
                            + " is not supported by pgsplit (see SHOW HELP)");
            default -> throw new CommandError(SqlState.SYNTAX_ERROR, AdminCommand.invalid(sql).getMessage());
        };
        return rs.toMessages("SHOW");
    }

    private static ResultSet help() {
        ResultSet rs = new ResultSet().column("command", ResultSet.Type.TEXT);
        for (String c : List.of("SHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION|LISTS|STATE",
                "SHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS", "SHOW NODES|ROUTING|RULES|CLASSIFIER|PREPARED",
                "PAUSE [<db>]", "RESUME [<db>]", "DISABLE <db>", "ENABLE <db>", "RECONNECT [<db>]", "KILL [<db>]",
                "KILL_CLIENT <id>", "RELOAD", "SHUTDOWN [WAIT_FOR_CLIENTS]")) {
            rs.row(c);
        }
        return rs;
    }

    private void act(AdminCommand cmd, String sql, EventLoop loop, Consumer<List<ByteBuf>> reply) {
        String db = cmd.arg();
        switch (cmd.verb()) {
            case "PAUSE" -> {
                requireDatabaseOrAll(db, "pause");
                if (db == null ? gate.allPaused() : gate.isPaused(db)) {
                    throw new CommandError(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, "already suspended/paused");
                }
                gate.pause(db);
                log.info("admin console: PAUSE {}", db == null ? "(all databases)" : db);
                whenIdle(db, loop, () -> reply.accept(done("PAUSE")));
            }
            case "RESUME" -> {
                requireDatabaseOrAll(db, "resume");
                if (db == null ? !gate.allPaused() && !anyPaused() : !gate.isPaused(db)) {
                    throw new CommandError(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE,
                            db == null ? "pooler is not paused/suspended" : "database " + db + " is not paused");
                }
                gate.resume(db);
                log.info("admin console: RESUME {}", db == null ? "(all databases)" : db);
                reply.accept(done("RESUME"));
            }
            case "DISABLE", "ENABLE" -> {
                if (db == null) {
                    throw new CommandError(SqlState.SYNTAX_ERROR, "a database is required");
                }
                requireDatabase(db, cmd.verb().toLowerCase());
                if (cmd.verb().equals("DISABLE")) {
                    gate.disable(db);
                } else {
                    gate.enable(db);
                }
                reply.accept(done(cmd.verb()));
            }
            case "RECONNECT" -> {
                requireDatabaseOrAll(db, "reconnect");
                forPools(db, Pool::reconnect);
                reply.accept(done("RECONNECT"));
            }
            case "KILL" -> {
                requireDatabaseOrAll(db, "kill");
                gate.pause(db);
                for (ClientView c : clients()) {
                    if (db == null || c.database().equals(db)) {
                        c.kill("pgsplit: database \"" + c.database() + "\" killed by an admin (KILL)");
                    }
                }
                forPools(db, Pool::reconnect);
                reply.accept(done("KILL"));
            }
            case "KILL_CLIENT" -> {
                long id;
                try {
                    id = Long.parseLong(db == null ? "" : db);
                } catch (NumberFormatException e) {
                    throw new CommandError(SqlState.SYNTAX_ERROR, "invalid client pointer supplied");
                }
                ClientView target = clients().stream().filter(c -> c.id() == id).findFirst().orElseThrow(
                        () -> new CommandError(SqlState.UNDEFINED_OBJECT, "client not found"));
                target.kill("pgsplit: client killed by an admin (KILL_CLIENT)");
                reply.accept(done("KILL_CLIENT"));
            }
            case "RELOAD" -> {
                if (db != null) {
                    throw new CommandError(SqlState.SYNTAX_ERROR, "RELOAD takes no argument");
                }
                // Reading files is blocking I/O: off the event loop, the answer comes back through reply.
                Thread t = new Thread(() -> reply.accept(reload()), "pgsplit-admin-reload");
                t.setDaemon(true);
                t.start();
            }
            case "SHUTDOWN" -> {
                boolean wait = "WAIT_FOR_CLIENTS".equalsIgnoreCase(db);
                if (db != null && !wait) {
                    throw new CommandError(SqlState.SYNTAX_ERROR, "SHUTDOWN takes no argument or WAIT_FOR_CLIENTS");
                }
                try {
                    reply.accept(done("SHUTDOWN"));
                    operator.shutdown(wait);
                } catch (UnsupportedOperationException e) {
                    throw new CommandError(SqlState.FEATURE_NOT_SUPPORTED, e.getMessage());
                }
            }
            case "SUSPEND", "WAIT_CLOSE", "SET", "SELECT", "UPGRADE" -> throw new CommandError(
                    SqlState.FEATURE_NOT_SUPPORTED, cmd.verb() + " is not supported by pgsplit's console (see SHOW HELP)");
            default -> throw new CommandError(SqlState.SYNTAX_ERROR, AdminCommand.invalid(sql).getMessage());
        }
    }

    private List<ByteBuf> reload() {
        List<String> notes;
        try {
            notes = operator.reload();
        } catch (UnsupportedOperationException e) {
            return error(SqlState.FEATURE_NOT_SUPPORTED, e.getMessage());
        } catch (io.pgsplit.config.ConfigException e) {
            StringBuilder all = new StringBuilder();
            e.errors().forEach(err -> all.append('\n').append(err));
            return List.of(Messages.error("ERROR", SqlState.CONFIG_FILE_ERROR,
                    "configuration NOT reloaded, the running one stays: " + e.errors().size() + " error(s)",
                    all.toString().strip(), null));
        } catch (Exception e) {
            return error(SqlState.CONFIG_FILE_ERROR, "configuration NOT reloaded, the running one stays: "
                    + e.getMessage());
        }
        List<ByteBuf> out = new ArrayList<>();
        for (String n : notes) {
            out.add(Messages.notice("00000", n));
        }
        out.add(Messages.commandComplete("RELOAD"));
        return out;
    }

    private boolean anyPaused() {
        for (String db : databaseNames()) {
            if (gate.isPaused(db)) {
                return true;
            }
        }
        return false;
    }

    private void requireDatabaseOrAll(String db, String what) {
        if (db != null) {
            requireDatabase(db, what);
        }
    }

    private void requireDatabase(String db, String what) {
        if (NAMES.contains(db) && !config().databases().containsKey(db)) {
            throw new CommandError(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, "cannot " + what + " admin db: " + db);
        }
        if (ctx.database(db) == null) {
            throw new CommandError(SqlState.INVALID_CATALOG_NAME, "no such database: " + db);
        }
    }

    private void forPools(String db, Consumer<Pool> action) {
        for (NodePools np : nodePools()) {
            if (db == null || np.db().name().equals(db)) {
                np.pools().forEach(action);
            }
        }
    }

    /** Runs {@code then} on {@code loop} once no server connection of {@code db} (all when null) is in use. */
    private void whenIdle(String db, EventLoop loop, Runnable then) {
        int busy = 0;
        for (NodePools np : nodePools()) {
            if (db == null || np.db().name().equals(db)) {
                for (Pool p : np.pools()) {
                    busy += p.active();
                }
            }
        }
        if (busy == 0) {
            then.run();
        } else {
            loop.schedule(() -> whenIdle(db, loop, then), PAUSE_POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private static List<ByteBuf> done(String tag) {
        return List.of(Messages.commandComplete(tag));
    }

    static List<ByteBuf> error(String sqlState, String message) {
        return List.of(Messages.error(sqlState, message));
    }

    /** pgsplit's version, from the jar's manifest (or "dev" when run from classes). */
    static String pgsplitVersion() {
        String v = AdminConsole.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
