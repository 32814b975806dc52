package io.pgsplit.session;

import io.netty.buffer.ByteBuf;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.protocol.FrontendMessages;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.ProtocolException;
import io.pgsplit.route.Classification;
import io.pgsplit.route.FunctionCatalog;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.RouteRequest;
import io.pgsplit.route.SqlText;
import io.pgsplit.route.StatementInfo;
import io.pgsplit.pool.DatabaseRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the client's messages into {@link Unit}s (a Query or FunctionCall alone; extended-protocol
 * messages up to a Sync or Flush), queues them for the {@link Dispatcher}, and when a unit reaches the
 * head of the queue classifies and routes it ({@link #prepare}): long statements are classified off
 * the event loop, the client's prepared statements are registered, and what pgsplit answers itself
 * (its own setting, a deferred BEGIN, refusals) is handed to {@link OwnAnswers}. COPY data goes
 * straight to the bound connection.
 */
final class StatementIntake {
    private static final Logger log = LoggerFactory.getLogger(StatementIntake.class);

    private final ClientSession s;
    /** Extended-protocol messages not yet ended by a Sync or Flush. */
    private Unit batch;

    StatementIntake(ClientSession session) {
        this.s = session;
    }

    /** One whole client message; ownership passes here (unless this throws). */
    void onClientMessage(ByteBuf msg) {
        byte type = msg.getByte(0);
        FrontendMessages.validate(msg); // malformed: 08P01 now, while channelRead still owns msg
        s.cancelIdleTimer();
        switch (type) {
            case MessageType.Frontend.QUERY -> {
                flushBatchIfAny();
                enqueue(Unit.query(msg));
            }
            case MessageType.Frontend.PARSE, MessageType.Frontend.BIND, MessageType.Frontend.DESCRIBE,
                    MessageType.Frontend.EXECUTE, MessageType.Frontend.CLOSE -> {
                if (type == MessageType.Frontend.PARSE) {
                    s.stats.clientParse();
                } else if (type == MessageType.Frontend.BIND) {
                    s.stats.bind();
                }
                if (batch == null) {
                    batch = Unit.extended();
                }
                batch.add(msg);
            }
            case MessageType.Frontend.SYNC, MessageType.Frontend.FLUSH -> {
                if (batch == null) {
                    batch = Unit.extended();
                }
                batch.add(msg);
                batch.endAt(type == MessageType.Frontend.SYNC);
                Unit u = batch;
                batch = null;
                enqueue(u);
            }
            case MessageType.Frontend.FUNCTION_CALL -> {
                flushBatchIfAny();
                enqueue(Unit.functionCall(msg));
            }
            case MessageType.Frontend.COPY_DATA, MessageType.Frontend.COPY_DONE, MessageType.Frontend.COPY_FAIL -> {
                if (s.copyIn && s.active != null) {
                    s.active.write(msg);
                    if (type != MessageType.Frontend.COPY_DATA) {
                        s.copyIn = false;
                        s.active.flush();
                    }
                } else {
                    msg.release(); // PostgreSQL ignores these outside COPY too
                }
            }
            case MessageType.Frontend.TERMINATE -> {
                msg.release();
                s.close(null);
            }
            default -> {
                // not released here: channelRead's finally releases it when this throws
                throw new ProtocolException("invalid frontend message type " + (msg.getByte(0) & 0xFF)
                        + " ('" + FrameDecoder.printable(type) + "')");
            }
        }
    }

    /** Whether extended-protocol messages are being collected (a unit not yet ended). */
    boolean collecting() {
        return batch != null;
    }

    /** The client is closing: its unfinished unit goes. */
    void releaseBatch() {
        if (batch != null) {
            batch.releaseMessages();
            batch = null;
        }
    }

    private void flushBatchIfAny() {
        if (batch != null) {
            // Extended messages without a Sync before a Query: send them along, bound to one connection.
            batch.endAt(false);
            Unit u = batch;
            batch = null;
            enqueue(u);
        }
    }

    private void enqueue(Unit u) {
        s.lastRequestAtMillis = System.currentTimeMillis();
        s.pending.add(u);
        if (s.pending.size() > 256 && !s.clientPaused) {
            s.clientPaused = true; // a client pipelining far ahead of its server: stop reading it for now
            s.channel.config().setAutoRead(false);
        }
        s.dispatch.processPending();
    }

    // =====================================================================================
    // Classification and routing
    // =====================================================================================

    /**
     * Long statements the parser has not seen are classified on the classifier pool, so a 7 ms parse
     * of a 2000-item IN list never stalls the other clients of this event loop. The unit waits at the
     * head of the queue meanwhile (the client's order is kept).
     */
    boolean classifyOffLoopIfSlow(Unit u) {
        if (u.classifiedOffLoop()) {
            return false;
        }
        List<String> slow = null;
        if (u.type == Unit.Type.SIMPLE_QUERY) {
            if (s.ctx.slowToClassify(u.sql(), s.standardConformingStrings)) {
                slow = List.of(u.sql());
            }
        } else if (u.type == Unit.Type.EXTENDED) {
            for (ByteBuf m : u.messages()) {
                if (m.getByte(0) == MessageType.Frontend.PARSE) {
                    String sql = Bufs.getCString(m, Bufs.cstringEnd(m, 5, m.writerIndex()) + 1);
                    u.firstParse(m, sql); // registerParse takes the text from here rather than decoding it again
                    if (s.ctx.slowToClassify(sql, s.standardConformingStrings)) {
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
        u.classifyingOffLoop();
        boolean scs = s.standardConformingStrings;
        DatabaseRuntime database = s.db;
        s.ctx.classifierPool().execute(() -> {
            Map<String, Classification> done = new HashMap<>();
            try {
                for (String sql : toClassify) {
                    done.put(sql, s.ctx.classify(sql, database, scs));
                }
            } catch (Throwable t) {
                // Never strand the client: without a classification the unit goes to the primary.
                log.warn("client {}: classification failed, sending to the primary: {}", s.remote(), t.toString());
                u.classificationFailed(t.toString());
            }
            s.loop.execute(() -> {
                u.classifiedOffLoop(done);
                s.dispatch.processPending();
            });
        });
        return true;
    }

    private Classification classification(Unit u, String sql) {
        if (u == null) {
            return s.ctx.classify(sql, s.db, s.standardConformingStrings);
        }
        Classification c = u.preclassified(sql);
        if (c == null && u.classificationFailure() != null) {
            return s.ctx.classifier().classify("", FunctionCatalog.EMPTY, false); // placeholder, routed to the primary
        }
        return c != null ? c : s.ctx.classify(sql, s.db, s.standardConformingStrings);
    }

    /** Classifies and routes {@code u}; answers it directly (and removes it) when pgsplit must. */
    void prepare(Unit u) {
        List<StatementInfo> infos = new ArrayList<>(2);
        boolean write = false;
        String reason = null;
        Classification first = null;
        String sqlForHints = null;
        if (u.type == Unit.Type.SIMPLE_QUERY) {
            Classification c = classification(u, u.sql());
            first = c;
            infos.addAll(c.parsed().statements());
            write = c.write();
            reason = c.reason();
            sqlForHints = u.sql();
        } else if (u.type == Unit.Type.FUNCTION_CALL) {
            write = true;
            reason = "write: FunctionCall message";
        } else {
            for (ByteBuf m : u.messages()) {
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
                        u.sql(st.sql());
                    }
                } else if (t == MessageType.Frontend.BIND) {
                    String stmt = Bufs.getCString(m, Bufs.cstringEnd(m, 5, m.writerIndex()) + 1);
                    ClientStatement st = s.statements.lookup(stmt);
                    if (st != null && !u.containsParse(stmt)) {
                        infos.addAll(st.statements());
                        if (st.write()) {
                            write = true;
                            reason = st.reason();
                        } else if (reason == null) {
                            reason = st.reason();
                        }
                        if (sqlForHints == null) {
                            sqlForHints = st.sql();
                            u.sql(st.sql());
                        }
                    } else if (st == null && !u.containsParse(stmt)) {
                        write = true;
                        reason = "write: statement \"" + stmt + "\" unknown to pgsplit";
                    }
                }
            }
            if (reason == null) {
                reason = "read: no statement to execute";
            }
        }
        u.statements(infos);
        if (u.classificationFailure() != null) {
            u.routed(RouteDecision.primary("write: classification failed (" + u.classificationFailure() + ")",
                    first), false, false);
            return;
        }
        if (s.answers.refuseIfNeeded(u)) {
            return;
        }
        if (s.answers.interceptOwnSettings(u)) {
            return;
        }
        if (s.answers.deallocateProtocolStatement(u)) {
            return;
        }
        if (s.answers.deferBeginIfPossible(u)) {
            return;
        }
        // default_transaction_isolation has no ParameterStatus: take it from the client's start-up values and
        // SETs (it was never set, so serializable-by-default read-only transactions went to a hot standby).
        s.serializableDefault = SessionParams.isSerializable(s.params.get("default_transaction_isolation"));
        RouteDecision decision = s.ctx.router().decide(new RouteRequest(u.sql() == null ? "" : u.sql(),
                sqlForHints, infos, write, reason, first, s.databaseName, s.userName, s.currentApplicationName(),
                s.clientAddress(), s.clientTxnStatus != 'I', s.sessionRoute, s.readOnlyDefault,
                s.serializableDefault, s.sessionState.pinned(), u.type == Unit.Type.FUNCTION_CALL));
        if (s.deferredBegin != null) {
            // The transaction's first statement decides where the deferred BEGIN goes.
            decision = s.ctx.router().decideTransaction(s.deferredBegin.statements(), infos, decision,
                    s.readOnlyDefault, s.serializableDefault);
        }
        // A read on its own in autocommit can run again elsewhere as long as the client has seen nothing of it:
        // after its server is lost (issue 14), or on the primary when a replica refuses it as a write.
        boolean rerunnable = !decision.isPrimary() && s.clientTxnStatus == 'I' && s.deferredBegin == null
                && u.endsWithSync() && !u.startsTransaction() && !u.isCopy();
        u.routed(decision, rerunnable, s.ctx.config().routing().retryWriteOnReplica());
        if (log.isDebugEnabled()) {
            log.debug("client {}: {} -> {}", s.remote(), SqlText.abbreviate(u.sql()), u.decision());
        }
    }

    /** Registers the client's statement of a Parse (classifying its text), replacing any of that name. */
    ClientStatement registerParse(ByteBuf m, Unit u) {
        String name = Bufs.getCString(m, 5);
        int sqlAt = Bufs.cstringEnd(m, 5, m.writerIndex()) + 1;
        String known = u == null ? null : u.firstParseSql(m);
        String sql = known != null ? known : Bufs.getCString(m, sqlAt);
        int typesAt = Bufs.cstringEnd(m, sqlAt, m.writerIndex()) + 1;
        ByteBuf types = m.slice(typesAt, m.writerIndex() - typesAt);
        Classification c = classification(u, sql);
        ClientStatement st = ClientStatement.of(name, sql, types, c);
        s.statements.add(st);
        return st;
    }
}
