package io.pgsplit.admin;

import java.util.List;
import java.util.Map;

/** What the console asks of the running router beyond its own state: reload, stop, rule counts. */
public interface Operator {
    /**
     * Re-reads the configuration (and rules). Returns what was applied and what needs a restart, one line each;
     * throws with every error when the new file is invalid (the running configuration stays).
     */
    List<String> reload() throws Exception;

    /**
     * Stops the router. {@code waitForClients}: stop accepting and exit once every client has left; otherwise
     * close everything now.
     */
    void shutdown(boolean waitForClients);

    /** Whether a SHUTDOWN is under way. */
    boolean shuttingDown();

    /** Matches per routing rule, by rule name. */
    Map<String, Long> ruleCounts();

    /** An operator for routers started without one (tests, embedding): reload and shutdown are refused. */
    Operator NONE = new Operator() {
        @Override
        public List<String> reload() {
            throw new UnsupportedOperationException("this pgsplit was not started from a configuration file");
        }

        @Override
        public void shutdown(boolean waitForClients) {
            throw new UnsupportedOperationException("this pgsplit cannot be stopped from the console");
        }

        @Override
        public boolean shuttingDown() {
            return false;
        }

        @Override
        public Map<String, Long> ruleCounts() {
            return Map.of();
        }
    };
}
