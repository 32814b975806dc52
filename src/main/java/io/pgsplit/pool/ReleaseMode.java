package io.pgsplit.pool;

/** How a client session gives a server connection back to its pool. */
public enum ReleaseMode {
    /** Idle, nothing of the client's that another client could see: reuse as it is. */
    REUSE,
    /** Idle but holding client state (session pooling, pinned state): run the reset query first. */
    RESET,
    /** In an unknown or unsafe state (mid-query, mid-transaction, broken): close it. */
    CLOSE
}
