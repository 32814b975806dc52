package io.pgsplit.session;

import io.netty.buffer.ByteBuf;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a unit to the server connection it was dispatched to, and tells the {@link ReplyTracker}
 * what each message will be answered with. On the way it replays what the connection must know
 * first: evicted statement copies to close, the client's settings ({@link SessionParams#syncSql}),
 * a BEGIN pgsplit answered itself and deferred. Prepared statements are renamed to pgsplit's shared
 * server names and prepared lazily on each connection ({@link #ensurePrepared}); a statement the
 * client parsed before its tables changed shape gets PostgreSQL's own 0A000 error, and a shared copy
 * older than the client's Parse makes the unit re-runnable should the copy turn out stale.
 */
final class UnitSender {
    /** A statement name no server has: its Bind or Describe fails, which ends the server's work up to Sync. */
    private static final String STALE_STATEMENT = "pgsplit_stale_statement";

    private final ClientSession s;
    private final ReplyTracker replies;

    UnitSender(ClientSession session, ReplyTracker replies) {
        this.s = session;
        this.replies = replies;
    }

    void send(Unit u, ServerConnection conn) {
        // Only a unit that runs on its own in autocommit can be re-run when a shared copy went stale:
        // nothing of the client's may be in flight before it (a pipelined BEGIN, say) or ride along.
        boolean alone = s.deferredBegin == null && s.clientTxnStatus == 'I' && replies.onlyOwnInFlight();
        u.sentTo(conn.node());
        s.unitSent(u, conn); // issue 16: timing and routing counters
        for (String evicted : conn.state.statements.drainPendingCloses()) {
            conn.write(Messages.close('S', evicted));
            replies.expect(Expect.dropped(Expect.Kind.CLOSE));
            conn.write(Messages.sync());
            replies.expect(Expect.dropped(Expect.Kind.SYNC));
        }
        String sync = s.params.syncSql(conn.state);
        if (sync != null) {
            conn.write(Messages.query(sync));
            replies.expect(Expect.dropped(Expect.Kind.QUERY));
        }
        if (s.deferredBegin != null) {
            Unit begin = s.deferredBegin;
            s.deferredBegin = null;
            writeMessages(begin, conn, true);
            begin.releaseMessages();
        }
        if (alone && !u.wasRetried() && u.endsWithSync() && conn.state.transactionStatus == 'I'
                && !u.startsTransaction() && !u.isCopy() && usesOlderCopy(u, conn)) {
            u.mayRerunOnStaleCopy();
        }
        // Before the messages go: a ParseComplete pgsplit answers itself is held back too.
        u.holdRepliesForRetry();
        boolean needsFlush = !u.endsWithSync() && !endsWithFlush(u);
        writeMessages(u, conn, false);
        s.unsynced = !u.endsWithSync();
        if (!u.isRetryable()) {
            u.releaseMessages();
        }
        if (needsFlush) {
            // Extended messages cut off by a Query (no Sync, no Flush): PostgreSQL keeps their replies in
            // its output buffer until it is told to flush, and the next unit waits for those replies, so
            // without this nothing moved again (issue 18, found by ProtocolFuzzTest).
            conn.write(Messages.flush());
        }
        conn.flush();
    }

    private static boolean endsWithFlush(Unit u) {
        List<ByteBuf> m = u.messages();
        return !m.isEmpty() && m.get(m.size() - 1).getByte(0) == MessageType.Frontend.FLUSH;
    }

    /**
     * Whether the unit binds or describes a named statement through a server copy prepared before the
     * client parsed it (another client's, or from before DDL the client has since seen). If that copy
     * went stale, PostgreSQL direct would have planned the client's Parse afresh and never failed.
     */
    private boolean usesOlderCopy(Unit u, ServerConnection conn) {
        for (ByteBuf m : u.messages()) {
            byte t = m.getByte(0);
            String name;
            if (t == MessageType.Frontend.BIND) {
                name = Bufs.getCString(m, Bufs.cstringEnd(m, 5, m.writerIndex()) + 1);
            } else if (t == MessageType.Frontend.DESCRIBE && m.getByte(5) == 'S') {
                name = Bufs.getCString(m, 6);
            } else {
                continue;
            }
            ClientStatement st = name.isEmpty() ? null : s.statements.named(name);
            if (st != null) {
                long at = conn.state.statements.preparedAt(st.serverName());
                if (at >= 0 && at < st.parsedAt()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Writes the unit's messages, renaming prepared statements; {@code drop}: the client was already answered. */
    private void writeMessages(Unit u, ServerConnection conn, boolean drop) {
        boolean keep = u.isRetryable();
        Unit owner = drop ? null : u;
        for (ByteBuf m : u.messages()) {
            byte t = m.getByte(0);
            ByteBuf out = keep || drop ? m.retainedDuplicate() : m.retain();
            switch (t) {
                case MessageType.Frontend.QUERY -> {
                    conn.write(out);
                    replies.expect(drop ? Expect.dropped(Expect.Kind.QUERY)
                            : Expect.withStatements(Expect.Kind.QUERY, u.statements(), owner));
                }
                case MessageType.Frontend.FUNCTION_CALL -> {
                    conn.write(out);
                    replies.expect(Expect.of(Expect.Kind.FUNCTION_CALL, owner));
                }
                case MessageType.Frontend.PARSE -> sendParse(out, conn, drop, owner);
                case MessageType.Frontend.BIND -> sendBind(out, conn, drop, owner);
                case MessageType.Frontend.DESCRIBE -> sendDescribe(out, conn, drop, owner);
                case MessageType.Frontend.EXECUTE -> {
                    String portal = Bufs.getCString(out, 5);
                    conn.write(out);
                    replies.expectExtended(drop ? Expect.dropped(Expect.Kind.EXECUTE)
                            : Expect.withStatements(Expect.Kind.EXECUTE, s.statements.portal(portal), owner));
                }
                case MessageType.Frontend.CLOSE -> sendClose(out, conn, drop, owner);
                case MessageType.Frontend.SYNC -> {
                    conn.write(out);
                    replies.syncSent(drop ? Expect.dropped(Expect.Kind.SYNC) : Expect.of(Expect.Kind.SYNC, owner));
                }
                case MessageType.Frontend.FLUSH -> conn.write(out);
                default -> out.release();
            }
        }
    }

    private void sendParse(ByteBuf msg, ServerConnection conn, boolean drop, Unit owner) {
        String name = Bufs.getCString(msg, 5);
        // Registered again in send order: the unit was registered as a whole when prepared, so a Close
        // of this name earlier in the same unit (Close then re-Parse) removed it, or a later Parse of
        // the name replaced it.
        ClientStatement registered = s.intake.registerParse(msg, owner);
        if (name.isEmpty()) {
            conn.write(msg);
            s.stats.serverParse();
            registered.preparedOn = conn;
            replies.expectExtended(drop ? Expect.dropped(Expect.Kind.PARSE) : Expect.of(Expect.Kind.PARSE, owner));
            return;
        }
        ClientStatement st = s.statements.named(name);
        msg.release();
        if (st == null) {
            return; // cannot happen: registered when the unit was prepared
        }
        if (conn.state.statements.contains(st.serverName())) {
            if (!drop) {
                replies.expectSynthetic(MessageType.Backend.PARSE_COMPLETE, owner);
            }
            return;
        }
        conn.write(Messages.parse(st.serverName(), st.sql(), st.paramTypes()));
        s.stats.serverParse();
        conn.state.statements.add(st.serverName());
        replies.expectExtended(Expect.parse(st.serverName(), drop ? null : name, drop, owner));
    }

    /** Makes sure the server has the client's statement {@code st} before a Bind or Describe uses it. */
    private void ensurePrepared(ClientStatement st, ServerConnection conn) {
        if (st.name().isEmpty()) {
            if (st.preparedOn != conn) {
                conn.write(Messages.parse("", st.sql(), st.paramTypes()));
                replies.expectExtended(Expect.parse(null, null, true, null));
                st.preparedOn = conn;
            }
            return;
        }
        if (!conn.state.statements.contains(st.serverName())) {
            conn.write(Messages.parse(st.serverName(), st.sql(), st.paramTypes()));
            conn.state.statements.add(st.serverName());
            replies.expectExtended(Expect.parse(st.serverName(), null, true, null));
        }
    }

    private void sendBind(ByteBuf msg, ServerConnection conn, boolean drop, Unit owner) {
        int portalEnd = Bufs.cstringEnd(msg, 5, msg.writerIndex());
        String portal = msg.toString(5, portalEnd - 5, StandardCharsets.UTF_8);
        int stmtAt = portalEnd + 1;
        int stmtEnd = Bufs.cstringEnd(msg, stmtAt, msg.writerIndex());
        String stmt = msg.toString(stmtAt, stmtEnd - stmtAt, StandardCharsets.UTF_8);
        ClientStatement st = s.statements.lookup(stmt);
        s.statements.bindPortal(portal, st == null ? java.util.List.of() : st.statements());
        byte[] stale = st == null || drop || stmt.isEmpty() ? null : s.db.staleError(st.serverName(), st.parsedAt());
        if (st == null) {
            conn.write(msg); // the server answers "prepared statement ... does not exist" itself
        } else if (stale != null) {
            conn.write(rewriteName(msg, stmtAt, stmtEnd, STALE_STATEMENT));
            replies.expectExtended(staleStatementError(Expect.Kind.BIND, stale, owner));
            return;
        } else {
            ensurePrepared(st, conn);
            if (stmt.isEmpty()) {
                conn.write(msg);
            } else {
                conn.write(rewriteName(msg, stmtAt, stmtEnd, st.serverName()));
            }
        }
        replies.expectExtended(drop ? Expect.dropped(Expect.Kind.BIND)
                : Expect.using(Expect.Kind.BIND, st == null || stmt.isEmpty() ? null : st.serverName(), owner));
    }

    private void sendDescribe(ByteBuf msg, ServerConnection conn, boolean drop, Unit owner) {
        byte kind = msg.getByte(5);
        String name = Bufs.getCString(msg, 6);
        if (kind == 'S') {
            ClientStatement st = s.statements.lookup(name);
            byte[] stale = st == null || drop || name.isEmpty() ? null : s.db.staleError(st.serverName(), st.parsedAt());
            if (stale != null) {
                conn.write(rewriteName(msg, 6, Bufs.cstringEnd(msg, 6, msg.writerIndex()), STALE_STATEMENT));
                replies.expectExtended(staleStatementError(Expect.Kind.DESCRIBE_STATEMENT, stale, owner));
                return;
            }
            if (st != null) {
                ensurePrepared(st, conn);
                if (!name.isEmpty()) {
                    msg = rewriteName(msg, 6, Bufs.cstringEnd(msg, 6, msg.writerIndex()), st.serverName());
                }
            }
            conn.write(msg);
            replies.expectExtended(drop ? Expect.dropped(Expect.Kind.DESCRIBE_STATEMENT)
                    : Expect.using(Expect.Kind.DESCRIBE_STATEMENT,
                    st == null || name.isEmpty() ? null : st.serverName(), owner));
        } else {
            conn.write(msg);
            replies.expectExtended(drop ? Expect.dropped(Expect.Kind.DESCRIBE_PORTAL)
                    : Expect.of(Expect.Kind.DESCRIBE_PORTAL, owner));
        }
    }

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
            s.statements.remove(name);
            msg.release();
            if (!drop) {
                replies.expectSynthetic(MessageType.Backend.CLOSE_COMPLETE, owner);
            }
            return;
        }
        if (kind == 'P') {
            s.statements.closePortal(name);
        }
        conn.write(msg);
        replies.expectExtended(drop ? Expect.dropped(Expect.Kind.CLOSE) : Expect.of(Expect.Kind.CLOSE, owner));
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
}
