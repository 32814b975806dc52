package io.pgsplit.localpg;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Picks TCP ports that are free right now (the OS chooses them; a later bind may still collide, so callers retry). */
final class FreePorts {
    private FreePorts() {
    }

    /** {@code count} distinct free ports on {@code host}. */
    static List<Integer> pick(String host, int count) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            InetAddress address = InetAddress.getByName(host);
            List<Integer> ports = new ArrayList<>();
            // keep every socket open until all are picked so the OS cannot hand out the same port twice
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, address);
                held.add(socket);
                ports.add(socket.getLocalPort());
            }
            return ports;
        } catch (IOException e) {
            throw new PgClusterException("cannot find a free port on " + host + ": " + e, e);
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing a listening socket that was never used cannot meaningfully fail
                }
            }
        }
    }

    static int pickOne(String host) {
        return pick(host, 1).get(0);
    }
}
