package io.pgsplit.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Read/write splitting (YAML section {@code routing}).
 *
 * @param splitting            send reads to replicas; false = everything to the primary, default true
 * @param rulesFile            {@code rules}: routing-rules file, null = none; a relative path is resolved against
 *                             the configuration file's directory (the working directory for configs from a string)
 * @param hints                honour routing hints written in SQL comments, default true
 * @param loadBalancing        default for databases, round_robin
 * @param primaryReads         default for databases, fallback
 * @param maxStatementLength   longer statements are not parsed, they go to the primary, default 100000 characters
 * @param maxNestingDepth      deeper statements are not parsed, they go to the primary, default 100
 * @param catalogRefresh       how often function volatility etc. is re-read from the catalog, default 60s (0 = never)
 * @param retryWriteOnReplica  when a replica answers "read-only transaction" (25006), retry on the primary if
 *                             nothing was sent to the client yet, default true
 * @param classifierCacheBytes memory for cached statement classifications, default 32 MiB (0 = no cache)
 * @param maxReplicaLag        replicas further behind (in time) take no reads until they catch up; 0 (default) = no limit
 * @param consistency          default for databases and users: causal (default), session or eventual
 * @param causalWait           how long a causal or session read waits for a replica to catch up before it goes to
 *                             the primary, default 500ms
 * @param maxReplicaLagBytes   replicas further behind (in WAL bytes) take no reads until they catch up; 0 (default) =
 *                             no limit
 */
public record RoutingConfig(boolean splitting, Path rulesFile, boolean hints, LoadBalancing loadBalancing,
                            PrimaryReads primaryReads, int maxStatementLength, int maxNestingDepth,
                            Duration catalogRefresh, boolean retryWriteOnReplica, long classifierCacheBytes,
                            Duration maxReplicaLag, Consistency consistency, Duration causalWait,
                            long maxReplicaLagBytes) {

    public static RoutingConfig defaults() {
        return new RoutingConfig(true, null, true, LoadBalancing.ROUND_ROBIN, PrimaryReads.FALLBACK, 100_000, 100,
                Duration.ofSeconds(60), true, 32L << 20, Duration.ZERO, Consistency.CAUSAL, Duration.ofMillis(500), 0);
    }
}
