package io.pgsplit.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.auth.AuthFailedException;
import io.pgsplit.auth.ClientAuthenticator;
import io.pgsplit.consistency.SessionConsistency;
import io.pgsplit.authquery.AuthQueryLogin;
import io.pgsplit.authquery.AuthQueryService;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.PoolMode;
import io.pgsplit.config.UserConfig;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolException;
import io.pgsplit.pool.ReleaseMode;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.ServerDataListener;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.ProtocolException;
import io.pgsplit.protocol.SqlState;
import io.pgsplit.protocol.StartupPacket;
import io.pgsplit.pool.DatabaseRuntime;
import io.pgsplit.tls.ChannelBinding;
import io.pgsplit.tls.ClientTls;
import io.pgsplit.session.RouterContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client connection until it is logged in: answers SSLRequest (TLS per {@code tls}, issue 15) and
 * GSSENCRequest (with 'N'), forwards
 * a CancelRequest to the session holding its key, reads the StartupMessage, authenticates the user,
 * checks the start-up parameters, and tells the client its ParameterStatus values and BackendKeyData.
 * Then it leaves the pipeline and {@link #handOver hands over} to the handler that serves the client
 * (as {@link io.pgsplit.pool.ServerLogin} does on the server side).
 *
 * <p>The start-up parameters are checked by applying them on a primary connection once per distinct
 * set (an invalid one fails the log-in, as on PostgreSQL); the answers are remembered
 * ({@link RouterContext#knownLogin}) so later clients with the same ones need no server connection to
 * log in. Until the hand-over this handler is that connection's {@link ServerDataListener}.
 */
public final class LoginHandler extends ChannelInboundHandlerAdapter implements ServerDataListener {
    private static final Logger log = LoggerFactory.getLogger(LoginHandler.class);

    private final RouterContext ctx;
    private final FrameDecoder decoder;
    private Channel channel;
    private EventLoop loop;
    private ScheduledFuture<?> startupTimer;
    /** The StartupMessage arrived: what follows are password messages. */
    private boolean startupReceived;
    private boolean closed;
    private boolean handedOver;

    // ---- who the client says it is ----
    private String userName;
    private String databaseName;
    private UserConfig user;
    private ClientAuthenticator authenticator;
    private DatabaseRuntime db;
    private PoolConfig poolConfig;
    private SessionParams params;
    private String applicationName = "";
    private String sessionRoute = "auto";
    /** Causal reads: the client's level (the start-up option pgsplit.consistency, else the configured one). */
    private SessionConsistency consistency;
    /** Database, user and start-up parameters: clients with the same ones log in alike. */
    private String loginKey;
    /** The client asked for the admin console's virtual database (issue 16). */
    private boolean adminLogin;

    // ---- the primary connection the start-up parameters are checked on ----
    private ServerConnection loginConnection;
    /** The parameters were sent and their ReadyForQuery has not come yet. */
    private boolean awaitingReady;
    private ByteBuf partial;
    private ErrorFields startupError;

    public LoginHandler(RouterContext ctx, FrameDecoder decoder) {
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
                if (!closed && !handedOver) {
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
            if (closed) {
                return;
            }
            if (!startupReceived) {
                onStartupPacket(msg);
            } else {
                onAuthMessage(msg);
            }
        } catch (ProtocolException e) {
            fatal(e.sqlState(), e.getMessage());
        } finally {
            msg.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext c) {
        if (loginConnection != null && loginConnection.isActive()) {
            loginConnection.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext c) {
        if (loginConnection != null) {
            loginConnection.setAutoRead(channel.isWritable());
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
        } else if (ClientTls.isHandshakeFailure(cause)) { // issue 15
            log.info("client {}: TLS handshake failed: {}", remote(channel), root.getMessage());
            close(null);
        } else if (root instanceof java.io.IOException) {
            log.debug("client {}: {}", remote(channel), root.toString());
            close(null);
        } else {
            log.warn("client {}: unexpected error", remote(channel), root);
            fatal(SqlState.INTERNAL_ERROR, "pgsplit internal error: " + root);
        }
    }

    // =====================================================================================
    // Start-up packet and authentication
    // =====================================================================================

    private void onStartupPacket(ByteBuf msg) {
        StartupPacket p = StartupPacket.decode(msg);
        switch (p.code()) {
            case MessageType.SSL_REQUEST -> { // issue 15: client TLS
                String refused = ctx.clientTls().answerSslRequest(channel, decoder.buffered());
                if (refused != null) {
                    fatal(SqlState.PROTOCOL_VIOLATION, refused);
                }
            }
            case MessageType.GSSENC_REQUEST -> channel.writeAndFlush(channel.alloc().buffer(1).writeByte('N'));
            case MessageType.CANCEL_REQUEST -> {
                int owner = CancelRegistry.peerOf(p.cancelProcessId());
                io.pgsplit.config.ListenConfig listen = ctx.config().listen();
                io.pgsplit.config.HostPort peer = owner == 0 || owner == listen.peerId() ? null
                        : listen.peers().get(owner);
                if (peer != null) {
                    // issue 16: the key is another instance's (several pgsplits behind one address): pass it on
                    io.pgsplit.pool.CancelSender.cancel(loop, peer.host(), peer.port(), "pgsplit peer " + owner,
                            p.cancelProcessId(), p.cancelSecretKey());
                } else {
                    ctx.cancels().cancel(p.cancelProcessId(), p.cancelSecretKey());
                }
                close(null);
            }
            default -> onStartupMessage(p.parameters());
        }
    }

    private void onStartupMessage(Map<String, String> startup) {
        decoder.mode(FrameDecoder.Mode.TYPED);
        if (!ctx.clientTls().permits(channel)) { // issue 15: tls.mode require
            fatal(SqlState.INVALID_AUTHORIZATION, "pgsplit accepts only TLS connections (tls.mode: require); "
                    + "connect with sslmode=require");
            return;
        }
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
        consistency = new SessionConsistency(SessionConsistency.configured(ctx.config(), databaseName, userName));
        String badConsistency = consistency.set(clientParams.remove(SessionConsistency.SETTING));
        if (badConsistency != null) {
            fatal("22023", badConsistency);
            return;
        }
        applicationName = clientParams.getOrDefault("application_name", "");
        loginKey = databaseName + '\0' + userName + '\0' + new java.util.TreeMap<>(clientParams);
        params = new SessionParams(clientParams);
        io.pgsplit.admin.AdminConsole console = ctx.admin();
        if (console != null && console.isConsole(databaseName)) {
            adminLogin = true; // issue 16: the admin console's virtual database; its users come from admin:
            user = console.credentialsFor(userName);
        } else {
            user = ctx.config().users().get(userName);
        }
        if (ctx.clientCount() > ctx.config().listen().maxClientConn()) {
            fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already (pgsplit max_client_conn "
                    + ctx.config().listen().maxClientConn() + ")");
            return;
        }
        startupReceived = true;
        // ---- issue 15: a user missing from the config is looked up with auth_query ----
        DatabaseRuntime target = ctx.database(databaseName);
        authQueryTarget = user != null || !ctx.authQuery().enabled() || target == null ? null
                : AuthQueryLogin.target(ctx.config(), databaseName, target.primary(), target.serverTls());
        if (authQueryTarget != null) {
            AuthQueryLogin.lookup(ctx.authQuery(), authQueryTarget, userName, loop, found -> {
                if (!closed) {
                    user = found;
                    startAuthentication();
                }
            }, e -> fatal(SqlState.CONNECTION_FAILURE, "pgsplit: could not look up user \"" + userName
                    + "\" (auth_query failed; see pgsplit's log)"));
            return;
        }
        startAuthentication();
    }

    /** Issue 15: where auth_query looked the user up, or null when the user came from the config. */
    private AuthQueryService.Target authQueryTarget;

    private void startAuthentication() {
        if (user != null && user.auth() == io.pgsplit.config.AuthMethod.CERT) { // issue 15: cert authentication
            if (userName.equals(ClientTls.verifiedClientCn(channel))) {
                authenticated();
            } else {
                log.info("client {}: certificate authentication failed for user \"{}\"", remote(channel), userName);
                ctx.authFailed();
                fatal(SqlState.INVALID_AUTHORIZATION, "certificate authentication failed for user \"" + userName + "\"");
            }
            return;
        }
        // issue 15: on TLS, SCRAM-SHA-256-PLUS with the tls-server-end-point binding is offered too
        authenticator = new ClientAuthenticator(userName, user, ChannelBinding.tlsServerEndPoint(channel));
        ByteBuf first = authenticator.start();
        if (authenticator.isTrust()) {
            first.release();
            authenticated();
        } else {
            channel.writeAndFlush(first);
        }
    }

    private void onAuthMessage(ByteBuf msg) {
        if (authenticator == null) {
            throw new ProtocolException("password message before the password request");
        }
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
            if (authQueryTarget != null) {
                // issue 15: read the user again (the password may have changed since it was cached), then refuse
                // unless an md5 answer matches the fresh hash; unknown users take the same path and time
                AuthQueryLogin.refresh(ctx.authQuery(), authQueryTarget, userName, loop, fresh -> {
                    if (closed) {
                        return;
                    }
                    if (fresh != null && fresh.passwordIsMd5Hash() && authenticator.md5MatchesRefreshed(fresh.password())) {
                        user = fresh;
                        authenticated();
                        return;
                    }
                    refuse(e);
                });
                return;
            }
            refuse(e);
        }
    }

    private void refuse(AuthFailedException e) {
        log.info("client {}: authentication failed for user \"{}\"", remote(channel), userName);
        ctx.authFailed();
        fatal(SqlState.INVALID_PASSWORD, e.getMessage());
    }

    // =====================================================================================
    // Start-up parameters, checked on the primary
    // =====================================================================================

    private void authenticated() {
        if (adminLogin) {
            handOverToAdminConsole();
            return;
        }
        AuthQueryLogin.remember(ctx.passThroughs(), user, authenticator); // issue 15: keys for the servers
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
        poolConfig = ctx.config().poolFor(databaseName, userName);
        channel.write(Messages.authenticationOk());
        Map<String, String> known = ctx.knownLogin(loginKey);
        if (known != null) {
            // Same database, user and start-up parameters as an earlier client that logged in: they are
            // valid and the server's answers are known, so no server connection is needed now. Waiting for
            // one here could deadlock a program that connects while it holds the pool's connections in open
            // transactions (pgbench -C -j 2); the parameters are applied on the first connection used.
            finish(new LinkedHashMap<>(known), null);
            return;
        }
        // Log in to the primary once now: it checks the server credentials, applies the client's
        // start-up parameters (an invalid one fails here, as it would on PostgreSQL) and tells us
        // the ParameterStatus values to report.
        Pool pool = db.pool(loginNode(), user);
        pool.acquire(loop).addListener((Future<ServerConnection> f) -> {
            if (!f.isSuccess()) {
                if (f.cause() instanceof PoolException pe) {
                    fatal(pe.sqlState(), pe.getMessage());
                } else {
                    fatal(SqlState.CONNECTION_FAILURE, "pgsplit: could not get a server connection: " + f.cause());
                }
                return;
            }
            ServerConnection conn = f.getNow();
            if (closed) {
                conn.pool().release(conn, ReleaseMode.REUSE);
                return;
            }
            loginConnection = conn;
            conn.attach(this);
            conn.setAutoRead(channel.isWritable());
            String sync = params.syncSql(conn.state);
            if (sync != null) {
                conn.write(Messages.query(sync));
                awaitingReady = true;
                conn.flush();
                return;
            }
            parametersChecked();
        });
    }

    /**
     * Where the first login of its kind is checked: the primary if it is usable, else any server that is up (a
     * standby checks credentials and start-up parameters as well), so clients can log in during a failover.
     */
    private io.pgsplit.topology.Node loginNode() {
        io.pgsplit.topology.Node primary = db.topology().writablePrimary();
        if (primary != null) {
            return primary;
        }
        for (io.pgsplit.topology.Node n : db.nodes()) {
            if (n.isUp() && !db.topology().fenced().containsKey(n)) {
                return n;
            }
        }
        return db.primary();
    }

    @Override
    public void onServerData(ServerConnection conn, ByteBuf data) {
        if (loop.inEventLoop()) {
            loginReplies(conn, data);
        } else {
            loop.execute(() -> loginReplies(conn, data));
        }
    }

    @Override
    public void onServerClosed(ServerConnection conn, Throwable cause) {
        if (loop.inEventLoop()) {
            loginServerClosed(conn);
        } else {
            loop.execute(() -> loginServerClosed(conn));
        }
    }

    @Override
    public void onServerWritabilityChanged(ServerConnection conn, boolean writable) {
        // Nothing to pause: the client sends nothing but password messages before it is logged in.
    }

    private void loginServerClosed(ServerConnection conn) {
        if (conn != loginConnection) {
            return;
        }
        letGoOfLoginConnection();
        fatal(SqlState.CONNECTION_FAILURE, "pgsplit: lost the server connection to " + conn.node());
    }

    /** Replies to the client's start-up parameters applied on the primary, up to their ReadyForQuery. */
    private void loginReplies(ServerConnection conn, ByteBuf data) {
        if (conn != loginConnection || closed) {
            data.release();
            return;
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
        boolean ready = false;
        try {
            while (buf.readableBytes() >= 5) {
                int at = buf.readerIndex();
                int length = buf.getInt(at + 1);
                if (length < 4) {
                    throw new ProtocolException("server sent a message with invalid length " + length);
                }
                int total = length + 1;
                if (buf.readableBytes() < total) {
                    break;
                }
                ready |= loginReply(conn, buf.getByte(at), buf, at, total);
                buf.skipBytes(total);
            }
        } finally {
            if (buf.isReadable() && loginConnection == conn) {
                partial = buf.retainedSlice();
            }
            buf.release();
        }
        channel.flush();
        if (ready) {
            parametersChecked();
        }
    }

    /** One reply on the log-in connection; returns true at the ReadyForQuery that ends the check. */
    private boolean loginReply(ServerConnection conn, byte type, ByteBuf buf, int at, int total) {
        switch (type) {
            case MessageType.Backend.PARAMETER_STATUS -> {
                String name = Bufs.getCString(buf, at + 5);
                String value = Bufs.getCString(buf, at + 5 + name.getBytes(StandardCharsets.UTF_8).length + 1);
                conn.state.reportedParams.put(name, value);
                if (!awaitingReady) {
                    return false;
                }
                // Forwarded as the session would (the full set follows once the check is done).
                String own = params.reported(name, value, conn.state);
                if (!own.equals(value)) {
                    channel.write(Messages.parameterStatus(name, own), channel.voidPromise());
                } else if (!name.equals("in_hot_standby")) {
                    channel.write(buf.retainedSlice(at, total), channel.voidPromise());
                }
                return false;
            }
            case MessageType.Backend.ERROR_RESPONSE -> {
                ErrorFields err = ErrorFields.parse(buf.slice(at, total));
                if (awaitingReady) {
                    startupError = err; // an invalid start-up parameter: PostgreSQL refuses the connection
                } else {
                    log.warn("server {} sent an error outside any request: {}", conn.node(), err);
                    channel.write(buf.retainedSlice(at, total), channel.voidPromise());
                }
                return false;
            }
            case MessageType.Backend.READY_FOR_QUERY -> {
                conn.state.transactionStatus = (char) buf.getByte(at + 5);
                boolean ended = awaitingReady;
                awaitingReady = false;
                return ended;
            }
            case MessageType.Backend.NOTIFICATION_RESPONSE -> {
                channel.write(buf.retainedSlice(at, total), channel.voidPromise());
                return false;
            }
            default -> {
                return false; // the replies to pgsplit's own SETs
            }
        }
    }

    private void parametersChecked() {
        ServerConnection conn = loginConnection;
        if (startupError != null) {
            fatal(startupError.sqlState(), startupError.message());
            return;
        }
        Map<String, String> report = new LinkedHashMap<>(conn.loginParameters());
        report.putAll(conn.state.reportedParams);
        report.put("in_hot_standby", "off");
        ctx.rememberLogin(loginKey, report);
        finish(report, conn);
    }

    // =====================================================================================
    // Logged in
    // =====================================================================================

    /** Tells the client its parameters and key, then hands over; {@code conn}: the log-in connection, if any. */
    private void finish(Map<String, String> report, ServerConnection conn) {
        for (Map.Entry<String, String> e : report.entrySet()) {
            channel.write(Messages.parameterStatus(e.getKey(), e.getValue()));
        }
        LoggedInClient client = new LoggedInClient(userName, databaseName, user, db, poolConfig, params,
                applicationName, sessionRoute, consistency, !"off".equals(report.get("standard_conforming_strings")),
                "on".equals(report.get("default_transaction_read_only")));
        handOver(client, conn);
    }

    /**
     * The hand-over point: the client is logged in, and from here one handler serves it. This one
     * leaves the pipeline and a {@link ClientSession} takes its place, with the log-in connection still
     * bound. (A virtual database such as an admin console installs its own handler here instead; TLS
     * sits in front of this handler, and other ways to check passwords inside its authenticator.)
     */
    private void handOver(LoggedInClient client, ServerConnection conn) {
        ClientSession session = new ClientSession(ctx, channel, client);
        int processId = ctx.cancels().register(session);
        channel.write(Messages.backendKeyData(processId, ctx.cancels().secretOf(processId)));
        handedOver = true;
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        loginConnection = null; // the session binds it (its listener replaces this one)
        if (partial != null) {
            partial.release();
            partial = null;
        }
        channel.pipeline().replace(this, "session", session);
        channel.writeAndFlush(Messages.readyForQuery('I'));
        log.debug("client {}: user \"{}\" database \"{}\" ready ({} pooling)", remote(channel), userName,
                databaseName, client.poolConfig().mode());
        session.start(processId, conn);
    }

    /** An authenticated console user: the console's own handler takes the channel over (issue 16). */
    private void handOverToAdminConsole() {
        handedOver = true;
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        ctx.clientClosed(); // console sessions do not count against max_client_conn
        io.pgsplit.admin.AdminSession.takeOver(channel, this, ctx.admin(), userName);
    }

    // =====================================================================================
    // Failure and close
    // =====================================================================================

    /** Sends a FATAL error (where the protocol allows one) and closes. */
    private void fatal(String sqlState, String message) {
        if (closed) {
            return;
        }
        if (channel != null && channel.isActive()) {
            channel.writeAndFlush(Messages.fatal(sqlState, message)).addListener(ChannelFutureListener.CLOSE);
        }
        if (!SqlState.INVALID_PASSWORD.equals(sqlState)) {
            log.info("client {}: closing: {} {}", remote(channel), sqlState, message);
        }
        close(message);
    }

    private void close(String reason) {
        if (closed || handedOver) {
            return;
        }
        closed = true;
        if (startupTimer != null) {
            startupTimer.cancel(false);
        }
        ctx.clientClosed();
        ServerConnection conn = loginConnection;
        if (conn != null) {
            boolean clean = !awaitingReady && conn.state.transactionStatus == 'I' && conn.isActive();
            boolean dirty = poolConfig.mode() == PoolMode.SESSION;
            letGoOfLoginConnection();
            conn.pool().release(conn, !clean ? ReleaseMode.CLOSE : dirty ? ReleaseMode.RESET : ReleaseMode.REUSE);
        }
        if (channel != null && channel.isActive() && reason == null) {
            channel.close();
        }
    }

    private void letGoOfLoginConnection() {
        if (loginConnection != null) {
            loginConnection.attach(null);
            loginConnection = null;
        }
        if (partial != null) {
            partial.release();
            partial = null;
        }
        awaitingReady = false;
    }

    static String remote(Channel channel) {
        InetSocketAddress a = channel != null && channel.remoteAddress() instanceof InetSocketAddress i ? i : null;
        return a == null ? "?" : a.getAddress().getHostAddress() + ":" + a.getPort();
    }
}
