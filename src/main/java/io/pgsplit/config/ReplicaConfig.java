package io.pgsplit.config;

/**
 * A read replica of a database.
 *
 * @param name   unique within its database, {@code [A-Za-z0-9_-]+}; used in logs, metrics and routing hints
 * @param host   host name or IP address
 * @param port   1-65535, default 5432
 * @param weight share of reads under {@link LoadBalancing#WEIGHTED}, {@code >= 0}, default 1 (0 = no reads)
 * @param group  optional group name routing rules can target (e.g. {@code "analytics"}), or null
 */
public record ReplicaConfig(String name, String host, int port, int weight, String group) {

    /** This replica's address. */
    public HostPort address() {
        return new HostPort(host, port);
    }
}
