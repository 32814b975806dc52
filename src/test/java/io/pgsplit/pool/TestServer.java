package io.pgsplit.pool;

import io.pgsplit.cluster.Node;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * The PostgreSQL the pool tests run against, with the roles the cluster fixture defines (app/app
 * scram, md5user/md5pass md5, trustuser trust, plainuser/plainpass cleartext; database app;
 * superuser postgres trust). Host and port from -Dpgsplit.test.host / -Dpgsplit.test.port.
 */
final class TestServer {
    static final String HOST = System.getProperty("pgsplit.test.host", "127.0.0.1");
    static final int PORT = Integer.getInteger("pgsplit.test.port", 54871);

    private TestServer() {
    }

    static Node primary() {
        return new Node("primary", Node.Role.PRIMARY, HOST, PORT, 1, null);
    }

    static Connection superuser() throws Exception {
        return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + PORT + "/app", "postgres", "postgres");
    }

    /** Server connections pgsplit has open (its startup sets application_name=pgsplit). */
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
