package io.pgsplit.authquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.config.ConfigLoader;
import io.pgsplit.server.Pgsplit;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The seed's case: each application keeps its own table of users, and the auth query is a SECURITY DEFINER
 * function over it (safe search_path, EXECUTE granted only to the lookup role, which is not a superuser and
 * cannot read pg_authid). The lookup runs in the client's own database, so a user listed in one
 * application's table logs in to that database only.
 */
@ExtendWith(PgClusterExtension.class)
class AuthQueryFunctionTest {
    static final String SHOP = "aq_shop";
    static LocalPgCluster cluster;
    static Pgsplit router;

    /** What an operator runs in each application's database (docs/CONFIGURATION.md shows the same). */
    static final String FUNCTION_SQL = """
            CREATE SCHEMA auth_lookup;
            REVOKE ALL ON SCHEMA auth_lookup FROM PUBLIC;
            CREATE TABLE auth_lookup.app_users (name text PRIMARY KEY, password text NOT NULL);
            CREATE FUNCTION auth_lookup.lookup(user_name text, OUT name text, OUT password text)
                RETURNS SETOF record LANGUAGE sql STABLE SECURITY DEFINER
                SET search_path = pg_catalog, pg_temp
                AS $$ SELECT u.name, u.password FROM auth_lookup.app_users u WHERE u.name = user_name $$;
            REVOKE ALL ON FUNCTION auth_lookup.lookup(text) FROM PUBLIC;
            GRANT USAGE ON SCHEMA auth_lookup TO pgsplit_lookup;
            GRANT EXECUTE ON FUNCTION auth_lookup.lookup(text) TO pgsplit_lookup;
            """;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        c.execute("CREATE ROLE pgsplit_lookup LOGIN PASSWORD 'lookup-pw';\n"
                + "CREATE ROLE aq_alice LOGIN PASSWORD 'alice-pw';\n"
                + "CREATE ROLE aq_bob LOGIN PASSWORD 'bob-pw';\n"
                + "CREATE DATABASE " + SHOP + ";");
        c.execute("app", FUNCTION_SQL + "INSERT INTO auth_lookup.app_users "
                + "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = 'aq_alice';");
        c.execute(SHOP, FUNCTION_SQL + "INSERT INTO auth_lookup.app_users "
                + "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = 'aq_bob';");
        c.waitForReplay();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        StringBuilder y = new StringBuilder("listen: {host: 127.0.0.1, port: " + port + "}\ndatabases:\n");
        for (String db : List.of("app", SHOP)) {
            y.append("  ").append(db).append(":\n    primary: \"127.0.0.1:").append(c.primaryPort()).append("\"\n")
                    .append("    replicas:\n");
            for (int i = 0; i < c.replicaNames().size(); i++) {
                y.append("      - {name: ").append(c.replicaNames().get(i)).append(", host: 127.0.0.1, port: ")
                        .append(c.replicaPorts().get(i)).append("}\n");
            }
        }
        y.append("users:\n  app: {password: app}\n");
        y.append("auth_query:\n  query: \"SELECT name, password FROM auth_lookup.lookup($1)\"\n"
                + "  user: pgsplit_lookup\n  password: lookup-pw\n");
        router = Pgsplit.start(ConfigLoader.parse(y.toString(), "seed.yaml"));
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    static Connection connect(String db, String user, String password) throws SQLException {
        return Jdbc.connect("127.0.0.1", router.port(), db, user, password);
    }

    static void assertRefused(String db, String user, String password) {
        SQLException e = assertThrows(SQLException.class, () -> connect(db, user, password).close());
        assertEquals("28P01", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("password authentication failed for user \"" + user + "\""), e.getMessage());
    }

    @Test
    void eachApplicationsUsersLogInToTheirOwnDatabaseOnly() throws Exception {
        try (Connection c = connect("app", "aq_alice", "alice-pw")) {
            assertEquals("aq_alice", Jdbc.queryValue(c, "SELECT current_user"));
            assertEquals(true, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));
        }
        try (Connection c = connect(SHOP, "aq_bob", "bob-pw")) {
            assertEquals(SHOP, Jdbc.queryValue(c, "SELECT current_database()"));
            c.setAutoCommit(false);
            assertEquals(false, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));
            c.commit();
        }
        assertRefused(SHOP, "aq_alice", "alice-pw");   // not in the shop's table
        assertRefused("app", "aq_bob", "bob-pw");      // not in app's table
        assertRefused("app", "aq_alice", "bob-pw");
    }

    @Test
    void aDatabaseCanHaveItsOwnQuery() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String yaml = "listen: {host: 127.0.0.1, port: " + port + "}\n"
                + "databases:\n  app:\n    primary: \"127.0.0.1:" + cluster.primaryPort() + "\"\n"
                + "    auth_query: \"SELECT name, password FROM auth_lookup.lookup($1) WHERE name <> 'aq_alice'\"\n"
                + "users:\n  app: {password: app}\n"
                + "auth_query:\n  query: \"SELECT name, password FROM auth_lookup.lookup($1)\"\n"
                + "  user: pgsplit_lookup\n  password: lookup-pw\n";
        try (Pgsplit own = Pgsplit.start(ConfigLoader.parse(yaml, "override.yaml"))) {
            SQLException e = assertThrows(SQLException.class,
                    () -> Jdbc.connect("127.0.0.1", own.port(), "app", "aq_alice", "alice-pw").close());
            assertEquals("28P01", e.getSQLState(), "the database's own query excludes aq_alice");
        }
    }

    @Test
    void theLookupRoleCannotReadPgAuthidItself() throws Exception {
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Connection c = Jdbc.connect(cluster, "primary", "app", "pgsplit_lookup", "lookup-pw")) {
                Jdbc.queryValue(c, "SELECT rolpassword FROM pg_authid LIMIT 1");
            }
        });
        assertEquals("42501", e.getSQLState());
    }
}
