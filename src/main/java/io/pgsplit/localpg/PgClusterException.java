package io.pgsplit.localpg;

/** Something went wrong while setting up, running or stopping a {@link LocalPgCluster}. */
public class PgClusterException extends RuntimeException {
    public PgClusterException(String message) {
        super(message);
    }

    public PgClusterException(String message, Throwable cause) {
        super(message, cause);
    }
}
