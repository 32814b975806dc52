package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgsplit.auth.ScramClientExchange;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.LogCapture;
import io.pgsplit.testing.NettyLeaks;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the client-facing protocol (issue 18), against pgsplit running in front of
 * the real test cluster. Three families of hostile clients:
 * <ul>
 *   <li>{@link #startupPhase}: random and mutated start-up packets, SSL/GSSENC/cancel requests with
 *       right and wrong lengths, unknown protocol codes, repeated requests;</li>
 *   <li>{@link #afterLogin}: a logged-in client sending every frontend message type with random,
 *       truncated, oversized or invalid-UTF-8 fields, and messages with wrong length fields, COPY
 *       messages out of place, messages after Terminate. Well-framed sequences are replayed against
 *       PostgreSQL itself first: where PostgreSQL answers a final probe query (or closes), pgsplit
 *       must answer it too (or close); it never hangs where PostgreSQL does not;</li>
 *   <li>{@link #scramExchange}: SCRAM messages valid, mutated, out of order or repeated, a second
 *       StartupMessage in the middle of SCRAM, queries and Terminate during authentication.</li>
 * </ul>
 * Every try asserts that what pgsplit sent is well-formed protocol, that no ErrorResponse is an
 * internal error (XX...), that an error ends the connection when it is FATAL, and that pgsplit closes
 * the connection once the client has (no half-dead sessions), and that an existing pgjdbc connection
 * still works. After each property: a fresh pgjdbc client works, pgsplit logged nothing at WARN or
 * above, paranoid Netty leak detection reported nothing, no client session is left, and no server
 * backend is left in a transaction.
 *
 * <p>Budget: {@code jqwik.tries.default} (src/test/resources/junit-platform.properties: a few tens of
 * seconds in CI). A longer run:
 * {@code mvn -B -o verify -Dtest=ProtocolFuzzTest -Djqwik.tries.default=3000 -Dsurefire.failIfNoSpecifiedTests=false}
 */
class ProtocolFuzzTest {
    private static final int PROBE = 0x5a17;
    private static LocalPgCluster cluster;
    private static RouterFixture router;
    private static LogCapture logs;
    private static NettyLeaks leaks;
    private static Connection healthy;
    private static long heapAtStart;

    @BeforeContainer
    static void start() throws Exception {
        leaks = NettyLeaks.paranoid();
        cluster = PgClusterExtension.cluster();
        cluster.execute(PgClusterExtension.DB, "CREATE TABLE IF NOT EXISTS fuzz_t (x int, t text); "
                + "GRANT ALL ON fuzz_t TO " + PgClusterExtension.TRUST_USER + ", " + PgClusterExtension.APP_USER);
        router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 4")
                .listen("startup_timeout: 3s, max_message_size: 1MB").start();
        logs = LogCapture.start();
        healthy = router.connect();
        heapAtStart = usedHeapAfterGc();
    }

    @AfterContainer
    static void stop() throws Exception {
        try {
            if (healthy != null) {
                healthy.close();
            }
            long grown = usedHeapAfterGc() - heapAtStart;
            assertTrue(grown < 64L << 20, "heap grew by " + (grown >> 20) + " MB during the fuzz run");
        } finally {
            if (router != null) {
                router.close();
            }
            if (logs != null) {
                logs.close();
            }
            if (leaks != null) {
                leaks.close();
            }
        }
    }

    @AfterProperty
    void pgsplitIsUnharmed() throws Exception {
        try (Connection c = router.connect()) {
            assertEquals(42, ((Number) Jdbc.queryValue(c, "SELECT 41 + 1")).intValue());
        }
        awaitNoClientSessionsBut(0);
        awaitServersClean();
        List<String> leaked = leaks.leakReports(logs);
        assertTrue(leaked.isEmpty(), "Netty buffer leaks: " + leaked);
        List<String> bad = logs.events();
        assertTrue(bad.isEmpty(), "pgsplit logged at WARN or above: " + bad);
    }

    // =====================================================================================
    // Properties
    // =====================================================================================

    @Property
    void startupPhase(@ForAll("startupPayloads") List<byte[]> packets) throws Exception {
        withSample(packets.stream().map(Arrays::toString).toList(), () -> startupPhaseTry(packets));
    }

    private void startupPhaseTry(List<byte[]> packets) throws Exception {
        try (Socket s = socket()) {
            try {
                for (byte[] p : packets) {
                    s.getOutputStream().write(p);
                }
                s.getOutputStream().flush();
                s.shutdownOutput();
            } catch (IOException closedEarly) {
                // pgsplit closed the connection after an earlier packet: what it said is judged below
            }
            Reply r = readToEof(s.getInputStream(), true);
            r.assertSane();
        }
        assertStillServes();
    }

    @Property
    void afterLogin(@ForAll("frameSequences") List<Frame> frames) throws Exception {
        withSample(frames, () -> afterLoginTry(frames));
    }

    private void afterLoginTry(List<Frame> frames) throws Exception {
        boolean framed = frames.stream().allMatch(f -> f.framed);
        boolean terminates = frames.stream().anyMatch(f -> f.bytes.length > 0 && f.bytes[0] == 'X' && f.framed);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        frames.forEach(f -> all.writeBytes(f.bytes));
        byte[] payload = all.toByteArray();
        if (framed && !terminates) {
            // A well-framed conversation: what PostgreSQL does with it tells what pgsplit must do.
            Outcome postgres = converse(cluster.host(), cluster.primaryPort(), payload, 2_000);
            boolean mustAnswer = postgres.probeAnswered || postgres.reply.closed;
            // Where PostgreSQL itself leaves the probe unanswered (a COPY swallowed it, say) pgsplit only has
            // to close cleanly once the client does.
            Outcome pgsplit = converse(router.host(), router.port(), payload, mustAnswer ? 15_000 : 500);
            pgsplit.reply.assertSane();
            if (mustAnswer) {
                assertTrue(pgsplit.probeAnswered || pgsplit.reply.closed && pgsplit.reply.sawError(),
                        "PostgreSQL answered the probe or closed, pgsplit did neither: " + pgsplit.reply
                                + " (PostgreSQL: " + postgres.reply + ")");
            }
        } else {
            try (Socket s = loggedIn(router.host(), router.port())) {
                try {
                    s.getOutputStream().write(payload);
                    s.getOutputStream().flush();
                    s.shutdownOutput();
                } catch (IOException closedEarly) {
                    // closed after a protocol violation: what it said is judged below
                }
                readToEof(s.getInputStream(), false).assertSane();
            }
        }
        assertStillServes();
    }

    @Property
    void scramExchange(@ForAll("authSteps") List<AuthStep> steps, @ForAll boolean halfClose) throws Exception {
        withSample(List.of(steps, halfClose), () -> scramExchangeTry(steps, halfClose));
    }

    private void scramExchangeTry(List<AuthStep> steps, boolean halfClose) throws Exception {
        try (Socket s = socket()) {
            InputStream in = s.getInputStream();
            s.getOutputStream().write(Wire.startupPacket(Map.of("user", "app", "database", "app")));
            Reply first = readMessages(in, 1);
            assertEquals('R', first.types.get(0), first.toString());
            ScramDriver client = new ScramDriver();
            Reply all = new Reply();
            for (AuthStep step : steps) {
                byte[] bytes = switch (step.kind) {
                    case INITIAL -> saslInitial("SCRAM-SHA-256", mutate(client.first(), step));
                    case INITIAL_WRONG_MECHANISM -> saslInitial("SCRAM-SHA-1", "n,,n=,r=abc".getBytes(StandardCharsets.UTF_8));
                    case FINAL -> Wire.typed('p', mutate(client.finalFor(all.lastSaslContinue()), step));
                    case RANDOM_P -> Wire.typed('p', step.noise);
                    case STARTUP_AGAIN -> Wire.startupPacket(Map.of("user", "trustuser", "database", "app"));
                    case QUERY -> Wire.query("SELECT 1");
                    case TERMINATE -> Wire.typed('X', new byte[0]);
                    case SSL_REQUEST -> Wire.untyped(80877103, new byte[0]);
                };
                try {
                    s.getOutputStream().write(bytes);
                    s.getOutputStream().flush();
                } catch (IOException closed) {
                    break; // pgsplit closed the connection already: fine, as long as it said why
                }
                // Read what answers there are without waiting for answers that never come.
                all.add(readAvailable(in, 120));
                if (all.closed) {
                    break;
                }
            }
            if (!all.closed && all.types.contains('Z')) {
                // the steps logged in (a valid exchange): pgsplit rightly waits for the client, which now leaves
                s.getOutputStream().write(Wire.typed('X', new byte[0]));
                s.getOutputStream().flush();
            }
            if (halfClose && !all.closed) {
                s.shutdownOutput();
            }
            if (!all.closed) {
                all.add(readToEof(in, false));
            }
            all.assertSane();
            if (all.sawError()) {
                for (Map<Character, String> e : all.errors) {
                    String code = e.get('C');
                    assertTrue(code.equals("08P01") || code.equals("28P01") || code.equals("28000")
                            || code.equals("0A000"), "unexpected SQLSTATE during authentication: " + e);
                }
            }
        }
        assertStillServes();
    }

    interface Try {
        void run() throws Exception;
    }

    /** Runs one try; a failure names the case (surefire does not show jqwik's own report). */
    private static void withSample(Object sample, Try t) throws Exception {
        try {
            t.run();
            if (Boolean.getBoolean("pgsplit.fuzz.leakCheckEachTry")) {
                // slow (a few collections per try), to find which case leaked: -Dpgsplit.fuzz.leakCheckEachTry=true
                awaitNoClientSessionsBut(0);
                List<String> leaked = leaks.leakReports(logs);
                assertTrue(leaked.isEmpty(), "Netty buffer leaks: " + leaked);
            }
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n    case: " + sample, e);
        }
    }

    /** A real SCRAM client whose messages can be sent again, out of order or damaged. */
    private static final class ScramDriver {
        private final ScramClientExchange exchange = new ScramClientExchange("app");
        private byte[] first;
        private byte[] fin;

        byte[] first() {
            if (first == null) {
                first = exchange.clientFirst();
            }
            return first;
        }

        /** The client-final for the server-first seen (computed once), or a plausible fake before that. */
        byte[] finalFor(byte[] serverFirst) {
            if (fin == null && serverFirst != null && first != null) {
                try {
                    fin = exchange.clientFinal(serverFirst);
                } catch (Exception e) {
                    fin = null;
                }
            }
            return fin != null ? fin : "c=biws,r=nonce,p=AAAA".getBytes(StandardCharsets.UTF_8);
        }
    }

    // =====================================================================================
    // Generators
    // =====================================================================================

    @Provide
    Arbitrary<List<byte[]>> startupPayloads() {
        Arbitrary<byte[]> randomBytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
        Arbitrary<byte[]> startup = startupMessages();
        Arbitrary<byte[]> mutatedStartup = Combinators.combine(startup, mutations()).as((p, m) -> m.apply(p));
        Arbitrary<byte[]> requests = Arbitraries.of(80877103, 80877104, 80877102).flatMap(code ->
                Arbitraries.integers().between(-4, 12).map(extra -> {
                    ByteBuffer b = ByteBuffer.allocate(Math.max(8, 8 + extra));
                    b.putInt(8 + extra).putInt(code);
                    return b.array();
                }));
        Arbitrary<byte[]> otherCodes = Arbitraries.integers().map(code -> Wire.untyped(code, new byte[] {0}));
        Arbitrary<byte[]> packet = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, randomBytes), net.jqwik.api.Tuple.of(4, mutatedStartup),
                net.jqwik.api.Tuple.of(3, startup), net.jqwik.api.Tuple.of(3, requests),
                net.jqwik.api.Tuple.of(1, otherCodes));
        return packet.list().ofMinSize(1).ofMaxSize(4);
    }

    private Arbitrary<byte[]> startupMessages() {
        Arbitrary<String> users = Arbitraries.of("trustuser", "app", "nosuchuser", "", "md5user");
        Arbitrary<String> databases = Arbitraries.of("app", "nosuchdb", "");
        Arbitrary<Map<String, String>> extra = Arbitraries.maps(
                Arbitraries.of("application_name", "options", "client_encoding", "search_path", "replication",
                        "DateStyle", "pgsplit.route", "_pq_.x", "nosuch_param", "work_mem"),
                fuzzText()).ofMaxSize(3);
        return Combinators.combine(users, databases, extra).as((u, d, e) -> {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("user", u);
            p.put("database", d);
            p.putAll(e);
            return Wire.startupPacket(p);
        });
    }

    private static Arbitrary<String> fuzzText() {
        return Arbitraries.oneOf(
                Arbitraries.of("on", "off", "UTF8", "LATIN1", "-c work_mem=1MB", "-c pgsplit.route=replica",
                        "-c x", "true", "primary", "'quoted'", "ISO, MDY", "64kB", "--", "\\"),
                Arbitraries.strings().ofMaxLength(20),
                // a Java string made of replacement and lone-surrogate characters encodes to odd UTF-8
                Arbitraries.strings().withCharRange('\ud800', '\udfff').ofMaxLength(4));
    }

    /** Byte-level mutations of a packet or message: flips, cuts, length changes, appended noise. */
    private Arbitrary<java.util.function.UnaryOperator<byte[]>> mutations() {
        Arbitrary<java.util.function.UnaryOperator<byte[]>> flip = Combinators.combine(
                Arbitraries.integers().between(0, 10_000), Arbitraries.bytes()).as((at, v) -> b -> {
                    byte[] c = b.clone();
                    if (c.length > 0) {
                        c[at % c.length] = v;
                    }
                    return c;
                });
        Arbitrary<java.util.function.UnaryOperator<byte[]>> cut = Arbitraries.integers().between(0, 10_000)
                .map(at -> b -> Arrays.copyOf(b, b.length == 0 ? 0 : at % b.length));
        Arbitrary<java.util.function.UnaryOperator<byte[]>> length = Arbitraries.oneOf(
                Arbitraries.integers().between(-6, 6), Arbitraries.of(0, 3, 4, 7, 8, 10_001, Integer.MAX_VALUE,
                        Integer.MIN_VALUE, -1, 65536)).map(v -> b -> {
                    byte[] c = b.clone();
                    if (c.length >= 4) {
                        int old = ByteBuffer.wrap(c).getInt(0);
                        ByteBuffer.wrap(c).putInt(0, Math.abs(v) <= 6 ? old + v : v);
                    }
                    return c;
                });
        Arbitrary<java.util.function.UnaryOperator<byte[]>> append = Arbitraries.bytes().array(byte[].class)
                .ofMaxSize(16).map(noise -> b -> {
                    byte[] c = Arrays.copyOf(b, b.length + noise.length);
                    System.arraycopy(noise, 0, c, b.length, noise.length);
                    return c;
                });
        return Arbitraries.oneOf(flip, cut, length, append);
    }

    /** A frontend message after login, as bytes, and whether its length field matches what is sent. */
    record Frame(byte[] bytes, boolean framed) {
        @Override
        public String toString() {
            return (framed ? "" : "UNFRAMED ") + (bytes.length == 0 ? "<empty>" : FrameDesc.of(bytes));
        }
    }

    private static final class FrameDesc {
        static String of(byte[] b) {
            StringBuilder s = new StringBuilder();
            s.append((char) b[0]).append('[').append(b.length).append("] ");
            for (int i = 5; i < Math.min(b.length, 60); i++) {
                int c = b[i] & 0xFF;
                s.append(c >= 32 && c < 127 ? String.valueOf((char) c) : String.format("\\x%02x", c));
            }
            return s.toString();
        }
    }

    @Provide
    Arbitrary<List<Frame>> frameSequences() {
        Arbitrary<Frame> frame = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, wellFormedMessages().map(b -> new Frame(b, true))),
                net.jqwik.api.Tuple.of(4, Combinators.combine(wellFormedMessages(), bodyMutations())
                        .as((b, m) -> new Frame(m.apply(b), true))),
                net.jqwik.api.Tuple.of(2, Combinators.combine(wellFormedMessages(), mutations())
                        .as((b, m) -> {
                            byte[] c = m.apply(Arrays.copyOfRange(b, 1, b.length));
                            byte[] out = new byte[c.length + 1];
                            out[0] = b[0];
                            System.arraycopy(c, 0, out, 1, c.length);
                            return new Frame(out, isFramed(out));
                        })),
                net.jqwik.api.Tuple.of(1, Combinators.combine(Arbitraries.bytes(),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(24))
                        .as((t, body) -> new Frame(Wire.typed((char) (t & 0xFF), body), true))));
        return frame.list().ofMinSize(1).ofMaxSize(8);
    }

    private static boolean isFramed(byte[] m) {
        return m.length >= 5 && ByteBuffer.wrap(m).getInt(1) == m.length - 1;
    }

    /** Keeps the length field right but damages the body: cut, noise appended, a byte changed. */
    private Arbitrary<java.util.function.UnaryOperator<byte[]>> bodyMutations() {
        return mutations().map(m -> b -> {
            byte[] body = m.apply(Arrays.copyOfRange(b, 5, b.length));
            return Wire.typed((char) b[0], body);
        });
    }

    private static final String[] SQL = {
            "SELECT 1", "SELECT x FROM fuzz_t LIMIT 3", "BEGIN", "COMMIT", "ROLLBACK",
            "INSERT INTO fuzz_t VALUES (1, 'a')", "SELECT $1::int", "SELECT pg_sleep(0.01)",
            "COPY fuzz_t FROM STDIN", "COPY fuzz_t TO STDOUT", "SET application_name = 'fuzz'",
            "SET pgsplit.route = primary", "PREPARE p AS SELECT 1", "DEALLOCATE ALL", "", ";;",
            "SELECT 1; SELECT 2", "BEGIN READ ONLY", "LISTEN fuzz", "SELECT 'unterminated", "SELEC 1",
            "/* pgsplit: route=replica */ SELECT 1", "DISCARD ALL", "SELECT repeat('x', 20000)"};

    private Arbitrary<String> sql() {
        return Arbitraries.oneOf(Arbitraries.of(SQL), Arbitraries.strings().ofMaxLength(30));
    }

    /** Any string as bytes, sometimes with invalid UTF-8 spliced in. */
    private Arbitrary<byte[]> textBytes(Arbitrary<String> text) {
        return Combinators.combine(text, Arbitraries.of(new byte[0], new byte[] {(byte) 0xC3, 0x28},
                new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                new byte[] {(byte) 0xC0, (byte) 0x80}, new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80})
        ).as((s, bad) -> {
            byte[] b = s.replace("\0", "").getBytes(StandardCharsets.UTF_8);
            byte[] out = Arrays.copyOf(b, b.length + bad.length);
            System.arraycopy(bad, 0, out, b.length, bad.length);
            return out;
        });
    }

    private Arbitrary<byte[]> wellFormedMessages() {
        Arbitrary<byte[]> names = textBytes(Arbitraries.of("", "s1", "s2", "nosuch", "p1"));
        Arbitrary<byte[]> query = textBytes(sql()).map(q -> Wire.typed('Q', cstr(q)));
        Arbitrary<byte[]> parse = Combinators.combine(names, textBytes(sql()),
                Arbitraries.integers().between(0, 23).list().ofMaxSize(3)).as((n, q, types) -> {
                    ByteArrayOutputStream b = out(cstr(n), cstr(q));
                    int16(b, types.size());
                    types.forEach(t -> Wire.writeInt(b, t));
                    return Wire.typed('P', b.toByteArray());
                });
        Arbitrary<byte[]> bind = Combinators.combine(names, names, Arbitraries.integers().between(0, 1).list()
                        .ofMaxSize(2), Arbitraries.strings().numeric().ofMaxLength(5).list().ofMaxSize(2),
                Arbitraries.integers().between(0, 1).list().ofMaxSize(2)).as((portal, stmt, formats, params, results) -> {
                    ByteArrayOutputStream b = out(cstr(portal), cstr(stmt));
                    int16(b, formats.size());
                    formats.forEach(f -> int16(b, f));
                    int16(b, params.size());
                    for (String p : params) {
                        byte[] v = p.getBytes(StandardCharsets.UTF_8);
                        Wire.writeInt(b, v.length);
                        b.writeBytes(v);
                    }
                    int16(b, results.size());
                    results.forEach(f -> int16(b, f));
                    return Wire.typed('B', b.toByteArray());
                });
        Arbitrary<byte[]> describe = Combinators.combine(Arbitraries.of('S', 'P', 'x'), names, Arbitraries.of('D', 'C'))
                .as((kind, n, type) -> Wire.typed(type, out(new byte[] {(byte) (char) kind}, cstr(n)).toByteArray()));
        Arbitrary<byte[]> execute = Combinators.combine(names, Arbitraries.of(0, 1, -1, Integer.MAX_VALUE))
                .as((portal, rows) -> {
                    ByteArrayOutputStream b = out(cstr(portal));
                    Wire.writeInt(b, rows);
                    return Wire.typed('E', b.toByteArray());
                });
        Arbitrary<byte[]> simple = Arbitraries.of(Wire.typed('S', new byte[0]), Wire.typed('H', new byte[0]),
                Wire.typed('c', new byte[0]), Wire.typed('X', new byte[0]), Wire.typed('d', "1\tx\n".getBytes()),
                Wire.typed('d', new byte[] {(byte) 0xFF, 0, 1}), Wire.typed('f', cstr("fuzz says no".getBytes())),
                Wire.typed('p', cstr("password".getBytes())), Wire.typed('F', functionCall()));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, query), net.jqwik.api.Tuple.of(3, parse),
                net.jqwik.api.Tuple.of(3, bind), net.jqwik.api.Tuple.of(2, describe),
                net.jqwik.api.Tuple.of(2, execute), net.jqwik.api.Tuple.of(4, simple));
    }

    /** FunctionCall of int4pl(1, 2) (OID 177), in text format. */
    private static byte[] functionCall() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Wire.writeInt(b, 177);
        int16(b, 0);
        int16(b, 2);
        for (String v : new String[] {"1", "2"}) {
            Wire.writeInt(b, v.length());
            b.writeBytes(v.getBytes());
        }
        int16(b, 0);
        return b.toByteArray();
    }

    enum AuthKind { INITIAL, INITIAL_WRONG_MECHANISM, FINAL, RANDOM_P, STARTUP_AGAIN, QUERY, TERMINATE, SSL_REQUEST }

    /** One client step during SCRAM; {@code noise}/{@code mutation} damage it when present. */
    record AuthStep(AuthKind kind, int mutation, byte[] noise) {
        @Override
        public String toString() {
            return kind + (mutation == 0 ? "" : "~" + mutation);
        }
    }

    @Provide
    Arbitrary<List<AuthStep>> authSteps() {
        Arbitrary<AuthStep> step = Combinators.combine(
                Arbitraries.frequency(net.jqwik.api.Tuple.of(5, AuthKind.INITIAL), net.jqwik.api.Tuple.of(5, AuthKind.FINAL),
                        net.jqwik.api.Tuple.of(1, AuthKind.INITIAL_WRONG_MECHANISM), net.jqwik.api.Tuple.of(2, AuthKind.RANDOM_P),
                        net.jqwik.api.Tuple.of(2, AuthKind.STARTUP_AGAIN), net.jqwik.api.Tuple.of(1, AuthKind.QUERY),
                        net.jqwik.api.Tuple.of(1, AuthKind.TERMINATE), net.jqwik.api.Tuple.of(1, AuthKind.SSL_REQUEST)),
                Arbitraries.frequency(net.jqwik.api.Tuple.of(3, 0), net.jqwik.api.Tuple.of(1, 1),
                        net.jqwik.api.Tuple.of(1, 2), net.jqwik.api.Tuple.of(1, 3), net.jqwik.api.Tuple.of(1, 4)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40)).as(AuthStep::new);
        return step.list().ofMinSize(1).ofMaxSize(5);
    }

    /** 0: as is; 1: a byte flipped; 2: cut in half; 3: invalid UTF-8 appended; 4: empty. */
    private static byte[] mutate(byte[] b, AuthStep step) {
        if (b == null) {
            return step.noise;
        }
        return switch (step.mutation) {
            case 1 -> {
                byte[] c = b.clone();
                if (c.length > 0) {
                    c[step.noise.length % c.length] ^= 0x5A;
                }
                yield c;
            }
            case 2 -> Arrays.copyOf(b, b.length / 2);
            case 3 -> {
                byte[] c = Arrays.copyOf(b, b.length + 2);
                c[b.length] = (byte) 0xC3;
                c[b.length + 1] = 0x28;
                yield c;
            }
            case 4 -> new byte[0];
            default -> b;
        };
    }

    private static byte[] saslInitial(String mechanism, byte[] data) {
        ByteArrayOutputStream b = out(cstr(mechanism.getBytes(StandardCharsets.UTF_8)));
        Wire.writeInt(b, data.length);
        b.writeBytes(data);
        return Wire.typed('p', b.toByteArray());
    }

    // =====================================================================================
    // Talking and judging
    // =====================================================================================

    /** What a connection sent back: message types in order, errors, and whether it ended (EOF/reset). */
    static final class Reply {
        final List<Character> types = new ArrayList<>();
        final List<byte[]> bodies = new ArrayList<>();
        final List<Map<Character, String>> errors = new ArrayList<>();
        boolean closed;
        boolean timedOut;
        String malformed;

        void add(Reply r) {
            types.addAll(r.types);
            bodies.addAll(r.bodies);
            errors.addAll(r.errors);
            closed |= r.closed;
            timedOut = r.timedOut;
            if (malformed == null) {
                malformed = r.malformed;
            }
        }

        boolean sawError() {
            return !errors.isEmpty();
        }

        byte[] lastSaslContinue() {
            for (int i = types.size() - 1; i >= 0; i--) {
                byte[] b = bodies.get(i);
                if (types.get(i) == 'R' && b.length >= 4 && ByteBuffer.wrap(b).getInt(0) == 11) {
                    return Arrays.copyOfRange(b, 4, b.length);
                }
            }
            return null;
        }

        void assertSane() {
            assertTrue(malformed == null, "pgsplit sent a malformed reply: " + malformed + " " + this);
            assertTrue(!timedOut, "pgsplit neither answered nor closed the connection: " + this);
            for (Map<Character, String> e : errors) {
                String code = e.getOrDefault('C', "");
                assertTrue(!code.isEmpty() && !code.startsWith("XX"), "internal error sent to a client: " + e);
                assertTrue(e.containsKey('S') && e.containsKey('M'), "incomplete ErrorResponse: " + e);
                if ("FATAL".equals(e.get('V'))) {
                    assertTrue(closed, "FATAL error but the connection stayed open: " + e);
                }
            }
        }

        @Override
        public String toString() {
            return "types=" + types + " errors=" + errors + (closed ? " closed" : "") + (timedOut ? " TIMED OUT" : "");
        }
    }

    private static Reply parse(byte[] data, int len, boolean startupPhase, Reply r) {
        int i = 0;
        while (i < len) {
            char type = (char) (data[i] & 0xFF);
            if (startupPhase && type == 'N' && (len - i < 5 || !plausible(ByteBuffer.wrap(data, i + 1, 4).getInt()))) {
                r.types.add('n'); // the one-byte answer to SSLRequest / GSSENCRequest
                r.bodies.add(new byte[0]);
                i++;
                continue;
            }
            if (len - i < 5) {
                r.malformed = "trailing " + (len - i) + " bytes";
                return r;
            }
            int length = ByteBuffer.wrap(data, i + 1, 4).getInt();
            if (!plausible(length) || len - i - 1 < length) {
                r.malformed = "message '" + type + "' with length " + length + " at " + i + " of " + len;
                return r;
            }
            byte[] body = Arrays.copyOfRange(data, i + 5, i + 1 + length);
            r.types.add(type);
            r.bodies.add(body);
            if (type == 'E') {
                r.errors.add(new Wire.Msg('E', body).fields());
            }
            i += 1 + length;
        }
        return r;
    }

    private static boolean plausible(int length) {
        return length >= 4 && length < (1 << 24);
    }

    /** Reads until the peer closes; {@code timedOut} if it does not within 10 s. */
    private static Reply readToEof(InputStream in, boolean startupPhase) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        Reply r = new Reply();
        byte[] buf = new byte[8192];
        long deadline = System.nanoTime() + 10_000_000_000L;
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                all.write(buf, 0, n);
                if (System.nanoTime() > deadline) {
                    r.timedOut = true;
                    break;
                }
            }
            r.closed = !r.timedOut;
        } catch (SocketTimeoutException e) {
            r.timedOut = true;
        } catch (IOException reset) {
            r.closed = true;
        }
        return parse(all.toByteArray(), all.size(), startupPhase, r);
    }

    /** Reads whole messages for up to {@code quietMillis} of silence. */
    private static Reply readAvailable(InputStream in, int quietMillis) throws IOException {
        return readUntil(in, quietMillis, null);
    }

    private static Reply readMessages(InputStream in, int count) throws IOException {
        Reply r = readUntil(in, 10_000, rr -> rr.types.size() >= count);
        assertTrue(r.types.size() >= count, "no answer: " + r);
        return r;
    }

    /**
     * Reads for as long as data keeps coming within {@code quietMillis} of silence, until EOF, or
     * until {@code done} holds for the messages so far.
     */
    private static Reply readUntil(InputStream in, int quietMillis, java.util.function.Predicate<Reply> done)
            throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        Socket unused = null;
        Reply r = new Reply();
        while (true) {
            int n;
            try {
                n = readWithTimeout(in, buf, quietMillis);
            } catch (SocketTimeoutException e) {
                break;
            } catch (IOException reset) {
                r.closed = true;
                break;
            }
            if (n < 0) {
                r.closed = true;
                break;
            }
            all.write(buf, 0, n);
            if (done != null && completeMessages(all.toByteArray()) && done.test(parse(all.toByteArray(), all.size(),
                    false, new Reply()))) {
                break;
            }
        }
        return parse(all.toByteArray(), all.size(), false, r);
    }

    private static boolean completeMessages(byte[] data) {
        int i = 0;
        while (i + 5 <= data.length) {
            int length = ByteBuffer.wrap(data, i + 1, 4).getInt();
            if (!plausible(length)) {
                return true;
            }
            i += 1 + length;
        }
        return i == data.length;
    }

    private static final ThreadLocal<Socket> CURRENT = new ThreadLocal<>();

    private static int readWithTimeout(InputStream in, byte[] buf, int millis) throws IOException {
        Socket s = CURRENT.get();
        int old = s.getSoTimeout();
        s.setSoTimeout(millis);
        try {
            return in.read(buf);
        } finally {
            s.setSoTimeout(old);
        }
    }

    /** Result of one conversation: a logged-in client sends the payload, then Sync and a probe query. */
    record Outcome(Reply reply, boolean probeAnswered) {
    }

    private static Outcome converse(String host, int port, byte[] payload, int probeWaitMillis) throws IOException {
        try (Socket s = loggedIn(host, port)) {
            InputStream in = s.getInputStream();
            Reply r = new Reply();
            try {
                s.getOutputStream().write(payload);
                s.getOutputStream().write(Wire.typed('S', new byte[0]));
                s.getOutputStream().write(Wire.query("SELECT " + PROBE));
                s.getOutputStream().flush();
            } catch (IOException closedAlready) {
                r.add(readToEof(in, false));
                return new Outcome(r, false);
            }
            long deadline = System.nanoTime() + probeWaitMillis * 1_000_000L;
            boolean answered = false;
            while (!answered && !r.closed && System.nanoTime() < deadline) {
                r.add(readUntil(in, 200, ProtocolFuzzTest::probeSeen));
                answered = probeSeen(r);
            }
            if (!r.closed) {
                s.shutdownOutput();
                r.add(readToEof(in, false));
            }
            return new Outcome(r, answered);
        }
    }

    /** A DataRow holding the probe's value, followed by a ReadyForQuery. */
    private static boolean probeSeen(Reply r) {
        byte[] probe = Integer.toString(PROBE).getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < r.types.size(); i++) {
            byte[] b = r.bodies.get(i);
            if (r.types.get(i) == 'D' && b.length == 6 + probe.length
                    && Arrays.equals(Arrays.copyOfRange(b, 6, b.length), probe)) {
                return r.types.subList(i, r.types.size()).contains('Z');
            }
        }
        return false;
    }

    private static Socket socket() throws IOException {
        return socket(router.host(), router.port());
    }

    private static Socket socket(String host, int port) throws IOException {
        Socket s = new Socket(host, port);
        s.setSoTimeout(10_000);
        s.setTcpNoDelay(true);
        CURRENT.set(s);
        return s;
    }

    /** A raw client logged in as trustuser (no password) and at its first ReadyForQuery. */
    private static Socket loggedIn(String host, int port) throws IOException {
        Socket s = socket(host, port);
        s.getOutputStream().write(Wire.startupPacket(Map.of("user", PgClusterExtension.TRUST_USER, "database", "app",
                "application_name", "fuzz")));
        Reply r = readUntil(s.getInputStream(), 10_000, rr -> rr.types.contains('Z') || rr.closed);
        if (!r.types.contains('Z')) {
            s.close();
            fail("login failed: " + r);
        }
        return s;
    }

    private static void assertStillServes() throws Exception {
        assertEquals(7, ((Number) Jdbc.queryValue(healthy, "SELECT 3 + 4")).intValue());
    }

    private static void awaitNoClientSessionsBut(int others) throws InterruptedException {
        io.pgsplit.session.RouterContext c = router.router().context();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (c.clientCount() > others + 1 && System.nanoTime() < deadline) { // + the health connection
            Thread.sleep(20);
        }
        assertTrue(c.clientCount() <= others + 1, "client sessions left behind: " + (c.clientCount() - 1));
    }

    /** No backend of the fuzzing users is left inside a transaction or a statement, on any node. */
    private static void awaitServersClean() throws Exception {
        for (String node : List.of("primary", "r1", "r2")) {
            try (Connection direct = router.direct(node)) {
                long deadline = System.nanoTime() + 10_000_000_000L;
                String stuck;
                do {
                    stuck = (String) Jdbc.queryValue(direct, "SELECT string_agg(usename || ' ' || state || ': ' || query, "
                            + "'; ') FROM pg_stat_activity WHERE usename IN ('trustuser', 'app') "
                            + "AND state <> 'idle' AND pid <> pg_backend_pid()");
                    if (stuck != null) {
                        Thread.sleep(20);
                    }
                } while (stuck != null && System.nanoTime() < deadline);
                assertTrue(stuck == null, node + ": backends left busy: " + stuck);
            }
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    private static byte[] cstr(byte[] s) {
        byte[] c = Arrays.copyOf(s, s.length + 1);
        return c;
    }

    private static ByteArrayOutputStream out(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b;
    }

    private static void int16(ByteArrayOutputStream b, int v) {
        b.write(v >>> 8);
        b.write(v);
    }
}
