package io.pgsplit.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postgresql.shaded.com.ongres.scram.client.ScramClient;
import org.postgresql.shaded.com.ongres.scram.common.StringPreparation;

/**
 * Our server side against the SCRAM client that pgjdbc (a real pgsplit client) ships, shaded in
 * its jar. A second implementation agreeing with ours is the interoperability evidence short of
 * a live PostgreSQL. The shaded package name is tied to the pgjdbc version pinned in pom.xml.
 */
class PgjdbcScramInteropTest {

    private static String runPgjdbcClientAgainst(ScramServerExchange server, String password) throws Exception {
        ScramClient client = ScramClient.builder()
                .advertisedMechanisms(List.of("SCRAM-SHA-256"))
                .username("*")   // what pgjdbc sends: PostgreSQL ignores it
                .password(password.toCharArray())
                // As pgjdbc's ScramAuthenticator configures it: SASLprep, raw bytes when that fails.
                .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION)
                .build();
        byte[] serverFirst = server.serverFirst(client.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8));
        client.serverFirstMessage(new String(serverFirst, StandardCharsets.UTF_8));
        byte[] serverFinal = server.serverFinal(client.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8));
        String serverFinalText = new String(serverFinal, StandardCharsets.UTF_8);
        client.serverFinalMessage(serverFinalText);   // throws if pgjdbc rejects our signature
        return serverFinalText;
    }

    @Test
    void pgjdbcClientLogsIn() throws Exception {
        runPgjdbcClientAgainst(new ScramServerExchange(ScramSecret.fromPassword("hunter2")), "hunter2");
        // Non-ASCII: both sides must SASLprep the same way.
        runPgjdbcClientAgainst(new ScramServerExchange(ScramSecret.fromPassword("pass\u00A0wörd")), "pass\u00A0wörd");
        // Passwords SASLprep rejects (private use, control, mixed bidi): both sides fall back to raw bytes.
        for (String password : new String[] {"a\uE000b", "é\u0007", "\u05D0a\u05D1", "\u2168\u00AD\uFB01"}) {
            runPgjdbcClientAgainst(new ScramServerExchange(ScramSecret.fromPassword(password)), password);
        }
    }

    @Test
    void pgjdbcClientWithWrongPasswordIsRejected() {
        AuthFailedException e = assertThrows(AuthFailedException.class,
                () -> runPgjdbcClientAgainst(new ScramServerExchange(ScramSecret.fromPassword("hunter2")), "hunter3"));
        assertEquals("invalid proof", e.getMessage());
    }
}
