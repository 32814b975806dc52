package io.pgsplit.route;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Facts about one statement, independent of any function catalog (so they can be cached).
 *
 * @param kind          what the statement is
 * @param firstKeyword  the first keyword, upper-case ("" for an empty statement)
 * @param write         true when the statement is a write whatever the functions it calls are; function volatility
 *                      is applied later by {@link SqlClassifier#decide}
 * @param reason        why, for humans ("read: SELECT", "write: INSERT", "write: SELECT ... FOR UPDATE")
 * @param tablesRead    lower-case table names as written (schema-qualified if written so)
 * @param tablesWritten lower-case table names as written
 * @param functions     lower-case names of the functions called (only collected for statements that may be reads)
 * @param readOnlyTxn   BEGIN/START TRANSACTION/SET TRANSACTION ... READ ONLY
 * @param readWriteTxn  explicit READ WRITE
 * @param serializable  ISOLATION LEVEL SERIALIZABLE
 * @param local         SET LOCAL (no session effect is reported for it: it ends with the transaction)
 * @param effects       session-level side effects, usually zero or one
 */
public record StatementInfo(StatementKind kind, String firstKeyword, boolean write, String reason,
                            Set<String> tablesRead, Set<String> tablesWritten, Set<String> functions,
                            boolean readOnlyTxn, boolean readWriteTxn, boolean serializable,
                            boolean local, List<SessionEffect> effects) {

    public StatementInfo {
        // insertion-ordered (as written), so reasons and "pgsplit explain" output are stable from run to run
        tablesRead = ordered(tablesRead);
        tablesWritten = ordered(tablesWritten);
        functions = ordered(functions);
        effects = List.copyOf(effects);
    }

    private static Set<String> ordered(Set<String> s) {
        return s.isEmpty() ? Set.of() : Collections.unmodifiableSet(new LinkedHashSet<>(s));
    }
}
