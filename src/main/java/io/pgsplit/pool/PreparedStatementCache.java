package io.pgsplit.pool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The prepared statements one server connection holds under pgsplit's own names, least recently
 * used first. Evicted names are remembered so the session can Close them on the server the next
 * time it writes to this connection.
 */
public final class PreparedStatementCache {
    private final int capacity;
    private final List<String> pendingCloses = new ArrayList<>();
    private final LinkedHashMap<String, Boolean> names = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            if (size() > capacity) {
                pendingCloses.add(eldest.getKey());
                return true;
            }
            return false;
        }
    };

    public PreparedStatementCache(int capacity) {
        this.capacity = Math.max(1, capacity);
    }

    /** True if present; marks it recently used. */
    public boolean contains(String serverName) {
        if (names.get(serverName) != null) {
            return true;
        }
        // Evicted but its Close not sent yet (that happens before the session's next unit): the server
        // still has it, and a new Parse of the name would fail with "already exists". Keep it instead.
        if (pendingCloses.remove(serverName)) {
            names.put(serverName, Boolean.TRUE);
            return true;
        }
        return false;
    }

    /**
     * Forgets every statement and queues a Close for each: after the server said one of them went stale
     * ("cached plan must not change result type", after DDL), later uses prepare them afresh.
     */
    public void closeAll() {
        pendingCloses.addAll(names.keySet());
        names.clear();
    }

    public void add(String serverName) {
        names.put(serverName, Boolean.TRUE);
    }

    public void remove(String serverName) {
        names.remove(serverName);
    }

    public int size() {
        return names.size();
    }

    /** Names evicted since the last call, to be closed on the server. */
    public List<String> drainPendingCloses() {
        if (pendingCloses.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>(pendingCloses);
        pendingCloses.clear();
        return out;
    }

    public void clear() {
        names.clear();
        pendingCloses.clear();
    }
}
