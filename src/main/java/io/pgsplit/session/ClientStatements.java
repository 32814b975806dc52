package io.pgsplit.session;

import io.pgsplit.route.StatementInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The statements and portals one client created with the extended protocol, by the client's names.
 * On servers the named statements live under pgsplit's shared names ({@link ClientStatement#serverName()}).
 */
final class ClientStatements {
    private final Map<String, ClientStatement> named = new HashMap<>();
    /** The statements each portal runs, for their session effects as Executes complete. */
    private final Map<String, List<StatementInfo>> portals = new HashMap<>();
    /** The last unnamed Parse, so a later Bind of the unnamed statement can be re-prepared elsewhere. */
    private ClientStatement unnamed;

    /** The client's statement {@code name} ("" is the unnamed one), or null. */
    ClientStatement lookup(String name) {
        return name.isEmpty() ? unnamed : named.get(name);
    }

    /** The client's named statement {@code name}, or null. */
    ClientStatement named(String name) {
        return named.get(name);
    }

    void add(ClientStatement st) {
        if (st.name().isEmpty()) {
            unnamed = st;
        } else {
            named.put(st.name(), st);
        }
    }

    /** Forgets a named statement; returns it, or null if the client had none by that name. */
    ClientStatement remove(String name) {
        return named.remove(name);
    }

    /** DEALLOCATE ALL, DISCARD ALL: every named statement goes. */
    void removeAllNamed() {
        named.clear();
    }

    void bindPortal(String portal, List<StatementInfo> statements) {
        portals.put(portal, statements);
    }

    List<StatementInfo> portal(String portal) {
        return portals.getOrDefault(portal, List.of());
    }

    void closePortal(String portal) {
        portals.remove(portal);
    }

    /** Named statements the client has (issue 16: SHOW CLIENTS; read from another thread, approximate). */
    int namedCount() {
        return named.size();
    }
}
