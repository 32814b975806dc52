package io.pgsplit.session;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Session state a client created on its server connection that cannot be replayed on another one
 * (SQL PREPARE, session advisory locks, temporary tables, LISTEN, WITH HOLD cursors, LOAD, ...).
 * While any is held, the client keeps its server connection ("pinned"); once all of it is released
 * the client goes back to sharing.
 *
 * <p>Pins and unpins arrive as the classifier's descriptions, e.g. "PREPARE foo" / "DEALLOCATE foo",
 * "LISTEN ch" / "UNLISTEN *", "pg_advisory_lock" / "pg_advisory_unlock_all",
 * "CREATE TEMP TABLE t" / "DROP TABLE t", "DECLARE c WITH HOLD" / "CLOSE ALL". They are keyed as
 * (category, name) so that each release matches what it releases.
 */
final class SessionState {
    /** (category + '\0' + name) to how many times it is held. */
    private final Map<String, Integer> held = new HashMap<>();

    void pin(String what, boolean inTransaction) {
        held.merge(key(what), 1, Integer::sum);
    }

    void unpin(String what) {
        String k = key(what);
        String category = k.substring(0, k.indexOf('\0'));
        String name = k.substring(k.indexOf('\0') + 1);
        if (name.equals("*") || name.equals("all") || category.equals("advisory") && what.toLowerCase(Locale.ROOT)
                .contains("unlock_all")) {
            held.keySet().removeIf(x -> x.startsWith(category + '\0'));
            if (category.equals("temp") && name.equals("*")) {
                held.keySet().removeIf(x -> x.startsWith("temp\0"));
            }
            return;
        }
        if (category.equals("advisory")) {
            // Lock keys are not tracked; one unlock releases one lock.
            Iterator<Map.Entry<String, Integer>> it = held.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<String, Integer> e = it.next();
                if (e.getKey().startsWith("advisory\0")) {
                    if (e.getValue() <= 1) {
                        it.remove();
                    } else {
                        e.setValue(e.getValue() - 1);
                    }
                    return;
                }
            }
            return;
        }
        held.remove(k);
    }

    boolean pinned() {
        return !held.isEmpty();
    }

    boolean hasAny() {
        return !held.isEmpty();
    }

    void clear() {
        held.clear();
    }

    void transactionEnded(boolean committed) {
        // Kept on purpose even after a ROLLBACK: staying pinned a little longer is safe, unpinning early is not.
    }

    String describe() {
        return String.join(", ", held.keySet()).replace('\0', ' ');
    }

    /** Maps a description to (category, name). */
    static String key(String what) {
        String w = what.trim().toLowerCase(Locale.ROOT);
        String[] words = w.split("\\s+");
        String first = words[0];
        String last = words[words.length - 1];
        String category;
        String name;
        if (first.startsWith("pg_advisory") || first.startsWith("pg_try_advisory")) {
            category = "advisory";
            name = "lock";
        } else if (first.equals("prepare") || first.equals("deallocate") || first.equals("execute")) {
            category = "prepare";
            name = words.length > 1 ? (words[1].equals("prepare") && words.length > 2 ? words[2] : words[1]) : "*";
        } else if (first.equals("listen") || first.equals("unlisten")) {
            category = "listen";
            name = words.length > 1 ? words[1] : "*";
        } else if (first.equals("declare") || first.equals("close")) {
            category = "cursor";
            name = words.length > 1 ? words[1] : "*";
        } else if (w.contains("temp") && (first.equals("create") || first.equals("discard"))) {
            category = "temp";
            name = first.equals("discard") ? "*" : last;
        } else if (first.equals("drop")) {
            category = "temp";
            name = last;
        } else {
            category = first;
            name = w;
        }
        return category + '\0' + unquote(name);
    }

    private static String unquote(String s) {
        String n = s.replace("\"", "");
        int dot = n.lastIndexOf('.');
        return dot >= 0 && !n.startsWith("pg_") ? n.substring(dot + 1) : n;
    }
}
