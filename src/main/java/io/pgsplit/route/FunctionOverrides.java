package io.pgsplit.route;

/**
 * Function volatility declared by the operator (the {@code functions:} section of the routing-rules file),
 * consulted by {@link SqlClassifier} on every decision so a rules reload never needs a cache flush.
 * Implementations must be thread-safe and cheap.
 */
public interface FunctionOverrides {
    FunctionOverrides NONE = fn -> null;

    enum Declared {
        /** Volatile (or unknown) but only reads: may run on a replica. */
        READ_ONLY,
        /** Always a write, whatever the catalog says. */
        WRITE
    }

    /** What the operator declared about {@code function} (lower-case, as written, maybe schema-qualified), or null. */
    Declared declared(String function);
}
