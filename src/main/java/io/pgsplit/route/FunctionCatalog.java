package io.pgsplit.route;

/**
 * Function volatility as known from the primary's pg_proc (loaded by the caller). It takes precedence over the
 * classifier's built-in lists of well-known functions, except for the functions that always write
 * (nextval, setval, advisory locks, ...), which stay writes whatever a catalog says.
 */
@FunctionalInterface
public interface FunctionCatalog {

    /** @param functionName lower-case, may be "schema.name" when written so */
    Volatility volatility(String functionName);

    FunctionCatalog EMPTY = n -> Volatility.UNKNOWN;
}
