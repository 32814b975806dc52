package io.pgsplit.protocol;

/** A peer broke the protocol: the connection gets an 08P01 ErrorResponse (where allowed) and closes. */
public class ProtocolException extends RuntimeException {
    private final String sqlState;

    public ProtocolException(String message) {
        this(SqlState.PROTOCOL_VIOLATION, message);
    }

    /** For the few violations PostgreSQL reports with another SQLSTATE (e.g. 0A000 for an unsupported protocol). */
    public ProtocolException(String sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
