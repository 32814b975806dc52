package io.pgsplit.route;

import io.pgsplit.route.SqlLexer.Token;
import io.pgsplit.route.SqlLexer.TokenType;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Classifies one lexed statement from its keywords alone. This settles every statement except those that may be
 * reads (SELECT, WITH, VALUES, TABLE, and the query inside EXPLAIN ANALYZE, PREPARE, DECLARE, COPY (...) TO): those
 * get a {@link Draft#parseTarget} for {@link ParserInspector}.
 *
 * <p>Also computes the session effects (SET, RESET, DISCARD, PREPARE, LISTEN, DECLARE ... WITH HOLD, CREATE TEMP, ...)
 * and the obvious tables written (INSERT INTO x, UPDATE x, DELETE FROM x, TRUNCATE x, ...).
 */
final class KeywordClassifier {

    private KeywordClassifier() {}

    /** A statement's facts while they are being collected. */
    static final class Draft {
        StatementKind kind = StatementKind.OTHER;
        String firstKeyword = "";
        boolean write = true;
        String reason;
        final Set<String> tablesRead = new LinkedHashSet<>();
        final Set<String> tablesWritten = new LinkedHashSet<>();
        final Set<String> functions = new LinkedHashSet<>();
        boolean readOnlyTxn, readWriteTxn, serializable, local;
        final List<SessionEffect> effects = new ArrayList<>();
        /** The (part of the) statement that JSqlParser must check before this can be a read; null when settled. */
        LexedStatement parseTarget;
        /**
         * A function that always writes (nextval, ...) called in a query, as the lexer sees it. After the parse
         * (which must still run, for the session effects of advisory locks and set_config) the parser must have seen
         * it too; if not, something was read differently by JSqlParser and the statement is a write.
         */
        String alwaysWriteCall;
        /** The query calls set_config: its session effect needs the parser (literal arguments?), see SqlClassifier. */
        boolean callsSetConfig;

        Draft settle(StatementKind kind, boolean write, String reason) {
            this.kind = kind;
            this.write = write;
            this.reason = reason;
            return this;
        }

        /** Makes this a write for a reason found outside the statement (lexer error, parser failure, ...). */
        void forceWrite(String why) {
            if (!write) {
                write = true;
                reason = "write: " + why;
            }
            parseTarget = null;
        }

        StatementInfo toInfo() {
            return new StatementInfo(kind, firstKeyword, write, reason, tablesRead, tablesWritten, functions,
                    readOnlyTxn, readWriteTxn, serializable, local, effects);
        }
    }

    static Draft classify(LexedStatement st) {
        Draft d = new Draft();
        String first = st.firstKeyword();
        d.firstKeyword = first;
        switch (first) {
            case "SELECT", "WITH", "VALUES", "TABLE" -> query(st, d);
            case "SHOW" -> d.settle(StatementKind.SHOW, false, "read: SHOW");
            case "EXPLAIN" -> explain(st, d);
            case "INSERT" -> dml(st, d, StatementKind.INSERT, 0);
            case "UPDATE" -> dml(st, d, StatementKind.UPDATE, 0);
            case "DELETE" -> dml(st, d, StatementKind.DELETE, 0);
            case "MERGE" -> dml(st, d, StatementKind.MERGE, 0);
            case "COPY" -> copy(st, d);
            case "CREATE" -> create(st, d);
            case "ALTER" -> alter(st, d);
            case "DROP" -> drop(st, d);
            case "TRUNCATE" -> truncate(st, d);
            case "IMPORT", "REASSIGN" -> d.settle(StatementKind.DDL, true, "write: " + first);
            case "GRANT" -> d.settle(StatementKind.GRANT, true, "write: GRANT");
            case "REVOKE" -> d.settle(StatementKind.REVOKE, true, "write: REVOKE");
            case "COMMENT" -> d.settle(StatementKind.COMMENT, true, "write: COMMENT");
            case "SECURITY" -> d.settle(StatementKind.SECURITY_LABEL, true, "write: SECURITY LABEL");
            case "LOCK" -> lock(st, d);
            case "CALL" -> d.settle(StatementKind.CALL, true, "write: CALL runs a procedure");
            case "DO" -> d.settle(StatementKind.DO, true, "write: DO runs an anonymous code block");
            case "VACUUM" -> d.settle(StatementKind.VACUUM, true, "write: VACUUM");
            case "ANALYZE", "ANALYSE" -> d.settle(StatementKind.ANALYZE, true, "write: ANALYZE");
            case "CLUSTER" -> d.settle(StatementKind.CLUSTER, true, "write: CLUSTER");
            case "REINDEX" -> d.settle(StatementKind.REINDEX, true, "write: REINDEX");
            case "REFRESH" -> refresh(st, d);
            case "CHECKPOINT" -> d.settle(StatementKind.CHECKPOINT, true, "write: CHECKPOINT");
            case "LOAD" -> {
                d.settle(StatementKind.LOAD, true, "write: LOAD loads a shared library into the session");
                d.effects.add(new SessionEffect.Pin("LOAD"));
            }
            case "LISTEN" -> {
                d.settle(StatementKind.LISTEN, true, "write: LISTEN (not allowed on a standby)");
                d.effects.add(new SessionEffect.Pin("LISTEN " + name(st, 1)));
            }
            case "UNLISTEN" -> {
                d.settle(StatementKind.UNLISTEN, true, "write: UNLISTEN (not allowed on a standby)");
                String channel = st.token(1) != null && "*".equals(st.token(1).value()) ? "*" : name(st, 1);
                d.effects.add(new SessionEffect.Unpin("UNLISTEN " + channel));
            }
            case "NOTIFY" -> d.settle(StatementKind.NOTIFY, true, "write: NOTIFY (not allowed on a standby)");
            case "BEGIN" -> transactionStart(st, d, StatementKind.BEGIN, "transaction: BEGIN");
            case "START" -> transactionStart(st, d, StatementKind.START_TRANSACTION, "transaction: START TRANSACTION");
            case "COMMIT", "END" -> commitOrRollback(st, d, StatementKind.COMMIT);
            case "ROLLBACK", "ABORT" -> commitOrRollback(st, d, StatementKind.ROLLBACK);
            case "SAVEPOINT" -> d.settle(StatementKind.SAVEPOINT, false, "transaction: SAVEPOINT");
            case "RELEASE" -> d.settle(StatementKind.RELEASE, false, "transaction: RELEASE SAVEPOINT");
            case "PREPARE" -> prepare(st, d);
            case "EXECUTE" -> d.settle(StatementKind.EXECUTE, true,
                    "write: EXECUTE runs a prepared statement whose text is not known here");
            case "DEALLOCATE" -> deallocate(st, d);
            case "SET" -> SessionCommands.set(st, d);
            case "RESET" -> SessionCommands.reset(st, d);
            case "DISCARD" -> SessionCommands.discard(st, d);
            case "DECLARE" -> declare(st, d);
            case "FETCH" -> d.settle(StatementKind.FETCH, false, "cursor: FETCH");
            case "MOVE" -> d.settle(StatementKind.MOVE, false, "cursor: MOVE");
            case "CLOSE" -> {
                d.settle(StatementKind.CLOSE, false, "cursor: CLOSE");
                d.effects.add(new SessionEffect.Unpin("CLOSE " + (st.isWord(1, "ALL") ? "ALL" : name(st, 1))));
            }
            case "" -> d.settle(StatementKind.OTHER, true, "write: statement does not start with a keyword");
            default -> d.settle(StatementKind.OTHER, true, "write: unrecognised statement " + first);
        }
        return d;
    }

    // ---- queries that may be reads ----

    private static void query(LexedStatement st, Draft d) {
        String first = st.firstKeyword();
        if (first.equals("WITH")) {
            // the main statement after the CTE list decides the kind: WITH ... INSERT is an INSERT
            int main = st.findTopLevelWord(1, "SELECT", "VALUES", "TABLE", "INSERT", "UPDATE", "DELETE", "MERGE");
            String mainWord = main < 0 ? "" : st.word(main);
            switch (mainWord) {
                case "INSERT" -> { dml(st, d, StatementKind.INSERT, main); return; }
                case "UPDATE" -> { dml(st, d, StatementKind.UPDATE, main); return; }
                case "DELETE" -> { dml(st, d, StatementKind.DELETE, main); return; }
                case "MERGE" -> { dml(st, d, StatementKind.MERGE, main); return; }
                default -> { }
            }
        }
        StatementKind kind = switch (first) {
            case "VALUES" -> StatementKind.VALUES;
            case "TABLE" -> StatementKind.TABLE;
            default -> StatementKind.SELECT;
        };
        d.settle(kind, false, "read: " + kind);
        d.alwaysWriteCall = alwaysWriteCall(st);
        sessionFunctionCalls(st, d);
        String lexicalWrite = lexicalWriteInQuery(st, d);
        if (lexicalWrite != null) {
            d.write = true;
            d.reason = lexicalWrite;
        }
        // kept even for writes: the parse may still be needed for session effects (see SqlClassifier.toParse)
        d.parseTarget = st;
    }

    /**
     * Cheap, parser-independent checks for writes hidden in a query: locking clauses, SELECT INTO, data-modifying
     * CTEs. They look at unquoted words only, so strings and comments cannot trigger (or hide) them; a column that
     * happens to be named "update" makes a read look like a write, which is only slower.
     */
    private static String lexicalWriteInQuery(LexedStatement st, Draft d) {
        for (int i = 0; i < st.size(); i++) {
            String w = st.word(i);
            if (w == null) continue;
            if (w.equals("FOR")) {
                String mode = lockMode(st, i + 1);
                if (mode != null) return "write: SELECT ... FOR " + mode;
            } else if (w.equals("INTO")) {
                int next = i + 1;
                boolean temp = false;
                while (st.word(next) != null && Set.of("TEMP", "TEMPORARY", "UNLOGGED", "TABLE", "LOCAL", "GLOBAL").contains(st.word(next))) {
                    temp |= st.word(next).startsWith("TEMP");
                    next++;
                }
                String table = name(st, next);
                if (!table.isEmpty()) d.tablesWritten.add(table);
                if (temp) d.effects.add(new SessionEffect.Pin("CREATE TEMP TABLE " + table));
                return "write: SELECT INTO creates a table";
            } else if (w.equals("INSERT") || w.equals("UPDATE") || w.equals("DELETE") || w.equals("MERGE")) {
                return "write: " + w + " inside a query (data-modifying WITH)";
            }
        }
        return null;
    }

    /**
     * Session-level advisory locks pin the session, their unlocks unpin it: found from the tokens ("name(") so that
     * they are known even when the parser is skipped or fails.
     */
    private static void sessionFunctionCalls(LexedStatement st, Draft d) {
        for (int i = 0; i + 1 < st.size(); i++) {
            Token t = st.token(i);
            if ((t.type() == TokenType.WORD || t.type() == TokenType.QUOTED_IDENT) && st.token(i + 1).type() == TokenType.LPAREN) {
                String name = t.value().toLowerCase(Locale.ROOT);
                if (BuiltinFunctions.SESSION_ADVISORY_LOCKS.contains(name)) d.effects.add(new SessionEffect.Pin(name));
                if (BuiltinFunctions.SESSION_ADVISORY_UNLOCKS.contains(name)) d.effects.add(new SessionEffect.Unpin(name));
                if (name.equals("set_config")) d.callsSetConfig = true;
            }
        }
    }

    /** The first "name(" in the statement where name is a function that always writes; or null. */
    private static String alwaysWriteCall(LexedStatement st) {
        for (int i = 0; i + 1 < st.size(); i++) {
            Token t = st.token(i);
            if ((t.type() == TokenType.WORD || t.type() == TokenType.QUOTED_IDENT) && st.token(i + 1).type() == TokenType.LPAREN) {
                String name = t.value().toLowerCase(Locale.ROOT);
                if (BuiltinFunctions.isAlwaysWrite(name)) return name;
            }
        }
        return null;
    }

    private static String lockMode(LexedStatement st, int i) {
        if (st.isWord(i, "UPDATE")) return "UPDATE";
        if (st.isWord(i, "SHARE")) return "SHARE";
        if (st.isWord(i, "NO") && st.isWord(i + 1, "KEY") && st.isWord(i + 2, "UPDATE")) return "NO KEY UPDATE";
        if (st.isWord(i, "KEY") && st.isWord(i + 1, "SHARE")) return "KEY SHARE";
        return null;
    }

    private static void explain(LexedStatement st, Draft d) {
        int i = 1;
        boolean analyze = false;
        if (st.token(1) != null && st.token(1).type() == TokenType.LPAREN) {
            int close = st.matchingParen(1);
            if (close < 0) {
                d.settle(StatementKind.EXPLAIN, true, "write: EXPLAIN options not understood");
                return;
            }
            for (int j = 2; j < close; j++) {
                // any spelling, quoted ("analyze") included: mistaking an option for ANALYZE only costs a primary trip
                Token t = st.token(j);
                String w = t.type() == TokenType.WORD || t.type() == TokenType.QUOTED_IDENT ? t.value().toUpperCase(Locale.ROOT) : "";
                if (w.equals("ANALYZE") || w.equals("ANALYSE")) {
                    String arg = st.token(j + 1) == null ? "" : st.token(j + 1).value().toUpperCase(Locale.ROOT);
                    analyze |= !(arg.equals("FALSE") || arg.equals("OFF") || arg.equals("0") || arg.equals("NO"));
                }
            }
            i = close + 1;
        } else {
            while (st.word(i) != null && Set.of("ANALYZE", "ANALYSE", "VERBOSE").contains(st.word(i))) {
                analyze |= !st.word(i).equals("VERBOSE");
                i++;
            }
        }
        LexedStatement inner = st.sub(i, st.size());
        if (!analyze) {
            // EXPLAIN without ANALYZE plans but does not execute: a read even for INSERT (PostgreSQL skips the
            // read-only check for EXPLAIN-only execution), and nothing in it is evaluated
            d.settle(StatementKind.EXPLAIN, false, "read: EXPLAIN without ANALYZE does not execute " + inner.firstKeyword());
            return;
        }
        delegate(d, StatementKind.EXPLAIN, inner, "EXPLAIN ANALYZE of ");
    }

    /** The statement's verdict is that of an inner statement (EXPLAIN ANALYZE q, PREPARE p AS q, DECLARE c CURSOR FOR q). */
    private static void delegate(Draft d, StatementKind kind, LexedStatement inner, String prefix) {
        Draft in = classify(inner);
        String innerReason = in.reason == null ? "" : in.reason;
        String verdict = innerReason.startsWith("write: ") ? "write: " : "read: ";
        String detail = innerReason.startsWith(verdict) ? innerReason.substring(verdict.length()) : innerReason;
        d.settle(kind, in.write, verdict + prefix + detail);
        d.tablesRead.addAll(in.tablesRead);
        d.tablesWritten.addAll(in.tablesWritten);
        d.parseTarget = in.parseTarget;
        d.alwaysWriteCall = in.alwaysWriteCall;
        d.callsSetConfig = in.callsSetConfig;
        d.effects.addAll(in.effects);
        if (!in.write && in.parseTarget == null && !isQueryKind(in.kind)) {
            // e.g. PREPARE p AS SHOW x: not a query we understand inside a wrapper
            d.write = true;
            d.reason = "write: " + prefix + in.firstKeyword + " not understood";
        }
    }

    private static boolean isQueryKind(StatementKind k) {
        return k == StatementKind.SELECT || k == StatementKind.VALUES || k == StatementKind.TABLE;
    }

    // ---- writes ----

    /** INSERT INTO x, UPDATE [ONLY] x, DELETE FROM [ONLY] x, MERGE INTO x; {@code at} is the index of the verb. */
    private static void dml(LexedStatement st, Draft d, StatementKind kind, int at) {
        d.settle(kind, true, "write: " + kind);
        int i = at + 1;
        if (st.isWord(i, "INTO") || st.isWord(i, "FROM")) i++;
        if (st.isWord(i, "ONLY")) i++;
        String table = name(st, i);
        if (!table.isEmpty()) d.tablesWritten.add(table);
    }

    private static void copy(LexedStatement st, Draft d) {
        if (st.token(1) != null && st.token(1).type() == TokenType.LPAREN) {
            int close = st.matchingParen(1);
            if (close < 0 || !st.isWord(close + 1, "TO")) {
                d.settle(StatementKind.COPY_TO, true, "write: COPY (query) not understood");
                return;
            }
            delegate(d, StatementKind.COPY_TO, st.sub(2, close), "COPY (query) TO of ");
            if (!d.write) toServerSide(st, close + 2, d);
            return;
        }
        int i = st.isWord(1, "BINARY") ? 2 : 1;
        String table = name(st, i);
        int direction = st.findTopLevelWord(i + 1, "FROM", "TO");
        if (direction < 0) {
            d.settle(StatementKind.OTHER, true, "write: COPY without FROM or TO");
        } else if (st.isWord(direction, "FROM")) {
            d.settle(StatementKind.COPY_FROM, true, "write: COPY ... FROM");
            if (!table.isEmpty()) d.tablesWritten.add(table);
        } else {
            d.settle(StatementKind.COPY_TO, false, "read: COPY ... TO");
            if (!table.isEmpty()) d.tablesRead.add(table);
            toServerSide(st, direction + 1, d);
        }
    }

    /** COPY ... TO 'file' or TO PROGRAM writes on the server's machine: when in doubt, the primary. */
    private static void toServerSide(LexedStatement st, int i, Draft d) {
        if (!st.isWord(i, "STDOUT")) {
            d.write = true;
            d.reason = "write: COPY ... TO a server file or program has side effects on the server";
        }
    }

    private static final Set<String> CREATE_MODIFIERS = Set.of("OR", "REPLACE", "GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED", "RECURSIVE");

    private static void create(LexedStatement st, Draft d) {
        d.settle(StatementKind.DDL, true, "write: CREATE");
        int i = 1;
        boolean temp = false;
        while (st.word(i) != null && CREATE_MODIFIERS.contains(st.word(i))) {
            temp |= st.word(i).startsWith("TEMP");
            i++;
        }
        String object = st.word(i) == null ? "" : st.word(i);
        if (object.equals("MATERIALIZED") && st.isWord(i + 1, "VIEW")) {
            object = "MATERIALIZED VIEW";
            i++;
        }
        d.reason = "write: CREATE " + object;
        i++;
        if (st.isWord(i, "IF") && st.isWord(i + 1, "NOT") && st.isWord(i + 2, "EXISTS")) i += 3;
        String name = name(st, i);
        if ((object.equals("TABLE") || object.equals("MATERIALIZED VIEW")) && !name.isEmpty()) d.tablesWritten.add(name);
        // a temp object lives in this server session only; ON COMMIT DROP ones die with the transaction
        boolean onCommitDrop = false;
        for (int j = i; j + 2 < st.size(); j++) {
            if (st.isWord(j, "ON") && st.isWord(j + 1, "COMMIT") && st.isWord(j + 2, "DROP")) onCommitDrop = true;
        }
        if (temp && !onCommitDrop) d.effects.add(new SessionEffect.Pin("CREATE TEMP " + object + " " + name));
    }

    private static void alter(LexedStatement st, Draft d) {
        d.settle(StatementKind.DDL, true, "write: ALTER" + (st.word(1) == null ? "" : " " + st.word(1)));
        if (st.isWord(1, "TABLE")) {
            int i = 2;
            if (st.isWord(i, "IF") && st.isWord(i + 1, "EXISTS")) i += 2;
            if (st.isWord(i, "ONLY")) i++;
            String name = name(st, i);
            if (!name.isEmpty()) d.tablesWritten.add(name);
        }
    }

    private static void drop(LexedStatement st, Draft d) {
        String object = st.word(1) == null ? "" : st.word(1);
        d.settle(StatementKind.DDL, true, "write: DROP " + object);
        if (!Set.of("TABLE", "VIEW", "SEQUENCE").contains(object)) return;
        int i = 2;
        if (st.isWord(i, "IF") && st.isWord(i + 1, "EXISTS")) i += 2;
        for (String name : nameList(st, i)) {
            if (object.equals("TABLE")) d.tablesWritten.add(name);
            // may drop a temp object this session created: the caller matches it against its pins
            d.effects.add(new SessionEffect.Unpin("DROP " + object + " " + name));
        }
    }

    private static void truncate(LexedStatement st, Draft d) {
        d.settle(StatementKind.TRUNCATE, true, "write: TRUNCATE");
        int i = 1;
        if (st.isWord(i, "TABLE")) i++;
        d.tablesWritten.addAll(nameList(st, i));
    }

    private static void lock(LexedStatement st, Draft d) {
        d.settle(StatementKind.LOCK, true, "write: LOCK");
        int i = 1;
        if (st.isWord(i, "TABLE")) i++;
        d.tablesWritten.addAll(nameList(st, i));
    }

    private static void refresh(LexedStatement st, Draft d) {
        d.settle(StatementKind.REFRESH, true, "write: REFRESH MATERIALIZED VIEW");
        int i = 3;
        if (st.isWord(i, "CONCURRENTLY")) i++;
        String name = name(st, i);
        if (!name.isEmpty()) d.tablesWritten.add(name);
    }

    // ---- transactions ----

    private static void transactionStart(LexedStatement st, Draft d, StatementKind kind, String reason) {
        d.settle(kind, false, reason);
        transactionModes(st, d);
    }

    /** READ ONLY, READ WRITE, ISOLATION LEVEL SERIALIZABLE anywhere in the mode list. */
    static void transactionModes(LexedStatement st, Draft d) {
        for (int i = 0; i < st.size(); i++) {
            if (st.isWord(i, "READ") && st.isWord(i + 1, "ONLY")) d.readOnlyTxn = true;
            if (st.isWord(i, "READ") && st.isWord(i + 1, "WRITE")) d.readWriteTxn = true;
            if (st.isWord(i, "LEVEL") && st.isWord(i + 1, "SERIALIZABLE")) d.serializable = true;
            // An explicit level overrides default_transaction_isolation; Router reads this from the reason.
            if (st.isWord(i, "ISOLATION") && st.isWord(i + 1, "LEVEL") && !d.reason.contains("ISOLATION LEVEL")) {
                d.reason += " ISOLATION LEVEL";
            }
        }
    }

    private static void commitOrRollback(LexedStatement st, Draft d, StatementKind kind) {
        String verb = st.firstKeyword();
        if (st.isWord(1, "PREPARED")) {
            // finishes a two-phase transaction: not a transaction boundary of this session, and must run on the primary
            d.settle(StatementKind.OTHER, true, "write: " + verb + " PREPARED");
            return;
        }
        if (kind == StatementKind.ROLLBACK && st.findTopLevelWord(1, "TO") >= 0) {
            d.settle(StatementKind.ROLLBACK_TO, false, "transaction: ROLLBACK TO SAVEPOINT");
            return;
        }
        d.settle(kind, false, "transaction: " + verb);
    }

    private static void prepare(LexedStatement st, Draft d) {
        if (st.isWord(1, "TRANSACTION")) {
            d.settle(StatementKind.PREPARE_TRANSACTION, true, "write: PREPARE TRANSACTION (two-phase commit)");
            return;
        }
        String name = name(st, 1);
        int as = st.findTopLevelWord(2, "AS");
        if (as < 0) {
            d.settle(StatementKind.PREPARE, true, "write: PREPARE without AS");
        } else {
            delegate(d, StatementKind.PREPARE, st.sub(as + 1, st.size()), "PREPARE of ");
        }
        d.effects.add(new SessionEffect.Pin("PREPARE " + name));
    }

    private static void deallocate(LexedStatement st, Draft d) {
        d.settle(StatementKind.DEALLOCATE, false, "session: DEALLOCATE");
        int i = st.isWord(1, "PREPARE") ? 2 : 1;
        d.effects.add(new SessionEffect.Unpin("DEALLOCATE " + (st.isWord(i, "ALL") ? "ALL" : name(st, i))));
    }

    private static void declare(LexedStatement st, Draft d) {
        String name = name(st, 1);
        int cursor = st.findTopLevelWord(2, "CURSOR");
        int forAt = cursor < 0 ? -1 : st.findTopLevelWord(cursor + 1, "FOR");
        if (forAt < 0) {
            d.settle(StatementKind.DECLARE, true, "write: DECLARE not understood");
            return;
        }
        boolean withHold = false;
        for (int i = cursor + 1; i < forAt; i++) {
            if (st.isWord(i, "WITH") && st.isWord(i + 1, "HOLD")) withHold = true;
        }
        delegate(d, StatementKind.DECLARE, st.sub(forAt + 1, st.size()), "DECLARE CURSOR of ");
        // a WITH HOLD cursor outlives the transaction; others die with it and need no pin
        if (withHold) d.effects.add(new SessionEffect.Pin("DECLARE " + name + " WITH HOLD"));
    }

    // ---- names ----

    /** A possibly qualified name starting at token {@code i}, lower-case ("" when there is none). */
    static String name(LexedStatement st, int i) {
        StringBuilder sb = new StringBuilder();
        nameEnd(st, i, sb);
        return sb.toString();
    }

    /** Appends the (possibly qualified) name at {@code i} to {@code sb}; returns the index after it. */
    private static int nameEnd(LexedStatement st, int i, StringBuilder sb) {
        while (true) {
            Token t = st.token(i);
            if (t == null || (t.type() != TokenType.WORD && t.type() != TokenType.QUOTED_IDENT)) return i;
            sb.append(t.value().toLowerCase(Locale.ROOT));
            i++;
            if (st.token(i) != null && st.token(i).type() == TokenType.DOT) {
                sb.append('.');
                i++;
            } else {
                return i;
            }
        }
    }

    /** A comma-separated list of names (TRUNCATE a, ONLY b, c *), stopping at the first thing that is not a name. */
    private static List<String> nameList(LexedStatement st, int i) {
        List<String> names = new ArrayList<>();
        while (i < st.size()) {
            if (st.isWord(i, "ONLY")) i++;
            StringBuilder name = new StringBuilder();
            i = nameEnd(st, i, name);
            if (name.length() == 0) break;
            names.add(name.toString());
            if (st.token(i) != null && "*".equals(st.token(i).value())) i++;
            if (st.token(i) == null || st.token(i).type() != TokenType.COMMA) break;
            i++;
        }
        return names;
    }
}
