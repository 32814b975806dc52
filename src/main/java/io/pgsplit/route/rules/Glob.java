package io.pgsplit.route.rules;

import java.util.Locale;

/**
 * A shell-style pattern ({@code *} any run of characters, {@code ?} one character, everything else literal),
 * matched case-insensitively without allocating. Used for table, function and application names.
 *
 * <p>Object names ({@link #forNames}): a pattern without a dot is matched against the name without its schema,
 * so {@code report_*} matches {@code report_x} and {@code public.report_x}; a pattern with a dot is matched
 * against the name as written, so {@code analytics.*} matches {@code analytics.events} but not an unqualified
 * {@code events} that happens to resolve to that schema through the search_path.
 */
final class Glob {
    private final String text;
    private final char[] pattern;
    private final boolean qualified;
    private final boolean objectName;

    private Glob(String text, boolean objectName) {
        this.text = text;
        this.pattern = text.toLowerCase(Locale.ROOT).toCharArray();
        this.objectName = objectName;
        this.qualified = text.indexOf('.') >= 0;
    }

    /** For table and function names (schema rule above). */
    static Glob forNames(String text) {
        return new Glob(text, true);
    }

    /** For free text such as application_name, database and user names: matched whole. */
    static Glob plain(String text) {
        return new Glob(text, false);
    }

    String text() {
        return text;
    }

    boolean matches(String name) {
        if (name == null) {
            return false;
        }
        int start = 0;
        if (objectName && !qualified) {
            start = name.lastIndexOf('.') + 1;
        }
        return matches(name, start);
    }

    /** Iterative wildcard matching with single backtracking point: linear for patterns with one star, never exponential. */
    private boolean matches(String s, int from) {
        int si = from;
        int pi = 0;
        int starP = -1;
        int starS = -1;
        int n = s.length();
        while (si < n) {
            if (pi < pattern.length && (pattern[pi] == '?' || same(pattern[pi], s.charAt(si)))) {
                si++;
                pi++;
            } else if (pi < pattern.length && pattern[pi] == '*') {
                starP = pi++;
                starS = si;
            } else if (starP >= 0) {
                pi = starP + 1;
                si = ++starS;
            } else {
                return false;
            }
        }
        while (pi < pattern.length && pattern[pi] == '*') {
            pi++;
        }
        return pi == pattern.length;
    }

    private static boolean same(char p, char c) {
        return p == c || p == Character.toLowerCase(c);
    }

    @Override
    public String toString() {
        return text;
    }
}
