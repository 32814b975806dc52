package io.pgsplit.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A database clients can connect to (one entry of the YAML {@code databases} mapping).
 *
 * @param name           the database name clients use (the mapping key)
 * @param primary        the read/write server, required
 * @param serverDatabase {@code dbname}: the database name on the servers, default = {@code name}
 * @param replicas       read replicas, in file order; may be empty (then everything goes to the primary)
 * @param poolOverrides  internal: the pool keys this database's {@code pool:} section sets, YAML key -> typed
 *                       value; use {@link PgsplitConfig#poolFor(String, String)} rather than reading this
 * @param loadBalancing  null = {@link RoutingConfig#loadBalancing()}
 * @param primaryReads   null = {@link RoutingConfig#primaryReads()}
 * @param consistency    null = {@link RoutingConfig#consistency()}
 */
public record DatabaseConfig(String name, HostPort primary, String serverDatabase, List<ReplicaConfig> replicas,
                             Map<String, Object> poolOverrides, LoadBalancing loadBalancing,
                             PrimaryReads primaryReads, Consistency consistency) {

    public DatabaseConfig {
        replicas = replicas == null ? List.of() : List.copyOf(replicas);
        poolOverrides = poolOverrides == null ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(poolOverrides));
        if (serverDatabase == null) {
            serverDatabase = name;
        }
    }

    /** A database with a primary only and every other setting at its default (handy in tests). */
    public static DatabaseConfig of(String name, HostPort primary) {
        return new DatabaseConfig(name, primary, name, List.of(), Map.of(), null, null, null);
    }

    /** The load balancing in effect: this database's, else the routing default. */
    public LoadBalancing effectiveLoadBalancing(RoutingConfig routing) {
        return loadBalancing != null ? loadBalancing : routing.loadBalancing();
    }

    /** The consistency of reads in this database unless the user, client or statement says otherwise. */
    public Consistency effectiveConsistency(RoutingConfig routing) {
        return consistency != null ? consistency : routing.consistency();
    }

    /** Whether the primary serves reads: this database's setting, else the routing default. */
    public PrimaryReads effectivePrimaryReads(RoutingConfig routing) {
        return primaryReads != null ? primaryReads : routing.primaryReads();
    }
}
