package io.pgsplit.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.ServerDataListener;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.ProtocolException;
import io.pgsplit.protocol.SqlState;
import io.pgsplit.route.StatementInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what the bound server connection sends and decides what the client gets: the {@link Expect}
 * queue (one entry per message sent, in send order) says what each reply answers. Replies are
 * forwarded in runs (one slice per run, never copied); pgsplit stops only at the few messages it must
 * look at ({@link #inspect}): it drops the replies to its own messages, composes the ones the client
 * expects for messages pgsplit answered itself, holds back the replies of a unit that may still be
 * re-run, applies session effects as commands complete, and notes when a unit is done. After each
 * batch of replies, {@link #afterReplies} re-runs or completes finished units and lets the
 * {@link Dispatcher} release the connection and send more.
 *
 * <p>It is the {@link ServerDataListener} of the connection the client is bound to; replies from a
 * connection on another event loop hop over to the client's first.
 */
final class ReplyTracker implements ServerDataListener {
    private static final Logger log = LoggerFactory.getLogger(ReplyTracker.class);
    /** A DataRow or CopyData this large is streamed in pieces instead of being waited for whole. */
    private static final int STREAM_THRESHOLD = 8192;

    private final ClientSession s;
    // Small first capacity (ArrayDeque's default array has 17 slots): most clients are idle; the
    // deque grows on first use and stays grown.
    private final ArrayDeque<Expect> expects = new ArrayDeque<>(4);
    /** The server skips extended-protocol messages until Sync after an error. */
    private boolean serverSkippingToSync;
    private ByteBuf partial;
    private int streamRemaining;
    private Unit streamHolder;
    private boolean lastCommandWasCommit;
    /** The client's work got an ErrorResponse since the last ReadyForQuery (an implicit transaction failed). */
    private boolean errorSinceReady;
    // No initial capacity: new ArrayList<>() allocates its array on the first add, so an idle client holds none.
    private final List<ByteBuf> syntheticOut = new ArrayList<>();
    private final List<Unit> finishedUnits = new ArrayList<>();
    /** A FATAL the server sent before closing the bound connection (not forwarded in transaction pooling), or null. */
    private String fatalFromServer;

    ReplyTracker(ClientSession session) {
        this.s = session;
    }

    // =====================================================================================
    // The Expect queue
    // =====================================================================================

    /** Nothing is on its way from a server, and no answer of pgsplit's waits behind one. */
    boolean idle() {
        return expects.isEmpty();
    }

    /** Whether a unit that may be re-run elsewhere has replies still to come. */
    boolean retryableInFlight() {
        for (Expect e : expects) {
            if (e.unit != null && e.unit.isRetryable()) {
                return true;
            }
        }
        return false;
    }

    /** Whether only pgsplit's own messages (whose replies are dropped) are in flight. */
    boolean onlyOwnInFlight() {
        for (Expect e : expects) {
            if (!e.drop) {
                return false;
            }
        }
        return true;
    }

    void expect(Expect e) {
        expects.add(e);
    }

    /** Adds an extended-protocol expectation unless the server is skipping to Sync after an error. */
    void expectExtended(Expect e) {
        if (!serverSkippingToSync) {
            expects.add(e);
        }
    }

    /** A Sync was sent: the server listens again. */
    void syncSent(Expect e) {
        expects.add(e);
        serverSkippingToSync = false;
    }

    /** A reply pgsplit composes itself (ParseComplete, CloseComplete), in its place among the server's. */
    void expectSynthetic(byte type, Unit owner) {
        if (serverSkippingToSync) {
            return;
        }
        if (expects.isEmpty()) {
            emitSynthetic(type, owner);
        } else {
            expects.add(Expect.synthetic(type, owner));
        }
    }

    /**
     * Sends replies pgsplit composed itself, after every reply still on its way from a server to
     * this client (a pipelining client must get its answers in the order it asked).
     */
    void deliver(List<ByteBuf> out) {
        if (expects.isEmpty()) {
            for (ByteBuf b : out) {
                s.channel.write(b);
            }
            s.channel.flush();
        } else {
            expects.add(Expect.output(out));
        }
    }

    /** The connection is let go: what was read of it is dropped. */
    void unbound() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
        streamRemaining = 0;
        serverSkippingToSync = false;
    }

    /** The client is closing: units in flight count as answered, pgsplit's queued answers are dropped. */
    void abandon() {
        for (Expect e : expects) {
            if (e.unit != null) {
                e.unit.answered();
                // A unit in flight that could still be retried keeps its messages and held replies (issue 18:
                // they leaked when the client went away meanwhile; found by ProtocolFuzzTest).
                e.unit.releaseMessages();
                e.unit.releaseHeld();
            }
            if (e.output != null) {
                e.output.forEach(ByteBuf::release);
            }
        }
    }

    void clear() {
        expects.clear();
    }

    // =====================================================================================
    // Server events
    // =====================================================================================

    @Override
    public void onServerData(ServerConnection conn, ByteBuf data) {
        if (s.loop.inEventLoop()) {
            handleServerData(conn, data);
        } else {
            s.loop.execute(() -> handleServerData(conn, data));
        }
    }

    @Override
    public void onServerClosed(ServerConnection conn, Throwable cause) {
        if (s.loop.inEventLoop()) {
            serverClosed(conn, cause);
        } else {
            s.loop.execute(() -> serverClosed(conn, cause));
        }
    }

    @Override
    public void onServerWritabilityChanged(ServerConnection conn, boolean writable) {
        s.loop.execute(() -> {
            if (conn == s.active && !s.closed) {
                s.channel.config().setAutoRead(writable && !s.clientPaused);
            }
        });
    }

    private void serverClosed(ServerConnection conn, Throwable cause) {
        if (conn != s.active) {
            s.dispatch.forgetKept(conn);
            return;
        }
        boolean busy = !expects.isEmpty() || s.clientTxnStatus != 'I';
        String why = fatalFromServer != null ? fatalFromServer
                : cause == null ? "the server closed the connection" : cause.getMessage();
        fatalFromServer = null;
        if (busy) {
            conn.node().connectionLost(why); // a health check of it now, rather than at the next round
        }
        Unit rerun = busy ? rerunnableInFlight() : null;
        java.util.List<ByteBuf> answers = busy && rerun == null && s.mode != io.pgsplit.config.PoolMode.SESSION
                ? answersForLostServer(conn, why) : null;
        s.dispatch.unbind();
        expects.clear();
        s.copyIn = false;
        if (rerun != null) {
            // Nothing of it reached the client and it is a read outside a transaction: run it elsewhere.
            log.warn("database \"{}\": lost the server connection to {} ({}); the read runs again on another server: {}",
                    s.databaseName, conn.node(), why, io.pgsplit.route.SqlText.abbreviate(rerun.sql()));
            rerun.rerunAfterLoss(conn.node());
            s.pending.addFirst(rerun);
            s.dispatch.maybeIdle();
        } else if (answers != null) {
            for (ByteBuf b : answers) {
                s.channel.write(b, s.channel.voidPromise());
            }
            s.channel.flush();
            s.dispatch.maybeIdle();
        } else if (busy) {
            s.fatal(SqlState.CONNECTION_FAILURE, "pgsplit: lost the server connection to " + conn.node() + ": " + why);
        }
    }

    /** The one unit in flight, if it may run again elsewhere (see {@link Unit#canRerunAfterLoss}); else null. */
    private Unit rerunnableInFlight() {
        Unit only = null;
        for (Expect e : expects) {
            if (e.drop) {
                continue;
            }
            if (e.unit == null || only != null && e.unit != only || e.output != null) {
                return null;
            }
            only = e.unit;
        }
        return only != null && only.canRerunAfterLoss() && s.clientTxnStatus == 'I' && !s.copyIn ? only : null;
    }

    /**
     * What the client gets for the work in flight on a lost connection, as the server would have answered a
     * failure: an ErrorResponse and a ReadyForQuery for each Query, FunctionCall or Sync it waits on, in the
     * failed-transaction state ('E') if a transaction was open (it is gone: pgsplit answers the rest of it
     * itself until ROLLBACK, see {@code ClientSession.lostTransaction}). Never re-run: a write may or may not
     * have taken effect. Null when the replies in flight cannot be completed this way (COPY, work ended by a
     * Flush): then the client is disconnected, with the reason.
     */
    private java.util.List<ByteBuf> answersForLostServer(ServerConnection conn, String why) {
        if (s.copyIn) {
            return null;
        }
        boolean inTransaction = s.clientTxnStatus != 'I' || conn.state.transactionStatus != 'I';
        for (Expect e : expects) {
            if (!e.drop && e.unit != null && e.unit.startsTransaction()) {
                inTransaction = true;
            }
        }
        char status = inTransaction ? 'E' : 'I';
        String message = "pgsplit: lost the server connection to " + conn.node() + " (" + why + ") while this ran; "
                + "it was not run again (a write may or may not have taken effect)"
                + (inTransaction ? "; the transaction is rolled back: end it with ROLLBACK" : "");
        java.util.List<ByteBuf> out = new ArrayList<>();
        boolean inBlock = false;
        boolean blockFailed = false;
        boolean first = true;
        for (Expect e : expects) {
            if (e.unit != null) {
                e.unit.answered();
                e.unit.releaseHeld();
                e.unit.releaseMessages();
            }
            if (e.drop) {
                continue;
            }
            switch (e.kind) {
                case QUERY, FUNCTION_CALL -> {
                    out.add(first || !inTransaction ? Messages.error(SqlState.CONNECTION_FAILURE, message)
                            : Messages.error("25P02", "current transaction is aborted, commands ignored until end of "
                            + "transaction block"));
                    out.add(Messages.readyForQuery(status));
                    first = false;
                }
                case SYNC -> {
                    if (inBlock && !blockFailed) {
                        out.add(Messages.error(SqlState.CONNECTION_FAILURE, message));
                        first = false;
                    }
                    out.add(Messages.readyForQuery(status));
                    inBlock = false;
                    blockFailed = false;
                }
                case SYNTHETIC -> {
                    if (e.output != null) {
                        if (inBlock) {
                            out.forEach(ByteBuf::release);
                            return null;
                        }
                        out.addAll(e.output);
                    }
                }
                default -> inBlock = true;
            }
        }
        if (inBlock) { // a Flush ended the last work: the client waits without a Sync
            out.forEach(ByteBuf::release);
            return null;
        }
        s.clientTxnStatus = status;
        s.lostTransaction = inTransaction;
        log.warn("database \"{}\": lost the server connection to {} ({}) under a client's {}; it gets an error{}",
                s.databaseName, conn.node(), why, inTransaction ? "transaction" : "statement",
                inTransaction ? " and its transaction is rolled back" : "");
        return out;
    }

    private void handleServerData(ServerConnection conn, ByteBuf data) {
        if (conn != s.active || s.closed) {
            data.release();
            return;
        }
        s.stats.sent(data.readableBytes());
        ByteBuf buf = data;
        if (partial != null) {
            ByteBuf joined = s.channel.alloc().buffer(partial.readableBytes() + data.readableBytes());
            joined.writeBytes(partial).writeBytes(data);
            partial.release();
            data.release();
            partial = null;
            buf = joined;
        }
        try {
            scan(conn, buf);
        } finally {
            if (buf.isReadable() && s.active == conn) {
                partial = buf.retainedSlice();
            }
            buf.release();
        }
        s.channel.flush();
        afterReplies();
    }

    // =====================================================================================
    // Scanning replies
    // =====================================================================================

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
            if (holder != null && !holder.hasRetryReason() && (head == null || !head.drop)
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

    private static Unit holderOf(Expect head) {
        return head != null && head.unit != null && head.unit.holdsReplies() ? head.unit : null;
    }

    private void emitRun(ByteBuf buf, int from, int to, Unit holder) {
        if (to > from) {
            emit(buf.retainedSlice(from, to - from), holder);
        }
    }

    /** To the client, or into the held replies of a unit that may still be retried. */
    private void emit(ByteBuf out, Unit holder) {
        if (holder != null && holder.holdsReplies()) {
            if (holder.hold(out)) {
                releaseHeld(holder);
            }
            return;
        }
        // No promise per reply: a failed write reaches exceptionCaught, which closes the client.
        s.channel.write(out, s.channel.voidPromise());
    }

    /** Sends the replies held for {@code u}: from now on it can no longer be retried. */
    private void releaseHeld(Unit u) {
        List<ByteBuf> held = u.stopHolding();
        if (held != null) {
            for (ByteBuf b : held) {
                s.channel.write(b, s.channel.voidPromise());
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
                if (holder != null && !holder.hasRetryReason()) {
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
                String own = s.params.reported(name, value, conn.state);
                if (!own.equals(value)) {
                    // After the client's RESET: the server reports pgsplit's login default, the client gets its own.
                    syntheticOut.add(Messages.parameterStatus(name, own));
                    return false;
                }
                if (name.equals("standard_conforming_strings")) {
                    s.standardConformingStrings = !"off".equals(value);
                } else if (name.equals("default_transaction_read_only")) {
                    s.readOnlyDefault = "on".equals(value);
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
                    if (before != 'I' && status == 'I' || s.clientTxnStatus != 'I' && status == 'I') {
                        s.params.transactionEnded(lastCommandWasCommit, conn.state);
                        s.sessionState.transactionEnded(lastCommandWasCommit);
                    } else if (status == 'I' && errorSinceReady) {
                        // Several statements in one Query (or Executes before one Sync) run as one implicit
                        // transaction: an error in it undid the SETs that ran before it.
                        s.params.transactionEnded(false, conn.state);
                    }
                    errorSinceReady = false;
                    if (status == 'I') {
                        s.params.settle(); // what a later ROLLBACK returns to
                    }
                    s.consistency.acknowledging(s.reads, conn.node(), status, head.unit != null
                            && head.unit.decision() != null && !head.unit.decision().isPrimary());
                    s.clientTxnStatus = status;
                    lastCommandWasCommit = false;
                    s.copyIn = false;
                    s.countReady(head.unit, status); // issue 16: query and transaction counters
                    if (head.unit != null) {
                        finishedUnits.add(head.unit);
                    }
                }
                return !drop;
            }
            case MessageType.Backend.ERROR_RESPONSE -> {
                return onError(conn, head, drop, buf, at, total);
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
                s.copyIn = true;
                return !drop;
            }
            case MessageType.Backend.EMPTY_QUERY_RESPONSE, MessageType.Backend.PORTAL_SUSPENDED,
                    MessageType.Backend.PARSE_COMPLETE, MessageType.Backend.BIND_COMPLETE,
                    MessageType.Backend.CLOSE_COMPLETE, MessageType.Backend.NO_DATA,
                    MessageType.Backend.ROW_DESCRIPTION -> {
                if (head != null && head.completedBy(type)) {
                    if (head.serverStatement != null && head.unit != null && head.unit.revalidatesCopy()
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

    /** An ErrorResponse: maybe a reason to re-run the unit, maybe pgsplit's stale-copy error instead. */
    private boolean onError(ServerConnection conn, Expect head, boolean drop, ByteBuf buf, int at, int total) {
        ErrorFields err = ErrorFields.parse(buf.slice(at, total));
        if (head == null) {
            log.warn("server {} sent an error outside any request: {}", conn.node(), err);
            return true;
        }
        if (err.isFatal()) {
            // The server is ending the connection (shutdown, terminated backend): the client gets pgsplit's answer
            // for the lost connection instead (serverClosed), naming the server and this cause; under transaction
            // pooling its connection goes on.
            fatalFromServer = err.sqlState() + " " + err.message();
            return false;
        }
        errorSinceReady |= !drop;
        if (head.unit != null && head.unit.mayRetryOnPrimary() && s.ctx.router().isReadOnlyRefusal(err)) {
            head.unit.refusedAsReadOnly(err.sqlState() + " " + err.message());
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
                    s.db.markStale(head.serverStatement, preparedAt, ByteBufUtil.getBytes(buf, at, total));
                }
            }
            // "cached plan must not change result type": a statement shared under pgsplit's name went
            // stale after DDL. Close them all on this connection so later uses prepare afresh,
            // instead of failing on every Parse of that text.
            conn.state.statements.closeAll();
            Unit u = head.unit;
            if (!drop && u != null) {
                // Nothing of this unit reached the client: re-run it on a fresh copy.
                u.planWentStale(err.sqlState() + " " + err.message());
            }
        }
        if (head.kind == Expect.Kind.PARSE && head.serverStatement != null) {
            conn.state.statements.remove(head.serverStatement);
            if (head.clientStatement != null) {
                s.statements.remove(head.clientStatement);
            }
        }
        s.copyIn = false;
        if (head.skippedAfterError()) {
            pop();
            skipToSync();
        }
        if (drop) {
            if (head.kind == Expect.Kind.PARSE) {
                return true; // the client's Bind depends on it: it must see why it failed
            }
            log.warn("server {} refused pgsplit's own statement: {}", conn.node(), err);
            return false;
        }
        return !replaced;
    }

    private void pop() {
        expects.poll();
        while (!expects.isEmpty() && expects.peek().kind == Expect.Kind.SYNTHETIC) {
            Expect e = expects.poll();
            if (e.output != null) {
                syntheticOut.addAll(e.output);
            } else {
                syntheticOut.add(e.synthetic == MessageType.Backend.PARSE_COMPLETE
                        ? Messages.parseComplete() : Messages.closeComplete());
            }
        }
    }

    /** After an extended-protocol error the server ignores everything up to the next Sync. */
    private void skipToSync() {
        while (!expects.isEmpty() && expects.peek().skippedAfterError()) {
            Expect skipped = expects.poll();
            if (skipped.kind == Expect.Kind.PARSE && skipped.serverStatement != null && s.active != null) {
                s.active.state.statements.remove(skipped.serverStatement);
                if (skipped.clientStatement != null) {
                    s.statements.remove(skipped.clientStatement);
                }
            }
        }
        if (expects.isEmpty()) {
            serverSkippingToSync = true;
        }
    }

    /** A command of the client's completed: its session effects (SET, RESET, DISCARD, pinning state) now hold. */
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
        s.commandCompleted(conn, tag, info);
    }

    // =====================================================================================
    // Finished units
    // =====================================================================================

    /** After a batch of replies: complete finished units, retry, release the connection, send more. */
    private void afterReplies() {
        if (!finishedUnits.isEmpty()) {
            List<Unit> done = new ArrayList<>(finishedUnits);
            finishedUnits.clear();
            for (Unit u : done) {
                u.answered();
                if (u.wantsRetry()) {
                    s.dispatch.retry(u);
                } else if (u.holdsReplies()) {
                    releaseHeld(u);
                } else {
                    u.releaseMessages();
                }
            }
            s.channel.flush();
        }
        s.dispatch.maybeIdle();
    }
}
