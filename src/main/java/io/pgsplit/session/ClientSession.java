package io.pgsplit.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.PoolMode;
import io.pgsplit.config.UserConfig;
import io.pgsplit.pool.ReleaseMode;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.ProtocolException;
import io.pgsplit.protocol.SqlState;
import io.pgsplit.route.SessionEffect;
import io.pgsplit.route.StatementInfo;
import io.pgsplit.pool.DatabaseRuntime;
import io.pgsplit.session.RouterContext;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A logged-in client, from its first statement to its last: the channel handler {@link LoginHandler}
 * installs once the client is in, and the state its phases share. Everything here runs on the client
 * channel's event loop; replies from a server connection on another loop hop over first.
 *
 * <p>The work is done by one class per phase, each holding this session:
 * <ol>
 *   <li>{@link StatementIntake}: client messages into {@link Unit}s (a Query, or extended-protocol messages
 *       up to a Sync), classified and routed when their turn comes;</li>
 *   <li>{@link OwnAnswers}: the units pgsplit answers itself (its own setting, a deferred BEGIN, refusals);</li>
 *   <li>{@link Dispatcher}: a unit to a node to a server connection (bind, park, acquire, fall back);</li>
 *   <li>{@link UnitSender}: the unit's messages onto that connection (settings replay, prepared statements);</li>
 *   <li>{@link ReplyTracker}: the server's replies back to the client, matched to what was sent
 *       ({@link Expect}), deciding when a unit and the connection are done.</li>
 * </ol>
 * Replies stream back untouched except where pgsplit must answer for itself.
 *
 * <p>The fields below are the client's state that several phases read and write (its transaction
 * status, the bound connection, the pending units...): the phases use them directly, as parts of one
 * client. What only one phase needs is kept in that phase: the Expect queue in the ReplyTracker, the
 * kept and sticky connections in the Dispatcher, the unit being collected in the StatementIntake.
 */
final class ClientSession extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    final RouterContext ctx;
    final Channel channel;
    final EventLoop loop;

    // ---- who the client is (from the start-up packet and log-in) ----
    final String userName;
    final String databaseName;
    final UserConfig user;
    final DatabaseRuntime db;
    final PoolConfig poolConfig;
    final PoolMode mode;
    final SessionParams params;
    private final String applicationName;
    private int processId;

    // ---- routing state ----
    /** Route hint of the whole session: from SET pgsplit.route or options=-c pgsplit.route=... */
    String sessionRoute;
    /** Causal reads: this client's consistency level and its own acknowledged writes (package consistency). */
    final io.pgsplit.consistency.SessionConsistency consistency;
    /** The causal-reads gate of the client's database. */
    final io.pgsplit.consistency.ReadGate reads;
    boolean standardConformingStrings;
    boolean readOnlyDefault;
    boolean serializableDefault;
    /** Last transaction status the client was told: 'I', 'T' or 'E'. */
    char clientTxnStatus = 'I';
    /** A BEGIN pgsplit answered itself, not yet sent: it goes with the transaction's first statement. */
    Unit deferredBegin;
    final SessionState sessionState = new SessionState();
    final ClientStatements statements = new ClientStatements();

    // ---- the client's work and its server connection ----
    /** Units waiting their turn, in the client's order (small first capacity: most clients are idle). */
    final ArrayDeque<Unit> pending = new ArrayDeque<>(4);
    /** The connection the client's work is on now (its replies go to the client). */
    ServerConnection active;
    /** The bound connection is in COPY FROM STDIN: the client's CopyData goes straight to it. */
    boolean copyIn;
    /**
     * The server connection under the client's transaction was lost (issue 14): the transaction is gone, so until
     * the client ends it, pgsplit answers every statement with 25P02 itself and a COMMIT or ROLLBACK with ROLLBACK;
     * nothing of it may run on another connection outside a transaction.
     */
    boolean lostTransaction;
    /**
     * The active connection got extended-protocol messages with no Sync after them yet (a Flush, or a
     * Query cut them off): the server is inside their implicit transaction, so the client stays on the
     * connection, and it is not clean to reuse (issue 18: it went back to the pool, and the next
     * client's Sync committed a vanished client's INSERT).
     */
    boolean unsynced;
    /** Too much pending work: the client's socket is not read until it drains. */
    boolean clientPaused;
    boolean closed;
    private ScheduledFuture<?> idleTimer;

    // ---- issue 16: counters, PAUSE, and what the admin console shows ----
    final io.pgsplit.metrics.DatabaseStats stats;
    /** When the client's current transaction started (its first unit sent), or 0. */
    private long xactStartNanos;
    /** Held by PAUSE: resumed by the console's gate. */
    private boolean heldByPause;
    volatile long waitingSinceNanos;
    private final long connectedAtMillis = System.currentTimeMillis();
    volatile long lastRequestAtMillis;

    // ---- the phases ----
    final StatementIntake intake;
    final OwnAnswers answers;
    final Dispatcher dispatch;
    final UnitSender sender;
    final ReplyTracker replies;

    ClientSession(RouterContext ctx, Channel channel, LoggedInClient client) {
        this.ctx = ctx;
        this.channel = channel;
        this.loop = channel.eventLoop();
        this.userName = client.userName();
        this.databaseName = client.databaseName();
        this.user = client.user();
        this.db = client.db();
        this.poolConfig = client.poolConfig();
        this.mode = client.poolConfig().mode();
        this.params = client.params();
        this.applicationName = client.applicationName();
        this.sessionRoute = client.sessionRoute();
        this.consistency = client.consistency();
        this.reads = ctx.reads(client.databaseName());
        this.standardConformingStrings = client.standardConformingStrings();
        this.readOnlyDefault = client.readOnlyDefault();
        this.stats = ctx.stats().database(databaseName);
        stats.login();
        this.replies = new ReplyTracker(this);
        this.intake = new StatementIntake(this);
        this.answers = new OwnAnswers(this);
        this.dispatch = new Dispatcher(this, replies);
        this.sender = new UnitSender(this, replies);
    }

    /**
     * The client is logged in and told so: take over. {@code loginConnection} is the connection the
     * log-in checked the start-up parameters on (null when they were known), still bound to this client.
     */
    void start(int processId, ServerConnection loginConnection) {
        this.processId = processId;
        if (loginConnection != null) {
            dispatch.bind(loginConnection);
        }
        dispatch.maybeIdle();
    }

    // =====================================================================================
    // Netty events
    // =====================================================================================

    @Override
    public void channelRead(ChannelHandlerContext c, Object m) {
        ByteBuf msg = (ByteBuf) m;
        try {
            if (!closed) {
                stats.received(msg.readableBytes());
                intake.onClientMessage(msg);
                msg = null; // ownership passed on
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
    // Session state
    // =====================================================================================

    /**
     * A command of the client's completed on {@code conn} ({@code info}: its statement, if known): its
     * session effects now hold - settings, pinned state, the statements DISCARD and DEALLOCATE drop.
     */
    void commandCompleted(ServerConnection conn, String tag, StatementInfo info) {
        if (tag.equals("DISCARD ALL")) {
            params.resetAll(conn.state);
            conn.state.statements.clear();
            statements.removeAllNamed();
            sessionState.clear();
            return;
        }
        if (tag.equals("DEALLOCATE ALL")) {
            conn.state.statements.clear();
            statements.removeAllNamed();
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

    // =====================================================================================
    // Idle timers
    // =====================================================================================

    /** Arms the idle timers once the client has everything it asked for. */
    void afterUnitsDrained() {
        if (!pending.isEmpty() || !replies.idle() || closed) {
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

    void cancelIdleTimer() {
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
            if (active != null && !replies.idle()) {
                log.debug("client {}: forwarding cancel to {}", remote(), active.node());
                active.cancel();
            }
        });
    }

    /** Sends a FATAL error and closes. */
    void fatal(String sqlState, String message) {
        if (closed) {
            return;
        }
        if (channel.isActive()) {
            channel.writeAndFlush(Messages.fatal(sqlState, message)).addListener(ChannelFutureListener.CLOSE);
        }
        log.info("client {}: closing: {} {}", remote(), sqlState, message);
        close(message);
    }

    void close(String reason) {
        if (closed) {
            return;
        }
        closed = true;
        cancelIdleTimer();
        ctx.cancels().unregister(processId);
        ctx.clientClosed();
        replies.abandon();
        for (Unit u : pending) {
            u.releaseMessages();
            u.releaseHeld();
        }
        pending.clear();
        intake.releaseBatch();
        if (deferredBegin != null) {
            deferredBegin.releaseMessages();
            deferredBegin = null;
        }
        if (active != null) {
            ServerConnection conn = active;
            boolean clean = replies.idle() && conn.state.transactionStatus == 'I' && !copyIn && !unsynced
                    && conn.isActive();
            boolean dirty = sessionState.hasAny() || mode == PoolMode.SESSION;
            if ((!replies.idle() || unsynced) && conn.isActive()) {
                // The client's statement may still be running: closing the connection alone leaves it running
                // (and its transaction open) until it next writes to the socket, a pg_sleep(60) for a minute.
                // The connection is closed, never reused, so the cancel cannot hit another client's work.
                conn.cancel();
            }
            dispatch.unbind();
            conn.pool().release(conn, !clean ? ReleaseMode.CLOSE : dirty ? ReleaseMode.RESET : ReleaseMode.REUSE);
        }
        replies.clear();
        dispatch.releaseKept();
        if (channel.isActive() && reason == null) {
            channel.close();
        }
    }

    // =====================================================================================
    // Who the client is
    // =====================================================================================

    /**
     * The client's application_name now, not only as sent at startup: pgjdbc (and others) send it with
     * {@code SET application_name} after connecting, and routing rules match on it.
     */
    String currentApplicationName() {
        String v = params.get("application_name");
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

    // =====================================================================================
    // Issue 16: PAUSE, counters; what the admin console reads (ConsoleView)
    // =====================================================================================

    /** Whether PAUSE holds this client's next transaction; if so it goes on at RESUME. */
    boolean holdForPause() {
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
        dispatch.processPending();
    }

    /** A unit goes to a server: its clock starts, and the transaction's if none runs. */
    void unitSent(Unit u, ServerConnection conn) {
        u.sentNanos = System.nanoTime();
        if (xactStartNanos == 0) {
            xactStartNanos = u.sentNanos;
        }
        if (u.decision() != null) {
            stats.routed(conn.node().isPrimary(), u.decision());
        }
    }

    /** A ReadyForQuery for the client: one query done, and a transaction when the status is back to idle. */
    void countReady(Unit u, char status) {
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

    int processId() {
        return processId;
    }

    String startupApplicationName() {
        return applicationName == null ? "" : applicationName;
    }

    long connectedAtMillis() {
        return connectedAtMillis;
    }

    private String lastApplicationNameSql;
    private String lastApplicationName;

    InetSocketAddress clientAddress() {
        return channel.remoteAddress() instanceof InetSocketAddress a ? a : null;
    }

    String remote() {
        return LoginHandler.remote(channel);
    }
}
