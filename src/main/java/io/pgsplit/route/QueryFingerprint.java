package io.pgsplit.route;

/**
 * The text of a read statement with its literal values replaced by {@code ?}, so that
 * {@code SELECT abalance FROM pgbench_accounts WHERE aid = 123} and {@code ... = 456} share one cached
 * classification instead of each paying for a parse.
 *
 * <p>Deliberately narrow, because a shared key must mean a shared answer: only one statement
 * starting with SELECT, WITH, VALUES or TABLE; no comments, semicolons (but a trailing one), dollar quotes, E'' / U&''
 * / B'' / X'' strings or {@code set_config} (whose literal arguments become session settings); and
 * plain strings lexed as PostgreSQL does with standard_conforming_strings on (backslash is an
 * ordinary character). Anything else returns null and is classified by its full text.
 */
public final class QueryFingerprint {
    private QueryFingerprint() {
    }

    public static String of(String sql) {
        int start = firstNonSpace(sql);
        return startsWithReadKeyword(sql, start) ? replaceLiterals(sql, start) : null;
    }

    /**
     * The same for one INSERT, UPDATE or DELETE, under the same rules. That such a statement writes, and which
     * tables it writes, do not depend on its literal values either; simple-protocol clients (pgbench's
     * tpcb-like, most ORMs without server-side statements) send a new text per value, and each would
     * otherwise be classified again and take a place in the statement cache. Write keys never equal read
     * keys: they start with a different word.
     */
    public static String ofWrite(String sql) {
        int start = firstNonSpace(sql);
        return word(sql, start, "insert") || word(sql, start, "update") || word(sql, start, "delete")
                ? replaceLiterals(sql, start) : null;
    }

    private static int firstNonSpace(String sql) {
        int start = 0;
        while (start < sql.length() && Character.isWhitespace(sql.charAt(start))) {
            start++;
        }
        return start;
    }

    private static String replaceLiterals(String sql, int start) {
        int n = sql.length();
        StringBuilder out = new StringBuilder(n);
        boolean changed = false;
        int i = start;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'') {
                if (i > 0 && isIdentChar(sql.charAt(i - 1))) {
                    return null; // E'..', U&'..', B'..', X'..' or similar prefixed string
                }
                int j = i + 1;
                while (true) {
                    if (j >= n || sql.charAt(j) == '\\') {
                        return null; // unterminated, or a backslash other SQL lexers read as an escape
                    }
                    if (sql.charAt(j) == '\'') {
                        if (j + 1 < n && sql.charAt(j + 1) == '\'') {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j++;
                }
                out.append('?');
                changed = true;
                i = j + 1;
            } else if (c == '"') {
                int j = i + 1;
                while (true) {
                    if (j >= n) {
                        return null;
                    }
                    if (sql.charAt(j) == '"') {
                        if (j + 1 < n && sql.charAt(j + 1) == '"') {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j++;
                }
                out.append(sql, i, j + 1);
                i = j + 1;
            } else if (c >= '0' && c <= '9' && (i == 0 || !isIdentChar(sql.charAt(i - 1)) && sql.charAt(i - 1) != '$')) {
                int j = i;
                while (j < n && (Character.isDigit(sql.charAt(j)) || sql.charAt(j) == '.')) {
                    j++;
                }
                out.append('?');
                changed = true;
                i = j;
            } else if (c == ';' && sql.substring(i + 1).isBlank()) {
                break; // one trailing semicolon, as psql and pgbench send
            } else if (c == ';' || c == '$' && (i + 1 >= n || !Character.isDigit(sql.charAt(i + 1)))
                    || c == '-' && i + 1 < n && sql.charAt(i + 1) == '-'
                    || c == '/' && i + 1 < n && sql.charAt(i + 1) == '*' || c == '\\') {
                return null;
            } else {
                if ((c == 's' || c == 'S') && sql.regionMatches(true, i, "set_config", 0, 10)) {
                    return null;
                }
                out.append(c);
                i++;
            }
        }
        return changed ? out.toString() : null;
    }

    /**
     * {@code IN (?, ?, ?)} to {@code IN (?)}: a fingerprint cheaper to parse, with the same tables and
     * functions. A plain loop: a regular expression recurses per list item and overflows on long lists.
     */
    public static String collapseLists(String fingerprint) {
        StringBuilder out = new StringBuilder(fingerprint.length());
        int n = fingerprint.length();
        int i = 0;
        while (i < n) {
            char c = fingerprint.charAt(i);
            out.append(c);
            i++;
            if (c != '?') {
                continue;
            }
            // skip every following ", ?" (with any spaces)
            while (true) {
                int j = i;
                while (j < n && Character.isWhitespace(fingerprint.charAt(j))) {
                    j++;
                }
                if (j >= n || fingerprint.charAt(j) != ',') {
                    break;
                }
                j++;
                while (j < n && Character.isWhitespace(fingerprint.charAt(j))) {
                    j++;
                }
                if (j >= n || fingerprint.charAt(j) != '?') {
                    break;
                }
                i = j + 1;
            }
        }
        return out.toString();
    }

    private static boolean startsWithReadKeyword(String sql, int at) {
        return word(sql, at, "select") || word(sql, at, "with") || word(sql, at, "values") || word(sql, at, "table");
    }

    private static boolean word(String sql, int at, String w) {
        int end = at + w.length();
        return sql.regionMatches(true, at, w, 0, w.length()) && (end >= sql.length() || !isIdentChar(sql.charAt(end)));
    }

    private static boolean isIdentChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
