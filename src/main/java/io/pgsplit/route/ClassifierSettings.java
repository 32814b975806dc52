package io.pgsplit.route;

import java.time.Duration;
import java.util.Set;

/**
 * @param maxLength           longer query strings are writes, never parsed
 * @param maxNesting          deeper parenthesis nesting is a write, never parsed (the parser is recursive)
 * @param cacheMaxWeightBytes approximate memory bound of the classification cache
 * @param parseTimeout        a parse taking longer is abandoned and the query is a write
 * @param readOnlyFunctions   extra functions (lower-case) that are reads even though volatile or unknown
 * @param writeFunctions      extra functions (lower-case) that are always writes
 */
public record ClassifierSettings(int maxLength, int maxNesting, long cacheMaxWeightBytes, Duration parseTimeout,
                                 Set<String> readOnlyFunctions, Set<String> writeFunctions) {

    public ClassifierSettings {
        java.util.Objects.requireNonNull(parseTimeout, "parseTimeout");
        readOnlyFunctions = Set.copyOf(readOnlyFunctions);
        writeFunctions = Set.copyOf(writeFunctions);
    }

    public static ClassifierSettings defaults() {
        return new ClassifierSettings(100_000, 100, 32L * 1024 * 1024, Duration.ofSeconds(2), Set.of(), Set.of());
    }
}
