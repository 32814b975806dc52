package io.pgsplit.session;

import io.pgsplit.admin.ClientView;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.protocol.SqlState;
import java.net.SocketAddress;

/**
 * A logged-in client as the admin console sees it (issue 16: SHOW CLIENTS, SHOW POOLS' client counts,
 * KILL_CLIENT). Read from the console's event loop: values are a recent view of the session's, not a locked one.
 */
final class ConsoleView implements ClientView {
    private final ClientSession s;

    ConsoleView(ClientSession session) {
        this.s = session;
    }

    @Override
    public long id() {
        return s.processId();
    }

    @Override
    public String user() {
        return s.userName;
    }

    @Override
    public String database() {
        return s.databaseName;
    }

    @Override
    public String state() {
        return s.waitingSinceNanos != 0 ? "waiting" : s.active != null ? "active" : "idle";
    }

    @Override
    public SocketAddress remoteAddress() {
        return s.channel.remoteAddress();
    }

    @Override
    public SocketAddress localAddress() {
        return s.channel.localAddress();
    }

    @Override
    public long connectedAtMillis() {
        return s.connectedAtMillis();
    }

    @Override
    public long lastRequestAtMillis() {
        return s.lastRequestAtMillis;
    }

    @Override
    public long waitingSinceNanos() {
        return s.waitingSinceNanos;
    }

    @Override
    public String applicationName() {
        // not s.currentApplicationName(): that caches in the session's fields, which only its own loop writes
        String v = s.params.get("application_name");
        if (v == null) {
            return s.startupApplicationName();
        }
        return v.length() >= 2 && v.startsWith("'") && v.endsWith("'") ? v.substring(1, v.length() - 1)
                .replace("''", "'") : v;
    }

    @Override
    public int preparedStatements() {
        return s.statements.namedCount();
    }

    @Override
    public ServerConnection server() {
        return s.active;
    }

    @Override
    public void kill(String reason) {
        s.loop.execute(() -> s.fatal(SqlState.ADMIN_SHUTDOWN, reason));
    }
}
