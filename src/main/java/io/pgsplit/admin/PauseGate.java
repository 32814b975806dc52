package io.pgsplit.admin;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * PAUSE, RESUME, DISABLE and ENABLE state. A paused database (or everything, after a PAUSE without a name) holds
 * each client's next transaction before it takes a server connection; RESUME lets them go on their own event
 * loops. Nothing fails and no event loop waits. Clients checking cost one volatile read while nothing is paused.
 */
public final class PauseGate {
    private volatile boolean anyPaused;
    // guarded by this
    private boolean allPaused;
    private final Set<String> paused = new HashSet<>();
    private final Set<String> disabled = new HashSet<>();
    private final List<Held> held = new ArrayList<>();

    private record Held(String database, EventLoop loop, Runnable resume) {
    }

    /**
     * Whether a client of {@code database} must wait before it takes a server connection; if so {@code resume} runs
     * on {@code loop} at RESUME (once per call that returned true).
     */
    public boolean holdIfPaused(String database, EventLoop loop, Runnable resume) {
        if (!anyPaused) {
            return false;
        }
        synchronized (this) {
            if (!isPaused(database)) {
                return false;
            }
            held.add(new Held(database, loop, resume));
            return true;
        }
    }

    public synchronized boolean isPaused(String database) {
        return allPaused || paused.contains(database);
    }

    public synchronized boolean allPaused() {
        return allPaused;
    }

    /** Pauses one database, or all when {@code database} is null. */
    public synchronized void pause(String database) {
        if (database == null) {
            allPaused = true;
        } else {
            paused.add(database);
        }
        anyPaused = true;
    }

    /** Resumes one database, or all (and every single one) when null; held clients go on. */
    public void resume(String database) {
        List<Held> go = new ArrayList<>();
        synchronized (this) {
            if (database == null) {
                allPaused = false;
                paused.clear();
            } else {
                paused.remove(database);
            }
            anyPaused = allPaused || !paused.isEmpty();
            held.removeIf(h -> {
                if (!isPaused(h.database)) {
                    go.add(h);
                    return true;
                }
                return false;
            });
        }
        go.forEach(h -> h.loop.execute(h.resume));
    }

    /** Clients held now, for {@code database} (all when null). */
    public synchronized int heldCount(String database) {
        return (int) held.stream().filter(h -> database == null || h.database.equals(database)).count();
    }

    public synchronized void disable(String database) {
        disabled.add(database);
    }

    public synchronized void enable(String database) {
        disabled.remove(database);
    }

    /** DISABLE: new clients of this database are refused. */
    public synchronized boolean isDisabled(String database) {
        return disabled.contains(database);
    }
}
