package io.pgsplit.server;

import io.netty.buffer.ByteBuf;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.StatementInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * One routable piece of client work: a simple Query, a FunctionCall, or the extended-protocol
 * messages up to and including a Sync (or a Flush). All of it goes to one server connection.
 * The client's messages are kept (retained) until the unit is sent, and for replica-routed
 * autocommit units until it completes, so it can be re-run on the primary.
 */
final class Unit {
    enum Type { SIMPLE_QUERY, FUNCTION_CALL, EXTENDED }

    final Type type;
    final List<ByteBuf> messages = new ArrayList<>(4);
    /** For SIMPLE_QUERY: the text; for EXTENDED: the first Parse's text (or the bound statement's). */
    String sql;
    /** The unit's first Parse and its SQL text, decoded once for both the slow-statement check and routing. */
    ByteBuf firstParse;
    String firstParseSql;
    /** Statements in this unit, in order (from the classifier), for session effects and routing. */
    List<StatementInfo> statements = List.of();
    /** Ends with Sync (true) or Flush (false: the server connection stays bound after it). */
    boolean endsWithSync;
    RouteDecision decision;
    /** Replies are held back (not yet sent to the client) so the unit can be retried elsewhere. */
    boolean retryable;
    /** May go to the primary if a replica refuses it as a write (the classifier took a write for a read). */
    boolean retryOnPrimary;
    boolean retried;
    /** A reply that makes a retry worthwhile arrived (read-only refusal on a replica, or a stale plan). */
    String retryReason;
    /**
     * It binds a statement whose server copy was prepared before the client parsed its own (shared by
     * another client, or kept across DDL): if the server answers 0A000 "cached plan must not change
     * result type", the copy is stale through pgsplit's sharing, not the client's doing, so the unit is
     * re-run (same route) after the copy is closed and prepared afresh.
     */
    boolean staleRetryable;
    /** The server refused a Bind with 0A000 and {@link #staleRetryable}: re-run it, not on the primary. */
    boolean stalePlan;
    /** Replies held back while {@link #retryable}. */
    List<ByteBuf> heldReplies;
    int heldBytes;
    /** Answered entirely by pgsplit (deferred BEGIN and its COMMIT/ROLLBACK). */
    boolean virtual;
    /** When it was sent to a server (System.nanoTime()), for the query-time counters; 0 before. */
    long sentNanos;
    /** Classifications computed off the event loop (long statements), by statement text; null if none. */
    java.util.Map<String, io.pgsplit.route.Classification> preclassified;
    /** Set when classifying off the loop failed: the unit then goes to the primary. */
    String classificationFailed;
    /** Its statements are being classified off the event loop. */
    boolean classifying;
    /** The node it was sent to, counted in its outstanding statements until answered. */
    io.pgsplit.topology.Node sentTo;

    /** Its reply is complete (or will never come): no longer outstanding on its node. */
    void answered() {
        if (sentTo != null) {
            sentTo.outstanding.decrementAndGet();
            sentTo = null;
        }
    }
    /** For a virtual unit answered by processPending: its CommandComplete tag (SET, RESET). */
    String virtualTag;

    Unit(Type type) {
        this.type = type;
    }

    void add(ByteBuf msg) {
        messages.add(msg);
    }

    void releaseMessages() {
        for (ByteBuf m : messages) {
            m.release();
        }
        messages.clear();
        firstParse = null;
        firstParseSql = null;
    }

    void releaseHeld() {
        if (heldReplies != null) {
            for (ByteBuf b : heldReplies) {
                b.release();
            }
            heldReplies = null;
            heldBytes = 0;
        }
    }
}
