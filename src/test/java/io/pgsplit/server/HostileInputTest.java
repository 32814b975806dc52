package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Raw socket clients sending what no driver would. Each gets a FATAL ErrorResponse with SQLSTATE
 * 08P01 where the protocol allows one, its connection is closed, and pgsplit goes on serving
 * everybody else (checked after every test with pgjdbc).
 */
@ExtendWith(PgClusterExtension.class)
class HostileInputTest {
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 5")
                .listen("startup_timeout: 1s, max_message_size: 1MB").start();
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    @AfterEach
    void routerStillServes() throws Exception {
        try (Connection c = router.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 41 + 1")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1));
        }
    }

    private Wire open() throws IOException {
        return new Wire(router.host(), router.port());
    }

    /** Reads a FATAL 08P01 ErrorResponse, then expects the connection to close. */
    private static Map<Character, String> expectProtocolViolation(Wire w) throws IOException {
        Wire.Msg m = w.readError();
        Map<Character, String> f = m.fields();
        assertEquals("08P01", f.get('C'), f.toString());
        assertEquals("FATAL", f.get('S'), f.toString());
        assertEquals("FATAL", f.get('V'), f.toString());
        assertTrue(w.closedByPeer(), "connection left open");
        return f;
    }

    /** A logged-in raw connection (trustuser: no password), at ReadyForQuery. */
    private Wire loggedIn() throws IOException {
        Wire w = open();
        w.loginTrust("trustuser", "app");
        return w;
    }

    @Test
    void garbageBytes() throws Exception {
        try (Wire w = open()) {
            w.send("GET / HTTP/1.1\r\nHost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            Map<Character, String> f = expectProtocolViolation(w);
            assertTrue(f.get('M').contains("invalid length of startup packet"), f.toString());
        }
        try (Wire w = loggedIn()) {
            byte[] junk = new byte[64];
            Arrays.fill(junk, (byte) 0xFF);
            w.send(junk);
            expectProtocolViolation(w);
        }
    }

    @Test
    void startupLengthOverTheLimit() throws Exception {
        try (Wire w = open()) {
            w.send(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 3, 0, 0});
            expectProtocolViolation(w);
        }
    }

    @Test
    void messageLengthOverTheLimitIsRefusedWithoutWaitingForIt() throws Exception {
        try (Wire w = loggedIn()) {
            w.send(new byte[] {'Q', 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'S', 'E', 'L'});
            Map<Character, String> f = expectProtocolViolation(w);
            assertTrue(f.get('M').contains("over the limit"), f.toString());
        }
        // a negative length, too
        try (Wire w = loggedIn()) {
            w.send(new byte[] {'Q', (byte) 0x80, 0, 0, 0});
            expectProtocolViolation(w);
        }
    }

    @Test
    void truncatedMessageThenClose() throws Exception {
        try (Wire w = loggedIn()) {
            byte[] q = Wire.query("SELECT 'this message is cut short'");
            w.send(Arrays.copyOf(q, q.length / 2));
            w.socket.shutdownOutput();
            assertTrue(w.closedByPeer());
        }
        // in a transaction, on the primary: the server connection must not stay in it
        try (Wire w = loggedIn()) {
            w.send(Wire.query("BEGIN; CREATE TEMP TABLE hostile_t (x int)"));
            assertEquals('T', (char) w.readUntil('Z').body()[0]);
            byte[] q = Wire.query("INSERT INTO hostile_t VALUES (1)");
            w.send(Arrays.copyOf(q, q.length - 3));
        }
        try (Connection direct = router.direct("primary")) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            int n;
            do {
                n = ((Number) io.pgsplit.testing.Jdbc.queryValue(direct, "SELECT count(*) FROM pg_stat_activity "
                        + "WHERE usename = 'trustuser' AND state LIKE 'idle in transaction%'")).intValue();
                if (n > 0) {
                    Thread.sleep(20);
                }
            } while (n > 0 && System.nanoTime() < deadline);
            assertEquals(0, n, "a server connection stayed in the abandoned transaction");
        }
    }

    @Test
    void unknownMessageTypeAfterLogin() throws Exception {
        try (Wire w = loggedIn()) {
            w.send(Wire.typed('z', new byte[] {1, 2, 3}));
            Map<Character, String> f = expectProtocolViolation(w);
            assertTrue(f.get('M').contains("invalid frontend message type"), f.toString());
        }
    }

    @Test
    void startupAndQuerySentByteByByte() throws Exception {
        try (Wire w = open()) {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("user", "trustuser");
            p.put("database", "app");
            p.put("application_name", "slowpoke");
            for (byte b : Wire.startupPacket(p)) {
                w.send(new byte[] {b});
                Thread.sleep(2); // pace the bytes so they arrive in separate reads
            }
            Wire.Msg auth = w.read();
            assertEquals('R', auth.type());
            assertEquals(0, auth.int32(0));
            w.readUntil('Z');
            for (byte b : Wire.query("SELECT current_setting('application_name')")) {
                w.send(new byte[] {b});
                Thread.sleep(2);
            }
            Wire.Msg row = w.readUntil('D');
            String value = new String(row.body(), 6, row.body().length - 6, StandardCharsets.UTF_8);
            assertEquals("slowpoke", value);
            w.readUntil('Z');
            w.send(Wire.typed('X', new byte[0]));
            assertTrue(w.closedByPeer());
        }
    }

    @Test
    void clientThatNeverFinishesStartupTimesOut() throws Exception {
        // nothing at all
        try (Wire w = open()) {
            Map<Character, String> f = expectProtocolViolation(w);
            assertTrue(f.get('M').contains("not completed"), f.toString());
        }
        // half a start-up packet
        try (Wire w = open()) {
            byte[] s = Wire.startupPacket(Map.of("user", "app", "database", "app"));
            w.send(Arrays.copyOf(s, s.length - 5));
            expectProtocolViolation(w);
        }
        // a start-up packet, then no answer to the password request
        try (Wire w = open()) {
            w.send(Wire.startupPacket(Map.of("user", "app", "database", "app")));
            assertEquals('R', w.read().type());
            expectProtocolViolation(w);
        }
    }

    @Test
    void sslAndGssEncRequestsAreDeclined() throws Exception {
        for (int code : new int[] {80877103, 80877104}) {
            try (Wire w = open()) {
                w.send(Wire.untyped(code, new byte[0]));
                assertEquals('N', w.readByte());
                // the client may go on in the clear on the same connection
                w.loginTrust("trustuser", "app");
                w.send(Wire.query("SELECT 1"));
                w.readUntil('D');
                w.readUntil('Z');
            }
        }
    }

    @Test
    void wrongMessageDuringAuthentication() throws Exception {
        try (Wire w = open()) {
            w.send(Wire.startupPacket(Map.of("user", "app", "database", "app")));
            assertEquals('R', w.read().type());
            w.send(Wire.query("SELECT 1"));
            expectProtocolViolation(w);
        }
    }

    @Test
    void unsupportedProtocolVersion() throws Exception {
        byte[] packet = Wire.startupPacket(Map.of("user", "app"));
        ByteBuffer.wrap(packet).putInt(4, 4 << 16); // protocol 4.0 (2.0 gets an error in 2.0's own format)
        Map<Character, String> postgres;
        try (Wire w = new Wire(cluster.host(), cluster.primaryPort())) {
            w.send(packet);
            postgres = w.readError().fields();
        }
        try (Wire w = open()) {
            w.send(packet);
            Map<Character, String> f = w.readError().fields();
            assertEquals("0A000", postgres.get('C'), postgres.toString());
            assertEquals(postgres.get('C'), f.get('C'), f.toString());
            assertTrue(w.closedByPeer());
        }
    }

    @Test
    void malformedMessageBodies() throws Exception {
        byte[][] bad = {
                Wire.typed('Q', "SELECT 1 without terminator".getBytes(StandardCharsets.US_ASCII)),
                Wire.typed('P', new byte[] {'s', 0, 'S', 'E', 'L'}),
                Wire.typed('B', new byte[] {0, 0, 0, 5}),
                Wire.typed('D', new byte[] {'S'}),
                Wire.typed('E', new byte[] {0, 0}),
                Wire.typed('C', new byte[] {'S'}),
        };
        for (byte[] m : bad) {
            try (Wire w = loggedIn()) {
                w.send(m);
                w.send(Wire.typed('S', new byte[0]));
                Map<Character, String> f = w.readError().fields();
                String what = (char) m[0] + ": " + f;
                assertTrue(f.get('C').equals("08P01") || f.get('C').startsWith("26") || f.get('C').startsWith("42"),
                        what);
                assertTrue(!f.get('C').startsWith("XX"), what);
                // either a FATAL close, or an ordinary error and the session goes on
                if ("FATAL".equals(f.get('V'))) {
                    assertTrue(w.closedByPeer(), what);
                } else {
                    w.readUntil('Z');
                    w.send(Wire.query("SELECT 1"));
                    w.readUntil('D');
                    w.readUntil('Z');
                }
            }
            routerStillServes();
        }
    }
}
