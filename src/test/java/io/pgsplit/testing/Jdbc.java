package io.pgsplit.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;

import io.pgsplit.localpg.LocalPgCluster;

/** Small pgjdbc helpers for tests. */
public final class Jdbc {
    private Jdbc() {
    }

    public static String url(String host, int port, String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** Opens a connection; {@code extra} are pgjdbc connection properties (e.g. {@code sslmode}, {@code preferQueryMode}). */
    public static Connection connect(String host, int port, String database, String user, String password,
                                     Map<String, String> extra) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("sslmode", "disable");
        props.putAll(extra);
        return DriverManager.getConnection(url(host, port, database), props);
    }

    public static Connection connect(String host, int port, String database, String user, String password) throws SQLException {
        return connect(host, port, database, user, password, Map.of());
    }

    /** A connection straight to one node of the cluster, bypassing any proxy. */
    public static Connection connect(LocalPgCluster cluster, String node, String database, String user, String password)
            throws SQLException {
        return connect(cluster.host(), cluster.port(node), database, user, password);
    }

    /** The first column of the first row of {@code sql}, or null when there is no row. */
    public static Object queryValue(Connection connection, String sql) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
        }
    }

    /** Connects, queries a single value, disconnects. */
    public static Object queryValue(String host, int port, String database, String user, String password, String sql)
            throws SQLException {
        try (Connection c = connect(host, port, database, user, password)) {
            return queryValue(c, sql);
        }
    }
}
