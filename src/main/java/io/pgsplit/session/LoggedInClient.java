package io.pgsplit.session;

import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.pool.DatabaseRuntime;

/**
 * Who a client is once {@link LoginHandler} has let it in: what it hands to the handler that serves the
 * client from then on ({@link ClientSession}; the admin console's would take the same).
 *
 * @param sessionRoute the route hint from the start-up packet (options=-c pgsplit.route=...), or "auto"
 * @param consistency  the client's consistency (configured, or the start-up option pgsplit.consistency)
 * @param standardConformingStrings and {@code readOnlyDefault}: as the client was told at log-in
 */
record LoggedInClient(String userName, String databaseName, UserConfig user, DatabaseRuntime db,
                      PoolConfig poolConfig, SessionParams params, String applicationName, String sessionRoute,
                      io.pgsplit.consistency.SessionConsistency consistency, boolean standardConformingStrings,
                      boolean readOnlyDefault) {
}
