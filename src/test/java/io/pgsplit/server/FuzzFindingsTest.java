package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import io.pgsplit.testing.LogCapture;
import io.pgsplit.testing.NettyLeaks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Regression tests for what {@link ProtocolFuzzTest} found, each the fuzzer's (shrunk) case replayed
 * with a raw client, against pgsplit in front of the real cluster.
 */
@ExtendWith(PgClusterExtension.class)
class FuzzFindingsTest {
    static RouterFixture router;
    static NettyLeaks leaks;
    static LogCapture logs;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        leaks = NettyLeaks.paranoid();
        logs = LogCapture.start();
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 4")
                .listen("startup_timeout: 3s, max_message_size: 1MB").start();
    }

    @AfterAll
    static void stop() {
        router.close();
        logs.close();
        leaks.close();
    }

    @AfterEach
    void noLeaksNoWarnings() throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (router.router().context().clientCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of(), leaks.leakReports(logs), "Netty buffer leaks");
        assertEquals(List.of(), logs.events(), "logged at WARN or above");
    }

    private Wire loggedIn() throws Exception {
        Wire w = new Wire(router.host(), router.port());
        w.loginTrust("trustuser", "app");
        return w;
    }

    static byte[] parse(String name, String sql) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Wire.writeCString(b, name);
        Wire.writeCString(b, sql);
        b.write(0);
        b.write(0);
        return Wire.typed('P', b.toByteArray());
    }

    static byte[] sync() {
        return Wire.typed('S', new byte[0]);
    }

    /** Message types read up to and including the {@code n}th ReadyForQuery. */
    static List<Character> readThroughReady(Wire w, int n) throws Exception {
        List<Character> types = new ArrayList<>();
        int seen = 0;
        while (seen < n) {
            Wire.Msg m = w.read();
            if (m.type() != 'S') { // ParameterStatus may come any time (pgsplit replays settings)
                types.add(m.type());
            }
            if (m.type() == 'Z') {
                seen++;
            }
        }
        return types;
    }

    /**
     * A named Parse without Sync, answered by pgsplit itself (the server connection already has the
     * statement), then a simple Query: the synthetic ParseComplete must reach the client, and what
     * follows must be answered.
     */
    @Test
    void parseWithoutSyncOfAStatementTheServerHasThenQuery() throws Exception {
        try (Wire w = loggedIn()) {
            w.send(parse("a", "SELECT 1 AS fuzz_known"));
            w.send(sync());
            assertEquals(List.of('1', 'Z'), readThroughReady(w, 1));
            w.send(parse("b", "SELECT 1 AS fuzz_known"));
            w.send(Wire.query(""));
            w.send(sync());
            w.send(Wire.query("SELECT 23063"));
            List<Character> types = readThroughReady(w, 3);
            assertEquals(List.of('1', 'I', 'Z', 'Z', 'T', 'D', 'C', 'Z'), types);
        }
    }

    /**
     * A read routed to a replica keeps its messages while in flight (it may be re-run on the primary);
     * the client breaking the protocol meanwhile must not leak them.
     */
    @Test
    void clientClosedWhileARetryableReadIsInFlight() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (Wire w = loggedIn()) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                b.writeBytes(Wire.query("SELECT pg_sleep(0.05)"));
                b.writeBytes(Wire.typed('B', new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 9})); // malformed Bind
                w.send(b.toByteArray());
                Map<Character, String> f = w.readError().fields();
                assertEquals("08P01", f.get('C'), f.toString());
                assertTrue(w.closedByPeer());
            }
        }
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    /** Sends {@code payload}, Sync and a probe query; returns the message types up to the probe's answer. */
    private List<Character> answersProbe(byte[] payload) throws Exception {
        try (Wire w = loggedIn()) {
            w.send(concat(payload, sync(), Wire.query("SELECT 23063")));
            List<Character> types = new ArrayList<>();
            while (true) {
                Wire.Msg m = w.read();
                types.add(m.type());
                if (m.type() == 'D' && new String(m.body(), StandardCharsets.UTF_8).endsWith("23063")) {
                    assertEquals('C', w.read().type());
                    assertEquals('Z', w.read().type());
                    return types;
                }
            }
        }
    }

    /** Found hanging once (not reproduced since): a Flush alone, then Parse/Query mixes without Sync. */
    @Test
    void flushAloneThenParsesAndQueriesWithoutSync() throws Exception {
        byte[] describe = Wire.typed('D', concat("Ss2".getBytes(StandardCharsets.US_ASCII), bytes(0xc0, 0x80, 0)));
        byte[] bind = Wire.typed('B', concat("nosuch".getBytes(), bytes(0), "s1".getBytes(), bytes(0, 0, 1, 0, 1, 0, 0, 0, 0)));
        byte[] badName = Wire.typed('P', concat(bytes(0xf4, 0x90, 0x80, 0), " ".getBytes(), bytes(0, 0, 0)));
        answersProbe(concat(Wire.typed('H', new byte[0]), badName, Wire.query("SELECT repeat('x', 20000)"),
                parse("", ""), Wire.query("SELECT repeat('x', 20000)"), bind, describe, parse("p1", "")));
    }

    /**
     * A BEGIN whose text is not valid UTF-8 is refused by PostgreSQL (22021). pgsplit answered it itself
     * (deferred BEGIN), then the server refused it when it went out with the next statement: the client
     * believed it was in a transaction while its statements ran in autocommit.
     */
    @Test
    void beginWithInvalidUtf8IsRefusedAsOnPostgres() throws Exception {
        try (Wire w = loggedIn()) {
            w.send(Wire.typed('Q', concat("BEGIN".getBytes(StandardCharsets.US_ASCII), bytes(0xed, 0xa0, 0x80, 0))));
            Map<Character, String> f = w.readError().fields();
            assertEquals("22021", f.get('C'), f.toString());
            assertEquals('I', (char) w.readUntil('Z').body()[0]);
        }
    }
}
