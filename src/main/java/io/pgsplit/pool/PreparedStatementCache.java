package io.pgsplit.pool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The prepared statements one server connection holds under pgsplit's own names, least recently
 * used first. Evicted names are remembered so the session can Close them on the server the next
 * time it writes to this connection.
 */
public final class PreparedStatementCache {
    private final int capacity;
    private final List<String> pendingCloses = new ArrayList<>();
    /**
     * Orders prepares across all connections and client statements: a server copy older than the
     * client's own Parse may have gone stale without the client knowing (see {@link #preparedAt}).
     */
    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** Server name to the {@link #nextSequence()} value of its Parse on this connection. */
    private final LinkedHashMap<String, Long> names = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
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
        return preparedAt(serverName) >= 0;
    }

    /**
     * When the copy was prepared on this connection ({@link #nextSequence()} order), or -1 if the
     * connection does not have it; marks it recently used.
     */
    public long preparedAt(String serverName) {
        Long at = names.get(serverName);
        if (at != null) {
            return at;
        }
        // Evicted but its Close not sent yet (that happens before the session's next unit): the server
        // still has it, and a new Parse of the name would fail with "already exists". Keep it instead.
        // Its age is unknown now: 0 says "older than any client statement".
        if (pendingCloses.remove(serverName)) {
            names.put(serverName, 0L);
            return 0L;
        }
        return -1;
    }

    /** The copy answered a Bind or Describe without error just now: it is as fresh as a new Parse. */
    public void revalidated(String serverName) {
        names.computeIfPresent(serverName, (k, v) -> nextSequence());
    }

    /** A number larger than any handed out before, to order prepares. */
    public static long nextSequence() {
        return SEQUENCE.incrementAndGet();
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
        names.put(serverName, nextSequence());
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
