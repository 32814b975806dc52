package io.pgsplit.session;

import io.netty.buffer.ByteBuf;
import io.pgsplit.topology.Node;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.route.Classification;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.StatementInfo;
import io.pgsplit.route.StatementKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One routable piece of client work: a simple Query, a FunctionCall, or the extended-protocol
 * messages up to and including a Sync (or a Flush). All of it goes to one server connection.
 * The client's messages are kept (retained) until the unit is sent, and for replica-routed
 * autocommit units until it completes, so it can be re-run on the primary.
 *
 * <p>Its life: built by {@link StatementIntake} ({@link #add}, {@link #endAt}), classified (maybe off
 * the event loop: {@link #classifyingOffLoop}, {@link #classifiedOffLoop}), routed ({@link #routed}) or
 * answered by pgsplit ({@link #answeredByPgsplit}), sent ({@link #sentTo}, {@link #holdRepliesForRetry}),
 * and answered ({@link #answered}); on the way a reply may ask for one re-run ({@link #refusedAsReadOnly},
 * {@link #planWentStale}, then {@link #retryOnPrimary} or {@link #retryAfterStalePlan}).
 */
final class Unit {
    enum Type { SIMPLE_QUERY, FUNCTION_CALL, EXTENDED }

    /** Replies held back for a possible retry on the primary, at most. */
    private static final int HOLDBACK_LIMIT = 256 * 1024;

    final Type type;
    private final List<ByteBuf> messages = new ArrayList<>(4);
    /** For SIMPLE_QUERY: the text; for EXTENDED: the first Parse's text (or the bound statement's). */
    private String sql;
    /** The unit's first Parse and its SQL text, decoded once for both the slow-statement check and routing. */
    private ByteBuf firstParse;
    private String firstParseSql;
    /** Statements in this unit, in order (from the classifier), for session effects and routing. */
    private List<StatementInfo> statements = List.of();
    /** Ends with Sync (true) or Flush (false: the server connection stays bound after it). */
    private boolean endsWithSync;
    private RouteDecision decision;
    /** A read's consistency requirement, once it is about to choose a replica (see Dispatcher#awaitingReplica). */
    private io.pgsplit.consistency.ReadCheck read;
    /** Replies are held back (not yet sent to the client) so the unit can be retried elsewhere. */
    private boolean retryable;
    /** May go to the primary if a replica refuses it as a write (the classifier took a write for a read). */
    private boolean retryOnPrimary;
    private boolean retried;
    /** A reply that makes a retry worthwhile arrived (read-only refusal on a replica, or a stale plan). */
    private String retryReason;
    /**
     * It binds a statement whose server copy was prepared before the client parsed its own (shared by
     * another client, or kept across DDL): if the server answers 0A000 "cached plan must not change
     * result type", the copy is stale through pgsplit's sharing, not the client's doing, so the unit is
     * re-run (same route) after the copy is closed and prepared afresh.
     */
    private boolean staleRetryable;
    /** The server refused a Bind with 0A000 and {@link #staleRetryable}: re-run it, not on the primary. */
    private boolean stalePlan;
    /** Replies held back while {@link #retryable}. */
    private List<ByteBuf> heldReplies;
    private int heldBytes;
    /** When it was sent to a server (System.nanoTime()), for the query-time counters (issue 16); 0 before. */
    long sentNanos;
    /** Answered entirely by pgsplit (deferred BEGIN and its COMMIT/ROLLBACK, SET pgsplit.route). */
    private boolean virtual;
    /** For a virtual unit answered by the dispatcher: its CommandComplete tag (SET, RESET). */
    private String virtualTag;
    /** Classifications computed off the event loop (long statements), by statement text; null if none. */
    private Map<String, Classification> preclassified;
    /** Set when classifying off the loop failed: the unit then goes to the primary. */
    private String classificationFailed;
    /** Its statements are being classified off the event loop. */
    private boolean classifying;
    /** The node it was sent to, counted in its outstanding statements until answered. */
    private Node sentTo;

    private Unit(Type type) {
        this.type = type;
    }

    /** A simple Query: a unit of its own. */
    static Unit query(ByteBuf msg) {
        Unit u = new Unit(Type.SIMPLE_QUERY);
        u.sql = Bufs.getCString(msg, 5);
        u.endsWithSync = true;
        u.add(msg);
        return u;
    }

    /** A FunctionCall: a unit of its own (always a write). */
    static Unit functionCall(ByteBuf msg) {
        Unit u = new Unit(Type.FUNCTION_CALL);
        u.endsWithSync = true;
        u.add(msg);
        return u;
    }

    /** Extended-protocol messages, collected until a Sync or a Flush. */
    static Unit extended() {
        return new Unit(Type.EXTENDED);
    }

    void add(ByteBuf msg) {
        messages.add(msg);
    }

    /** The unit is complete: at a Sync ({@code sync}), or at a Flush or before a Query (the connection stays bound). */
    void endAt(boolean sync) {
        endsWithSync = sync;
    }

    // ---- what it is ----

    List<ByteBuf> messages() {
        return messages;
    }

    String sql() {
        return sql;
    }

    void sql(String sql) {
        this.sql = sql;
    }

    List<StatementInfo> statements() {
        return statements;
    }

    void statements(List<StatementInfo> infos) {
        this.statements = infos;
    }

    boolean endsWithSync() {
        return endsWithSync;
    }

    io.pgsplit.consistency.ReadCheck read() {
        return read;
    }

    void read(io.pgsplit.consistency.ReadCheck check) {
        this.read = check;
    }

    RouteDecision decision() {
        return decision;
    }

    boolean isVirtual() {
        return virtual;
    }

    String virtualTag() {
        return virtualTag;
    }

    /** Its first Parse's text when {@code m} is that Parse (decoded once by the slow-statement check), else null. */
    String firstParseSql(ByteBuf m) {
        return m == firstParse ? firstParseSql : null;
    }

    void firstParse(ByteBuf m, String sql) {
        if (firstParse == null) {
            firstParse = m;
            firstParseSql = sql;
        }
    }

    boolean startsTransaction() {
        for (StatementInfo i : statements) {
            if (i.kind() == StatementKind.BEGIN || i.kind() == StatementKind.START_TRANSACTION) {
                return true;
            }
        }
        return false;
    }

    boolean isCopy() {
        for (StatementInfo i : statements) {
            if (i.kind() == StatementKind.COPY_FROM || i.kind() == StatementKind.COPY_TO) {
                return true;
            }
        }
        return false;
    }

    /** A single COMMIT or ROLLBACK. */
    boolean endsTransactionAlone() {
        return statements.size() == 1 && endsTransaction(statements.get(0));
    }

    static boolean endsTransaction(StatementInfo i) {
        return i.kind() == StatementKind.COMMIT || i.kind() == StatementKind.ROLLBACK;
    }

    boolean containsParse(String name) {
        for (ByteBuf m : messages) {
            if (m.getByte(0) == MessageType.Frontend.PARSE && Bufs.cstringEquals(m, 5, name)) {
                return true;
            }
        }
        return false;
    }

    boolean hasExecute() {
        for (ByteBuf m : messages) {
            if (m.getByte(0) == MessageType.Frontend.EXECUTE) {
                return true;
            }
        }
        return false;
    }

    /** A simple Query, or extended messages without a statement Describe (which would need a ParameterDescription). */
    boolean isPlainExtendedOrSimple() {
        if (type == Type.SIMPLE_QUERY) {
            return true;
        }
        for (ByteBuf m : messages) {
            byte t = m.getByte(0);
            if (t == MessageType.Frontend.DESCRIBE && m.getByte(5) == 'S') {
                return false; // a statement Describe of BEGIN would need a ParameterDescription: not worth it
            }
        }
        return type == Type.EXTENDED;
    }

    // ---- classification ----

    boolean isClassifying() {
        return classifying;
    }

    /** Whether its long statements were (or are being) classified off the event loop. */
    boolean classifiedOffLoop() {
        return preclassified != null;
    }

    void classifyingOffLoop() {
        classifying = true;
    }

    /** Classifying off the loop failed (on the classifier thread; read on the loop after {@link #classifiedOffLoop(Map)}). */
    void classificationFailed(String why) {
        classificationFailed = why;
    }

    /** The off-loop classifications are in (on the event loop). */
    void classifiedOffLoop(Map<String, Classification> done) {
        preclassified = done;
        classifying = false;
    }

    /** What was classified off the loop for {@code sql}, or null. */
    Classification preclassified(String sql) {
        return preclassified == null ? null : preclassified.get(sql);
    }

    /** Why classifying off the loop failed, or null. */
    String classificationFailure() {
        return classificationFailed;
    }

    // ---- routing ----

    /**
     * Where it goes. {@code rerunnable}: a read on its own outside a transaction, whose replies are held back
     * until its first row so it can run again elsewhere if its server is lost; {@code retryOnPrimary}: also
     * re-run on the primary if a replica refuses it as a write.
     */
    void routed(RouteDecision decision, boolean rerunnable, boolean retryOnPrimary) {
        this.decision = decision;
        this.retryable = rerunnable;
        this.retryOnPrimary = retryOnPrimary && rerunnable;
    }

    /** The node whose connection was lost under it (not to be chosen for its re-run), or null. */
    private Node lostOn;

    Node lostOn() {
        return lostOn;
    }

    /**
     * Whether it can run again elsewhere now that its server connection is gone: nothing of it reached the
     * client (its replies are all held back), and it has not been re-run for a lost server before.
     */
    boolean canRerunAfterLoss() {
        return retryable && heldReplies != null && lostOn == null;
    }

    /** Makes it run once more on another node than {@code node}, whose connection was lost under it. */
    void rerunAfterLoss(Node node) {
        releaseHeld();
        answered();
        lostOn = node;
        retryReason = null;
    }

    /** Answered by pgsplit itself with {@code tag} once the replies in flight are out (never sent). */
    void answeredByPgsplit(String tag) {
        virtual = true;
        virtualTag = tag;
        decision = RouteDecision.primary("pgsplit setting", null);
    }

    /** Answered by pgsplit now (a deferred BEGIN, or its COMMIT with nothing between). */
    void markVirtual() {
        virtual = true;
    }

    // ---- sending and replies ----

    /** Sent on a connection to {@code node}: counted in its outstanding statements until answered. */
    void sentTo(Node node) {
        if (endsWithSync) {
            sentTo = node;
            sentTo.outstanding.incrementAndGet();
        }
    }

    /** Its reply is complete (or will never come): no longer outstanding on its node. */
    void answered() {
        if (sentTo != null) {
            sentTo.outstanding.decrementAndGet();
            sentTo = null;
        }
    }

    boolean isRetryable() {
        return retryable;
    }

    boolean wasRetried() {
        return retried;
    }

    /** It binds a shared statement copy older than the client's Parse: a stale-plan error may re-run it. */
    void mayRerunOnStaleCopy() {
        staleRetryable = true;
        retryable = true;
    }

    /** Whether a successful Bind or Describe of it shows that its shared copy is fine. */
    boolean revalidatesCopy() {
        return staleRetryable;
    }

    /** Holds its replies back from now on (called before its messages go, when it is retryable). */
    void holdRepliesForRetry() {
        if (retryable) {
            heldReplies = new ArrayList<>(4);
        }
    }

    boolean holdsReplies() {
        return heldReplies != null;
    }

    /** Whether a reason to re-run it arrived. */
    boolean hasRetryReason() {
        return retryReason != null;
    }

    /** Holds one reply back; returns true when too much is held with no retry in sight (then release it). */
    boolean hold(ByteBuf out) {
        heldReplies.add(out);
        heldBytes += out.readableBytes();
        return heldBytes > HOLDBACK_LIMIT && retryReason == null;
    }

    /**
     * It can no longer be retried: returns the replies held back so far (to go to the client, may be
     * null) and lets go of the client's messages.
     */
    List<ByteBuf> stopHolding() {
        List<ByteBuf> held = heldReplies;
        heldReplies = null;
        retryable = false;
        heldBytes = 0;
        releaseMessages();
        return held;
    }

    /** Whether a replica's read-only refusal would send it to the primary (a read that may be re-run). */
    boolean mayRetryOnPrimary() {
        return retryOnPrimary && retryable;
    }

    /** A replica refused it as a write: worth one run on the primary (see {@link #mayRetryOnPrimary}). */
    void refusedAsReadOnly(String reason) {
        retryReason = reason;
    }

    /** A shared copy it used went stale (0A000): worth a re-run if nothing of it reached the client. */
    void planWentStale(String reason) {
        if (staleRetryable && retryable && heldReplies != null && retryReason == null) {
            stalePlan = true;
            retryReason = reason;
        }
    }

    /** Whether its replies are complete and it must run again (on the primary, or on a fresh copy). */
    boolean wantsRetry() {
        return retryable && retryReason != null && !retried;
    }

    boolean isStalePlan() {
        return stalePlan;
    }

    String retryReason() {
        return retryReason;
    }

    /** Makes it run once more on the primary (the client has seen nothing of the first run). */
    void retryOnPrimary() {
        releaseHeld();
        retried = true;
        retryable = false;
        decision = RouteDecision.primary("retry: replica refused a write (" + retryReason + ")", null);
    }

    /** Makes it run once more where it was routed, its statements prepared afresh. */
    void retryAfterStalePlan() {
        releaseHeld();
        retried = true;
        retryable = false;
        staleRetryable = false;
        stalePlan = false;
        retryReason = null;
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
