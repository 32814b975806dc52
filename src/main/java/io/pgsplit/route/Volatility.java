package io.pgsplit.route;

/** A function's volatility, as in pg_proc.provolatile ('i', 's', 'v'); UNKNOWN when the catalog does not know it. */
public enum Volatility { IMMUTABLE, STABLE, VOLATILE, UNKNOWN }
