package io.pgsplit.route;

/**
 * The session-level side effect of one statement, for transaction pooling. A statement has zero or more of these
 * ({@link StatementInfo#effects()}); {@link None} exists for callers that want an explicit "nothing".
 * Transaction-scoped changes (SET LOCAL, set_config(..., true), pg_advisory_xact_lock) are not session effects.
 */
public sealed interface SessionEffect {

    /** No session-level side effect. */
    record None() implements SessionEffect {}

    /**
     * A session parameter was set. {@code name} is lower-case and canonical ("timezone" for SET TIME ZONE,
     * "search_path" for SET SCHEMA, "client_encoding" for SET NAMES); {@code valueSql} is the value text as written,
     * replayable as {@code SET name TO valueSql}.
     */
    record SetParam(String name, String valueSql) implements SessionEffect {}

    /** RESET x, SET x TO DEFAULT, SET x = DEFAULT. */
    record ResetParam(String name) implements SessionEffect {}

    /** RESET ALL. */
    record ResetAll() implements SessionEffect {}

    /** DISCARD ALL. */
    record DiscardAll() implements SessionEffect {}

    /** Creates session state that cannot be replayed on another server connection, e.g. "PREPARE foo", "LISTEN ch". */
    record Pin(String what) implements SessionEffect {}

    /** Releases such state, e.g. "DEALLOCATE foo", "DEALLOCATE ALL", "UNLISTEN *", "DROP TABLE t", "CLOSE c". */
    record Unpin(String what) implements SessionEffect {}
}
