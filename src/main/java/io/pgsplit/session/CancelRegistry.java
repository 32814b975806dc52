package io.pgsplit.session;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BackendKeyData pgsplit gives each client: a random process id and secret (unguessable), and
 * the way back from a CancelRequest carrying them to the client's session.
 */
public final class CancelRegistry {
    private record Entry(int secret, ClientSession session) {
    }

    private final SecureRandom random = new SecureRandom();
    private final ConcurrentHashMap<Integer, Entry> sessions = new ConcurrentHashMap<>();
    /** Issue 16, peering: this instance's id, carried in bits 20-30 of the process ids it hands out; 0 = none. */
    private volatile int peerId;
    private static final int PEER_SHIFT = 20;

    void peerId(int id) {
        this.peerId = id;
    }

    /** The peer id a process id carries (0 when handed out without peering). */
    static int peerOf(int pid) {
        return pid >>> PEER_SHIFT;
    }

    int register(ClientSession session) {
        while (true) {
            int pid = peerId == 0 ? random.nextInt(Integer.MAX_VALUE - 1) + 1
                    : peerId << PEER_SHIFT | random.nextInt(1 << PEER_SHIFT);
            if (sessions.putIfAbsent(pid, new Entry(random.nextInt(), session)) == null) {
                return pid;
            }
        }
    }

    int secretOf(int pid) {
        Entry e = sessions.get(pid);
        return e == null ? 0 : e.secret;
    }

    void unregister(int pid) {
        sessions.remove(pid);
    }

    /** Forwards a cancel to the session holding this key; a wrong key does nothing (as in PostgreSQL). */
    void cancel(int pid, int secret) {
        Entry e = sessions.get(pid);
        if (e != null && e.secret == secret) {
            e.session.cancelRequested();
        }
    }

    /** Every logged-in client, for the admin console and the metrics. */
    public java.util.List<io.pgsplit.admin.ClientView> clients() {
        java.util.List<io.pgsplit.admin.ClientView> out = new java.util.ArrayList<>(sessions.size());
        for (Entry e : sessions.values()) {
            out.add(new ConsoleView(e.session));
        }
        return out;
    }

    public int size() {
        return sessions.size();
    }
}
