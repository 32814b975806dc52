package io.pgsplit.route;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Everything the router may look at for one unit of client work: the statement and its
 * classification, who sent it, and the session's state.
 */
public record RouteRequest(String sql, String hintSql, List<StatementInfo> statements, boolean write, String reason,
                           Classification classification, String database, String user, String applicationName,
                           InetSocketAddress clientAddress, boolean inTransaction, String sessionRoute,
                           boolean readOnlyDefault, boolean serializableDefault, boolean pinned,
                           boolean functionCall) {

    public StatementKind firstKind() {
        return statements.isEmpty() ? StatementKind.EMPTY : statements.get(0).kind();
    }
}
