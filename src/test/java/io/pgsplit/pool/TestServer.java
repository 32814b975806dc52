package io.pgsplit.pool;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.topology.Node;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * The shared test cluster ({@link PgClusterExtension}) as the pool tests see it: {@link Node}s for
 * its servers and superuser queries on the primary.
 */
final class TestServer {
    private TestServer() {
    }

    static LocalPgCluster cluster() {
        return PgClusterExtension.cluster();
    }

    static String host() {
        return cluster().host();
    }

    static int port() {
        return cluster().primaryPort();
    }

    static Node primary() {
        return new Node(LocalPgCluster.PRIMARY, Node.Role.PRIMARY, host(), port(), 1, null);
    }

    static Node replica(String name) {
        return new Node(name, Node.Role.REPLICA, host(), cluster().port(name), 1, null);
    }

    static Connection superuser() throws Exception {
        LocalPgCluster c = cluster();
        return Jdbc.connect(c.host(), c.primaryPort(), PgClusterExtension.DB, c.superuser(), c.superuserPassword());
    }

    /** Server connections pgsplit has open on the primary (its startup sets application_name=pgsplit). */
    static int pgsplitConnections() throws Exception {
        try (Connection c = superuser(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgsplit'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static boolean terminate(int pid) throws Exception {
        try (Connection c = superuser(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(" + pid + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
