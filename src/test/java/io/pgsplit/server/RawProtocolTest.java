package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Legal message sequences no common driver sends, on a raw socket, compared message type by message
 * type with what PostgreSQL itself answers.
 */
@ExtendWith(PgClusterExtension.class)
class RawProtocolTest {
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 5").start();
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    static byte[] parse(String name, String sql) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Wire.writeCString(b, name);
        Wire.writeCString(b, sql);
        b.write(0);
        b.write(0);
        return Wire.typed('P', b.toByteArray());
    }

    static byte[] bind(String portal, String stmt) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Wire.writeCString(b, portal);
        Wire.writeCString(b, stmt);
        b.writeBytes(new byte[] {0, 0, 0, 0, 0, 0});
        return Wire.typed('B', b.toByteArray());
    }

    static byte[] describe(char kind, String name) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(kind);
        Wire.writeCString(b, name);
        return Wire.typed('D', b.toByteArray());
    }

    static byte[] execute(String portal, int maxRows) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Wire.writeCString(b, portal);
        Wire.writeInt(b, maxRows);
        return Wire.typed('E', b.toByteArray());
    }

    static byte[] close(char kind, String name) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(kind);
        Wire.writeCString(b, name);
        return Wire.typed('C', b.toByteArray());
    }

    static final byte[] SYNC = Wire.typed('S', new byte[0]);
    static final byte[] FLUSH = Wire.typed('H', new byte[0]);

    /** The scenario's messages, in rounds: each round is sent, then replies are read up to its stop type. */
    private static List<String> run(String host, int port, String scenario) throws IOException {
        List<String> seen = new ArrayList<>();
        try (Wire w = new Wire(host, port)) {
            w.send(Wire.startupPacket(Map.of("user", "trustuser", "database", "app")));
            w.readUntil('Z');
            switch (scenario) {
                case "flush" -> {
                    w.send(concat(parse("", "SELECT 1 AS one"), bind("", ""), describe('P', ""), execute("", 0), FLUSH));
                    seen.addAll(readTypes(w, 'C'));
                    w.send(SYNC);
                    seen.addAll(readTypes(w, 'Z'));
                }
                case "errorSkipsToSync" -> {
                    w.send(concat(parse("", "SELEC nonsense"), bind("", ""), execute("", 0), SYNC));
                    seen.addAll(readTypes(w, 'Z'));
                    w.send(concat(parse("", "SELECT 2"), bind("", ""), execute("", 0), SYNC));
                    seen.addAll(readTypes(w, 'Z'));
                }
                case "namedStatement" -> {
                    w.send(concat(parse("s1", "SELECT $1::int + 1"), describe('S', "s1"), SYNC));
                    seen.addAll(readTypes(w, 'Z'));
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    Wire.writeCString(b, "");
                    Wire.writeCString(b, "s1");
                    b.writeBytes(new byte[] {0, 0, 0, 1, 0, 0, 0, 1, '4', 0, 0});
                    w.send(concat(Wire.typed('B', b.toByteArray()), execute("", 0), close('S', "s1"), SYNC));
                    seen.addAll(readTypes(w, 'Z'));
                    w.send(concat(bind("", "s1"), execute("", 0), SYNC)); // closed: 26000
                    seen.addAll(readTypes(w, 'Z'));
                }
                case "portalSuspended" -> {
                    w.send(Wire.query("BEGIN"));
                    seen.addAll(readTypes(w, 'Z'));
                    w.send(concat(parse("", "SELECT generate_series(1, 5)"), bind("p", ""), execute("p", 2), SYNC));
                    seen.addAll(readTypes(w, 'Z'));
                    w.send(concat(execute("p", 2), execute("p", 0), close('P', "p"), SYNC));
                    seen.addAll(readTypes(w, 'Z'));
                    w.send(Wire.query("COMMIT"));
                    seen.addAll(readTypes(w, 'Z'));
                }
                case "emptyQuery" -> {
                    w.send(Wire.query(""));
                    seen.addAll(readTypes(w, 'Z'));
                    w.send(Wire.query(";"));
                    seen.addAll(readTypes(w, 'Z'));
                    w.send(concat(parse("", ""), bind("", ""), execute("", 0), SYNC));
                    seen.addAll(readTypes(w, 'Z'));
                }
                default -> throw new IllegalArgumentException(scenario);
            }
        }
        return seen;
    }

    private static List<String> readTypes(Wire w, char stop) throws IOException {
        List<String> types = new ArrayList<>();
        while (true) {
            Wire.Msg m = w.read();
            if (m.type() == 'N' || m.type() == 'S') {
                continue; // notices and parameter changes are not the point here
            }
            String t = String.valueOf(m.type());
            if (m.type() == 'E') {
                t += m.fields().get('C');
            } else if (m.type() == 'Z') {
                t += (char) m.body()[0];
            } else if (m.type() == 'C') {
                t += ":" + new String(m.body(), 0, m.body().length - 1);
            }
            types.add(t);
            if (m.type() == stop) {
                return types;
            }
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"flush", "errorSkipsToSync", "namedStatement", "portalSuspended", "emptyQuery"})
    void sameRepliesAsPostgres(String scenario) throws Exception {
        List<String> postgres = run(cluster.host(), cluster.primaryPort(), scenario);
        List<String> pgsplit = run(router.host(), router.port(), scenario);
        assertEquals(postgres, pgsplit);
    }
}
