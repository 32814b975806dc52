package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.PGStatement;
import org.postgresql.copy.CopyManager;

/**
 * pgjdbc features through pgsplit, in session and in transaction pooling: each must behave as it
 * does against PostgreSQL itself.
 */
@ExtendWith(PgClusterExtension.class)
class PassThroughTest {

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class SessionPooling extends Cases {
        SessionPooling() {
            super("session");
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class TransactionPooling extends Cases {
        TransactionPooling() {
            super("transaction");
        }
    }

    /** Session pooling without read/write splitting: one server connection per client, as PgBouncer's. */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class SessionPoolingWithoutSplitting extends Cases {
        SessionPoolingWithoutSplitting() {
            super("session", false);
        }
    }

    abstract static class Cases {
        private final String poolMode;
        private final boolean splitting;
        RouterFixture router;
        LocalPgCluster cluster;

        Cases(String poolMode) {
            this(poolMode, true);
        }

        Cases(String poolMode, boolean splitting) {
            this.poolMode = poolMode + (splitting ? "" : "_nosplit");
            this.splitting = splitting;
        }

        @BeforeAll
        void start() throws Exception {
            cluster = PgClusterExtension.cluster();
            router = RouterFixture.builder(cluster).pool("pool_mode: " + poolMode.replace("_nosplit", "")
                    + ", pool_size: 10").routing("splitting: " + splitting).start();
        }

        @AfterAll
        void stop() {
            router.close();
        }

        /** A table of our own, created through pgsplit (on the primary). */
        String table(Connection c, String name, String columns) throws SQLException {
            String t = name + "_" + poolMode;
            try (Statement st = c.createStatement()) {
                st.execute("DROP TABLE IF EXISTS " + t);
                st.execute("CREATE TABLE " + t + " (" + columns + ")");
            }
            return t;
        }

        @Test
        void serverPreparedStatementPastPrepareThreshold() throws Exception {
            try (Connection c = router.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, pg_is_in_recovery()")) {
                assertEquals(5, ps.unwrap(PGStatement.class).getPrepareThreshold());
                for (int i = 0; i < 10; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(2 * i, rs.getInt(1));
                    }
                }
                assertTrue(ps.unwrap(PGStatement.class).isUseServerPrepare(), "not server-prepared");
                // and a named statement with a write, in a transaction, past the threshold too
                String t = table(c, "prep", "id int primary key");
                c.setAutoCommit(false);
                try (PreparedStatement ins = c.prepareStatement("INSERT INTO " + t + " VALUES (?)")) {
                    for (int i = 0; i < 10; i++) {
                        ins.setInt(1, i);
                        assertEquals(1, ins.executeUpdate());
                    }
                    assertTrue(ins.unwrap(PGStatement.class).isUseServerPrepare());
                }
                c.commit();
                c.setAutoCommit(true);
                assertEquals(45L, primaryValue(c, "SELECT sum(id) FROM " + t));
            }
        }

        @Test
        void batchInsertsWithAndWithoutRewrite() throws Exception {
            for (String rewrite : List.of("false", "true")) {
                try (Connection c = router.connect(Map.of("reWriteBatchedInserts", rewrite))) {
                    String t = table(c, "batch" + rewrite, "id int primary key, v text");
                    c.setAutoCommit(false);
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, v) VALUES (?, ?)")) {
                        for (int i = 1; i <= 1000; i++) {
                            ps.setInt(1, i);
                            ps.setString(2, "v" + i);
                            ps.addBatch();
                        }
                        int[] counts = ps.executeBatch();
                        int total = 0;
                        for (int n : counts) {
                            total += n == Statement.SUCCESS_NO_INFO ? 0 : n;
                        }
                        if (rewrite.equals("false")) {
                            assertEquals(1000, counts.length);
                            assertEquals(1000, total);
                        }
                    }
                    c.commit();
                    c.setAutoCommit(true);
                    assertEquals(1000L, primaryValue(c, "SELECT count(*) FROM " + t));
                    assertEquals(500500L, primaryValue(c, "SELECT sum(id) FROM " + t));
                }
            }
        }

        @Test
        void copyInAndCopyOut() throws Exception {
            try (Connection c = router.connect()) {
                String t = table(c, "copytest", "id int, name text, note text");
                StringBuilder data = new StringBuilder();
                for (int i = 0; i < 5000; i++) {
                    data.append(i).append('\t').append("name ").append(i).append('\t')
                            .append(i % 7 == 0 ? "\\N" : "tab\\there é " + i).append('\n');
                }
                CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                long in = copy.copyIn("COPY " + t + " FROM STDIN",
                        new ByteArrayInputStream(data.toString().getBytes(StandardCharsets.UTF_8)));
                assertEquals(5000, in);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                long outRows = copy.copyOut("/* pgsplit: route=primary */ COPY (SELECT * FROM " + t
                        + " ORDER BY id) TO STDOUT", out);
                assertEquals(5000, outRows);
                assertEquals(data.toString(), out.toString(StandardCharsets.UTF_8));
                // and from a replica, once replayed
                cluster.waitForReplay();
                out.reset();
                copy.copyOut("COPY (SELECT * FROM " + t + " ORDER BY id) TO STDOUT", out);
                assertEquals(data.toString(), out.toString(StandardCharsets.UTF_8));
                // the connection is fine afterwards
                assertEquals(5000L, primaryValue(c, "SELECT count(*) FROM " + t));
            }
        }

        @Test
        void copyInErrorLeavesAWorkingConnection() throws Exception {
            try (Connection c = router.connect()) {
                String t = table(c, "copybad", "id int");
                CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                SQLException e = assertThrows(SQLException.class, () -> copy.copyIn("COPY " + t + " FROM STDIN",
                        new ByteArrayInputStream("1\nnot a number\n3\n".getBytes(StandardCharsets.UTF_8))));
                assertEquals("22P02", e.getSQLState(), e.toString());
                assertEquals(0L, primaryValue(c, "SELECT count(*) FROM " + t));
            }
        }

        @Test
        void queryTimeoutCancelsTheQueryAndTheConnectionStillWorks() throws Exception {
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                st.setQueryTimeout(1);
                SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT pg_sleep(30)"));
                assertEquals("57014", e.getSQLState(), e.toString());
                st.setQueryTimeout(0);
                try (ResultSet rs = st.executeQuery("SELECT 42")) {
                    assertTrue(rs.next());
                    assertEquals(42, rs.getInt(1));
                }
                // in a transaction too (the primary), and the transaction is then aborted as on PostgreSQL
                c.setAutoCommit(false);
                st.setQueryTimeout(1);
                e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT pg_sleep(30)"));
                assertEquals("57014", e.getSQLState(), e.toString());
                c.rollback();
                c.setAutoCommit(true);
                assertEquals(1, ((Number) value(c, "SELECT 1")).intValue());
            }
        }

        @Test
        void listenNotifyBetweenTwoConnections() throws Exception {
            try (Connection listener = router.connect(); Connection notifier = router.connect()) {
                try (Statement st = listener.createStatement()) {
                    st.execute("LISTEN pgsplit_test_" + poolMode);
                }
                try (Statement st = notifier.createStatement()) {
                    st.execute("NOTIFY pgsplit_test_" + poolMode + ", 'hello 1'");
                    st.execute("SELECT pg_notify('pgsplit_test_" + poolMode + "', 'hello 2')");
                }
                List<String> payloads = new ArrayList<>();
                long deadline = System.currentTimeMillis() + 10_000;
                while (payloads.size() < 2 && System.currentTimeMillis() < deadline) {
                    PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(2000);
                    if (got != null) {
                        for (PGNotification n : got) {
                            assertEquals("pgsplit_test_" + poolMode, n.getName());
                            payloads.add(n.getParameter());
                        }
                    }
                }
                assertEquals(List.of("hello 1", "hello 2"), payloads);
                // the listener's connection still works
                assertEquals(7, ((Number) value(listener, "SELECT 7")).intValue());
            }
        }

        @Test
        void temporaryTableStaysUsable() throws Exception {
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TEMP TABLE scratch (id int)");
                st.executeUpdate("INSERT INTO scratch SELECT generate_series(1, 10)");
                assertEquals(55L, value(c, "SELECT sum(id) FROM scratch"));
                st.execute("DROP TABLE scratch");
                assertEquals(3, ((Number) value(c, "SELECT 3")).intValue());
            }
        }

        @Test
        void writeTakenForAReadIsRetriedOnThePrimaryWithItsRows() throws Exception {
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                String t = table(c, "retried", "id int");
                // created after pgsplit read the catalog: it does not know the function writes
                String f = "retried_writer_" + poolMode;
                st.execute("CREATE OR REPLACE FUNCTION " + f + "(n int) RETURNS SETOF int LANGUAGE sql AS "
                        + "'INSERT INTO " + t + " SELECT generate_series(1, n) RETURNING id'");
                cluster.waitForReplay();
                long rows = 0;
                try (ResultSet rs = st.executeQuery("SELECT " + f + "(3000)")) {
                    while (rs.next()) {
                        rows++;
                    }
                }
                assertEquals(3000, rows);
                assertEquals(3000L, primaryValue(c, "SELECT count(*) FROM " + t));
            }
        }

        @Test
        void binaryTransferRoundTrips() throws Exception {
            try (Connection c = router.connect(Map.of("binaryTransfer", "true", "prepareThreshold", "1"))) {
                byte[] bytes = new byte[70_000];
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = (byte) (i * 31);
                }
                OffsetDateTime ts = OffsetDateTime.of(2024, 2, 29, 13, 14, 15, 123456000, ZoneOffset.UTC);
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT ?::int8, ?::bytea, ?::timestamptz, ?::int4[], ?::text[], ?::float8, ?::numeric")) {
                    for (int round = 0; round < 3; round++) {
                        ps.setLong(1, Long.MIN_VALUE + round);
                        ps.setBytes(2, bytes);
                        ps.setObject(3, ts);
                        ps.setArray(4, c.createArrayOf("int4", new Integer[] {1, null, -3, Integer.MAX_VALUE}));
                        ps.setArray(5, c.createArrayOf("text", new String[] {"a", "b c", "\"q\"", "é"}));
                        ps.setDouble(6, Math.PI);
                        ps.setBigDecimal(7, new java.math.BigDecimal("12345678901234567890.0123456789"));
                        try (ResultSet rs = ps.executeQuery()) {
                            assertTrue(rs.next());
                            assertEquals(Long.MIN_VALUE + round, rs.getLong(1));
                            assertArrayEquals(bytes, rs.getBytes(2));
                            assertEquals(ts.toInstant(), rs.getObject(3, OffsetDateTime.class).toInstant());
                            Array ints = rs.getArray(4);
                            assertArrayEquals(new Integer[] {1, null, -3, Integer.MAX_VALUE}, (Integer[]) ints.getArray());
                            assertArrayEquals(new String[] {"a", "b c", "\"q\"", "é"}, (String[]) rs.getArray(5).getArray());
                            assertEquals(Math.PI, rs.getDouble(6));
                            assertEquals(new java.math.BigDecimal("12345678901234567890.0123456789"), rs.getBigDecimal(7));
                        }
                    }
                    assertTrue(ps.unwrap(PGStatement.class).isUseServerPrepare());
                }
            }
        }

        @Test
        void errorInTheMiddleOfATransactionThenRollback() throws Exception {
            try (Connection c = router.connect()) {
                String t = table(c, "txerr", "id int");
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("INSERT INTO " + t + " VALUES (1)");
                    SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1/0"));
                    assertEquals("22012", e.getSQLState());
                    e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1"));
                    assertEquals("25P02", e.getSQLState());
                }
                c.rollback();
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("INSERT INTO " + t + " VALUES (2)");
                }
                c.commit();
                c.setAutoCommit(true);
                assertEquals(2, ((Number) primaryValue(c, "SELECT sum(id) FROM " + t)).intValue());
                assertEquals(1L, primaryValue(c, "SELECT count(*) FROM " + t));
            }
        }

        @Test
        void multiStatementQuery() throws Exception {
            for (String queryMode : List.of("simple", "extended")) {
                try (Connection c = router.connect(Map.of("preferQueryMode", queryMode));
                     Statement st = c.createStatement()) {
                    assertTrue(st.execute("SELECT 1; SELECT 'two', 3; SELECT 4 WHERE false"));
                    try (ResultSet rs = st.getResultSet()) {
                        assertTrue(rs.next());
                        assertEquals(1, rs.getInt(1));
                    }
                    assertTrue(st.getMoreResults());
                    try (ResultSet rs = st.getResultSet()) {
                        assertTrue(rs.next());
                        assertEquals("two", rs.getString(1));
                        assertEquals(3, rs.getInt(2));
                    }
                    assertTrue(st.getMoreResults());
                    try (ResultSet rs = st.getResultSet()) {
                        assertFalse(rs.next());
                    }
                    assertFalse(st.getMoreResults());
                    assertEquals(-1, st.getUpdateCount());
                    // a failing statement in the middle: the earlier ones of the implicit transaction roll back
                    String t = table(c, "multi_" + queryMode, "id int");
                    assertThrows(SQLException.class,
                            () -> st.execute("INSERT INTO " + t + " VALUES (1); SELECT 1/0; INSERT INTO " + t + " VALUES (2)"));
                    assertEquals(0L, primaryValue(c, "SELECT count(*) FROM " + t));
                    assertEquals(5, ((Number) value(c, "SELECT 5")).intValue());
                }
            }
        }

        @Test
        void noticesBecomeWarnings() throws Exception {
            for (String queryMode : List.of("simple", "extended")) {
                try (Connection c = router.connect(Map.of("preferQueryMode", queryMode));
                     Statement st = c.createStatement()) {
                    st.execute("DO $$BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful'; END$$");
                    SQLWarning w = st.getWarnings();
                    assertNotNull(w, queryMode);
                    assertEquals("hello 42", w.getMessage().replaceFirst("^NOTICE: ", ""), w.getMessage());
                    assertEquals("00000", w.getSQLState());
                    assertNotNull(w.getNextWarning(), queryMode);
                    assertTrue(w.getNextWarning().getMessage().contains("careful"));
                    assertEquals("01000", w.getNextWarning().getSQLState());
                    assertNull(w.getNextWarning().getNextWarning());
                }
            }
        }

        @Test
        void largeResultsStreamThrough() throws Exception {
            try (Connection c = router.connect(); Statement st = c.createStatement()) {
                long rows = 0;
                long sum = 0;
                try (ResultSet rs = st.executeQuery(
                        "SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 200000) g")) {
                    while (rs.next()) {
                        rows++;
                        sum += rs.getLong(1);
                        if (rs.getLong(1) == 123456) {
                            assertEquals(96, rs.getString(2).length());
                        }
                    }
                }
                assertEquals(200000, rows);
                assertEquals(200000L * 200001L / 2, sum);
                // a 20 MB bytea in one DataRow
                try (ResultSet rs = st.executeQuery(
                        "SELECT convert_to(repeat('abcdefghij', 2 * 1024 * 1024), 'UTF8') AS b, 'after' AS a")) {
                    assertTrue(rs.next());
                    byte[] b = rs.getBytes(1);
                    assertEquals(20 * 1024 * 1024, b.length);
                    for (int i = 0; i < b.length; i += 4099) {
                        assertEquals((byte) ('a' + i % 10), b[i], "byte " + i);
                    }
                    assertEquals("after", rs.getString(2));
                }
                // and a cursor (fetch size: Execute with a row limit, PortalSuspended) in a transaction
                c.setAutoCommit(false);
                st.setFetchSize(1000);
                rows = 0;
                try (ResultSet rs = st.executeQuery("SELECT g FROM generate_series(1, 50000) g")) {
                    while (rs.next()) {
                        rows++;
                        assertEquals(rows, rs.getLong(1));
                    }
                }
                assertEquals(50000, rows);
                c.commit();
            }
        }

        @Test
        void largeParameterAndLargeCopyIn() throws Exception {
            try (Connection c = router.connect()) {
                String t = table(c, "bigparam", "id int, b bytea");
                byte[] big = new byte[20 * 1024 * 1024];
                for (int i = 0; i < big.length; i++) {
                    big[i] = (byte) (i % 251);
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (1, ?)")) {
                    ps.setBytes(1, big);
                    assertEquals(1, ps.executeUpdate());
                }
                java.security.MessageDigest md5 = java.security.MessageDigest.getInstance("MD5");
                String expected = java.util.HexFormat.of().formatHex(md5.digest(big));
                assertEquals(expected, primaryValue(c, "SELECT md5(b) FROM " + t + " WHERE id = 1"));
                // 20 MB of COPY data
                StringBuilder data = new StringBuilder();
                for (int i = 2; data.length() < 20 * 1024 * 1024; i++) {
                    data.append(i).append("\t\\\\x").append("00ff".repeat(100)).append('\n');
                }
                long n = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + t + " FROM STDIN",
                        new ByteArrayInputStream(data.toString().getBytes(StandardCharsets.UTF_8)));
                assertEquals(n + 1, ((Number) primaryValue(c, "SELECT count(*) FROM " + t)).longValue());
            }
        }

        @Test
        void parameterStatusAndBackendKey() throws Exception {
            try (Connection c = router.connect(Map.of("options", "-c IntervalStyle=iso_8601"));
                 Connection direct = router.direct("primary")) {
                PGConnection pg = c.unwrap(PGConnection.class);
                assertEquals(value(direct, "SHOW server_version"), pg.getParameterStatus("server_version"));
                assertEquals("UTF8", pg.getParameterStatus("client_encoding"));
                assertEquals("iso_8601", pg.getParameterStatus("IntervalStyle"));
                assertEquals("iso_8601", value(c, "SHOW IntervalStyle"));
                assertEquals("P1D", value(c, "SELECT interval '1 day'::text"));
                assertEquals(value(c, "SHOW TimeZone"), pg.getParameterStatus("TimeZone"));
                // the key pgjdbc got is pgsplit's, not the pid of a server process
                int key = pg.getBackendPID();
                int primaryPid = ((Number) primaryValue(c, "SELECT pg_backend_pid()")).intValue();
                int readPid = ((Number) value(c, "SELECT pg_backend_pid()")).intValue();
                assertTrue(key != primaryPid && key != readPid, "key " + key + " is a server pid");
                try (Connection other = router.connect()) {
                    assertTrue(other.unwrap(PGConnection.class).getBackendPID() != key);
                }
                // a SET reported by the server reaches the client
                try (Statement st = c.createStatement()) {
                    st.execute("SET IntervalStyle = postgres_verbose");
                }
                assertEquals("postgres_verbose", pg.getParameterStatus("IntervalStyle"));
            }
        }

        @Test
        void timeZoneFromStartupOptions() throws Exception {
            Map<String, String> opts = Map.of("options", "-c TimeZone=Asia/Tokyo");
            // pgjdbc: the same as PostgreSQL itself gives for the same connection properties
            try (Connection c = router.connect(opts);
                 Connection d = io.pgsplit.testing.Jdbc.connect(cluster.host(), cluster.primaryPort(), "app", "app",
                         "app", opts)) {
                assertEquals(value(d, "SHOW TimeZone"), value(c, "SHOW TimeZone"));
                assertEquals(value(d, "SHOW TimeZone"), primaryValue(c, "SHOW TimeZone"));
                assertEquals(d.unwrap(PGConnection.class).getParameterStatus("TimeZone"),
                        c.unwrap(PGConnection.class).getParameterStatus("TimeZone"));
            }
            // a raw client: ParameterStatus and SHOW on a replica and on the primary
            try (Wire w = new Wire(router.host(), router.port())) {
                w.send(Wire.startupPacket(Map.of("user", "trustuser", "database", "app",
                        "options", "-c TimeZone=Asia/Tokyo")));
                Map<String, String> reported = new java.util.HashMap<>();
                Wire.Msg m;
                while ((m = w.read()).type() != 'Z') {
                    assertTrue(m.type() != 'E', "error " + m);
                    if (m.type() == 'S') {
                        String[] kv = new String(m.body(), StandardCharsets.UTF_8).split("\0", -1);
                        reported.put(kv[0], kv[1]);
                    }
                }
                assertEquals("Asia/Tokyo", reported.get("TimeZone"), reported.toString());
                assertEquals("off", reported.get("in_hot_standby"), reported.toString());
                for (String sql : List.of("SHOW TimeZone", "/* pgsplit: route=primary */ SHOW TimeZone")) {
                    w.send(Wire.query(sql));
                    Wire.Msg row = w.readUntil('D');
                    assertEquals("Asia/Tokyo", new String(row.body(), 6, row.body().length - 6, StandardCharsets.UTF_8));
                    w.readUntil('Z');
                }
            }
        }

        static Object value(Connection c, String sql) throws SQLException {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                assertTrue(rs.next(), sql);
                return rs.getObject(1);
            }
        }

        /** Reads on the primary (so there is no replication lag to wait for). */
        static Object primaryValue(Connection c, String sql) throws SQLException {
            return value(c, "/* pgsplit: route=primary */ " + sql);
        }
    }
}
