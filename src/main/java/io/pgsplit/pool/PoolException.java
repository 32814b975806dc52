package io.pgsplit.pool;

/** A server connection could not be had; the message is shown to the client as it is. */
public class PoolException extends Exception {
    private final String sqlState;

    public PoolException(String sqlState, String message, Throwable cause) {
        super(message, cause);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
