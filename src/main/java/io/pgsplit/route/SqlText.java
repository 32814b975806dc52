package io.pgsplit.route;

/** Small helpers for SQL text that the client side and the tools share. */
public final class SqlText {
    private SqlText() {
    }

    /** A setting's value as written in SET, without its surrounding single or double quotes. */
    public static String unquoteSetting(String valueSql) {
        String s = valueSql.trim();
        if (s.length() >= 2 && (s.startsWith("'") && s.endsWith("'") || s.startsWith("\"") && s.endsWith("\""))) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    /** The statement on one line, cut at 200 characters: for logs and explanations. */
    public static String abbreviate(String sql) {
        if (sql == null) {
            return "";
        }
        String s = sql.replaceAll("\\s+", " ").trim();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
