package io.pgsplit.session;

import io.netty.buffer.ByteBuf;
import io.pgsplit.config.PoolMode;
import io.pgsplit.config.SessionStatePolicy;
import io.pgsplit.consistency.SessionConsistency;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.SqlState;
import io.pgsplit.route.SessionEffect;
import io.pgsplit.route.SqlText;
import io.pgsplit.route.StatementInfo;
import io.pgsplit.route.StatementKind;
import java.util.ArrayList;
import java.util.List;

/**
 * The units pgsplit answers itself instead of sending them: its own setting ({@code SET pgsplit.route}),
 * a lone BEGIN it defers until the transaction's first statement (and a COMMIT with nothing between),
 * SQL DEALLOCATE of a protocol-level statement, and what the pool mode or session_state_policy refuses.
 * The answers look like the server's (CommandComplete or ErrorResponse, then ReadyForQuery at a Sync)
 * and reach the client after every reply still on its way ({@link ReplyTracker#deliver}).
 *
 * <p>The {@code refuse...}, {@code intercept...}, {@code deallocate...} and {@code defer...} checks run
 * while the unit is at the head of the pending queue; when one answers, it takes the unit off it.
 */
final class OwnAnswers {
    private final ClientSession s;

    OwnAnswers(ClientSession session) {
        this.s = session;
    }

    /** Statement mode refuses transactions; the refuse policy refuses session state. */
    boolean refuseIfNeeded(Unit u) {
        if (s.mode == PoolMode.STATEMENT) {
            if (s.clientTxnStatus == 'E') {
                // After a refused BEGIN the client believes it is in a failed transaction block: refuse what it
                // meant to run inside it (a pipelined INSERT must not run, and commit, on its own) until it
                // ends the block, as PostgreSQL does after an error in a transaction.
                s.pending.poll();
                if (u.endsTransactionAlone()) {
                    answerVirtually(u, "ROLLBACK");
                } else {
                    answerWithError(u, "25P02", "current transaction is aborted, commands "
                            + "ignored until end of transaction block (pgsplit refused its BEGIN: statement pooling)");
                }
                return true;
            }
            if (u.startsTransaction()) {
                s.pending.poll();
                s.clientTxnStatus = 'T'; // so the client is told 'E' (failed block) and its block's statements are refused
                answerWithError(u, SqlState.FEATURE_NOT_SUPPORTED, "pgsplit: transaction blocks are not allowed"
                        + " in statement pooling mode (pool_mode: statement); use transaction pooling for "
                        + "multi-statement transactions");
                s.clientTxnStatus = 'E';
                return true;
            }
        }
        if (s.mode != PoolMode.SESSION && s.poolConfig.sessionStatePolicy() == SessionStatePolicy.REFUSE) {
            for (StatementInfo i : u.statements()) {
                for (SessionEffect e : i.effects()) {
                    if (e instanceof SessionEffect.Pin pin) {
                        s.pending.poll();
                        answerWithError(u, SqlState.FEATURE_NOT_SUPPORTED, "pgsplit: " + pin.what()
                                + " keeps state on one server connection, which " + s.mode.name().toLowerCase()
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
    boolean interceptOwnSettings(Unit u) {
        // Extended-protocol SETs (pgjdbc's default) too: sent to a server they would be accepted as a
        // placeholder setting and change nothing in pgsplit.
        // Statement Describes too (pgjdbc prepareThreshold=-1, asyncpg): answered with no parameters, no data.
        if (u.statements().size() != 1 || u.type != Unit.Type.SIMPLE_QUERY && u.type != Unit.Type.EXTENDED) {
            return false;
        }
        StatementInfo i = u.statements().get(0);
        for (SessionEffect e : i.effects()) {
            String name = e instanceof SessionEffect.SetParam sp ? sp.name()
                    : e instanceof SessionEffect.ResetParam rp ? rp.name() : null;
            if (name != null && name.equals(SessionConsistency.SETTING)) {
                String value = e instanceof SessionEffect.SetParam sp ? SqlText.unquoteSetting(sp.valueSql()) : null;
                String bad = SessionConsistency.validate(value);
                if (bad != null) {
                    s.pending.poll();
                    answerWithError(u, "22023", bad);
                    return true;
                }
                if (u.type == Unit.Type.SIMPLE_QUERY || u.hasExecute()) {
                    s.consistency.set(value); // a Parse/Describe alone sets nothing
                }
                u.answeredByPgsplit(e instanceof SessionEffect.SetParam ? "SET" : "RESET"); // as pgsplit.route below
                return true;
            }
            if (name != null && name.equals("pgsplit.route")) {
                if (!s.ctx.config().routing().hints()) {
                    s.pending.poll();
                    answerWithError(u, SqlState.FEATURE_NOT_SUPPORTED, "pgsplit: routing hints are disabled"
                            + " (routing.hints: false)");
                    return true;
                }
                String value = e instanceof SessionEffect.SetParam sp
                        ? SqlText.unquoteSetting(sp.valueSql()).toLowerCase() : "auto";
                if (!value.equals("primary") && !value.equals("replica") && !value.equals("auto")) {
                    s.pending.poll();
                    answerWithError(u, "22023", "invalid value for parameter \"pgsplit.route\": \"" + value
                            + "\" (allowed: primary, replica, auto)");
                    return true;
                }
                if (u.type == Unit.Type.SIMPLE_QUERY || u.hasExecute()) {
                    s.sessionRoute = value; // a Parse/Describe alone sets nothing
                }
                // Left in pending as a virtual unit: the dispatcher answers it once the replies in flight
                // are out. (Answering here as well, with the decision set, answered it twice and made the
                // client take the second SET reply for its next query's.)
                u.answeredByPgsplit(e instanceof SessionEffect.SetParam ? "SET" : "RESET");
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
    boolean deallocateProtocolStatement(Unit u) {
        if (u.type != Unit.Type.SIMPLE_QUERY || u.statements().size() != 1 || !s.replies.idle()
                || u.statements().get(0).kind() != StatementKind.DEALLOCATE || s.clientTxnStatus == 'E') {
            return false;
        }
        for (SessionEffect e : u.statements().get(0).effects()) {
            if (e instanceof SessionEffect.Unpin unpin && unpin.what().startsWith("DEALLOCATE ")
                    && s.statements.remove(unpin.what().substring("DEALLOCATE ".length())) != null) {
                s.pending.poll();
                s.channel.write(Messages.commandComplete("DEALLOCATE"));
                s.channel.write(Messages.readyForQuery(s.clientTxnStatus));
                u.releaseMessages();
                s.channel.flush();
                return true;
            }
        }
        return false;
    }

    /**
     * With splitting on, a lone BEGIN is answered by pgsplit and sent later together with the
     * transaction's first statement, which may still say where it belongs (SET TRANSACTION READ ONLY).
     */
    boolean deferBeginIfPossible(Unit u) {
        if (!s.ctx.config().routing().splitting() || s.clientTxnStatus != 'I' || s.deferredBegin != null
                || u.statements().size() != 1 || !u.endsWithSync() || !s.replies.idle()) {
            if (s.deferredBegin != null && u.endsTransactionAlone() && s.replies.idle()) {
                // BEGIN; COMMIT with nothing between: no server needs to hear of it.
                Unit begin = s.deferredBegin;
                s.deferredBegin = null;
                begin.releaseMessages();
                s.pending.poll();
                u.markVirtual();
                answerVirtually(u, u.statements().get(0).kind() == StatementKind.COMMIT ? "COMMIT" : "ROLLBACK");
                s.clientTxnStatus = 'I';
                return true;
            }
            return false;
        }
        StatementKind k = u.statements().get(0).kind();
        if (k != StatementKind.BEGIN && k != StatementKind.START_TRANSACTION || s.mode == PoolMode.STATEMENT) {
            return false;
        }
        if (!u.isPlainExtendedOrSimple()) {
            return false;
        }
        if (u.sql() != null && u.sql().indexOf('\uFFFD') >= 0) {
            // Bytes that are not UTF-8 (decoded to U+FFFD): the server refuses the statement (22021), so
            // answering it here would tell the client it is in a transaction that never began (issue 18).
            return false;
        }
        s.pending.poll();
        s.deferredBegin = u;
        u.markVirtual();
        answerVirtually(u, "BEGIN");
        s.clientTxnStatus = 'T';
        return true;
    }

    /** Answers a unit pgsplit handles itself as if the server had run {@code tag}. */
    void answerVirtually(Unit u, String tag) {
        List<ByteBuf> out = new ArrayList<>(4);
        if (u.type == Unit.Type.SIMPLE_QUERY) {
            out.add(Messages.commandComplete(tag));
        } else {
            for (ByteBuf m : u.messages()) {
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
        char status = tag.equals("BEGIN") ? 'T' : tag.equals("SET") || tag.equals("RESET") ? s.clientTxnStatus : 'I';
        if (u.endsWithSync()) {
            out.add(Messages.readyForQuery(status));
        }
        s.clientTxnStatus = status;
        if (u != s.deferredBegin) {
            u.releaseMessages();
        }
        s.replies.deliver(out);
    }

    /** Answers a unit left in the queue by {@link #interceptOwnSettings}, now that its turn has come. */
    void answerVirtually(Unit u) {
        answerVirtually(u, u.virtualTag() != null ? u.virtualTag() : "SET");
    }

    /** Answers a unit with an error, as the server would: ErrorResponse, then ReadyForQuery at its Sync. */
    void answerWithError(Unit u, String sqlState, String message) {
        List<ByteBuf> out = new ArrayList<>(2);
        out.add(Messages.error(sqlState, message));
        if (u.endsWithSync()) {
            char status = s.clientTxnStatus == 'I' ? 'I' : 'E';
            out.add(Messages.readyForQuery(status));
            s.clientTxnStatus = status;
        }
        u.releaseMessages();
        s.replies.deliver(out);
    }
}
