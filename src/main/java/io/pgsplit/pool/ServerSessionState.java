package io.pgsplit.pool;

import java.util.HashMap;
import java.util.Map;

/**
 * What pgsplit knows of the session on one server connection, so a client switching onto it can be
 * given exactly its own session: the parameters applied on it and the prepared statements it holds.
 * Filled in by the client session code; the pool only clears it when the connection is reset.
 */
public final class ServerSessionState {
    /** Parameters set by pgsplit on this connection on behalf of clients (name to SQL value text). */
    public final Map<String, String> appliedParams = new HashMap<>();
    /** The client session whose settings were last applied here, and their version: skips re-checking. */
    public Object appliedOwner;
    public int appliedVersion;
    /** ParameterStatus values the server reported (client_encoding, TimeZone, ...). */
    public final Map<String, String> reportedParams = new HashMap<>();
    /** Prepared statements present on this connection under pgsplit's names; bounded, LRU. */
    public PreparedStatementCache statements;
    /** Last ReadyForQuery status: 'I' idle, 'T' in transaction, 'E' failed transaction. */
    public char transactionStatus = 'I';

    public ServerSessionState(int statementCacheSize) {
        this.statements = new PreparedStatementCache(statementCacheSize);
    }

    /** After the server ran a reset query (DISCARD ALL): nothing of any client remains. */
    public void clearAfterReset() {
        appliedParams.clear();
        appliedOwner = null;
        statements.clear();
        transactionStatus = 'I';
    }
}
