package io.pgsplit.session;

import io.pgsplit.route.SqlText;
import io.pgsplit.pool.ServerSessionState;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The session settings one client believes it has: its start-up parameters, then whatever it
 * changed with SET / set_config / RESET, and every ParameterStatus the server reported while
 * serving it. Before a server connection runs the client's work, {@link #syncSql} gives the SQL
 * that makes that connection's settings the client's own (and undoes another client's).
 *
 * <p>Names are lower-case; values are SQL text ready for {@code SET name TO value}.
 */
final class SessionParams {
    /** Reported by the server, never set by clients: not replayed. */
    private static final List<String> READ_ONLY_REPORTED = List.of(
            "server_version", "server_encoding", "integer_datetimes", "is_superuser", "in_hot_standby",
            "session_authorization", "scram_iterations");

    // Every client connection has one of these, and most never SET anything: the maps that only a
    // SET, a RESET or a settled change needs are created then, to keep idle clients small.
    /** Never changed after the constructor, so {@link #current} and {@link #settled} may share it. */
    private final Map<String, String> startup;
    /** What the client has now: {@link #startup} itself until something changes it (see {@link #mutableCurrent()}). */
    private Map<String, String> current;
    /** SETs made inside the open transaction: PostgreSQL undoes them on ROLLBACK. Null: none. */
    private Map<String, String> tentative;
    /**
     * {@link #current} as of the last ReadyForQuery outside a transaction: what a ROLLBACK returns to.
     * Null while that is still {@link #startup} (see {@link #settled()}).
     */
    private Map<String, String> settled;
    /**
     * Parameters the client RESET (all of them after RESET ALL / DISCARD ALL) on the server connection:
     * until pgsplit re-applies the client's own values there, what the server reports for them is that
     * connection's defaults (pgsplit's login), not the client's start-up values.
     */
    private java.util.Set<String> resetOnServer;
    private boolean allResetOnServer;
    private int version = 1;
    private final Object identity = new Object();

    SessionParams(Map<String, String> startupParams) {
        this.startup = new LinkedHashMap<>();
        startupParams.forEach((k, v) -> startup.put(k.toLowerCase(), quote(v)));
        // pgsplit logs in to servers as application_name=pgsplit; a client that sent none has PostgreSQL's
        // default, '', and must get it back from RESET / RESET ALL (not pgsplit's login value).
        startup.putIfAbsent("application_name", quote(""));
        this.current = startup;
    }

    /** {@link #current}, copied first while it is still the shared {@link #startup}. */
    private Map<String, String> mutableCurrent() {
        if (current == startup) {
            current = new LinkedHashMap<>(startup);
        }
        return current;
    }

    private Map<String, String> settled() {
        return settled != null ? settled : startup;
    }

    static String quote(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /** True for a default_transaction_isolation value (as SQL: quoted or not) meaning SERIALIZABLE. */
    static boolean isSerializable(String valueSql) {
        if (valueSql == null) {
            return false;
        }
        String v = SqlText.unquoteSetting(valueSql).strip();
        return v.equalsIgnoreCase("serializable");
    }

    String get(String name) {
        return current.get(name);
    }

    Map<String, String> current() {
        return java.util.Collections.unmodifiableMap(current);
    }

    /** A SET that succeeded (in a transaction: held until it commits). */
    void set(String name, String valueSql, boolean inTransaction, ServerSessionState on) {
        if (inTransaction) {
            if (tentative == null) {
                tentative = new HashMap<>();
            }
            tentative.put(name, valueSql);
        }
        mutableCurrent().put(name, valueSql);
        noteApplied(name, valueSql, on);
    }

    /**
     * A value the server reported through ParameterStatus while serving this client. Returns the value
     * the client must be told: normally {@code value}, but after the client RESET the parameter the
     * server reports its own connection's default, and the client's is its start-up value.
     */
    String reported(String name, String value, ServerSessionState on) {
        String key = name.toLowerCase();
        if (READ_ONLY_REPORTED.contains(key)) {
            return value;
        }
        String start = startup.get(key);
        if (start != null && (allResetOnServer || resetOnServer != null && resetOnServer.contains(key))) {
            // The server holds its default; the client's value stays its start-up one, which the next
            // syncSql re-applies (it differs from what we now record as applied there).
            on.appliedParams.put(key, quote(value));
            on.appliedOwner = null;
            return unquote(start);
        }
        set(key, quote(value), false, on);
        return value;
    }

    private static String unquote(String sqlLiteral) {
        return sqlLiteral.substring(1, sqlLiteral.length() - 1).replace("''", "'");
    }

    void reset(String name, ServerSessionState on) {
        String start = startup.get(name);
        if (start == null) {
            mutableCurrent().remove(name);
        } else {
            mutableCurrent().put(name, start);
        }
        version++;
        if (on != null) {
            // The server now holds its own default, not ours: forget what we applied there, and make
            // the next syncSql compare everything (noteApplied must not mark this connection in step).
            on.appliedParams.remove(name);
            on.appliedOwner = null;
            if (resetOnServer == null) {
                resetOnServer = new java.util.HashSet<>();
            }
            resetOnServer.add(name);
        }
    }

    /** RESET ALL / DISCARD ALL ran on {@code on}: the client is back at its start-up values. */
    void resetAll(ServerSessionState on) {
        current = startup;
        version++;
        if (on != null) {
            on.appliedParams.clear();
            on.appliedOwner = null;
            allResetOnServer = true;
        }
    }

    /** The transaction ended: a ROLLBACK undoes SETs made in it, on the server and here. */
    void transactionEnded(boolean committed, ServerSessionState on) {
        Map<String, String> before = settled();
        if (!committed && !current.equals(before)) {
            // Back to the values before the transaction (not to the start-up ones: a SET made before
            // BEGIN survives the ROLLBACK). The server reverted too; make sure the next sync checks.
            java.util.Set<String> changed = new java.util.HashSet<>();
            if (tentative != null) {
                changed.addAll(tentative.keySet());
            }
            for (String name : current.keySet()) {
                if (!current.get(name).equals(before.get(name))) {
                    changed.add(name);
                }
            }
            for (String name : before.keySet()) {
                if (!current.containsKey(name)) {
                    changed.add(name);
                }
            }
            if (before == startup) {
                current = startup;
            } else {
                mutableCurrent().clear();
                current.putAll(before);
            }
            if (on != null) {
                for (String name : changed) {
                    on.appliedParams.put(name, "\0unknown"); // forces a SET or RESET next time
                }
                on.appliedOwner = null;
            }
        }
        tentative = null;
        version++;
    }

    /** ReadyForQuery said idle: whatever the client has now survives any later ROLLBACK. */
    void settle() {
        if (!settled().equals(current)) {
            if (settled == null) {
                settled = new LinkedHashMap<>(current);
            } else {
                settled.clear();
                settled.putAll(current);
            }
        }
    }

    private void noteApplied(String name, String valueSql, ServerSessionState on) {
        version++;
        if (on != null) {
            on.appliedParams.put(name, valueSql);
            if (on.appliedOwner == identity) {
                on.appliedVersion = version;
            }
        }
    }

    /**
     * SQL that makes {@code on} hold exactly this client's settings, or null when it already does.
     * Marks them applied: the caller sends the SQL before the client's own messages.
     */
    String syncSql(ServerSessionState on) {
        if (on.appliedOwner == identity && on.appliedVersion == version) {
            return null;
        }
        // Clients of one application usually hold the same settings: then nothing is built or copied
        // (this runs for nearly every transaction in transaction pooling).
        StringBuilder sql = null;
        for (Map.Entry<String, String> e : current.entrySet()) {
            if (!e.getValue().equals(on.appliedParams.get(e.getKey()))) {
                sql = sql == null ? new StringBuilder() : sql;
                sql.append("SET ").append(quoteIdent(e.getKey())).append(" TO ").append(e.getValue()).append(';');
            }
        }
        if (sql != null || on.appliedParams.size() != current.size()) {
            for (String name : on.appliedParams.keySet()) {
                if (!current.containsKey(name)) {
                    sql = sql == null ? new StringBuilder() : sql;
                    sql.append("RESET ").append(quoteIdent(name)).append(';');
                }
            }
            on.appliedParams.clear();
            on.appliedParams.putAll(current);
        }
        resetOnServer = null;
        allResetOnServer = false;
        on.appliedOwner = identity;
        on.appliedVersion = version;
        return sql == null ? null : sql.toString();
    }

    private static String quoteIdent(String name) {
        // Parameter names are identifiers, possibly qualified (myapp.tenant): quote each part.
        StringBuilder out = new StringBuilder();
        for (String part : name.split("\\.", -1)) {
            if (out.length() > 0) {
                out.append('.');
            }
            out.append('"').append(part.replace("\"", "\"\"")).append('"');
        }
        return out.toString();
    }
}
