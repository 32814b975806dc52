package io.pgsplit.config;

import java.time.Duration;

/**
 * High availability (YAML section {@code ha}): how pgsplit checks its servers and learns their roles, and how
 * long writes wait for a primary during a failover.
 *
 * @param checkInterval how often every server is checked (login, {@code pg_is_in_recovery()} and who it
 *                      replicates from), default 1s
 * @param checkTimeout  a check (connect, login and query) unanswered this long fails: the server is marked down;
 *                      also bounds how long a read or a new client can be held by a server that stopped
 *                      answering. Default 2s
 * @param checkUser     the configured user whose server credentials the checks use; null = the first user. With
 *                      {@code pg_monitor} (or {@code pg_read_all_stats}) it also sees whom each replica follows,
 *                      which settles a split brain more precisely
 * @param failoverWait  a write, or a read-write transaction, that finds no usable primary waits this long for one
 *                      before it fails; 0 = fail at once. Default 10s
 */
public record HaConfig(Duration checkInterval, Duration checkTimeout, String checkUser, Duration failoverWait) {

    public static HaConfig defaults() {
        return new HaConfig(Duration.ofSeconds(1), Duration.ofSeconds(2), null, Duration.ofSeconds(10));
    }
}
