package io.pgsplit.session;

import io.pgsplit.route.StatementInfo;
import java.util.List;

/**
 * What one message sent to a server will be answered with, in send order. The session keeps a FIFO
 * of these per server connection so that replies can be matched to requests: replies to messages
 * pgsplit injected are dropped, and replies the client expects for messages pgsplit answered itself
 * (a Parse of a statement the server already has, a Close) are synthesized at the right position.
 */
final class Expect {
    enum Kind {
        /** Simple Query: ends at ReadyForQuery; errors inside do not skip anything. */
        QUERY,
        FUNCTION_CALL,
        PARSE,
        BIND,
        DESCRIBE_STATEMENT,
        DESCRIBE_PORTAL,
        EXECUTE,
        CLOSE,
        SYNC,
        /** Answered by pgsplit itself when it reaches the head of the queue. */
        SYNTHETIC
    }

    final Kind kind;
    /** Replies are not forwarded to the client (pgsplit sent this message on its own behalf). */
    final boolean drop;
    /** For SYNTHETIC: the message type to emit ('1' ParseComplete, '3' CloseComplete). */
    final byte synthetic;
    /**
     * For PARSE: the server-side statement name to forget if the Parse fails; for BIND and
     * DESCRIBE_STATEMENT of a named statement: the server copy it uses.
     */
    final String serverStatement;
    /** For PARSE: the client's statement name to forget if the Parse fails (null for injected ones). */
    final String clientStatement;
    /** For QUERY and EXECUTE: the statements whose session effects apply as their CommandCompletes arrive. */
    final List<StatementInfo> statements;
    /** For QUERY: how many CommandCompletes have been seen, indexing {@link #statements}. */
    int completed;
    /** The unit of client work this belongs to (null for pgsplit's own messages). */
    final Unit unit;
    /**
     * For BIND and DESCRIBE_STATEMENT sent on purpose with a statement name the server does not have:
     * the error the client gets instead of the server's (0A000 for a statement stale on PostgreSQL).
     */
    byte[] replaceError;
    /** For SYNTHETIC: whole replies pgsplit composed itself (an error, a virtual BEGIN), instead of {@link #synthetic}. */
    java.util.List<io.netty.buffer.ByteBuf> output;

    private Expect(Kind kind, boolean drop, byte synthetic, String serverStatement, String clientStatement,
                   List<StatementInfo> statements, Unit unit) {
        this.kind = kind;
        this.drop = drop;
        this.synthetic = synthetic;
        this.serverStatement = serverStatement;
        this.clientStatement = clientStatement;
        this.statements = statements;
        this.unit = unit;
    }

    static Expect of(Kind kind, Unit unit) {
        return new Expect(kind, false, (byte) 0, null, null, null, unit);
    }

    /** A Bind or Describe of the named server copy {@code serverStatement} (null when unnamed). */
    static Expect using(Kind kind, String serverStatement, Unit unit) {
        return new Expect(kind, false, (byte) 0, serverStatement, null, null, unit);
    }

    static Expect dropped(Kind kind) {
        return new Expect(kind, true, (byte) 0, null, null, null, null);
    }

    static Expect parse(String serverStatement, String clientStatement, boolean drop, Unit unit) {
        return new Expect(Kind.PARSE, drop, (byte) 0, serverStatement, clientStatement, null, unit);
    }

    static Expect withStatements(Kind kind, List<StatementInfo> statements, Unit unit) {
        return new Expect(kind, false, (byte) 0, null, null, statements, unit);
    }

    static Expect synthetic(byte type, Unit unit) {
        return new Expect(Kind.SYNTHETIC, false, type, null, null, null, unit);
    }

    /** pgsplit's own answer to a later unit, queued behind the replies still on their way. */
    static Expect output(java.util.List<io.netty.buffer.ByteBuf> replies) {
        Expect e = new Expect(Kind.SYNTHETIC, false, (byte) 0, null, null, null, null);
        e.output = replies;
        return e;
    }

    /**
     * Extended-protocol requests after an error are skipped by the server until the next Sync.
     * pgsplit's own answers to later units are not: they are not the server's.
     */
    boolean skippedAfterError() {
        return kind != Kind.SYNC && kind != Kind.QUERY && kind != Kind.FUNCTION_CALL && output == null;
    }

    /** Whether a reply of this type finishes this request. */
    boolean completedBy(byte type) {
        return switch (kind) {
            case QUERY, FUNCTION_CALL, SYNC -> type == 'Z';
            case PARSE -> type == '1' || type == 'E';
            case BIND -> type == '2' || type == 'E';
            case DESCRIBE_STATEMENT, DESCRIBE_PORTAL -> type == 'T' || type == 'n' || type == 'E';
            case EXECUTE -> type == 'C' || type == 'I' || type == 's' || type == 'E';
            case CLOSE -> type == '3' || type == 'E';
            case SYNTHETIC -> false;
        };
    }
}
