package io.pgsplit.admin;

import java.util.Locale;

/**
 * One console command as PgBouncer reads it: a verb, and for {@code SHOW} a subject, then at most one argument
 * (a database name or client id, bare or double-quoted). A trailing semicolon is allowed; anything else is a syntax
 * error. Verbs and subjects are case-insensitive; arguments keep their case.
 *
 * @param verb    upper-case: {@code SHOW}, {@code PAUSE}, {@code KILL_CLIENT}...
 * @param subject upper-case SHOW subject ({@code POOLS}), or null for other verbs
 * @param arg     the argument, or null
 */
public record AdminCommand(String verb, String subject, String arg) {

    /** Thrown for text that is not one command. */
    public static final class SyntaxError extends Exception {
        SyntaxError(String message) {
            super(message);
        }
    }

    /** Null for an empty query (only blanks and semicolons). */
    public static AdminCommand parse(String sql) throws SyntaxError {
        String text = sql.strip();
        while (text.endsWith(";")) {
            text = text.substring(0, text.length() - 1).strip();
        }
        if (text.isEmpty()) {
            return null;
        }
        java.util.List<String> words = new java.util.ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '"') {
                StringBuilder w = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= text.length()) {
                        throw invalid(sql);
                    }
                    char d = text.charAt(j);
                    if (d == '"') {
                        if (j + 1 < text.length() && text.charAt(j + 1) == '"') {
                            w.append('"');
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    w.append(d);
                    j++;
                }
                words.add("\"" + w);
                i = j + 1;
            } else {
                int j = i;
                while (j < text.length() && isWordChar(text.charAt(j))) {
                    j++;
                }
                if (j == i) {
                    throw invalid(sql);
                }
                words.add(text.substring(i, j));
                i = j;
            }
        }
        String verb = bare(words.get(0), sql).toUpperCase(Locale.ROOT);
        int next = 1;
        String subject = null;
        if (verb.equals("SHOW")) {
            if (words.size() < 2) {
                throw invalid(sql);
            }
            subject = bare(words.get(1), sql).toUpperCase(Locale.ROOT);
            next = 2;
        }
        if (words.size() > next + 1) {
            throw invalid(sql);
        }
        String arg = words.size() == next + 1 ? argument(words.get(next)) : null;
        return new AdminCommand(verb, subject, arg);
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.';
    }

    private static String bare(String word, String sql) throws SyntaxError {
        if (word.startsWith("\"")) {
            throw invalid(sql);
        }
        return word;
    }

    private static String argument(String word) {
        return word.startsWith("\"") ? word.substring(1) : word;
    }

    static SyntaxError invalid(String sql) {
        return new SyntaxError("invalid command '" + sql.strip() + "', use SHOW HELP;");
    }
}
