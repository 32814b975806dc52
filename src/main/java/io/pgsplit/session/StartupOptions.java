package io.pgsplit.session;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parses the {@code options} start-up parameter the way PostgreSQL does: words separated by
 * spaces, a backslash escapes the next character, and {@code -c name=value} or {@code --name=value}
 * set parameters. Other switches are ignored, as pgsplit cannot apply them per client.
 */
final class StartupOptions {
    private StartupOptions() {
    }

    static Map<String, String> parse(String options) {
        Map<String, String> out = new LinkedHashMap<>();
        java.util.List<String> words = new java.util.ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean escape = false;
        for (char ch : options.toCharArray()) {
            if (escape) {
                w.append(ch);
                escape = false;
            } else if (ch == '\\') {
                escape = true;
            } else if (Character.isWhitespace(ch)) {
                if (w.length() > 0) {
                    words.add(w.toString());
                    w.setLength(0);
                }
            } else {
                w.append(ch);
            }
        }
        if (w.length() > 0) {
            words.add(w.toString());
        }
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            String setting = null;
            if (word.equals("-c") && i + 1 < words.size()) {
                setting = words.get(++i);
            } else if (word.startsWith("-c")) {
                setting = word.substring(2);
            } else if (word.startsWith("--")) {
                setting = word.substring(2);
            }
            if (setting != null) {
                int eq = setting.indexOf('=');
                if (eq > 0) {
                    out.put(setting.substring(0, eq).replace('-', '_').toLowerCase(), setting.substring(eq + 1));
                }
            }
        }
        return out;
    }
}
