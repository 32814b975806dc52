package io.pgsplit.config.yaml;

import java.util.Collection;

/** Suggests the known word a user probably meant when they typed an unknown one. */
public final class DidYouMean {

    /** Typos within this many single-character edits are suggested. */
    private static final int MAX_EDITS = 2;
    /** A prefix shorter than this matches too much to be a useful suggestion. */
    private static final int MIN_PREFIX = 3;

    private DidYouMean() {
    }

    /**
     * The closest candidate within {@value #MAX_EDITS} edits (Levenshtein, case-insensitive), or one that the
     * typed word is a prefix of / that is a prefix of the typed word ({@code pool} -> {@code pool_size});
     * null if nothing is close. Ties go to the first candidate in iteration order.
     */
    public static String suggest(String typed, Collection<String> candidates) {
        String lowerTyped = typed.toLowerCase(java.util.Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            String lowerCandidate = candidate.toLowerCase(java.util.Locale.ROOT);
            int distance = levenshtein(lowerTyped, lowerCandidate);
            boolean prefix = Math.min(lowerTyped.length(), lowerCandidate.length()) >= MIN_PREFIX
                    && (lowerCandidate.startsWith(lowerTyped) || lowerTyped.startsWith(lowerCandidate));
            if ((distance <= MAX_EDITS || prefix) && distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /** Classic edit distance: insertions, deletions and substitutions each cost 1. */
    public static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
