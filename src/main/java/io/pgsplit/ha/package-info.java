/**
 * High availability: {@link io.pgsplit.ha.HealthMonitor} checks every server of a database on a private
 * connection (login + {@code pg_is_in_recovery()} and replication status, within {@code ha.check_timeout}),
 * reports the outcome to the {@link io.pgsplit.topology.Node}, and applies the roles worked out by
 * {@link io.pgsplit.topology.RoleResolver} (or read from Patroni's REST API, {@link io.pgsplit.ha.PatroniSource})
 * to the {@link io.pgsplit.topology.Topology}. Decisions live in {@code topology}; this package does the I/O.
 */
package io.pgsplit.ha;
