package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.LogCapture;
import io.pgsplit.testing.NettyLeaks;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Clients that vanish without a word (issue 18): a socket reset (SO_LINGER 0) or a psql process
 * killed with SIGKILL, mid-transaction, mid-query, mid-COPY, mid-pipeline (extended protocol without
 * Sync) and while queued for a connection. Within a second no backend on any server may still be in
 * the vanished client's transaction or statement (asked of {@code pg_stat_activity}), nothing it
 * started may have committed, and the next client is served cleanly. Pool size 1, so "the next
 * client" really gets the same pool slot.
 */
@ExtendWith(PgClusterExtension.class)
class VanishingClientsTest {
    static RouterFixture router;
    static LocalPgCluster cluster;
    static NettyLeaks leaks;
    static LogCapture logs;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        leaks = NettyLeaks.paranoid();
        logs = LogCapture.start();
        cluster.execute(PgClusterExtension.DB, "DROP TABLE IF EXISTS vanish_t; CREATE TABLE vanish_t (x int); "
                + "GRANT ALL ON vanish_t TO " + PgClusterExtension.TRUST_USER);
        cluster.waitForReplay();
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 1, query_wait_timeout: 20s").start();
    }

    @AfterAll
    static void stop() {
        router.close();
        logs.close();
        leaks.close();
    }

    @BeforeEach
    void empty() {
        cluster.execute(PgClusterExtension.DB, "TRUNCATE vanish_t");
    }

    @AfterEach
    void nextClientServedCleanly() throws Exception {
        try (Wire w = loggedIn("vanish-next")) {
            w.send(Wire.query("BEGIN; SELECT count(*) FROM vanish_t"));
            Wire.Msg row = w.readUntil('D');
            assertEquals("0", new String(row.body(), 6, row.body().length - 6, StandardCharsets.UTF_8),
                    "the vanished client's work committed");
            assertEquals('T', (char) w.readUntil('Z').body()[0]);
            w.send(Wire.query("COMMIT"));
            assertEquals('I', (char) w.readUntil('Z').body()[0]);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (router.router().context().clientCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of(), leaks.leakReports(logs), "Netty buffer leaks");
        assertEquals(List.of(), logs.events(), "logged at WARN or above");
    }

    private Wire loggedIn(String applicationName) throws Exception {
        Wire w = new Wire(router.host(), router.port());
        w.send(Wire.startupPacket(Map.of("user", PgClusterExtension.TRUST_USER, "database", "app",
                "application_name", applicationName)));
        w.readUntil('Z');
        return w;
    }

    /** Closes the socket with a TCP reset, as a killed process's kernel would for unread data. */
    private static void vanish(Wire w) throws Exception {
        w.socket.setSoLinger(true, 0);
        w.socket.close();
    }

    /**
     * Within one second no backend on any node is left busy for {@code applicationName}: neither in a
     * transaction nor running a statement (a statement of a vanished client must be cancelled, not
     * left to run to its end).
     */
    private void assertNothingLeftOpen(String applicationName) throws Exception {
        long start = System.nanoTime();
        for (String node : List.of("primary", "r1", "r2")) {
            try (Connection direct = router.direct(node)) {
                String busy;
                do {
                    busy = (String) Jdbc.queryValue(direct, "SELECT string_agg(pid || ' ' || state || ': ' || query, '; ') "
                            + "FROM pg_stat_activity WHERE application_name = '" + applicationName + "' "
                            + "AND state IS DISTINCT FROM 'idle' AND pid <> pg_backend_pid()");
                    if (busy != null) {
                        Thread.sleep(10);
                    }
                } while (busy != null && System.nanoTime() - start < 1_000_000_000L);
                assertTrue(busy == null, node + ": still open " + (System.nanoTime() - start) / 1_000_000
                        + " ms after the client vanished: " + busy);
            }
        }
    }

    @Test
    void midTransaction() throws Exception {
        Wire w = loggedIn("vanish-txn");
        w.send(Wire.query("BEGIN; INSERT INTO vanish_t VALUES (1)"));
        assertEquals('T', (char) w.readUntil('Z').body()[0]);
        vanish(w);
        assertNothingLeftOpen("vanish-txn");
    }

    @Test
    void midStatementInATransaction() throws Exception {
        Wire w = loggedIn("vanish-stmt");
        w.send(Wire.query("BEGIN; INSERT INTO vanish_t VALUES (1)"));
        w.readUntil('Z');
        w.send(Wire.query("SELECT pg_sleep(60)"));
        awaitActive("vanish-stmt", "pg_sleep");
        vanish(w);
        assertNothingLeftOpen("vanish-stmt");
    }

    @Test
    void midCopy() throws Exception {
        Wire w = loggedIn("vanish-copy");
        w.send(Wire.query("COPY vanish_t FROM STDIN"));
        assertEquals('G', w.read().type());
        w.send(Wire.typed('d', "1\n2\n3\n".getBytes(StandardCharsets.US_ASCII)));
        awaitActive("vanish-copy", "COPY");
        vanish(w);
        assertNothingLeftOpen("vanish-copy");
    }

    @Test
    void midPipelineWithoutSync() throws Exception {
        Wire w = loggedIn("vanish-pipe");
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(FuzzFindingsTest.parse("", "INSERT INTO vanish_t VALUES (1)"));
        b.writeBytes(Wire.typed('B', new byte[] {0, 0, 0, 0, 0, 0, 0, 0}));
        b.writeBytes(Wire.typed('E', new byte[] {0, 0, 0, 0, 0}));
        b.writeBytes(Wire.typed('H', new byte[0])); // Flush: the server runs it, in an implicit transaction
        w.send(b.toByteArray());
        assertEquals('1', w.read().type());
        assertEquals('2', w.read().type());
        assertEquals('C', w.read().type());
        // more of the pipeline, never synced: pgsplit holds these
        w.send(FuzzFindingsTest.parse("", "INSERT INTO vanish_t VALUES (2)"));
        vanish(w);
        assertNothingLeftOpen("vanish-pipe");
    }

    /** A psql killed with SIGKILL in a transaction, in the middle of a statement. */
    @Test
    void psqlKilledMidStatement() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-q", "postgresql://" + PgClusterExtension.TRUST_USER
                + "@127.0.0.1:" + router.port() + "/app?application_name=vanish-psql").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("PSQLRC", "/dev/null");
        Process psql = pb.start();
        try {
            OutputStream in = psql.getOutputStream();
            in.write("BEGIN;\nINSERT INTO vanish_t VALUES (7);\nSELECT pg_sleep(60);\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            awaitActive("vanish-psql", "pg_sleep");
        } finally {
            psql.destroyForcibly(); // SIGKILL
            assertTrue(psql.waitFor(10, TimeUnit.SECONDS));
        }
        assertNothingLeftOpen("vanish-psql");
    }

    /** Queued behind the pool's only connection, then gone: its statement never runs, the queue moves on. */
    @Test
    void whileQueuedForAConnection() throws Exception {
        try (Connection holder = router.connect(Map.of("ApplicationName", "vanish-holder"))) {
            // app's pool is separate from trustuser's: hold trustuser's one primary connection with a raw client
            // (logged in first: a client with start-up parameters not seen before needs a primary connection to log in)
            Wire queued = loggedIn("vanish-queued");
            Wire owner = loggedIn("vanish-owner");
            owner.send(Wire.query("BEGIN; SELECT 1 FROM vanish_t FOR UPDATE"));
            owner.readUntil('Z');
            queued.send(Wire.query("INSERT INTO vanish_t VALUES (3)"));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (waiting() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(1, waiting(), "the second client should be queued for the primary connection");
            vanish(queued);
            owner.send(Wire.query("COMMIT"));
            assertEquals('I', (char) owner.readUntil('Z').body()[0]);
            owner.close();
            assertNothingLeftOpen("vanish-queued");
            try (Statement st = holder.createStatement()) {
                st.execute("SELECT 1");
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (waiting() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, waiting(), "a vanished client is still queued");
    }

    private int waiting() {
        return router.router().server().pools().stats().stream().mapToInt(s -> s.waiting()).sum();
    }

    private void awaitActive(String applicationName, String queryPart) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        try (Connection direct = router.direct("primary")) {
            while (System.nanoTime() < deadline) {
                Object n = Jdbc.queryValue(direct, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                        + applicationName + "' AND state = 'active' AND query LIKE '%" + queryPart + "%'");
                if (((Number) n).intValue() > 0) {
                    return;
                }
                Thread.sleep(10);
            }
        }
        throw new AssertionError(applicationName + ": no active " + queryPart + " on the primary");
    }
}
