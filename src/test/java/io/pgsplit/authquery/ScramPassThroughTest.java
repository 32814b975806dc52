package io.pgsplit.authquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.auth.ScramSecret;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Users configured with only a hash (SCRAM verifier or md5) and no server_password: pgsplit logs in to the
 * servers with the client's own SCRAM keys (or the md5 hash), on the primary and on the replicas; when the
 * servers hold another secret (other salt) the error says so.
 */
@ExtendWith(PgClusterExtension.class)
class ScramPassThroughTest {
    static RouterFixture router;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        c.execute("CREATE ROLE pt_scram LOGIN PASSWORD 'pt-pw';\n"
                + "CREATE ROLE pt_other_salt LOGIN PASSWORD 'same-pw';\n"
                + "SET password_encryption = 'md5'; CREATE ROLE pt_md5 LOGIN PASSWORD 'md5-pw';");
        c.waitForReplay();
        String verifier = c.query("primary", "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'pt_scram'");
        String md5 = c.query("primary", "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'pt_md5'");
        String otherSalt = ScramSecret.fromPassword("same-pw").toVerifier();   // same password, new salt
        router = RouterFixture.builder(c).users(
                "  pt_scram: {password: \"" + verifier + "\"}\n"
                + "  pt_md5: {auth: md5, password: \"" + md5 + "\"}\n"
                + "  pt_other_salt: {password: \"" + otherSalt + "\"}\n").start();
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    @Test
    void scramVerifierWithoutServerPasswordLogsInToPrimaryAndReplicas() throws Exception {
        assertEquals(null, router.config().users().get("pt_scram").serverPassword());
        try (Connection c = Jdbc.connect(router.host(), router.port(), "app", "pt_scram", "pt-pw")) {
            assertEquals(true, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));
            assertEquals(true, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));   // the other replica too
            c.setAutoCommit(false);
            assertEquals(false, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));
            c.commit();
        }
    }

    @Test
    void md5HashWithoutServerPassword() throws Exception {
        try (Connection c = Jdbc.connect(router.host(), router.port(), "app", "pt_md5", "md5-pw")) {
            assertEquals("pt_md5", Jdbc.queryValue(c, "SELECT current_user"));
        }
    }

    @Test
    void anotherSaltOnTheServerIsNamed() {
        SQLException e = assertThrows(SQLException.class,
                () -> Jdbc.connect(router.host(), router.port(), "app", "pt_other_salt", "same-pw").close());
        assertTrue(e.getMessage().contains("the server's SCRAM secret for this user differs"), e.getMessage());
    }
}
