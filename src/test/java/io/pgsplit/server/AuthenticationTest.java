package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.util.PSQLException;

/**
 * Logging in through pgsplit with right and wrong credentials gives what PostgreSQL itself gives:
 * the same success or failure, the same SQLSTATE and message.
 */
@ExtendWith(PgClusterExtension.class)
class AuthenticationTest {
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        router = RouterFixture.builder(c).pool("pool_mode: session, pool_size: 5").start();
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    /** Either "ok <user>" or "<SQLSTATE> <message>". */
    private static String outcome(String host, int port, String database, String user, String password) {
        try (Connection c = Jdbc.connect(host, port, database, user, password)) {
            return "ok " + Jdbc.queryValue(c, "SELECT current_user");
        } catch (PSQLException e) {
            assertNotNull(e.getServerErrorMessage(), "no ErrorResponse: " + e);
            return e.getSQLState() + " " + e.getServerErrorMessage().getMessage();
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "{0} / {1} / {2}")
    @CsvSource(nullValues = "NULL", value = {
            "app,       app,       app,  ok app",
            "app,       wrong,     app,  28P01 password authentication failed for user \"app\"",
            "md5user,   md5pass,   app,  ok md5user",
            "md5user,   wrong,     app,  28P01 password authentication failed for user \"md5user\"",
            "trustuser, NULL,      app,  ok trustuser",
            "trustuser, anything,  app,  ok trustuser",
            "plainuser, plainpass, app,  ok plainuser",
            "plainuser, wrong,     app,  28P01 password authentication failed for user \"plainuser\"",
            "nosuchuser, x,        app,  28P01 password authentication failed for user \"nosuchuser\"",
            "app,       app,       nosuchdb, 3D000 database \"nosuchdb\" does not exist",
    })
    void sameOutcomeAsPostgres(String user, String password, String database, String expected) {
        String direct = outcome(cluster.host(), cluster.primaryPort(), database, user, password);
        String viaRouter = outcome(router.host(), router.port(), database, user, password);
        assertEquals(expected, direct, "PostgreSQL itself");
        assertEquals(direct, viaRouter, "through pgsplit");
    }
}
