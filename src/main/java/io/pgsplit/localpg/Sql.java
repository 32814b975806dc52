package io.pgsplit.localpg;

/** Quoting for the few SQL statements the cluster builds itself. */
final class Sql {
    private Sql() {
    }

    /** A quoted identifier: {@code "name"}. */
    static String ident(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /** A standard-conforming string literal: {@code 'text'}. */
    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
