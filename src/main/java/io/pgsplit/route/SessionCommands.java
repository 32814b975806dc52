package io.pgsplit.route;

import io.pgsplit.route.KeywordClassifier.Draft;
import io.pgsplit.route.SqlLexer.Token;
import io.pgsplit.route.SqlLexer.TokenType;

import java.util.Locale;
import java.util.Set;

/**
 * The session-parameter commands of {@link KeywordClassifier}: SET (incl. SET ROLE, SET SESSION AUTHORIZATION,
 * SET SESSION CHARACTERISTICS), RESET and DISCARD, and the {@link SessionEffect} each has on the session that
 * pgsplit must replay on other server connections (or pin for).
 */
final class SessionCommands {

    private SessionCommands() {}


    static void set(LexedStatement st, Draft d) {
        d.settle(StatementKind.SET, false, "session: SET");
        int i = 1;
        if (st.isWord(1, "TRANSACTION")) {
            d.settle(StatementKind.SET_TRANSACTION, false, "transaction: SET TRANSACTION");
            KeywordClassifier.transactionModes(st, d);
            return;
        }
        if (st.isWord(1, "SESSION") && st.isWord(2, "CHARACTERISTICS")) {
            sessionCharacteristics(st, d);
            return;
        }
        if (st.isWord(1, "LOCAL")) {
            d.local = true;
            i = 2;
        } else if (st.isWord(1, "SESSION") && !st.isWord(2, "AUTHORIZATION")) {
            i = 2;
        }
        if (st.isWord(i, "CONSTRAINTS")) {
            d.reason = "transaction: SET CONSTRAINTS";
            return;
        }
        SessionEffect effect = setEffect(st, i);
        d.reason = "session: SET " + paramName(effect);
        if (d.local) {
            d.reason = "transaction: SET LOCAL " + paramName(effect);
        } else {
            d.effects.add(effect);
        }
    }

    private static String paramName(SessionEffect e) {
        if (e instanceof SessionEffect.SetParam p) return p.name();
        if (e instanceof SessionEffect.ResetParam p) return p.name();
        if (e instanceof SessionEffect.Pin p) return p.what();
        return "";
    }

    /** The effect of {@code SET [SESSION|LOCAL] <what starts at i>}. */
    private static SessionEffect setEffect(LexedStatement st, int i) {
        if (st.isWord(i, "TIME") && st.isWord(i + 1, "ZONE")) {
            if (st.isWord(i + 2, "LOCAL") || st.isWord(i + 2, "DEFAULT")) return new SessionEffect.ResetParam("timezone");
            if (st.isWord(i + 2, "INTERVAL")) return new SessionEffect.Pin("SET TIME ZONE INTERVAL"); // not replayable as SET timezone TO
            return valueOrReset(st, "timezone", i + 2);
        }
        if (st.isWord(i, "SCHEMA")) return valueOrReset(st, "search_path", i + 1);
        if (st.isWord(i, "NAMES")) return valueOrReset(st, "client_encoding", i + 1);
        if (st.isWord(i, "ROLE")) {
            return st.isWord(i + 1, "NONE") ? new SessionEffect.ResetParam("role") : valueOrReset(st, "role", i + 1);
        }
        if (st.isWord(i, "SESSION") && st.isWord(i + 1, "AUTHORIZATION")) return valueOrReset(st, "session_authorization", i + 2);
        if (st.isWord(i, "XML") && st.isWord(i + 1, "OPTION")) return valueOrReset(st, "xmloption", i + 2);
        // SET name [.name] {TO | =} value
        StringBuilder name = new StringBuilder();
        int j = i;
        while (true) {
            Token t = st.token(j);
            if (t == null || (t.type() != TokenType.WORD && t.type() != TokenType.QUOTED_IDENT)) break;
            name.append(t.value().toLowerCase(Locale.ROOT));
            j++;
            if (st.token(j) != null && st.token(j).type() == TokenType.DOT) {
                name.append('.');
                j++;
            } else {
                break;
            }
        }
        Token sep = st.token(j);
        if (name.length() == 0 || sep == null) return new SessionEffect.Pin("SET not understood");
        if (sep.isWord("TO")) return valueOrReset(st, name.toString(), j + 1);
        if (sep.isWord("FROM") && st.isWord(j + 1, "CURRENT")) return new SessionEffect.Pin("SET " + name + " FROM CURRENT");
        if (sep.type() == TokenType.OPERATOR && sep.value().startsWith("=")) {
            // "x=-1" lexes as the operator "=-": the value starts right after the '='
            String value = st.textFromOffset(sep.start() + 1);
            if (value.equalsIgnoreCase("DEFAULT")) return new SessionEffect.ResetParam(name.toString());
            return value.isEmpty() ? new SessionEffect.Pin("SET not understood") : new SessionEffect.SetParam(name.toString(), value);
        }
        return new SessionEffect.Pin("SET not understood");
    }

    private static SessionEffect valueOrReset(LexedStatement st, String name, int valueAt) {
        if (st.isWord(valueAt, "DEFAULT") && st.size() == valueAt + 1) return new SessionEffect.ResetParam(name);
        String value = st.textFrom(valueAt).trim();
        return value.isEmpty() ? new SessionEffect.Pin("SET not understood") : new SessionEffect.SetParam(name, value);
    }

    /** SET SESSION CHARACTERISTICS AS TRANSACTION modes: the same as setting the default_transaction_* parameters. */
    private static void sessionCharacteristics(LexedStatement st, Draft d) {
        d.reason = "session: SET SESSION CHARACTERISTICS";
        for (int i = 0; i < st.size(); i++) {
            if (st.isWord(i, "READ") && st.isWord(i + 1, "ONLY")) d.effects.add(new SessionEffect.SetParam("default_transaction_read_only", "on"));
            if (st.isWord(i, "READ") && st.isWord(i + 1, "WRITE")) d.effects.add(new SessionEffect.SetParam("default_transaction_read_only", "off"));
            if (st.isWord(i, "DEFERRABLE")) {
                boolean not = st.isWord(i - 1, "NOT");
                d.effects.add(new SessionEffect.SetParam("default_transaction_deferrable", not ? "off" : "on"));
            }
            if (st.isWord(i, "ISOLATION") && st.isWord(i + 1, "LEVEL")) {
                StringBuilder level = new StringBuilder();
                for (int j = i + 2; st.word(j) != null && Set.of("SERIALIZABLE", "REPEATABLE", "READ", "COMMITTED", "UNCOMMITTED").contains(st.word(j)); j++) {
                    if (level.length() > 0) level.append(' ');
                    level.append(st.word(j).toLowerCase(Locale.ROOT));
                    if (st.word(j).equals("SERIALIZABLE") || st.word(j).equals("COMMITTED") || st.word(j).equals("UNCOMMITTED")
                            || (st.word(j).equals("READ") && st.word(j - 1).equals("REPEATABLE"))) break;
                }
                d.effects.add(new SessionEffect.SetParam("default_transaction_isolation", "'" + level + "'"));
            }
        }
        if (d.effects.isEmpty()) d.effects.add(new SessionEffect.Pin("SET SESSION CHARACTERISTICS not understood"));
    }

    static void reset(LexedStatement st, Draft d) {
        d.settle(StatementKind.RESET, false, "session: RESET");
        SessionEffect e;
        if (st.isWord(1, "ALL")) e = new SessionEffect.ResetAll();
        else if (st.isWord(1, "TIME") && st.isWord(2, "ZONE")) e = new SessionEffect.ResetParam("timezone");
        else if (st.isWord(1, "SESSION") && st.isWord(2, "AUTHORIZATION")) e = new SessionEffect.ResetParam("session_authorization");
        else {
            String name = KeywordClassifier.name(st, 1);
            e = name.isEmpty() ? new SessionEffect.Pin("RESET not understood") : new SessionEffect.ResetParam(name);
        }
        d.reason = "session: RESET " + (e instanceof SessionEffect.ResetAll ? "ALL" : paramName(e));
        d.effects.add(e);
    }

    static void discard(LexedStatement st, Draft d) {
        d.settle(StatementKind.DISCARD, false, "session: DISCARD " + (st.word(1) == null ? "" : st.word(1)));
        if (st.isWord(1, "ALL")) d.effects.add(new SessionEffect.DiscardAll());
        else if (st.isWord(1, "TEMP") || st.isWord(1, "TEMPORARY")) d.effects.add(new SessionEffect.Unpin("DISCARD TEMP"));
        // DISCARD PLANS / SEQUENCES: nothing a pooler needs to track
    }
}
