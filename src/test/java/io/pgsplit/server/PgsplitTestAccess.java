package io.pgsplit.server;

/** Package-private server internals that tests in other packages need. */
public final class PgsplitTestAccess {
    private PgsplitTestAccess() {
    }

    public static boolean hangupHandled() {
        return RulesSupport.hangupHandled();
    }
}
