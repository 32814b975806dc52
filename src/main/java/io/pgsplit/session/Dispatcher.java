package io.pgsplit.session;

import io.netty.util.concurrent.Future;
import io.pgsplit.topology.Node;
import io.pgsplit.config.PoolMode;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolException;
import io.pgsplit.pool.ReleaseMode;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.protocol.SqlState;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.SqlText;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the client's pending units in order and gets each onto a server connection: the one the
 * client is bound to if the unit may go there, else a connection to the node its route decision
 * names (kept per node in session mode, borrowed from the node's pool otherwise). A unit waits while
 * replies to earlier work are on their way and that work ties the client to its connection
 * (a transaction, COPY, pinned state, a unit that may still be re-run). Reads a replica cannot take
 * go to another replica, then the primary. Binding a connection makes the {@link ReplyTracker} its
 * listener; parking it gives it back to the pool (or keeps it, in session mode).
 */
final class Dispatcher {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final ClientSession s;
    private final ReplyTracker replies;
    /** Session mode: the connection kept for each node this client has used. */
    private final Map<Node, ServerConnection> sessionConnections = new HashMap<>(4);
    private boolean acquiring;
    /** The sticky replica of a session-mode client (one server connection per node it uses). */
    private Node stickyReplica;

    Dispatcher(ClientSession session, ReplyTracker replies) {
        this.s = session;
        this.replies = replies;
    }

    /** Sends as much pending work as the current state allows. */
    void processPending() {
        while (!s.closed && !acquiring && !s.pending.isEmpty()) {
            Unit u = s.pending.peek();
            if (u.decision() == null) {
                if (u.isClassifying() || s.intake.classifyOffLoopIfSlow(u)) {
                    return; // resumed when the classification is ready
                }
                s.intake.prepare(u);
                if (u.decision() == null) {
                    return; // answered already, or waiting for a classification
                }
            }
            if (u.isVirtual()) {
                if (!replies.idle()) {
                    return; // pgsplit's own answers must come after the replies still on their way
                }
                s.pending.poll();
                s.answers.answerVirtually(u);
                continue;
            }
            if (s.lostTransaction) {
                answerInLostTransaction(u);
                continue;
            }
            ServerConnection target = currentConnectionFor(u);
            if (target != null) {
                s.pending.poll();
                s.sender.send(u, target);
                continue;
            }
            if (!replies.idle() || s.active != null && mustStayOnActive()) {
                return; // the work in flight must finish before the client moves to another connection
            }
            park();
            if (s.holdForPause()) {
                return; // PAUSE (issue 16): a new transaction waits for RESUME, which runs processPending again
            }
            if (u.decision().target() == RouteDecision.Target.PRIMARY && waitForPrimary(u)) {
                return; // resumed when a primary is usable, or failed after ha.failover_wait
            }
            if (awaitingReplica(u)) {
                return; // a causal read waits (asynchronously) for a replica to catch up; ReadGate resumes it
            }
            Node node = chooseNode(u, u.lostOn());
            if (node == null) {
                s.pending.poll();
                String causal = s.reads.unavailable(u.read());
                s.answers.answerWithError(u, SqlState.CONNECTION_FAILURE, causal != null ? causal
                        : "pgsplit: no server available for " + u.decision() + " in database \"" + s.databaseName
                        + "\"");
                continue;
            }
            s.reads.routed(u.read(), node);
            ServerConnection kept = sessionConnections.get(node);
            if (kept != null && kept.isActive()) {
                bind(kept);
                continue;
            }
            acquireFor(u, node);
            return;
        }
        if (s.clientPaused && s.pending.size() < 64) {
            s.clientPaused = false;
            s.channel.config().setAutoRead(true);
        }
    }

    /**
     * The client's transaction was lost with its server connection: as PostgreSQL does in a failed transaction,
     * COMMIT or ROLLBACK end it (answered ROLLBACK) and anything else is refused, so no part of it runs outside it.
     */
    private void answerInLostTransaction(Unit u) {
        s.pending.poll();
        if (u.endsTransactionAlone()) {
            s.lostTransaction = false;
            s.answers.answerVirtually(u, "ROLLBACK");
        } else {
            s.clientTxnStatus = 'E';
            s.answers.answerWithError(u, "25P02", "current transaction is aborted, commands ignored until end of "
                    + "transaction block (pgsplit lost its server connection)");
        }
    }

    /** Since when the head unit has waited for a primary (System.nanoTime), 0 if it is not waiting. */
    private long waitingSince;

    /**
     * For a unit that must go to the primary: true if there is none usable now (down, none accepts writes, a split
     * brain) and the unit now waits for one, up to ha.failover_wait; past that it gets an error naming why.
     */
    private boolean waitForPrimary(Unit u) {
        io.pgsplit.topology.Topology topology = s.db.topology();
        if (topology.writablePrimary() != null) {
            waitingSince = 0;
            return false;
        }
        long waitNanos = s.ctx.config().ha().failoverWait().toNanos();
        long now = System.nanoTime();
        if (waitingSince == 0) {
            waitingSince = now;
        }
        long left = waitingSince + waitNanos - now;
        if (left <= 0) {
            String why = topology.whyNoPrimary();
            waitingSince = 0;
            s.pending.poll();
            s.answers.answerWithError(u, SqlState.CONNECTION_FAILURE, "pgsplit: no primary for database \""
                    + s.databaseName + "\" after waiting " + s.ctx.config().ha().failoverWait().toMillis()
                    + " ms (ha.failover_wait): " + (why == null ? "it became unusable" : why));
            return false; // the caller goes on with the next unit
        }
        acquiring = true;
        java.util.concurrent.CompletableFuture<Node> ready = topology.awaitWritablePrimary();
        io.netty.util.concurrent.ScheduledFuture<?> timer = s.loop.schedule(() -> ready.cancel(false), left,
                java.util.concurrent.TimeUnit.NANOSECONDS);
        ready.whenComplete((node, error) -> s.loop.execute(() -> {
            timer.cancel(false);
            acquiring = false;
            if (!s.closed) {
                processPending();
            }
        }));
        return true;
    }

    /** The already-bound connection this unit may go on right now, or null. */
    private ServerConnection currentConnectionFor(Unit u) {
        ServerConnection active = s.active;
        if (active == null || !active.isActive()) {
            return null;
        }
        if (replies.retryableInFlight() || u.isRetryable() && !replies.idle()) {
            return null; // a unit that may be re-run elsewhere travels alone
        }
        if (mustStayOnActive() || nodeMatches(u.decision(), active.node()) && readMayStay(u, active.node())
                || sentToPrimaryForFreshness(u, active.node())) {
            return active;
        }
        return null;
    }

    /** A read stays on the replica connection it has only if that replica is as fresh as its consistency asks. */
    private boolean readMayStay(Unit u, Node node) {
        return node.isPrimary() || !awaitingReplica(u) && s.reads.admits(node, u.read().requiredLsn());
    }

    /**
     * A read whose consistency no replica could meet (ReadGate settled it, chooseNode picked the primary) runs on
     * the primary connection just acquired for it (without this it was released and acquired again, in a loop).
     */
    private boolean sentToPrimaryForFreshness(Unit u, Node node) {
        return u.read() != null && u.read().outcome() != null && node.isPrimary() && !u.decision().isPrimary();
    }

    /**
     * Causal and session reads (consistency.ReadGate): true while the unit waits for a replica to replay the
     * writes it must see; processPending runs again when it may go on (to a replica, or the primary).
     */
    private boolean awaitingReplica(Unit u) {
        if (u.decision().isPrimary()) {
            return false;
        }
        if (u.read() == null) {
            u.read(s.consistency.check(s.reads, s.ctx.config().routing().hints() ? u.sql() : null,
                    u.decision().consistency()));
        }
        // wait for the replica the read must go to: a named one (a hint or rule), or a session's sticky one
        Node prefer = s.mode == PoolMode.SESSION ? stickyReplica : null;
        if (u.decision().target() == RouteDecision.Target.NAMED) {
            List<Node> named = s.db.topology().upNamed(u.decision().nodeName(), null);
            prefer = named.isEmpty() ? null : named.get(0);
        }
        return s.reads.mustWait(u.read(), prefer, s.loop, this::processPending);
    }

    /** An open transaction, COPY or pinned session state ties the client to its current connection. */
    private boolean mustStayOnActive() {
        return s.active.state.transactionStatus != 'I' || s.clientTxnStatus != 'I' && s.deferredBegin == null
                || s.copyIn || s.unsynced || s.sessionState.pinned() && s.mode != PoolMode.SESSION;
    }

    private boolean nodeMatches(RouteDecision d, Node node) {
        return switch (d.target()) {
            case PRIMARY -> node.isPrimary();
            case REPLICA -> !node.isPrimary() || s.db.primaryServesReads() && s.db.replicasUp() == 0
                    || node.isPrimary() && s.db.primaryInReadRotation();
            case NAMED -> node.name().equals(d.nodeName()) || d.nodeName().equals(node.group());
            case ANY -> true;
        };
    }

    private Node chooseNode(Unit u, Node exclude) {
        RouteDecision d = u.decision();
        long minLsn = u.read() == null ? 0 : u.read().requiredLsn();
        return switch (d.target()) {
            case PRIMARY -> s.db.primary();
            case REPLICA, ANY -> {
                if (s.mode == PoolMode.SESSION && stickyReplica != null && stickyReplica.isUp()
                        && stickyReplica != exclude && s.reads.admits(stickyReplica, minLsn)) {
                    yield stickyReplica;
                }
                Node n = s.db.pickReadNode(exclude, s.reads, minLsn);
                if (s.mode == PoolMode.SESSION && n != null && !n.isPrimary()) {
                    stickyReplica = n;
                }
                yield n;
            }
            case NAMED -> s.db.pickNamed(d.nodeName(), exclude, s.reads, minLsn);
        };
    }

    /** A unit whose replies asked for a re-run (none reached the client): it goes first in the queue again. */
    void retry(Unit u) {
        if (u.isStalePlan()) {
            retryAfterStalePlan(u);
        } else {
            retryOnPrimary(u);
        }
    }

    /**
     * A replica refused what the classifier took for a read (a function that writes, say), and the
     * client has seen nothing of it: run it once on the primary instead.
     */
    private void retryOnPrimary(Unit u) {
        log.warn("database \"{}\": statement misclassified as a read, retried on the primary after the replica "
                + "refused it ({}): {}", s.databaseName, u.retryReason(), SqlText.abbreviate(u.sql()));
        u.retryOnPrimary();
        s.stats.writeRetriedOnPrimary();
        s.clientTxnStatus = 'I';
        s.pending.addFirst(u);
    }

    /**
     * The server refused a statement copy pgsplit shared with this client because a table changed
     * shape since it was prepared (0A000), before any reply reached the client: the copies are being
     * closed, so running the unit again prepares it afresh - what PostgreSQL direct would have done.
     */
    private void retryAfterStalePlan(Unit u) {
        log.info("database \"{}\": a prepared statement shared on a server connection went stale ({}); "
                + "prepared afresh and re-run: {}", s.databaseName, u.retryReason(), SqlText.abbreviate(u.sql()));
        u.retryAfterStalePlan();
        s.clientTxnStatus = 'I';
        s.pending.addFirst(u);
    }

    /** Called when replies may have drained: release the connection if the pool mode allows, send more. */
    void maybeIdle() {
        if (!replies.idle() || s.closed) {
            return;
        }
        if (s.active != null && s.pending.isEmpty() && !s.intake.collecting() && canRelease(s.active)) {
            park();
        }
        processPending();
        s.afterUnitsDrained();
    }

    private boolean canRelease(ServerConnection conn) {
        if (s.unsynced) {
            return false;
        }
        if (s.mode == PoolMode.SESSION) {
            // Pinned state (LISTEN above all) stays active: a parked connection's replies are dropped,
            // so a parked LISTEN connection would swallow the client's notifications.
            return !s.ctx.config().routing().splitting() ? false : conn.state.transactionStatus == 'I'
                    && !s.sessionState.pinned();
        }
        return conn.state.transactionStatus == 'I' && !s.copyIn && !s.sessionState.pinned();
    }

    /** Leaves the active connection: back to the pool, or kept for this session. */
    private void park() {
        ServerConnection conn = s.active;
        if (conn == null) {
            return;
        }
        if (s.mode == PoolMode.SESSION && conn.isActive()) {
            sessionConnections.put(conn.node(), conn);
            s.active = null;
            return;
        }
        unbind();
        conn.pool().release(conn, conn.isActive() ? ReleaseMode.REUSE : ReleaseMode.CLOSE);
    }

    private void acquireFor(Unit u, Node node) {
        Pool pool = s.db.pool(node, s.user);
        ServerConnection idle = pool.tryAcquireIdle(s.loop);
        if (idle != null) {
            s.stats.assigned(0);
            bind(idle);
            processPending();
            return;
        }
        acquiring = true;
        long askedAt = System.nanoTime();
        s.waitingSinceNanos = askedAt;
        pool.acquire(s.loop).addListener((Future<ServerConnection> f) -> {
            acquiring = false;
            s.waitingSinceNanos = 0;
            if (f.isSuccess()) {
                s.stats.assigned(System.nanoTime() - askedAt);
            }
            if (s.closed) {
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

    /** Nodes tried in a row for the head unit's read after failed acquires (each once at most), reset on a bind. */
    private int fallbacks;

    private void onAcquireFailed(Unit u, Node node, Throwable cause) {
        if (u.decision().target() == RouteDecision.Target.PRIMARY && !node.isUp()
                && s.ctx.config().ha().failoverWait().toNanos() > 0) {
            // Nothing was sent: the unit waits for a usable primary like any write during a failover.
            processPending();
            return;
        }
        if (!node.isPrimary() && u.decision().target() != RouteDecision.Target.PRIMARY
                && ++fallbacks <= s.db.nodes().size()) {
            // A replica we could not reach: try the others, then the primary (reads are safe there).
            Node other = chooseNode(u, node);
            if (other == null || other == node) {
                other = s.db.primaryServesReads() ? s.db.primary() : null;
            }
            if (other != null) {
                log.warn("database \"{}\": {} unavailable ({}); sending the read to {}", s.databaseName, node,
                        cause.getMessage(), other);
                if (stickyReplica == node) {
                    stickyReplica = null;
                }
                acquireFor(u, other);
                return;
            }
        }
        fallbacks = 0;
        s.pending.poll();
        String sqlState = cause instanceof PoolException pe ? pe.sqlState() : SqlState.CONNECTION_FAILURE;
        s.answers.answerWithError(u, sqlState, cause.getMessage());
        processPending();
    }

    /** Makes {@code conn} the client's connection: its replies go to the client from now on. */
    void bind(ServerConnection conn) {
        fallbacks = 0;
        s.active = conn;
        sessionConnections.remove(conn.node());
        conn.attach(replies);
        conn.setAutoRead(s.channel.isWritable());
    }

    void unbind() {
        if (s.active != null) {
            s.active.attach(null);
            s.active = null;
        }
        s.unsynced = false;
        replies.unbound();
    }

    /** A kept (session-mode) connection closed. */
    void forgetKept(ServerConnection conn) {
        sessionConnections.values().remove(conn);
    }

    /** The client is closing: the kept connections go back (reset) or are closed. */
    void releaseKept() {
        for (ServerConnection conn : sessionConnections.values()) {
            conn.attach(null);
            conn.pool().release(conn, conn.isActive() && conn.state.transactionStatus == 'I'
                    ? ReleaseMode.RESET : ReleaseMode.CLOSE);
        }
        sessionConnections.clear();
    }
}
