package io.pgsplit.pool;

import static io.pgsplit.pool.RawPg.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Protocol-level prepared statements under transaction pooling: a statement prepared on one server
 * connection works wherever the client's later Bind lands, with exactly the replies PostgreSQL would
 * send (no extra or missing ParseComplete / CloseComplete).
 */
@ExtendWith(PgClusterExtension.class)
class PreparedStatementsTest {
    static LocalPgCluster cluster;
    /** Two server connections, everything on the primary. */
    static RouterFixture two;
    /** One server connection, everything on the primary. */
    static RouterFixture one;
    /** One server connection keeping at most 2 prepared statements. */
    static RouterFixture lru;
    static final Map<String, String> PREPARED = Map.of("prepareThreshold", "1");

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        c.execute(PgClusterExtension.DB, "DROP TABLE IF EXISTS ps_shape; CREATE TABLE ps_shape (a int);"
                + "INSERT INTO ps_shape VALUES (1); ALTER TABLE ps_shape OWNER TO app; GRANT SELECT ON ps_shape TO PUBLIC;");
        two = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 2").routing("splitting: false")
                .start();
        one = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 1").routing("splitting: false")
                .start();
        lru = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 1, prepared_statement_cache_size: 2")
                .routing("splitting: false").start();
    }

    @AfterAll
    static void stop() {
        two.close();
        one.close();
        lru.close();
    }

    static RawPg raw(RouterFixture r) throws Exception {
        return new RawPg(r.host(), r.port(), PgClusterExtension.TRUST_USER, PgClusterExtension.DB);
    }

    static Connection trustJdbc(RouterFixture r) throws SQLException {
        return Jdbc.connect(r.host(), r.port(), PgClusterExtension.DB, PgClusterExtension.TRUST_USER, null);
    }

    static String pidIn(Connection c) throws SQLException {
        return String.valueOf(Jdbc.queryValue(c, "SELECT pg_backend_pid()"));
    }

    @Test
    void bindLandsOnAnotherServerConnectionAndEveryReplyIsExact() throws Exception {
        try (RawPg a = raw(two); Connection h1 = trustJdbc(two); Connection h2 = trustJdbc(two)) {
            h1.setAutoCommit(false);
            h2.setAutoCommit(false);
            String q = pidIn(h2); // h2 holds Q
            a.parse("s1", "SELECT pg_backend_pid()::text").bind("", "s1").execute("").sync();
            String p = a.readUntilReady().get(2).text();
            assertNotEquals(q, p);
            assertEquals(p, pidIn(h1)); // h1 takes P, the only idle one
            h2.commit(); // Q is free; A's Bind can only land there, where s1 was never prepared
            a.bind("", "s1").execute("").sync();
            assertEquals("2 D(" + q + ") C(SELECT 1) Z(I)", shape(a.readUntilReady()));
            a.describe('S', "s1").sync();
            assertEquals("t T Z(I)", shape(a.readUntilReady()));
            h1.commit();

            // Close, then the same name for another text
            a.close('S', "s1").sync();
            assertEquals("3 Z(I)", shape(a.readUntilReady()));
            a.parse("s1", "SELECT 'second'").bind("", "s1").execute("").sync();
            assertEquals("1 2 D(second) C(SELECT 1) Z(I)", shape(a.readUntilReady()));
            // Close and re-Parse of the same name in one batch
            a.close('S', "s1").parse("s1", "SELECT 'third'").bind("", "s1").execute("").sync();
            assertEquals("3 1 2 D(third) C(SELECT 1) Z(I)", shape(a.readUntilReady()));
            // a closed statement is gone for the client, as on PostgreSQL
            a.close('S', "s1").sync().bind("", "s1").execute("").sync();
            assertEquals("3 Z(I) E(26000) Z(I)", shape(a.readReady(2)));
            // two client names for one text share a server statement: closing one keeps the other
            a.parse("s2", "SELECT 'shared'").parse("s3", "SELECT 'shared'").close('S', "s2")
                    .bind("", "s3").execute("").sync();
            assertEquals("1 1 3 2 D(shared) C(SELECT 1) Z(I)", shape(a.readUntilReady()));
            // a Parse the server refuses, then the name is free for a good one
            a.parse("s4", "SELEC 1").bind("", "s4").execute("").sync();
            assertEquals("E(42601) Z(I)", shape(a.readUntilReady()));
            a.parse("s4", "SELECT '4'").bind("", "s4").execute("").sync().bind("", "s4").execute("").sync();
            assertEquals("1 2 D(4) C(SELECT 1) Z(I) 2 D(4) C(SELECT 1) Z(I)", shape(a.readReady(2)));
            // Closing a statement that does not exist is not an error
            a.close('S', "nope").close('P', "nope").sync();
            assertEquals("3 3 Z(I)", shape(a.readUntilReady()));
        }
    }

    @Test
    void pgjdbcPreparedStatementFollowsTheClientToAnotherConnection() throws Exception {
        try (Connection a = two.connect(PREPARED); Connection h1 = two.connect(); Connection h2 = two.connect()) {
            h1.setAutoCommit(false);
            h2.setAutoCommit(false);
            String q = pidIn(h2);
            try (PreparedStatement ps = a.prepareStatement("SELECT pg_backend_pid()::text || ':' || ?::text")) {
                ps.setString(1, "x");
                String p = single(ps).split(":")[0];
                assertEquals(p + ":x", single(ps));
                assertEquals(p, pidIn(h1));
                h2.commit();
                ps.setString(1, "y");
                assertEquals(q + ":y", single(ps));
                h1.commit();
                for (int i = 0; i < 4; i++) {
                    h1.setAutoCommit(i % 2 == 0);
                    pidIn(h1);
                    ps.setString(1, "z" + i);
                    assertTrue(single(ps).endsWith(":z" + i));
                    h1.setAutoCommit(true);
                }
            }
        }
    }

    static String single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }

    @Test
    void deallocateAllAndDiscardAllFromTheClient() throws Exception {
        for (String statement : new String[] {"DEALLOCATE ALL", "DISCARD ALL"}) {
            try (Connection a = one.connect(PREPARED); Connection c = one.connect(PREPARED);
                 RawPg r = raw(one)) {
                // a raw client's statement and two pgjdbc clients sharing one server statement
                r.parse("r1", "SELECT 'raw'").sync();
                assertEquals("1 Z(I)", shape(r.readUntilReady()));
                try (PreparedStatement pa = a.prepareStatement("SELECT ?::int + 100");
                     PreparedStatement pc = c.prepareStatement("SELECT ?::int + 100")) {
                    for (int i = 0; i < 3; i++) {
                        pa.setInt(1, i);
                        pc.setInt(1, i + 10);
                        assertEquals(String.valueOf(100 + i), single(pa));
                        assertEquals(String.valueOf(110 + i), single(pc));
                    }
                    try (Statement st = a.createStatement()) {
                        st.execute(statement);
                    }
                    assertEquals("0", String.valueOf(Jdbc.queryValue(a,
                            "SELECT count(*) FROM pg_prepared_statements WHERE name NOT LIKE 'pgsplit%'")));
                    for (int i = 0; i < 3; i++) {
                        pa.setInt(1, i);
                        pc.setInt(1, i + 10);
                        assertEquals(String.valueOf(100 + i), single(pa), statement);
                        assertEquals(String.valueOf(110 + i), single(pc), statement);
                    }
                }
                // the raw client's statement survives another client's DEALLOCATE ALL / DISCARD ALL
                r.bind("", "r1").execute("").sync();
                assertEquals("2 D(raw) C(SELECT 1) Z(I)", shape(r.readUntilReady()));
                // ... but not its own
                r.query(statement);
                assertEquals("C(" + statement + ") Z(I)", shape(r.readUntilReady()));
                r.bind("", "r1").execute("").sync();
                assertEquals("E(26000) Z(I)", shape(r.readUntilReady()));
            }
        }
    }

    /** SQL DEALLOCATE of a statement prepared with Parse (psycopg 3 evicts its statements that way). */
    @Test
    void sqlDeallocateOfAProtocolStatement() throws Exception {
        try (RawPg a = raw(two); RawPg b = raw(two)) {
            a.parse("_pg3_0", "SELECT 'd'").parse("keep", "SELECT 'k'").sync();
            b.parse("_pg3_0", "SELECT 'd'").sync();
            assertEquals("1 1 Z(I)", shape(a.readUntilReady()));
            assertEquals("1 Z(I)", shape(b.readUntilReady()));
            a.query("DEALLOCATE _pg3_0");
            assertEquals("C(DEALLOCATE) Z(I)", shape(a.readUntilReady()));
            a.bind("", "_pg3_0").execute("").sync();
            assertEquals("E(26000) Z(I)", shape(a.readUntilReady()));
            // the name is free again; the other statement and the other client's statement of that text live on
            a.parse("_pg3_0", "SELECT 'again'").bind("", "_pg3_0").execute("").sync()
                    .bind("", "keep").execute("").sync();
            assertEquals("1 2 D(again) C(SELECT 1) Z(I) 2 D(k) C(SELECT 1) Z(I)", shape(a.readReady(2)));
            b.bind("", "_pg3_0").execute("").sync();
            assertEquals("2 D(d) C(SELECT 1) Z(I)", shape(b.readUntilReady()));
            // inside a transaction too, which it must not break
            a.query("BEGIN");
            assertEquals("C(BEGIN) Z(T)", shape(a.readUntilReady()));
            a.query("DEALLOCATE PREPARE keep");
            assertEquals("C(DEALLOCATE) Z(T)", shape(a.readUntilReady()));
            a.query("SELECT 'still' ");
            assertEquals("T D(still) C(SELECT 1) Z(T)", shape(a.readUntilReady()));
            a.query("COMMIT");
            assertEquals("C(COMMIT) Z(I)", shape(a.readUntilReady()));
            // a name that does not exist: PostgreSQL's own error
            a.query("DEALLOCATE nothing_here");
            assertEquals("E(26000) Z(I)", shape(a.readUntilReady()));
        }
    }

    @Test
    void lruEvictionClosesOnTheServerAndReprepares() throws Exception {
        try (RawPg a = raw(lru)) {
            for (int i = 1; i <= 5; i++) {
                a.parse("l" + i, "SELECT 'v" + i + "'").sync();
                assertEquals("1 Z(I)", shape(a.readUntilReady()));
            }
            for (int round = 0; round < 3; round++) {
                for (int i = 1; i <= 5; i++) {
                    a.bind("", "l" + i).execute("").sync();
                    assertEquals("2 D(v" + i + ") C(SELECT 1) Z(I)", shape(a.readUntilReady()));
                }
                a.query("SELECT count(*) FROM pg_prepared_statements");
                String count = a.readUntilReady().get(1).text();
                assertTrue(Integer.parseInt(count) <= 2, count + " statements kept on the server");
            }
        }
        try (Connection c = lru.connect(PREPARED)) {
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 5; i++) {
                    try (PreparedStatement ps = c.prepareStatement("SELECT ?::int * " + (i + 2))) {
                        ps.setInt(1, round);
                        assertEquals(String.valueOf(round * (i + 2)), single(ps));
                        ps.setInt(1, round + 1);
                        assertEquals(String.valueOf((round + 1) * (i + 2)), single(ps));
                    }
                }
            }
        }
        // counted by a simple-protocol client on the same (only) server connection: it prepares nothing itself
        try (Connection s = lru.connect(Map.of("preferQueryMode", "simple"))) {
            assertTrue(((Number) Jdbc.queryValue(s, "SELECT count(*) FROM pg_prepared_statements")).intValue() <= 2);
        }
        // a unit using more statements than the cache holds: each Bind finds its statement
        try (RawPg a = raw(lru)) {
            for (int i = 1; i <= 3; i++) {
                a.parse("m" + i, "SELECT 'm" + i + "'");
            }
            a.sync();
            assertEquals("1 1 1 Z(I)", shape(a.readUntilReady()));
            for (int round = 0; round < 2; round++) {
                a.bind("", "m1").execute("").bind("", "m2").execute("").bind("", "m3").execute("")
                        .bind("", "m1").execute("").sync();
                assertEquals("2 D(m1) C(SELECT 1) 2 D(m2) C(SELECT 1) 2 D(m3) C(SELECT 1) 2 D(m1) C(SELECT 1) Z(I)",
                        shape(a.readUntilReady()));
            }
        }
    }

    /**
     * pgjdbc keeps using a statement it prepared before a DDL change: PostgreSQL answers the next
     * execution with 0A000 "cached plan must not change result type", which pgjdbc recognises (by the
     * error's routine field) and heals by preparing again, so the application sees the new shape.
     * Through pgsplit, whose copy of the text is fresh (prepared for another client), the statement
     * must fail the same way, with PostgreSQL's own error, or pgjdbc would not heal (or would read rows
     * its statement did not describe).
     */
    @Test
    void ownStatementPreparedBeforeDdlFailsOnceAsOnPostgres() throws Exception {
        List<String> direct = ownStatementScenario(() -> one.direct("primary"));
        List<String> viaRouter = ownStatementScenario(() -> one.connect(PREPARED));
        assertEquals(direct, viaRouter);
        assertEquals(List.of("2 columns, b=new", "2 columns, b=new", "2 columns, b=new"), viaRouter);
    }

    interface JdbcOpener {
        Connection open() throws Exception;
    }

    /** Outcomes of three executions of a statement prepared before the table gained a column. */
    private List<String> ownStatementScenario(JdbcOpener opener) throws Exception {
        List<String> outcomes = new java.util.ArrayList<>();
        try (Connection a = opener.open(); Connection other = one.connect(PREPARED);
             Connection direct = one.direct("primary")) {
            a.setAutoCommit(true);
            try (PreparedStatement pa = a.prepareStatement("SELECT * FROM ps_shape")) {
                ((org.postgresql.PGStatement) pa).setPrepareThreshold(1);
                assertEquals("1", single(pa));
                assertEquals("1", single(pa));
                try (Statement st = direct.createStatement()) {
                    st.execute("ALTER TABLE ps_shape ADD COLUMN b text DEFAULT 'new'");
                }
                try {
                    // another client prepares the text afresh, so pgsplit's copy is current again
                    try (PreparedStatement po = other.prepareStatement("SELECT * FROM ps_shape")) {
                        assertEquals("1", single(po));
                    }
                    for (int attempt = 0; attempt < 3; attempt++) {
                        try (ResultSet rs = pa.executeQuery()) {
                            assertTrue(rs.next());
                            outcomes.add(rs.getMetaData().getColumnCount() + " columns, b=" + rs.getString(2));
                        } catch (SQLException e) {
                            outcomes.add(e.getSQLState());
                        }
                    }
                } finally {
                    try (Statement st = direct.createStatement()) {
                        st.execute("ALTER TABLE ps_shape DROP COLUMN b");
                    }
                }
            }
        }
        return outcomes;
    }

    @Test
    void staleSharedStatementIsRepreparedAndRetriedTransparently() throws Exception {
        try (Connection a = one.connect(PREPARED); Connection c = one.connect(PREPARED);
             Connection direct = one.direct("primary")) {
            try (PreparedStatement pa = a.prepareStatement("SELECT * FROM ps_shape")) {
                assertEquals("1", single(pa));
                assertEquals("1", single(pa));
            }
            try (Statement st = direct.createStatement()) {
                st.execute("ALTER TABLE ps_shape ADD COLUMN b text DEFAULT 'new'");
            }
            try (PreparedStatement pc = c.prepareStatement("SELECT * FROM ps_shape");
                 ResultSet rs = pc.executeQuery()) {
                assertTrue(rs.next());
                assertEquals("new", rs.getString(2));
            } finally {
                try (Statement st = direct.createStatement()) {
                    st.execute("ALTER TABLE ps_shape DROP COLUMN b");
                }
            }
        }
    }

    /**
     * What a client sees through pgsplit in the stale-plan cases equals what it sees on PostgreSQL direct:
     * a client that parses after the DDL runs fine although pgsplit shares an older, stale server copy
     * (re-prepared and retried, nothing extra reaches the client); a client whose own statement predates
     * the DDL gets PostgreSQL's own 0A000, once, and its next Parse works.
     */
    @Test
    void staleCopiesGiveExactlyWhatPostgresGives() throws Exception {
        List<String> viaRouter = staleScenario(() -> raw(one));
        List<String> direct = staleScenario(() -> new RawPg("127.0.0.1", cluster.primaryPort(),
                PgClusterExtension.TRUST_USER, PgClusterExtension.DB));
        assertEquals(direct, viaRouter);
        assertTrue(!direct.get(1).contains("E("), "b's fresh statement runs on PostgreSQL: " + direct);
        assertTrue(direct.get(2).startsWith("E(0A000)"), "the old statement is stale on PostgreSQL: " + direct);
    }

    interface RawOpener {
        RawPg open() throws Exception;
    }

    /** Replies, as shapes, of: a prepares before DDL; b parses after it; a binds its old statement; a re-parses. */
    private List<String> staleScenario(RawOpener opener) throws Exception {
        List<String> seen = new java.util.ArrayList<>();
        try (RawPg a = opener.open(); RawPg b = opener.open();
             Connection direct = one.direct("primary")) {
            a.parse("old", "SELECT * FROM ps_shape").bind("", "old").execute("").sync();
            seen.add(shape(a.readUntilReady()));
            try (Statement st = direct.createStatement()) {
                st.execute("ALTER TABLE ps_shape ADD COLUMN b text DEFAULT 'new'");
            }
            try {
                b.parse("fresh", "SELECT * FROM ps_shape").describe('S', "fresh").bind("", "fresh").execute("")
                        .sync();
                seen.add(shape(b.readUntilReady()));
                a.bind("", "old").execute("").sync();
                seen.add(shape(a.readUntilReady()));
                a.parse("again", "SELECT * FROM ps_shape").bind("", "again").execute("").sync();
                seen.add(shape(a.readUntilReady()));
            } finally {
                try (Statement st = direct.createStatement()) {
                    st.execute("ALTER TABLE ps_shape DROP COLUMN b");
                }
            }
        }
        return seen;
    }
}
