package io.pgsplit.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.auth.AuthFailedException;
import io.pgsplit.auth.ClientAuthenticator;
import io.pgsplit.topology.Node;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.PoolMode;
import io.pgsplit.config.SessionStatePolicy;
import io.pgsplit.config.UserConfig;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolException;
import io.pgsplit.pool.ReleaseMode;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.ServerDataListener;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.protocol.FrontendMessages;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.ProtocolException;
import io.pgsplit.protocol.SqlState;
import io.pgsplit.protocol.StartupPacket;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.SessionEffect;
import io.pgsplit.route.StatementInfo;
import io.pgsplit.route.StatementKind;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, from its first byte to its last. Everything here runs on the client
 * channel's event loop; replies from a server connection on another loop hop over first.
 *
 * <p>The client's messages are grouped into {@link Unit}s (a Query, or extended-protocol messages up
 * to a Sync), each routed to one node and sent on one server connection, borrowed from that node's
 * pool for as long as the pool mode and the session's state require. Replies stream back untouched
 * except where pgsplit must answer for itself (see {@link Expect}).
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements ServerDataListener,
        io.pgsplit.admin.ClientView {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    /** A DataRow or CopyData this large is streamed in pieces instead of being waited for whole. */
    private static final int STREAM_THRESHOLD = 8192;
    /** Replies held back for a possible retry on the primary, at most. */
    private static final int HOLDBACK_LIMIT = 256 * 1024;

    private enum Phase { STARTUP, AUTH, READY, CLOSED }

    private final RouterContext ctx;
    private final FrameDecoder decoder;
    private Channel channel;
    private EventLoop loop;
    private Phase phase = Phase.STARTUP;
    private ScheduledFuture<?> startupTimer;
    private ScheduledFuture<?> idleTimer;

    // ---- identity, from the start-up packet ----
    private String userName;
    private String databaseName;
    private UserConfig user;
    private ClientAuthenticator authenticator;
    private DatabaseRuntime db;
    private PoolConfig poolConfig;
    private PoolMode mode;
    private SessionParams params;
    private String applicationName = "";
    private int processId;
    private int secretKey;

    // ---- routing state ----
    /** Route hint of the whole session: from SET pgsplit.route or options=-c pgsplit.route=... */
    private String sessionRoute = "auto";
    private boolean standardConformingStrings = true;
    private boolean readOnlyDefault;
    private boolean serializableDefault;
    /** Last transaction status the client was told: 'I', 'T' or 'E'. */
    private char clientTxnStatus = 'I';
    /** A BEGIN pgsplit answered itself, not yet sent: it goes with the transaction's first statement. */
    private Unit deferredBegin;
    /** The sticky replica of a session-mode client (one server connection per node it uses). */
    private Node stickyReplica;

    // ---- server connections ----
    /** The connection the client's work is on now (its replies go to the client). */
    private ServerConnection active;
    /** Session mode: the connection kept for each node this client has used. */
    private final Map<Node, ServerConnection> sessionConnections = new HashMap<>(4);
    private boolean acquiring;
    // Small first capacities (ArrayDeque's default array has 17 slots): most clients are idle; the
    // deques grow on first use and stay grown.
    private final ArrayDeque<Expect> expects = new ArrayDeque<>(4);
    /** The server skips extended-protocol messages until Sync after an error. */
    private boolean serverSkippingToSync;
    private ByteBuf partial;
    private int streamRemaining;
    private boolean copyIn;
    private boolean lastCommandWasCommit;
    /** The client's work got an ErrorResponse since the last ReadyForQuery (an implicit transaction failed). */
    private boolean errorSinceReady;

    // ---- client work ----
    private final ArrayDeque<Unit> pending = new ArrayDeque<>(4);
    private Unit batch;
    private final Map<String, ClientStatement> statements = new HashMap<>();
    private final Map<String, List<StatementInfo>> portals = new HashMap<>();
    /** The last unnamed Parse, so a later Bind of the unnamed statement can be re-prepared elsewhere. */
    private ClientStatement unnamed;
    private final SessionState sessionState = new SessionState();
    private boolean clientPaused;

    // ---- issue 16: counters and what the admin console shows ----
    private io.pgsplit.metrics.DatabaseStats stats;
    /** When the client's current transaction started (its first unit sent), or 0. */
    private long xactStartNanos;
    /** Held by PAUSE: resumed by the console's gate. */
    private boolean heldByPause;
    private volatile long waitingSinceNanos;
    private final long connectedAtMillis = System.currentTimeMillis();
    private volatile long lastRequestAtMillis;

    public ClientSession(RouterContext ctx, FrameDecoder decoder) {
        this.ctx = ctx;
        this.decoder = decoder;
    }

    // =====================================================================================
    // Netty events
    // =====================================================================================

    @Override
    public void channelActive(ChannelHandlerContext c) {
        channel = c.channel();
        loop = channel.eventLoop();
        long timeout = ctx.config().listen().startupTimeout().toMillis();
        if (timeout > 0) {
            startupTimer = loop.schedule(() -> {
                if (phase == Phase.STARTUP || phase == Phase.AUTH) {
                    fatal(SqlState.PROTOCOL_VIOLATION, "pgsplit: start-up and authentication not completed within "
                            + timeout + " ms");
                }
            }, timeout, TimeUnit.MILLISECONDS);
        }
        c.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext c, Object m) {
        ByteBuf msg = (ByteBuf) m;
        try {
            switch (phase) {
                case STARTUP -> onStartupPacket(msg);
                case AUTH -> onAuthMessage(msg);
                case READY -> {
                    stats.received(msg.readableBytes());
                    onClientMessage(msg);
                    msg = null; // ownership passed on
                }
                case CLOSED -> {
                }
            }
        } catch (ProtocolException e) {
            fatal(e.sqlState(), e.getMessage());
        } finally {
            if (msg != null) {
                msg.release();
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext c) {
        if (active != null && active.isActive()) {
            active.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext c) {
        // A slow client: stop reading from its server so replies do not pile up in memory.
        boolean writable = channel.isWritable();
        if (active != null) {
            active.setAutoRead(writable);
        }
        c.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext c) {
        close(null);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
        Throwable root = cause.getCause() instanceof ProtocolException ? cause.getCause() : cause;
        if (root instanceof ProtocolException pe) {
            fatal(pe.sqlState(), root.getMessage());
        } else if (root instanceof java.io.IOException) {
            log.debug("client {}: {}", remote(), root.toString());
            close(null);
        } else {
            log.warn("client {}: unexpected error", remote(), root);
            fatal(SqlState.INTERNAL_ERROR, "pgsplit internal error: " + root);
        }
    }

    // =====================================================================================
    // Start-up and authentication
    // =====================================================================================

    private void onStartupPacket(ByteBuf msg) {
        StartupPacket p = StartupPacket.decode(msg);
        switch (p.code()) {
            case MessageType.SSL_REQUEST, MessageType.GSSENC_REQUEST ->
                    channel.writeAndFlush(channel.alloc().buffer(1).writeByte('N'));
            case MessageType.CANCEL_REQUEST -> {
                ctx.cancels().cancel(p.cancelProcessId(), p.cancelSecretKey());
                close(null);
            }
            default -> onStartupMessage(p.parameters());
        }
    }

    private void onStartupMessage(Map<String, String> startup) {
        decoder.mode(FrameDecoder.Mode.TYPED);
        userName = startup.get("user");
        if (userName == null || userName.isEmpty()) {
            fatal(SqlState.INVALID_AUTHORIZATION, "no PostgreSQL user name specified in startup packet");
            return;
        }
        databaseName = startup.getOrDefault("database", userName);
        if (databaseName.isEmpty()) {
            databaseName = userName;
        }
        if (startup.containsKey("replication") && !"false".equalsIgnoreCase(startup.get("replication"))
                && !"0".equals(startup.get("replication"))) {
            fatal(SqlState.FEATURE_NOT_SUPPORTED, "pgsplit does not support replication connections");
            return;
        }
        Map<String, String> clientParams = new LinkedHashMap<>();
        Map<String, String> fromOptions = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : startup.entrySet()) {
            String k = e.getKey();
            if (k.equals("user") || k.equals("database") || k.equals("replication") || k.startsWith("_pq_.")) {
                continue;
            }
            if (k.equals("options")) {
                fromOptions.putAll(StartupOptions.parse(e.getValue()));
                continue;
            }
            clientParams.put(k, e.getValue());
        }
        // As in PostgreSQL, a parameter given directly in the start-up packet wins over options' -c one
        // (pgjdbc sends TimeZone itself, and options often come after it).
        // (Names compare case-insensitively: options' are lower-cased, pgjdbc's is "TimeZone".)
        Set<String> direct = new HashSet<>();
        clientParams.keySet().forEach(k -> direct.add(k.toLowerCase()));
        fromOptions.forEach((k, v) -> {
            if (!direct.contains(k.toLowerCase())) {
                clientParams.put(k, v);
            }
        });
        String hint = clientParams.remove("pgsplit.route");
        if (hint != null && ctx.config().routing().hints()) {
            sessionRoute = hint.toLowerCase();
        }
        applicationName = clientParams.getOrDefault("application_name", "");
        loginKey = databaseName + '\0' + userName + '\0' + new java.util.TreeMap<>(clientParams);
        params = new SessionParams(clientParams);
        io.pgsplit.admin.AdminConsole console = ctx.admin();
        if (console != null && console.isConsole(databaseName)) {
            adminLogin = true; // issue 16: the virtual admin database; its users come from the admin section
            user = console.credentialsFor(userName);
        } else {
            user = ctx.config().users().get(userName);
        }
        authenticator = new ClientAuthenticator(userName, user);
        if (ctx.clientCount() > ctx.config().listen().maxClientConn()) {
            fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already (pgsplit max_client_conn "
                    + ctx.config().listen().maxClientConn() + ")");
            return;
        }
        phase = Phase.AUTH;
        ByteBuf first = authenticator.start();
        if (authenticator.isTrust()) {
            first.release();
            authenticated();
        } else {
            channel.writeAndFlush(first);
        }
    }

    private void onAuthMessage(ByteBuf msg) {
        if (msg.getByte(0) != MessageType.Frontend.PASSWORD) {
            throw new ProtocolException("expected password response, got message type "
                    + FrameDecoder.printable(msg.getByte(0)));
        }
        try {
            ClientAuthenticator.Step step = authenticator.onPasswordMessage(msg);
            ByteBuf reply = authenticator.takeReply();
            if (reply != null) {
                channel.writeAndFlush(reply);
            }
            if (step == ClientAuthenticator.Step.OK) {
                authenticated();
            }
        } catch (AuthFailedException e) {
            log.info("client {}: authentication failed for user \"{}\"", remote(), userName);
            ctx.stats().authFailed();
            fatal(SqlState.INVALID_PASSWORD, e.getMessage());
        }
    }

    private void authenticated() {
        if (adminLogin) {
            handOverToAdminConsole();
            return;
        }
        db = ctx.database(databaseName);
        if (db == null) {
            fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + databaseName + "\" does not exist");
            return;
        }
        if (ctx.admin() != null && ctx.admin().gate().isDisabled(databaseName)) {
            fatal(SqlState.CANNOT_CONNECT_NOW, "pgsplit: database \"" + databaseName
                    + "\" is disabled by an admin (DISABLE); ENABLE it to connect");
            return;
        }
        stats = ctx.stats().database(databaseName);
        stats.login();
        poolConfig = ctx.config().poolFor(databaseName, userName);
        mode = poolConfig.mode();
        channel.write(Messages.authenticationOk());
        Map<String, String> known = ctx.knownLogin(loginKey);
        if (known != null) {
            // Same database, user and start-up parameters as an earlier client that logged in: they are
            // valid and the server's answers are known, so no server connection is needed now. Waiting for
            // one here could deadlock a program that connects while it holds the pool's connections in open
            // transactions (pgbench -C -j 2); the parameters are applied on the first connection used.
            finishStartup(new LinkedHashMap<>(known));
            return;
        }
        // Log in to the primary once now: it checks the server credentials, applies the client's
        // start-up parameters (an invalid one fails here, as it would on PostgreSQL) and tells us
        // the ParameterStatus values to report.
        Pool pool = db.pool(db.primary(), user);
        acquiring = true;
        pool.acquire(loop).addListener((Future<ServerConnection> f) -> {
            acquiring = false;
            if (!f.isSuccess()) {
                failConnect(f.cause());
                return;
            }
            ServerConnection conn = f.getNow();
            if (phase == Phase.CLOSED) {
                conn.pool().release(conn, ReleaseMode.REUSE);
                return;
            }
            bind(conn);
            String sync = params.syncSql(conn.state);
            if (sync != null) {
                sendInjectedQuery(conn, sync);
                conn.flush();
            }
            whenIdle = this::finishStartup;
            maybeIdle();
        });
    }

    private Runnable whenIdle;
    private ErrorFields startupError;
    /** Database, user and start-up parameters: clients with the same ones log in alike. */
    private String loginKey;
    /** The client asked for the admin console's virtual database (issue 16). */
    private boolean adminLogin;

    private void finishStartup() {
        ServerConnection conn = active;
        if (startupError != null) {
            fatal(startupError.sqlState(), startupError.message());
            return;
        }
        Map<String, String> report = new LinkedHashMap<>(conn.loginParameters());
        report.putAll(conn.state.reportedParams);
        report.put("in_hot_standby", "off");
        ctx.rememberLogin(loginKey, report);
        finishStartup(report);
    }

    private void finishStartup(Map<String, String> report) {
        for (Map.Entry<String, String> e : report.entrySet()) {
            channel.write(Messages.parameterStatus(e.getKey(), e.getValue()));
        }
        standardConformingStrings = !"off".equals(report.get("standard_conforming_strings"));
        readOnlyDefault = "on".equals(report.get("default_transaction_read_only"));
        processId = ctx.cancels().register(this);
        secretKey = ctx.cancels().secretOf(processId);
        channel.write(Messages.backendKeyData(processId, secretKey));
        phase = Phase.READY;
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        channel.writeAndFlush(Messages.readyForQuery('I'));
        log.debug("client {}: user \"{}\" database \"{}\" ready ({} pooling)", remote(), userName, databaseName, mode);
        maybeIdle();
    }

    private void failConnect(Throwable cause) {
        if (cause instanceof PoolException pe) {
            fatal(pe.sqlState(), pe.getMessage());
        } else {
            fatal(SqlState.CONNECTION_FAILURE, "pgsplit: could not get a server connection: " + cause);
        }
    }

    // =====================================================================================
    // Client messages after start-up
    // =====================================================================================

    private void onClientMessage(ByteBuf msg) {
        byte type = msg.getByte(0);
        FrontendMessages.validate(msg); // malformed: 08P01 now, while channelRead still owns msg
        cancelIdleTimer();
        switch (type) {
            case MessageType.Frontend.QUERY -> {
                flushBatchIfAny();
                Unit u = new Unit(Unit.Type.SIMPLE_QUERY);
                u.sql = Bufs.getCString(msg, 5);
                u.endsWithSync = true;
                u.add(msg);
                enqueue(u);
            }
            case MessageType.Frontend.PARSE, MessageType.Frontend.BIND, MessageType.Frontend.DESCRIBE,
                    MessageType.Frontend.EXECUTE, MessageType.Frontend.CLOSE -> {
                if (type == MessageType.Frontend.PARSE) {
                    stats.clientParse();
                } else if (type == MessageType.Frontend.BIND) {
                    stats.bind();
                }
                if (batch == null) {
                    batch = new Unit(Unit.Type.EXTENDED);
                }
                batch.add(msg);
            }
            case MessageType.Frontend.SYNC, MessageType.Frontend.FLUSH -> {
                if (batch == null) {
                    batch = new Unit(Unit.Type.EXTENDED);
                }
                batch.add(msg);
                batch.endsWithSync = type == MessageType.Frontend.SYNC;
                Unit u = batch;
                batch = null;
                enqueue(u);
            }
            case MessageType.Frontend.FUNCTION_CALL -> {
                flushBatchIfAny();
                Unit u = new Unit(Unit.Type.FUNCTION_CALL);
                u.endsWithSync = true;
                u.add(msg);
                enqueue(u);
            }
            case MessageType.Frontend.COPY_DATA, MessageType.Frontend.COPY_DONE, MessageType.Frontend.COPY_FAIL -> {
                if (copyIn && active != null) {
                    active.write(msg);
                    if (type != MessageType.Frontend.COPY_DATA) {
                        copyIn = false;
                        active.flush();
                    }
                } else {
                    msg.release(); // PostgreSQL ignores these outside COPY too
                }
            }
            case MessageType.Frontend.TERMINATE -> {
                msg.release();
                close(null);
            }
            default -> {
                // not released here: channelRead's finally releases it when this throws
                throw new ProtocolException("invalid frontend message type " + (msg.getByte(0) & 0xFF)
                        + " ('" + FrameDecoder.printable(type) + "')");
            }
        }
    }

    private void flushBatchIfAny() {
        if (batch != null) {
            // Extended messages without a Sync before a Query: send them along, bound to one connection.
            batch.endsWithSync = false;
            Unit u = batch;
            batch = null;
            enqueue(u);
        }
    }

    private void enqueue(Unit u) {
        lastRequestAtMillis = System.currentTimeMillis();
        pending.add(u);
        if (pending.size() > 256 && !clientPaused) {
            clientPaused = true; // a client pipelining far ahead of its server: stop reading it for now
            channel.config().setAutoRead(false);
        }
        processPending();
    }

    // =====================================================================================
    // Routing and dispatch
    // =====================================================================================

    /** Sends as much pending work as the current state allows. */
    private void processPending() {
        while (phase == Phase.READY && !acquiring && !pending.isEmpty()) {
            Unit u = pending.peek();
            if (u.decision == null) {
                if (u.classifying || classifyOffLoopIfSlow(u)) {
                    return; // resumed when the classification is ready
                }
                prepare(u);
                if (u.decision == null) {
                    return; // answered already, or waiting for a classification
                }
            }
            if (u.virtual) {
                if (!expects.isEmpty()) {
                    return; // pgsplit's own answers must come after the replies still on their way
                }
                pending.poll();
                answerVirtually(u);
                continue;
            }
            ServerConnection target = currentConnectionFor(u);
            if (target != null) {
                pending.poll();
                send(u, target);
                continue;
            }
            if (!expects.isEmpty() || active != null && mustStayOnActive()) {
                return; // the work in flight must finish before the client moves to another connection
            }
            park();
            if (holdForPause()) {
                return; // PAUSE: a new transaction waits for RESUME (processPending runs again then)
            }
            Node node = chooseNode(u.decision, null);
            if (node == null) {
                pending.poll();
                answerWithError(u, SqlState.CONNECTION_FAILURE, "pgsplit: no server available for "
                        + u.decision + " in database \"" + databaseName + "\"");
                continue;
            }
            ServerConnection kept = sessionConnections.get(node);
            if (kept != null && kept.isActive()) {
                bind(kept);
                continue;
            }
            acquireFor(u, node);
            return;
        }
        if (clientPaused && pending.size() < 64) {
            clientPaused = false;
            channel.config().setAutoRead(true);
        }
    }

    /** The already-bound connection this unit may go on right now, or null. */
    private ServerConnection currentConnectionFor(Unit u) {
        if (active == null || !active.isActive()) {
            return null;
        }
        if (retryableInFlight() || u.retryable && !expects.isEmpty()) {
            return null; // a unit that may be re-run elsewhere travels alone
        }
        if (mustStayOnActive() || nodeMatches(u.decision, active.node())) {
            return active;
        }
        return null;
    }

    private boolean retryableInFlight() {
        for (Expect e : expects) {
            if (e.unit != null && e.unit.retryable) {
                return true;
            }
        }
        return false;
    }

    /** An open transaction, COPY or pinned session state ties the client to its current connection. */
    private boolean mustStayOnActive() {
        return active.state.transactionStatus != 'I' || clientTxnStatus != 'I' && deferredBegin == null || copyIn
                || sessionState.pinned() && mode != PoolMode.SESSION;
    }

    private boolean nodeMatches(RouteDecision d, Node node) {
        return switch (d.target()) {
            case PRIMARY -> node.isPrimary();
            case REPLICA -> !node.isPrimary() || db.primaryServesReads() && db.replicasUp() == 0
                    || node.isPrimary() && db.primaryInReadRotation();
            case NAMED -> node.name().equals(d.nodeName()) || d.nodeName().equals(node.group());
            case ANY -> true;
        };
    }

    private Node chooseNode(RouteDecision d, Node exclude) {
        return switch (d.target()) {
            case PRIMARY -> db.primary();
            case REPLICA, ANY -> {
                if (mode == PoolMode.SESSION && stickyReplica != null && stickyReplica.isUp() && stickyReplica != exclude) {
                    yield stickyReplica;
                }
                Node n = db.pickReadNode(exclude);
                if (mode == PoolMode.SESSION && n != null && !n.isPrimary()) {
                    stickyReplica = n;
                }
                yield n;
            }
            case NAMED -> db.pickNamed(d.nodeName(), exclude);
        };
    }

    /** Leaves the active connection: back to the pool, or kept for this session. */
    private void park() {
        if (active == null) {
            return;
        }
        ServerConnection conn = active;
        if (mode == PoolMode.SESSION && conn.isActive()) {
            sessionConnections.put(conn.node(), conn);
            active = null;
            return;
        }
        unbind();
        conn.pool().release(conn, conn.isActive() ? ReleaseMode.REUSE : ReleaseMode.CLOSE);
    }

    private void acquireFor(Unit u, Node node) {
        Pool pool = db.pool(node, user);
        ServerConnection idle = pool.tryAcquireIdle(loop);
        if (idle != null) {
            stats.assigned(0);
            bind(idle);
            processPending();
            return;
        }
        acquiring = true;
        long askedAt = System.nanoTime();
        waitingSinceNanos = askedAt;
        pool.acquire(loop).addListener((Future<ServerConnection> f) -> {
            acquiring = false;
            waitingSinceNanos = 0;
            if (f.isSuccess()) {
                stats.assigned(System.nanoTime() - askedAt);
            }
            if (phase == Phase.CLOSED) {
                if (f.isSuccess()) {
                    f.getNow().pool().release(f.getNow(), ReleaseMode.REUSE);
                }
                return;
            }
            if (!f.isSuccess()) {
                onAcquireFailed(u, node, f.cause());
                return;
            }
            ServerConnection conn = f.getNow();
            bind(conn);
            processPending();
        });
    }

    private void onAcquireFailed(Unit u, Node node, Throwable cause) {
        if (!node.isPrimary() && u.decision.target() != RouteDecision.Target.PRIMARY) {
            // A replica we could not reach: try the others, then the primary (reads are safe there).
            Node other = chooseNode(u.decision, node);
            if (other == null || other == node) {
                other = db.primaryServesReads() ? db.primary() : null;
            }
            if (other != null) {
                log.warn("database \"{}\": {} unavailable ({}); sending the read to {}", databaseName, node,
                        cause.getMessage(), other);
                if (stickyReplica == node) {
                    stickyReplica = null;
                }
                acquireFor(u, other);
                return;
            }
        }
        pending.poll();
        String sqlState = cause instanceof PoolException pe ? pe.sqlState() : SqlState.CONNECTION_FAILURE;
        answerWithError(u, sqlState, cause.getMessage());
        processPending();
    }

    private void bind(ServerConnection conn) {
        active = conn;
        sessionConnections.remove(conn.node());
        conn.attach(this);
        conn.setAutoRead(channel.isWritable());
    }

    private void unbind() {
        if (active != null) {
            active.attach(null);
            active = null;
        }
        if (partial != null) {
            partial.release();
            partial = null;
        }
        streamRemaining = 0;
        serverSkippingToSync = false;
    }

    // =====================================================================================
    // Preparing a unit: classification, session rules, virtual answers
    // =====================================================================================

    /**
     * Long statements the parser has not seen are classified on the classifier pool, so a 7 ms parse
     * of a 2000-item IN list never stalls the other clients of this event loop. The unit waits at the
     * head of the queue meanwhile (the client's order is kept).
     */
    private boolean classifyOffLoopIfSlow(Unit u) {
        if (u.preclassified != null) {
            return false;
        }
        List<String> slow = null;
        if (u.type == Unit.Type.SIMPLE_QUERY) {
            if (ctx.slowToClassify(u.sql, standardConformingStrings)) {
                slow = List.of(u.sql);
            }
        } else if (u.type == Unit.Type.EXTENDED) {
            for (ByteBuf m : u.messages) {
                if (m.getByte(0) == MessageType.Frontend.PARSE) {
                    String sql = Bufs.getCString(m, Bufs.cstringEnd(m, 5, m.writerIndex()) + 1);
                    if (u.firstParse == null) {
                        u.firstParse = m; // registerParse takes the text from here rather than decoding it again
                        u.firstParseSql = sql;
                    }
                    if (ctx.slowToClassify(sql, standardConformingStrings)) {
                        slow = slow == null ? new ArrayList<>(1) : slow;
                        slow.add(sql);
                    }
                }
            }
        }
        if (slow == null) {
            return false;
        }
        List<String> toClassify = slow;
        u.classifying = true;
        boolean scs = standardConformingStrings;
        DatabaseRuntime database = db;
        ctx.classifierPool().execute(() -> {
            Map<String, io.pgsplit.route.Classification> done = new HashMap<>();
            try {
                for (String sql : toClassify) {
                    done.put(sql, ctx.classify(sql, database, scs));
                }
            } catch (Throwable t) {
                // Never strand the client: without a classification the unit goes to the primary.
                log.warn("client {}: classification failed, sending to the primary: {}", remote(), t.toString());
                u.classificationFailed = t.toString();
            }
            loop.execute(() -> {
                u.preclassified = done;
                u.classifying = false;
                processPending();
            });
        });
        return true;
    }

    private io.pgsplit.route.Classification classification(Unit u, String sql) {
        if (u == null) {
            return ctx.classify(sql, db, standardConformingStrings);
        }
        io.pgsplit.route.Classification c = u.preclassified == null ? null : u.preclassified.get(sql);
        if (c == null && u.classificationFailed != null) {
            return ctx.classifier().classify("", io.pgsplit.route.FunctionCatalog.EMPTY, false); // placeholder, routed to the primary
        }
        return c != null ? c : ctx.classify(sql, db, standardConformingStrings);
    }

    /** Classifies and routes {@code u}; answers it directly (and removes it) when pgsplit must. */
    private void prepare(Unit u) {
        List<StatementInfo> infos = new ArrayList<>(2);
        boolean write = false;
        String reason = null;
        io.pgsplit.route.Classification first = null;
        String sqlForHints = null;
        if (u.type == Unit.Type.SIMPLE_QUERY) {
            io.pgsplit.route.Classification c = classification(u, u.sql);
            first = c;
            infos.addAll(c.parsed().statements());
            write = c.write();
            reason = c.reason();
            sqlForHints = u.sql;
        } else if (u.type == Unit.Type.FUNCTION_CALL) {
            write = true;
            reason = "write: FunctionCall message";
        } else {
            for (ByteBuf m : u.messages) {
                byte t = m.getByte(0);
                if (t == MessageType.Frontend.PARSE) {
                    ClientStatement st = registerParse(m, u);
                    infos.addAll(st.statements());
                    if (st.write()) {
                        write = true;
                        reason = st.reason();
                    } else if (reason == null) {
                        reason = st.reason();
                    }
                    if (sqlForHints == null) {
                        sqlForHints = st.sql();
                        u.sql = st.sql();
                    }
                } else if (t == MessageType.Frontend.BIND) {
                    String stmt = Bufs.getCString(m, Bufs.cstringEnd(m, 5, m.writerIndex()) + 1);
                    ClientStatement st = stmt.isEmpty() ? unnamed : statements.get(stmt);
                    if (st != null && !containsParse(u, stmt)) {
                        infos.addAll(st.statements());
                        if (st.write()) {
                            write = true;
                            reason = st.reason();
                        } else if (reason == null) {
                            reason = st.reason();
                        }
                        if (sqlForHints == null) {
                            sqlForHints = st.sql();
                            u.sql = st.sql();
                        }
                    } else if (st == null && !containsParse(u, stmt)) {
                        write = true;
                        reason = "write: statement \"" + stmt + "\" unknown to pgsplit";
                    }
                }
            }
            if (reason == null) {
                reason = "read: no statement to execute";
            }
        }
        u.statements = infos;
        if (u.classificationFailed != null) {
            u.decision = RouteDecision.primary("write: classification failed (" + u.classificationFailed + ")", first);
            return;
        }
        if (refuseIfNeeded(u)) {
            return;
        }
        if (interceptOwnSettings(u)) {
            return;
        }
        if (deallocateProtocolStatement(u)) {
            return;
        }
        if (deferBeginIfPossible(u)) {
            return;
        }
        // default_transaction_isolation has no ParameterStatus: take it from the client's start-up values and
        // SETs (it was never set, so serializable-by-default read-only transactions went to a hot standby).
        serializableDefault = SessionParams.isSerializable(params.get("default_transaction_isolation"));
        u.decision = ctx.router().decide(new io.pgsplit.route.RouteRequest(u.sql == null ? "" : u.sql, sqlForHints,
                infos, write, reason, first, databaseName, userName, currentApplicationName(), clientAddress(),
                clientTxnStatus != 'I', sessionRoute, readOnlyDefault, serializableDefault,
                sessionState.pinned(), u.type == Unit.Type.FUNCTION_CALL));
        if (deferredBegin != null) {
            // The transaction's first statement decides where the deferred BEGIN goes.
            u.decision = ctx.router().decideTransaction(deferredBegin.statements, infos, u.decision,
                    readOnlyDefault, serializableDefault);
        }
        u.retryable = ctx.config().routing().retryWriteOnReplica() && !u.decision.isPrimary()
                && clientTxnStatus == 'I' && deferredBegin == null && u.endsWithSync && !startsTransaction(infos)
                && !isCopy(infos);
        u.retryOnPrimary = u.retryable;
        if (log.isDebugEnabled()) {
            log.debug("client {}: {} -> {}", remote(), abbreviate(u.sql), u.decision);
        }
    }

    private static boolean containsParse(Unit u, String name) {
        for (ByteBuf m : u.messages) {
            if (m.getByte(0) == MessageType.Frontend.PARSE && Bufs.cstringEquals(m, 5, name)) {
                return true;
            }
        }
        return false;
    }

    private ClientStatement registerParse(ByteBuf m, Unit u) {
        String name = Bufs.getCString(m, 5);
        int sqlAt = Bufs.cstringEnd(m, 5, m.writerIndex()) + 1;
        String sql = u != null && m == u.firstParse ? u.firstParseSql : Bufs.getCString(m, sqlAt);
        int typesAt = Bufs.cstringEnd(m, sqlAt, m.writerIndex()) + 1;
        ByteBuf types = m.slice(typesAt, m.writerIndex() - typesAt);
        io.pgsplit.route.Classification c = classification(u, sql);
        ClientStatement st = ClientStatement.of(name, sql, types, c);
        if (name.isEmpty()) {
            unnamed = st;
        } else {
            statements.put(name, st);
        }
        return st;
    }

    private static boolean startsTransaction(List<StatementInfo> infos) {
        for (StatementInfo i : infos) {
            if (i.kind() == StatementKind.BEGIN || i.kind() == StatementKind.START_TRANSACTION) {
                return true;
            }
        }
        return false;
    }

    private static boolean isCopy(List<StatementInfo> infos) {
        for (StatementInfo i : infos) {
            if (i.kind() == StatementKind.COPY_FROM || i.kind() == StatementKind.COPY_TO) {
                return true;
            }
        }
        return false;
    }

    /** Statement mode refuses transactions; the refuse policy refuses session state. */
    private boolean refuseIfNeeded(Unit u) {
        if (mode == PoolMode.STATEMENT) {
            if (clientTxnStatus == 'E') {
                // After a refused BEGIN the client believes it is in a failed transaction block: refuse what it
                // meant to run inside it (a pipelined INSERT must not run, and commit, on its own) until it
                // ends the block, as PostgreSQL does after an error in a transaction.
                pending.poll();
                if (u.statements.size() == 1 && endsTransaction(u.statements.get(0))) {
                    answerVirtually(u, "ROLLBACK");
                } else {
                    answerWithError(u, "25P02", "current transaction is aborted, commands "
                            + "ignored until end of transaction block (pgsplit refused its BEGIN: statement pooling)");
                }
                return true;
            }
            for (StatementInfo i : u.statements) {
                if (i.kind() == StatementKind.BEGIN || i.kind() == StatementKind.START_TRANSACTION) {
                    pending.poll();
                    clientTxnStatus = 'T'; // so the client is told 'E' (failed block) and its block's statements are refused
                    answerWithError(u, SqlState.FEATURE_NOT_SUPPORTED, "pgsplit: transaction blocks are not allowed"
                            + " in statement pooling mode (pool_mode: statement); use transaction pooling for "
                            + "multi-statement transactions");
                    clientTxnStatus = 'E';
                    return true;
                }
            }
        }
        if (mode != PoolMode.SESSION && poolConfig.sessionStatePolicy() == SessionStatePolicy.REFUSE) {
            for (StatementInfo i : u.statements) {
                for (SessionEffect e : i.effects()) {
                    if (e instanceof SessionEffect.Pin pin) {
                        pending.poll();
                        answerWithError(u, SqlState.FEATURE_NOT_SUPPORTED, "pgsplit: " + pin.what()
                                + " keeps state on one server connection, which " + mode.name().toLowerCase()
                                + " pooling shares between clients (session_state_policy: refuse); use session "
                                + "pooling for it, or set session_state_policy: pin");
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** SET pgsplit.route = ... is pgsplit's own setting: answered here, never sent. */
    private boolean interceptOwnSettings(Unit u) {
        // Extended-protocol SETs (pgjdbc's default) too: sent to a server they would be accepted as a
        // placeholder setting and change nothing in pgsplit.
        // Statement Describes too (pgjdbc prepareThreshold=-1, asyncpg): answered with no parameters, no data.
        if (u.statements.size() != 1 || u.type != Unit.Type.SIMPLE_QUERY && u.type != Unit.Type.EXTENDED) {
            return false;
        }
        StatementInfo i = u.statements.get(0);
        for (SessionEffect e : i.effects()) {
            String name = e instanceof SessionEffect.SetParam sp ? sp.name()
                    : e instanceof SessionEffect.ResetParam rp ? rp.name() : null;
            if (name != null && name.equals("pgsplit.route")) {
                if (!ctx.config().routing().hints()) {
                    pending.poll();
                    answerWithError(u, SqlState.FEATURE_NOT_SUPPORTED, "pgsplit: routing hints are disabled"
                            + " (routing.hints: false)");
                    return true;
                }
                String value = e instanceof SessionEffect.SetParam sp ? unquote(sp.valueSql()).toLowerCase() : "auto";
                if (!value.equals("primary") && !value.equals("replica") && !value.equals("auto")) {
                    pending.poll();
                    answerWithError(u, "22023", "invalid value for parameter \"pgsplit.route\": \"" + value
                            + "\" (allowed: primary, replica, auto)");
                    return true;
                }
                if (u.type == Unit.Type.SIMPLE_QUERY || hasExecute(u)) {
                    sessionRoute = value; // a Parse/Describe alone sets nothing
                }
                // Left in pending as a virtual unit: processPending answers it once the replies in flight
                // are out. (Answering here as well, with the decision set, answered it twice and made the
                // client take the second SET reply for its next query's.)
                u.virtual = true;
                u.virtualTag = e instanceof SessionEffect.SetParam ? "SET" : "RESET";
                u.decision = RouteDecision.primary("pgsplit setting", null);
                return true;
            }
        }
        return false;
    }

    /**
     * SQL DEALLOCATE of a statement the client prepared with Parse (psycopg 3 evicts that way): on servers
     * it lives under pgsplit's shared name, so sending it would fail (26000) and, in a transaction, abort it.
     * The client's name is dropped here instead; the server copy stays for other clients (LRU-bounded).
     */
    private boolean deallocateProtocolStatement(Unit u) {
        if (u.type != Unit.Type.SIMPLE_QUERY || u.statements.size() != 1 || !expects.isEmpty()
                || u.statements.get(0).kind() != StatementKind.DEALLOCATE || clientTxnStatus == 'E') {
            return false;
        }
        for (SessionEffect e : u.statements.get(0).effects()) {
            if (e instanceof SessionEffect.Unpin unpin && unpin.what().startsWith("DEALLOCATE ")
                    && statements.remove(unpin.what().substring("DEALLOCATE ".length())) != null) {
                pending.poll();
                channel.write(Messages.commandComplete("DEALLOCATE"));
                channel.write(Messages.readyForQuery(clientTxnStatus));
                u.releaseMessages();
                channel.flush();
                return true;
            }
        }
        return false;
    }

    private static boolean hasExecute(Unit u) {
        for (ByteBuf m : u.messages) {
            if (m.getByte(0) == MessageType.Frontend.EXECUTE) {
                return true;
            }
        }
        return false;
    }

    static String unquote(String v) {
        String s = v.trim();
        if (s.length() >= 2 && (s.startsWith("'") && s.endsWith("'") || s.startsWith("\"") && s.endsWith("\""))) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    /**
     * With splitting on, a lone BEGIN is answered by pgsplit and sent later together with the
     * transaction's first statement, which may still say where it belongs (SET TRANSACTION READ ONLY).
     */
    private boolean deferBeginIfPossible(Unit u) {
        if (!ctx.config().routing().splitting() || clientTxnStatus != 'I' || deferredBegin != null
                || u.statements.size() != 1 || !u.endsWithSync || !expects.isEmpty()) {
            if (deferredBegin != null && u.statements.size() == 1 && endsTransaction(u.statements.get(0))
                    && expects.isEmpty()) {
                // BEGIN; COMMIT with nothing between: no server needs to hear of it.
                Unit begin = deferredBegin;
                deferredBegin = null;
                begin.releaseMessages();
                pending.poll();
                u.virtual = true;
                answerVirtually(u, u.statements.get(0).kind() == StatementKind.COMMIT ? "COMMIT" : "ROLLBACK");
                clientTxnStatus = 'I';
                return true;
            }
            return false;
        }
        StatementKind k = u.statements.get(0).kind();
        if (k != StatementKind.BEGIN && k != StatementKind.START_TRANSACTION || mode == PoolMode.STATEMENT) {
            return false;
        }
        if (!isPlainExtendedOrSimple(u)) {
            return false;
        }
        pending.poll();
        deferredBegin = u;
        u.virtual = true;
        answerVirtually(u, "BEGIN");
        clientTxnStatus = 'T';
        return true;
    }

    private static boolean endsTransaction(StatementInfo i) {
        return i.kind() == StatementKind.COMMIT || i.kind() == StatementKind.ROLLBACK;
    }

    private static boolean isPlainExtendedOrSimple(Unit u) {
        if (u.type == Unit.Type.SIMPLE_QUERY) {
            return true;
        }
        for (ByteBuf m : u.messages) {
            byte t = m.getByte(0);
            if (t == MessageType.Frontend.DESCRIBE && m.getByte(5) == 'S') {
                return false; // a statement Describe of BEGIN would need a ParameterDescription: not worth it
            }
        }
        return u.type == Unit.Type.EXTENDED;
    }

    /** Answers a unit pgsplit handles itself as if the server had run {@code tag}. */
    private void answerVirtually(Unit u, String tag) {
        List<ByteBuf> out = new ArrayList<>(4);
        if (u.type == Unit.Type.SIMPLE_QUERY) {
            out.add(Messages.commandComplete(tag));
        } else {
            for (ByteBuf m : u.messages) {
                switch (m.getByte(0)) {
                    case MessageType.Frontend.PARSE -> out.add(Messages.parseComplete());
                    case MessageType.Frontend.BIND -> out.add(Messages.bindComplete());
                    case MessageType.Frontend.DESCRIBE -> {
                        if (m.getByte(5) == 'S') {
                            out.add(Messages.parameterDescription()); // a statement: its (no) parameters
                        }
                        out.add(Messages.noData());
                    }
                    case MessageType.Frontend.EXECUTE -> out.add(Messages.commandComplete(tag));
                    case MessageType.Frontend.CLOSE -> out.add(Messages.closeComplete());
                    default -> {
                    }
                }
            }
        }
        char status = tag.equals("BEGIN") ? 'T' : tag.equals("SET") || tag.equals("RESET") ? clientTxnStatus : 'I';
        if (u.endsWithSync) {
            out.add(Messages.readyForQuery(status));
        }
        clientTxnStatus = status;
        if (u != deferredBegin) {
            u.releaseMessages();
        }
        deliver(out);
    }

    private void answerVirtually(Unit u) {
        answerVirtually(u, u.virtualTag != null ? u.virtualTag : "SET");
    }

    /** Answers a unit with an error, as the server would: ErrorResponse, then ReadyForQuery at its Sync. */
    private void answerWithError(Unit u, String sqlState, String message) {
        List<ByteBuf> out = new ArrayList<>(2);
        out.add(Messages.error(sqlState, message));
        if (u.endsWithSync) {
            char status = clientTxnStatus == 'I' ? 'I' : 'E';
            out.add(Messages.readyForQuery(status));
            clientTxnStatus = status;
        }
        u.releaseMessages();
        deliver(out);
    }

    /**
     * Sends replies pgsplit composed itself, after every reply still on its way from a server to
     * this client (a pipelining client must get its answers in the order it asked).
     */
    private void deliver(List<ByteBuf> out) {
        if (expects.isEmpty()) {
            for (ByteBuf b : out) {
                channel.write(b);
            }
            channel.flush();
        } else {
            expects.add(Expect.output(out));
        }
    }

    // =====================================================================================
    // Sending a unit on a server connection
    // =====================================================================================

    private void send(Unit u, ServerConnection conn) {
        // Only a unit that runs on its own in autocommit can be re-run when a shared copy went stale:
        // nothing of the client's may be in flight before it (a pipelined BEGIN, say) or ride along.
        boolean alone = deferredBegin == null && clientTxnStatus == 'I' && nothingInFlight();
        if (u.endsWithSync) {
            u.sentTo = conn.node();
            u.sentTo.outstanding.incrementAndGet();
        }
        u.sentNanos = System.nanoTime();
        if (xactStartNanos == 0) {
            xactStartNanos = u.sentNanos;
        }
        if (u.decision != null) {
            stats.routed(conn.node().isPrimary(), u.decision);
        }
        for (String evicted : conn.state.statements.drainPendingCloses()) {
            conn.write(Messages.close('S', evicted));
            expects.add(Expect.dropped(Expect.Kind.CLOSE));
            conn.write(Messages.sync());
            expects.add(Expect.dropped(Expect.Kind.SYNC));
        }
        String sync = params.syncSql(conn.state);
        if (sync != null) {
            sendInjectedQuery(conn, sync);
        }
        if (deferredBegin != null) {
            Unit begin = deferredBegin;
            deferredBegin = null;
            writeMessages(begin, conn, true);
            begin.releaseMessages();
        }
        if (alone && !u.retried && u.endsWithSync && conn.state.transactionStatus == 'I'
                && !startsTransaction(u.statements) && !isCopy(u.statements) && usesOlderCopy(u, conn)) {
            u.staleRetryable = true;
            u.retryable = true;
        }
        if (u.retryable) {
            // Before the messages go: a ParseComplete pgsplit answers itself is held back too.
            u.heldReplies = new ArrayList<>(4);
        }
        writeMessages(u, conn, false);
        if (!u.retryable) {
            u.releaseMessages();
        }
        conn.flush();
    }

    private boolean nothingInFlight() {
        for (Expect e : expects) {
            if (!e.drop) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the unit binds or describes a named statement through a server copy prepared before the
     * client parsed it (another client's, or from before DDL the client has since seen). If that copy
     * went stale, PostgreSQL direct would have planned the client's Parse afresh and never failed.
     */
    private boolean usesOlderCopy(Unit u, ServerConnection conn) {
        for (ByteBuf m : u.messages) {
            byte t = m.getByte(0);
            String name;
            if (t == MessageType.Frontend.BIND) {
                name = Bufs.getCString(m, Bufs.cstringEnd(m, 5, m.writerIndex()) + 1);
            } else if (t == MessageType.Frontend.DESCRIBE && m.getByte(5) == 'S') {
                name = Bufs.getCString(m, 6);
            } else {
                continue;
            }
            ClientStatement st = name.isEmpty() ? null : statements.get(name);
            if (st != null) {
                long at = conn.state.statements.preparedAt(st.serverName());
                if (at >= 0 && at < st.parsedAt()) {
                    return true;
                }
            }
        }
        return false;
    }

    private void sendInjectedQuery(ServerConnection conn, String sql) {
        conn.write(Messages.query(sql));
        expects.add(Expect.dropped(Expect.Kind.QUERY));
    }

    /** Writes the unit's messages, renaming prepared statements; {@code drop}: the client was already answered. */
    private void writeMessages(Unit u, ServerConnection conn, boolean drop) {
        boolean keep = u.retryable;
        Unit owner = drop ? null : u;
        for (ByteBuf m : u.messages) {
            byte t = m.getByte(0);
            ByteBuf out = keep || drop ? m.retainedDuplicate() : m.retain();
            switch (t) {
                case MessageType.Frontend.QUERY -> {
                    conn.write(out);
                    expects.add(drop ? Expect.dropped(Expect.Kind.QUERY)
                            : Expect.withStatements(Expect.Kind.QUERY, u.statements, owner));
                }
                case MessageType.Frontend.FUNCTION_CALL -> {
                    conn.write(out);
                    expects.add(Expect.of(Expect.Kind.FUNCTION_CALL, owner));
                }
                case MessageType.Frontend.PARSE -> sendParse(out, conn, drop, owner);
                case MessageType.Frontend.BIND -> sendBind(out, conn, drop, owner);
                case MessageType.Frontend.DESCRIBE -> sendDescribe(out, conn, drop, owner);
                case MessageType.Frontend.EXECUTE -> {
                    String portal = Bufs.getCString(out, 5);
                    conn.write(out);
                    List<StatementInfo> infos = portals.getOrDefault(portal, List.of());
                    expectExtended(drop ? Expect.dropped(Expect.Kind.EXECUTE)
                            : Expect.withStatements(Expect.Kind.EXECUTE, infos, owner));
                }
                case MessageType.Frontend.CLOSE -> sendClose(out, conn, drop, owner);
                case MessageType.Frontend.SYNC -> {
                    conn.write(out);
                    expects.add(drop ? Expect.dropped(Expect.Kind.SYNC) : Expect.of(Expect.Kind.SYNC, owner));
                    serverSkippingToSync = false;
                }
                case MessageType.Frontend.FLUSH -> conn.write(out);
                default -> out.release();
            }
        }
    }

    /** Adds an extended-protocol expectation unless the server is skipping to Sync after an error. */
    private void expectExtended(Expect e) {
        if (!serverSkippingToSync) {
            expects.add(e);
        }
    }

    private void sendParse(ByteBuf msg, ServerConnection conn, boolean drop, Unit owner) {
        String name = Bufs.getCString(msg, 5);
        // Registered again in send order: the unit was registered as a whole when prepared, so a Close
        // of this name earlier in the same unit (Close then re-Parse) removed it, or a later Parse of
        // the name replaced it.
        ClientStatement registered = registerParse(msg, owner);
        if (name.isEmpty()) {
            conn.write(msg);
            stats.serverParse();
            registered.preparedOn = conn;
            expectExtended(drop ? Expect.dropped(Expect.Kind.PARSE) : Expect.of(Expect.Kind.PARSE, owner));
            return;
        }
        ClientStatement st = statements.get(name);
        msg.release();
        if (st == null) {
            return; // cannot happen: registered when the unit was prepared
        }
        if (conn.state.statements.contains(st.serverName())) {
            if (!drop) {
                expectSynthetic(MessageType.Backend.PARSE_COMPLETE, owner);
            }
            return;
        }
        conn.write(Messages.parse(st.serverName(), st.sql(), st.paramTypes()));
        stats.serverParse();
        conn.state.statements.add(st.serverName());
        expectExtended(Expect.parse(st.serverName(), drop ? null : name, drop, owner));
    }

    /** Makes sure the server has the client's statement {@code st} before a Bind or Describe uses it. */
    private void ensurePrepared(ClientStatement st, ServerConnection conn) {
        if (st.name().isEmpty()) {
            if (st.preparedOn != conn) {
                conn.write(Messages.parse("", st.sql(), st.paramTypes()));
                expectExtended(Expect.parse(null, null, true, null));
                st.preparedOn = conn;
            }
            return;
        }
        if (!conn.state.statements.contains(st.serverName())) {
            conn.write(Messages.parse(st.serverName(), st.sql(), st.paramTypes()));
            conn.state.statements.add(st.serverName());
            expectExtended(Expect.parse(st.serverName(), null, true, null));
        }
    }

    private void sendBind(ByteBuf msg, ServerConnection conn, boolean drop, Unit owner) {
        int portalEnd = Bufs.cstringEnd(msg, 5, msg.writerIndex());
        String portal = msg.toString(5, portalEnd - 5, StandardCharsets.UTF_8);
        int stmtAt = portalEnd + 1;
        int stmtEnd = Bufs.cstringEnd(msg, stmtAt, msg.writerIndex());
        String stmt = msg.toString(stmtAt, stmtEnd - stmtAt, StandardCharsets.UTF_8);
        ClientStatement st = stmt.isEmpty() ? unnamed : statements.get(stmt);
        portals.put(portal, st == null ? List.of() : st.statements());
        byte[] stale = st == null || drop || stmt.isEmpty() ? null : db.staleError(st.serverName(), st.parsedAt());
        if (st == null) {
            conn.write(msg); // the server answers "prepared statement ... does not exist" itself
        } else if (stale != null) {
            conn.write(rewriteName(msg, stmtAt, stmtEnd, STALE_STATEMENT));
            expectExtended(staleStatementError(Expect.Kind.BIND, stale, owner));
            return;
        } else {
            ensurePrepared(st, conn);
            if (stmt.isEmpty()) {
                conn.write(msg);
            } else {
                conn.write(rewriteName(msg, stmtAt, stmtEnd, st.serverName()));
            }
        }
        expectExtended(drop ? Expect.dropped(Expect.Kind.BIND)
                : Expect.using(Expect.Kind.BIND, st == null || stmt.isEmpty() ? null : st.serverName(), owner));
    }

    private void sendDescribe(ByteBuf msg, ServerConnection conn, boolean drop, Unit owner) {
        byte kind = msg.getByte(5);
        String name = Bufs.getCString(msg, 6);
        if (kind == 'S') {
            ClientStatement st = name.isEmpty() ? unnamed : statements.get(name);
            byte[] stale = st == null || drop || name.isEmpty() ? null : db.staleError(st.serverName(), st.parsedAt());
            if (stale != null) {
                conn.write(rewriteName(msg, 6, Bufs.cstringEnd(msg, 6, msg.writerIndex()), STALE_STATEMENT));
                expectExtended(staleStatementError(Expect.Kind.DESCRIBE_STATEMENT, stale, owner));
                return;
            }
            if (st != null) {
                ensurePrepared(st, conn);
                if (!name.isEmpty()) {
                    msg = rewriteName(msg, 6, Bufs.cstringEnd(msg, 6, msg.writerIndex()), st.serverName());
                }
            }
            conn.write(msg);
            expectExtended(drop ? Expect.dropped(Expect.Kind.DESCRIBE_STATEMENT)
                    : Expect.using(Expect.Kind.DESCRIBE_STATEMENT,
                    st == null || name.isEmpty() ? null : st.serverName(), owner));
        } else {
            conn.write(msg);
            expectExtended(drop ? Expect.dropped(Expect.Kind.DESCRIBE_PORTAL)
                    : Expect.of(Expect.Kind.DESCRIBE_PORTAL, owner));
        }
    }

    /** A statement name no server has: its Bind or Describe fails, which ends the server's work up to Sync. */
    private static final String STALE_STATEMENT = "pgsplit_stale_statement";

    /**
     * The client's statement was parsed before its tables changed shape, so on PostgreSQL it fails with
     * 0A000 until the client parses it again. pgsplit's copies may be fresh, so the server is asked for
     * a statement it does not have (it then skips to Sync and rolls back the implicit transaction, as
     * for the real error) and its complaint is replaced by PostgreSQL's own.
     */
    private static Expect staleStatementError(Expect.Kind kind, byte[] error, Unit owner) {
        Expect e = Expect.using(kind, null, owner);
        e.replaceError = error;
        return e;
    }

    private void sendClose(ByteBuf msg, ServerConnection conn, boolean drop, Unit owner) {
        byte kind = msg.getByte(5);
        String name = Bufs.getCString(msg, 6);
        if (kind == 'S' && !name.isEmpty()) {
            // The server keeps its copy (shared by every client using the same text); the client's name goes.
            statements.remove(name);
            msg.release();
            if (!drop) {
                expectSynthetic(MessageType.Backend.CLOSE_COMPLETE, owner);
            }
            return;
        }
        if (kind == 'P') {
            portals.remove(name);
        }
        conn.write(msg);
        expectExtended(drop ? Expect.dropped(Expect.Kind.CLOSE) : Expect.of(Expect.Kind.CLOSE, owner));
    }

    private void expectSynthetic(byte type, Unit owner) {
        if (serverSkippingToSync) {
            return;
        }
        if (expects.isEmpty()) {
            emitSynthetic(type, owner);
        } else {
            expects.add(Expect.synthetic(type, owner));
        }
    }

    /** A copy of {@code msg} with the C string at [start, end) replaced by {@code name}. */
    private static ByteBuf rewriteName(ByteBuf msg, int start, int end, String name) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        int newLength = msg.readableBytes() - (end - start) + nameBytes.length;
        ByteBuf out = msg.alloc().buffer(newLength);
        out.writeBytes(msg, 0, start);
        out.writeBytes(nameBytes);
        out.writeBytes(msg, end, msg.writerIndex() - end);
        out.setInt(1, newLength - 1);
        msg.release();
        return out;
    }

    // =====================================================================================
    // Replies from the server
    // =====================================================================================

    @Override
    public void onServerData(ServerConnection conn, ByteBuf data) {
        if (loop.inEventLoop()) {
            handleServerData(conn, data);
        } else {
            loop.execute(() -> handleServerData(conn, data));
        }
    }

    @Override
    public void onServerClosed(ServerConnection conn, Throwable cause) {
        if (loop.inEventLoop()) {
            serverClosed(conn, cause);
        } else {
            loop.execute(() -> serverClosed(conn, cause));
        }
    }

    @Override
    public void onServerWritabilityChanged(ServerConnection conn, boolean writable) {
        loop.execute(() -> {
            if (conn == active && phase == Phase.READY) {
                channel.config().setAutoRead(writable && !clientPaused);
            }
        });
    }

    private void serverClosed(ServerConnection conn, Throwable cause) {
        if (conn != active) {
            sessionConnections.values().remove(conn);
            return;
        }
        boolean busy = !expects.isEmpty() || clientTxnStatus != 'I';
        unbind();
        expects.clear();
        copyIn = false;
        if (phase == Phase.READY && busy) {
            String why = cause == null ? "the server closed the connection" : cause.getMessage();
            fatal(SqlState.CONNECTION_FAILURE, "pgsplit: lost the server connection to " + conn.node() + ": " + why);
        } else if (phase != Phase.READY) {
            fatal(SqlState.CONNECTION_FAILURE, "pgsplit: lost the server connection to " + conn.node());
        }
    }

    private void handleServerData(ServerConnection conn, ByteBuf data) {
        if (conn != active || phase == Phase.CLOSED) {
            data.release();
            return;
        }
        if (stats != null) {
            stats.sent(data.readableBytes());
        }
        ByteBuf buf = data;
        if (partial != null) {
            ByteBuf joined = channel.alloc().buffer(partial.readableBytes() + data.readableBytes());
            joined.writeBytes(partial).writeBytes(data);
            partial.release();
            data.release();
            partial = null;
            buf = joined;
        }
        try {
            scan(conn, buf);
        } finally {
            if (buf.isReadable() && active == conn) {
                partial = buf.retainedSlice();
            }
            buf.release();
        }
        channel.flush();
        afterReplies();
    }

    /**
     * Walks the messages in {@code buf}, forwarding runs of them as single slices and stopping only
     * at the few messages that need pgsplit's attention.
     */
    private void scan(ServerConnection conn, ByteBuf buf) {
        if (streamRemaining > 0) {
            int n = Math.min(streamRemaining, buf.readableBytes());
            emit(buf.retainedSlice(buf.readerIndex(), n), streamHolder);
            buf.skipBytes(n);
            streamRemaining -= n;
            if (streamRemaining > 0) {
                return;
            }
        }
        int runStart = buf.readerIndex();
        int i = runStart;
        int end = buf.writerIndex();
        // Replies are forwarded in runs; a run belongs to one holder (a unit whose replies are held
        // back for a possible retry, or null for straight to the client).
        Unit runHolder = null;
        while (end - i >= 5) {
            byte type = buf.getByte(i);
            int length = buf.getInt(i + 1);
            if (length < 4) {
                throw new ProtocolException("server sent a message with invalid length " + length);
            }
            int total = length + 1;
            Expect head = expects.peek();
            Unit holder = holderOf(head);
            if (holder != runHolder) {
                emitRun(buf, runStart, i, runHolder);
                runStart = i;
                runHolder = holder;
            }
            if (holder != null && holder.retryReason == null && (head == null || !head.drop)
                    && (type == MessageType.Backend.DATA_ROW || type == MessageType.Backend.COPY_DATA)) {
                // Rows are coming, so the statement ran: no retry. Stop holding back at the row's header
                // instead of waiting for the whole row, which re-copied a large row with every chunk (a
                // 20 MB bytea from a replica took seconds) and kept it all in memory.
                emitRun(buf, runStart, i, runHolder);
                runStart = i;
                releaseHeld(holder);
                holder = null;
                runHolder = null;
            }
            boolean plain = (type == MessageType.Backend.DATA_ROW || type == MessageType.Backend.COPY_DATA)
                    && (head == null || !head.drop) && holder == null;
            if (plain) {
                if (end - i >= total) {
                    i += total;
                    continue;
                }
                if (total > STREAM_THRESHOLD) {
                    // Stream the start of a large row now; the rest follows as it arrives.
                    emitRun(buf, runStart, end, runHolder);
                    streamRemaining = total - (end - i);
                    streamHolder = null;
                    buf.readerIndex(end);
                    return;
                }
                break;
            }
            if (end - i < total) {
                break;
            }
            boolean forward = inspect(conn, type, buf, i, total, holder);
            if (!forward) {
                emitRun(buf, runStart, i, runHolder);
                runStart = i + total;
            }
            i += total;
            if (!syntheticOut.isEmpty()) {
                emitRun(buf, runStart, i, runHolder);
                runStart = i;
                for (ByteBuf b : syntheticOut) {
                    emit(b, runHolder);
                }
                syntheticOut.clear();
            }
        }
        emitRun(buf, runStart, i, runHolder);
        buf.readerIndex(i);
    }

    private Unit streamHolder;

    // No initial capacity: new ArrayList<>() allocates its array on the first add, so an idle client holds none.
    private final List<ByteBuf> syntheticOut = new ArrayList<>();
    private final List<Unit> finishedUnits = new ArrayList<>();

    private static Unit holderOf(Expect head) {
        return head != null && head.unit != null && head.unit.heldReplies != null ? head.unit : null;
    }

    private void emitRun(ByteBuf buf, int from, int to, Unit holder) {
        if (to > from) {
            emit(buf.retainedSlice(from, to - from), holder);
        }
    }

    /** To the client, or into the held replies of a unit that may still be retried. */
    private void emit(ByteBuf out, Unit holder) {
        if (holder != null && holder.heldReplies != null) {
            holder.heldReplies.add(out);
            holder.heldBytes += out.readableBytes();
            if (holder.heldBytes > HOLDBACK_LIMIT && holder.retryReason == null) {
                releaseHeld(holder);
            }
            return;
        }
        // No promise per reply: a failed write reaches exceptionCaught, which closes the client.
        channel.write(out, channel.voidPromise());
    }

    /** Sends the replies held for {@code u}: from now on it can no longer be retried. */
    private void releaseHeld(Unit u) {
        List<ByteBuf> held = u.heldReplies;
        u.heldReplies = null;
        u.retryable = false;
        u.heldBytes = 0;
        u.releaseMessages();
        if (held != null) {
            for (ByteBuf b : held) {
                channel.write(b, channel.voidPromise());
            }
        }
    }

    private void emitSynthetic(byte type, Unit owner) {
        emit(type == MessageType.Backend.PARSE_COMPLETE ? Messages.parseComplete() : Messages.closeComplete(), owner);
    }

    /**
     * Looks at one whole message that is not a plain DataRow. Returns whether it goes to the client.
     * May complete expectations, queue synthetic replies, and note finished units.
     */
    private boolean inspect(ServerConnection conn, byte type, ByteBuf buf, int at, int total, Unit holder) {
        Expect head = expects.peek();
        boolean drop = head != null && head.drop;
        switch (type) {
            case MessageType.Backend.DATA_ROW, MessageType.Backend.COPY_DATA -> {
                // Only here while holding replies: rows are coming, so the statement did run; no retry.
                if (holder != null && holder.retryReason == null) {
                    releaseHeld(holder);
                }
                return !drop;
            }
            case MessageType.Backend.NOTICE_RESPONSE -> {
                return !drop;
            }
            case MessageType.Backend.NOTIFICATION_RESPONSE -> {
                return true;
            }
            case MessageType.Backend.PARAMETER_STATUS -> {
                String name = Bufs.getCString(buf, at + 5);
                String value = Bufs.getCString(buf, at + 5 + name.getBytes(StandardCharsets.UTF_8).length + 1);
                conn.state.reportedParams.put(name, value);
                // Also forwarded when it answers pgsplit's own SETs re-applying the client's settings: after a
                // RESET the server did not report (its default equalled the old value), only these tell the
                // client its value is back to its own. Harmless when the client knew it already.
                if (head == null || drop && head.kind != Expect.Kind.QUERY) {
                    return false;
                }
                String own = params.reported(name, value, conn.state);
                if (!own.equals(value)) {
                    // After the client's RESET: the server reports pgsplit's login default, the client gets its own.
                    syntheticOut.add(Messages.parameterStatus(name, own));
                    return false;
                }
                if (name.equals("standard_conforming_strings")) {
                    standardConformingStrings = !"off".equals(value);
                } else if (name.equals("default_transaction_read_only")) {
                    readOnlyDefault = "on".equals(value);
                } else if (name.equals("in_hot_standby")) {
                    return false; // clients see one logical server, which is not a standby
                }
                return true;
            }
            case MessageType.Backend.READY_FOR_QUERY -> {
                char status = (char) buf.getByte(at + 5);
                char before = conn.state.transactionStatus;
                conn.state.transactionStatus = status;
                if (head == null) {
                    return false;
                }
                pop();
                if (!drop) {
                    if (before != 'I' && status == 'I' || clientTxnStatus != 'I' && status == 'I') {
                        params.transactionEnded(lastCommandWasCommit, conn.state);
                        sessionState.transactionEnded(lastCommandWasCommit);
                    } else if (status == 'I' && errorSinceReady) {
                        // Several statements in one Query (or Executes before one Sync) run as one implicit
                        // transaction: an error in it undid the SETs that ran before it.
                        params.transactionEnded(false, conn.state);
                    }
                    errorSinceReady = false;
                    if (status == 'I') {
                        params.settle(); // what a later ROLLBACK returns to
                    }
                    clientTxnStatus = status;
                    lastCommandWasCommit = false;
                    copyIn = false;
                    countReady(head.unit, status);
                    finishUnitIfDone(head);
                }
                return !drop;
            }
            case MessageType.Backend.ERROR_RESPONSE -> {
                ErrorFields err = ErrorFields.parse(buf.slice(at, total));
                if (head == null) {
                    log.warn("server {} sent an error outside any request: {}", conn.node(), err);
                    return true;
                }
                errorSinceReady |= !drop;
                if (head.unit != null && head.unit.retryOnPrimary && head.unit.retryable
                        && ctx.router().isReadOnlyRefusal(err)) {
                    head.unit.retryReason = err.sqlState() + " " + err.message();
                }
                boolean replaced = false;
                if (head.replaceError != null) {
                    syntheticOut.add(Unpooled.wrappedBuffer(head.replaceError));
                    head.replaceError = null;
                    replaced = true;
                } else if ((head.kind == Expect.Kind.BIND || head.kind == Expect.Kind.DESCRIBE_STATEMENT)
                        && SqlState.FEATURE_NOT_SUPPORTED.equals(err.sqlState())) {
                    if (head.serverStatement != null) {
                        long preparedAt = conn.state.statements.preparedAt(head.serverStatement);
                        if (preparedAt > 0) {
                            db.markStale(head.serverStatement, preparedAt, ByteBufUtil.getBytes(buf, at, total));
                        }
                    }
                    // "cached plan must not change result type": a statement shared under pgsplit's name went
                    // stale after DDL. Close them all on this connection so later uses prepare afresh,
                    // instead of failing on every Parse of that text.
                    conn.state.statements.closeAll();
                    Unit u = head.unit;
                    if (!drop && u != null && u.staleRetryable && u.retryable && u.heldReplies != null
                            && u.retryReason == null) {
                        // Nothing of this unit reached the client: re-run it on a fresh copy.
                        u.stalePlan = true;
                        u.retryReason = err.sqlState() + " " + err.message();
                    }
                }
                if (head.kind == Expect.Kind.PARSE && head.serverStatement != null) {
                    conn.state.statements.remove(head.serverStatement);
                    if (head.clientStatement != null) {
                        statements.remove(head.clientStatement);
                    }
                }
                copyIn = false;
                if (head.skippedAfterError()) {
                    pop();
                    skipToSync();
                }
                if (drop) {
                    if (head.kind == Expect.Kind.PARSE) {
                        return true; // the client's Bind depends on it: it must see why it failed
                    }
                    if (phase == Phase.AUTH) {
                        startupError = err; // an invalid start-up parameter: PostgreSQL refuses the connection
                        return false;
                    }
                    log.warn("server {} refused pgsplit's own statement: {}", conn.node(), err);
                    return false;
                }
                return !replaced;
            }
            case MessageType.Backend.COMMAND_COMPLETE -> {
                String tag = Bufs.getCString(buf, at + 5);
                onCommandComplete(conn, head, tag);
                if (head != null && head.kind == Expect.Kind.EXECUTE) {
                    pop();
                }
                return !drop;
            }
            case MessageType.Backend.COPY_IN_RESPONSE -> {
                copyIn = true;
                return !drop;
            }
            case MessageType.Backend.EMPTY_QUERY_RESPONSE, MessageType.Backend.PORTAL_SUSPENDED,
                    MessageType.Backend.PARSE_COMPLETE, MessageType.Backend.BIND_COMPLETE,
                    MessageType.Backend.CLOSE_COMPLETE, MessageType.Backend.NO_DATA,
                    MessageType.Backend.ROW_DESCRIPTION -> {
                if (head != null && head.completedBy(type)) {
                    if (head.serverStatement != null && head.unit != null && head.unit.staleRetryable
                            && (head.kind == Expect.Kind.BIND || head.kind == Expect.Kind.DESCRIBE_STATEMENT)) {
                        // The copy planned fine after the client's Parse: as good as the client's own from now.
                        conn.state.statements.revalidated(head.serverStatement);
                    }
                    pop();
                }
                return !drop;
            }
            default -> {
                return !drop;
            }
        }
    }

    private void pop() {
        expects.poll();
        while (!expects.isEmpty() && expects.peek().kind == Expect.Kind.SYNTHETIC) {
            Expect s = expects.poll();
            if (s.output != null) {
                syntheticOut.addAll(s.output);
            } else {
                syntheticOut.add(s.synthetic == MessageType.Backend.PARSE_COMPLETE
                        ? Messages.parseComplete() : Messages.closeComplete());
            }
        }
    }

    /** After an extended-protocol error the server ignores everything up to the next Sync. */
    private void skipToSync() {
        while (!expects.isEmpty() && expects.peek().skippedAfterError()) {
            Expect skipped = expects.poll();
            if (skipped.kind == Expect.Kind.PARSE && skipped.serverStatement != null && active != null) {
                active.state.statements.remove(skipped.serverStatement);
                if (skipped.clientStatement != null) {
                    statements.remove(skipped.clientStatement);
                }
            }
        }
        if (expects.isEmpty()) {
            serverSkippingToSync = true;
        }
    }

    private void onCommandComplete(ServerConnection conn, Expect head, String tag) {
        if (head == null || head.drop || head.statements == null) {
            return;
        }
        StatementInfo info = null;
        if (head.kind == Expect.Kind.QUERY) {
            if (head.completed < head.statements.size()) {
                info = head.statements.get(head.completed);
            }
            head.completed++;
        } else if (!head.statements.isEmpty()) {
            info = head.statements.get(0);
        }
        lastCommandWasCommit = tag.equals("COMMIT");
        if (tag.equals("DISCARD ALL")) {
            params.resetAll(conn.state);
            conn.state.statements.clear();
            statements.clear();
            sessionState.clear();
            return;
        }
        if (tag.equals("DEALLOCATE ALL")) {
            conn.state.statements.clear();
            statements.clear();
        }
        if (info == null) {
            return;
        }
        boolean inTxn = conn.state.transactionStatus != 'I' || info.local();
        for (SessionEffect e : info.effects()) {
            if (e instanceof SessionEffect.SetParam sp) {
                if (!info.local()) {
                    params.set(sp.name(), sp.valueSql(), conn.state.transactionStatus != 'I', conn.state);
                }
            } else if (e instanceof SessionEffect.ResetParam rp) {
                params.reset(rp.name(), conn.state);
            } else if (e instanceof SessionEffect.ResetAll) {
                params.resetAll(conn.state);
            } else if (e instanceof SessionEffect.Pin pin) {
                sessionState.pin(pin.what(), inTxn);
                if (mode != PoolMode.SESSION) {
                    log.info("client {}: {} keeps this client on server connection {} (session_state_policy: pin)",
                            remote(), pin.what(), conn.node());
                }
            } else if (e instanceof SessionEffect.Unpin unpin) {
                sessionState.unpin(unpin.what());
            }
        }
    }

    private void finishUnitIfDone(Expect completed) {
        Unit u = completed.unit;
        if (u != null) {
            finishedUnits.add(u);
        }
    }

    /** After a batch of replies: complete finished units, retry, release the connection, send more. */
    private void afterReplies() {
        if (!finishedUnits.isEmpty()) {
            List<Unit> done = new ArrayList<>(finishedUnits);
            finishedUnits.clear();
            for (Unit u : done) {
                u.answered();
                if (u.retryable && u.retryReason != null && !u.retried) {
                    if (u.stalePlan) {
                        retryAfterStalePlan(u);
                    } else {
                        retryOnPrimary(u);
                    }
                } else if (u.heldReplies != null) {
                    releaseHeld(u);
                } else {
                    u.releaseMessages();
                }
            }
            channel.flush();
        }
        maybeIdle();
    }

    /**
     * A replica refused what the classifier took for a read (a function that writes, say), and the
     * client has seen nothing of it: run it once on the primary instead.
     */
    private void retryOnPrimary(Unit u) {
        stats.writeRetriedOnPrimary();
        log.warn("database \"{}\": statement misclassified as a read, retried on the primary after the replica "
                + "refused it ({}): {}", databaseName, u.retryReason, abbreviate(u.sql));
        u.releaseHeld();
        u.retried = true;
        u.retryable = false;
        u.decision = RouteDecision.primary("retry: replica refused a write (" + u.retryReason + ")", null);
        clientTxnStatus = 'I';
        pending.addFirst(u);
    }

    /**
     * The server refused a statement copy pgsplit shared with this client because a table changed
     * shape since it was prepared (0A000), before any reply reached the client: the copies are being
     * closed, so running the unit again prepares it afresh - what PostgreSQL direct would have done.
     */
    private void retryAfterStalePlan(Unit u) {
        log.info("database \"{}\": a prepared statement shared on a server connection went stale ({}); "
                + "prepared afresh and re-run: {}", databaseName, u.retryReason, abbreviate(u.sql));
        u.releaseHeld();
        u.retried = true;
        u.retryable = false;
        u.staleRetryable = false;
        u.stalePlan = false;
        u.retryReason = null;
        clientTxnStatus = 'I';
        pending.addFirst(u);
    }

    /** Called when replies may have drained: release the connection if the pool mode allows. */
    private void maybeIdle() {
        if (!expects.isEmpty()) {
            return;
        }
        if (whenIdle != null) {
            Runnable r = whenIdle;
            whenIdle = null;
            r.run();
            return;
        }
        if (phase != Phase.READY) {
            return;
        }
        if (active != null && pending.isEmpty() && batch == null && canRelease(active)) {
            park();
        }
        processPending();
        afterUnitsDrained();
    }

    private boolean canRelease(ServerConnection conn) {
        if (mode == PoolMode.SESSION) {
            // Pinned state (LISTEN above all) stays active: a parked connection's replies are dropped,
            // so a parked LISTEN connection would swallow the client's notifications.
            return !ctx.config().routing().splitting() ? false : conn.state.transactionStatus == 'I'
                    && !sessionState.pinned();
        }
        return conn.state.transactionStatus == 'I' && !copyIn && !sessionState.pinned();
    }

    /** Arms the idle timers once the client has everything it asked for. */
    private void afterUnitsDrained() {
        if (!pending.isEmpty() || !expects.isEmpty() || phase != Phase.READY) {
            return;
        }
        long txnTimeout = poolConfig.idleTransactionTimeout().toMillis();
        long clientTimeout = poolConfig.clientIdleTimeout().toMillis();
        if (clientTxnStatus != 'I' && txnTimeout > 0) {
            idleTimer = loop.schedule(() -> fatal(SqlState.IDLE_IN_TRANSACTION_TIMEOUT,
                    "pgsplit: terminating connection due to idle-in-transaction timeout (idle_transaction_timeout "
                            + txnTimeout + " ms)"), txnTimeout, TimeUnit.MILLISECONDS);
        } else if (clientTimeout > 0) {
            idleTimer = loop.schedule(() -> fatal(SqlState.ADMIN_SHUTDOWN,
                    "pgsplit: terminating connection due to client idle timeout (client_idle_timeout "
                            + clientTimeout + " ms)"), clientTimeout, TimeUnit.MILLISECONDS);
        }
    }

    private void cancelIdleTimer() {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
    }

    // =====================================================================================
    // Cancel and close
    // =====================================================================================

    /** A CancelRequest carrying this client's key arrived (on any thread). */
    void cancelRequested() {
        loop.execute(() -> {
            if (active != null && !expects.isEmpty()) {
                log.debug("client {}: forwarding cancel to {}", remote(), active.node());
                active.cancel();
            }
        });
    }

    /** Sends a FATAL error (where the protocol allows one) and closes. */
    private void fatal(String sqlState, String message) {
        if (phase == Phase.CLOSED) {
            return;
        }
        if (channel != null && channel.isActive()) {
            channel.writeAndFlush(Messages.fatal(sqlState, message)).addListener(ChannelFutureListener.CLOSE);
        }
        if (!SqlState.INVALID_PASSWORD.equals(sqlState)) {
            log.info("client {}: closing: {} {}", remote(), sqlState, message);
        }
        close(message);
    }

    private void close(String reason) {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        cancelIdleTimer();
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        if (processId != 0) {
            ctx.cancels().unregister(processId);
        }
        ctx.clientClosed();
        for (Expect e : expects) {
            if (e.unit != null) {
                e.unit.answered();
            }
            if (e.output != null) {
                e.output.forEach(ByteBuf::release);
            }
        }
        for (Unit u : pending) {
            u.releaseMessages();
            u.releaseHeld();
        }
        pending.clear();
        if (batch != null) {
            batch.releaseMessages();
            batch = null;
        }
        if (deferredBegin != null) {
            deferredBegin.releaseMessages();
            deferredBegin = null;
        }
        if (active != null) {
            ServerConnection conn = active;
            boolean clean = expects.isEmpty() && conn.state.transactionStatus == 'I' && !copyIn && conn.isActive();
            boolean dirty = sessionState.hasAny() || mode == PoolMode.SESSION;
            unbind();
            conn.pool().release(conn, !clean ? ReleaseMode.CLOSE : dirty ? ReleaseMode.RESET : ReleaseMode.REUSE);
        }
        expects.clear();
        for (ServerConnection conn : sessionConnections.values()) {
            conn.attach(null);
            conn.pool().release(conn, conn.isActive() && conn.state.transactionStatus == 'I'
                    ? ReleaseMode.RESET : ReleaseMode.CLOSE);
        }
        sessionConnections.clear();
        if (channel != null && channel.isActive() && reason == null) {
            channel.close();
        }
    }

    /**
     * The client's application_name now, not only as sent at startup: pgjdbc (and others) send it with
     * {@code SET application_name} after connecting, and routing rules match on it.
     */
    private String currentApplicationName() {
        String v = params == null ? null : params.get("application_name");
        if (v == null) {
            return applicationName;
        }
        if (v != lastApplicationNameSql) { // asked for every statement: unquote once per change
            lastApplicationNameSql = v;
            lastApplicationName = v.length() >= 2 && v.startsWith("'") && v.endsWith("'")
                    ? v.substring(1, v.length() - 1).replace("''", "'") : v;
        }
        return lastApplicationName;
    }

    private String lastApplicationNameSql;
    private String lastApplicationName;

        private InetSocketAddress clientAddress() {
        return channel != null && channel.remoteAddress() instanceof InetSocketAddress a ? a : null;
    }

    private String remote() {
        InetSocketAddress a = clientAddress();
        return a == null ? "?" : a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    // =====================================================================================
    // Issue 16: admin console hand-over, PAUSE, counters, and what SHOW CLIENTS reads
    // =====================================================================================

    /** An authenticated console user: the console's session takes the channel over from here. */
    private void handOverToAdminConsole() {
        phase = Phase.CLOSED; // this handler leaves the pipeline
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        ctx.clientClosed(); // console sessions do not count against max_client_conn
        io.pgsplit.admin.AdminSession.takeOver(channel, "session", ctx.admin(), userName);
    }

    /** Whether PAUSE holds this client's next transaction; if so it goes on at RESUME. */
    private boolean holdForPause() {
        if (heldByPause) {
            return true;
        }
        io.pgsplit.admin.AdminConsole console = ctx.admin();
        if (console != null && console.gate().holdIfPaused(databaseName, loop, this::resumeAfterPause)) {
            heldByPause = true;
            waitingSinceNanos = System.nanoTime();
            return true;
        }
        return false;
    }

    private void resumeAfterPause() {
        heldByPause = false;
        waitingSinceNanos = 0;
        processPending();
    }

    /** A ReadyForQuery for the client: one query done, and a transaction when the status is back to idle. */
    private void countReady(Unit u, char status) {
        long now = System.nanoTime();
        long sent = u == null ? 0 : u.sentNanos;
        if (sent != 0) {
            stats.query(now - sent);
            u.sentNanos = 0;
        }
        if (status == 'I') {
            long start = xactStartNanos != 0 ? xactStartNanos : sent;
            if (start != 0) {
                stats.transaction(now - start);
            }
            xactStartNanos = 0;
        }
    }

    @Override
    public long id() {
        return processId;
    }

    @Override
    public String user() {
        return userName;
    }

    @Override
    public String database() {
        return databaseName;
    }

    @Override
    public String state() {
        return waitingSinceNanos != 0 ? "waiting" : active != null ? "active" : "idle";
    }

    @Override
    public java.net.SocketAddress remoteAddress() {
        return channel.remoteAddress();
    }

    @Override
    public java.net.SocketAddress localAddress() {
        return channel.localAddress();
    }

    @Override
    public long connectedAtMillis() {
        return connectedAtMillis;
    }

    @Override
    public long lastRequestAtMillis() {
        return lastRequestAtMillis;
    }

    @Override
    public long waitingSinceNanos() {
        return waitingSinceNanos;
    }

    @Override
    public String applicationName() {
        return applicationName;
    }

    @Override
    public int preparedStatements() {
        return statements.size();
    }

    @Override
    public ServerConnection server() {
        return active;
    }

    @Override
    public void kill(String reason) {
        loop.execute(() -> fatal(SqlState.ADMIN_SHUTDOWN, reason));
    }

    static String abbreviate(String sql) {
        if (sql == null) {
            return "";
        }
        String s = sql.replaceAll("\\s+", " ").trim();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

}
