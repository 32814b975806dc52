package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Where transactions run through pgsplit (transaction pooling), asked of the server itself: plain transactions on
 * the primary, read-only ones (however declared) on a replica, serializable read-only ones on the primary.
 * Every scenario runs with the simple protocol and with pgjdbc's extended protocol.
 */
@ExtendWith(PgClusterExtension.class)
class ReadOnlyTransactionsTest {
    static final Map<String, String> SIMPLE = Map.of("preferQueryMode", "simple");
    static final Map<String, String> EXTENDED = Map.of();
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        c.execute(PgClusterExtension.DB, "DROP ROLE IF EXISTS ro_role_user; "
                + "CREATE ROLE ro_role_user LOGIN PASSWORD 'ro_pass'; "
                + "ALTER ROLE ro_role_user SET default_transaction_read_only = on; "
                + "GRANT CONNECT ON DATABASE app TO ro_role_user; "
                + "DROP SEQUENCE IF EXISTS ro_seq; CREATE SEQUENCE ro_seq; GRANT ALL ON SEQUENCE ro_seq TO ro_role_user;");
        c.waitForReplay();
        router = RouterFixture.builder(c).pool("pool_mode: transaction, pool_size: 5")
                .users("  ro_role_user: {password: ro_pass}").start();
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    static int port(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    static int port(Statement st) throws Exception {
        return port(st, "SELECT inet_server_port()");
    }

    void assertReplica(int port, String what) {
        assertTrue(cluster.replicaPorts().contains(port), what + " ran on port " + port + ", not on a replica");
    }

    void assertPrimary(int port, String what) {
        assertEquals(cluster.primaryPort(), port, what + " did not run on the primary");
    }

    @Test
    void autocommitReadsSpreadOverBothReplicas() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            Set<Integer> ports = new HashSet<>();
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                for (int i = 0; i < 12; i++) {
                    ports.add(port(st));
                }
            }
            assertEquals(new HashSet<>(cluster.replicaPorts()), ports, "mode " + mode);
        }
    }

    @Test
    void beginCommitRunsOnThePrimary() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("BEGIN");
                assertPrimary(port(st), "BEGIN; SELECT");
                assertPrimary(port(st), "second statement of the transaction");
                st.execute("COMMIT");
                assertReplica(port(st), "autocommit read after COMMIT");
            }
        }
    }

    @Test
    void readOnlyTransactionsRunOnAReplica() throws Exception {
        String[][] cases = {
            {"BEGIN READ ONLY"},
            {"START TRANSACTION READ ONLY"},
            {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
            {"BEGIN", "SET TRANSACTION READ ONLY"},
            {"START TRANSACTION", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY"},
        };
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            for (String[] begin : cases) {
                try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                    for (String s : begin) {
                        st.execute(s);
                    }
                    int first = port(st);
                    assertReplica(first, String.join("; ", begin) + " (" + mode + ")");
                    assertEquals(first, port(st), "the whole transaction stays on one replica");
                    try (ResultSet rs = st.executeQuery("SHOW transaction_read_only")) {
                        rs.next();
                        assertEquals("on", rs.getString(1));
                    }
                    st.execute("COMMIT");
                }
            }
        }
    }

    @Test
    void serializableReadOnlyTransactionsRunOnThePrimary() throws Exception {
        String[][] cases = {
            {"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"},
            {"START TRANSACTION READ ONLY, ISOLATION LEVEL SERIALIZABLE"},
            {"BEGIN", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE READ ONLY"},
        };
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            for (String[] begin : cases) {
                try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                    for (String s : begin) {
                        st.execute(s);
                    }
                    assertPrimary(port(st), String.join("; ", begin) + " (" + mode + ")");
                    st.execute("COMMIT");
                }
            }
        }
    }

    @Test
    void setDefaultTransactionReadOnlyThenBegin() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("SET default_transaction_read_only = on");
                st.execute("BEGIN");
                assertReplica(port(st), "SET default_transaction_read_only = on; BEGIN (" + mode + ")");
                st.execute("COMMIT");
                st.execute("SET default_transaction_read_only = off");
                st.execute("BEGIN");
                assertPrimary(port(st), "default_transaction_read_only back off; BEGIN (" + mode + ")");
                st.execute("COMMIT");
            }
        }
    }

    @Test
    void setSessionCharacteristicsReadOnly() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
                st.execute("BEGIN");
                assertReplica(port(st), "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; BEGIN (" + mode + ")");
                st.execute("COMMIT");
            }
        }
    }

    @Test
    void serializableByDefaultStaysOnThePrimary() throws Exception {
        // a hot standby refuses SERIALIZABLE: a read-only transaction that is serializable by default goes to
        // the primary, however the defaults were set
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("SET default_transaction_isolation = 'serializable'");
                st.execute("SET default_transaction_read_only = on");
                st.execute("BEGIN");
                assertPrimary(port(st), "serializable by SET, read only; BEGIN (" + mode + ")");
                st.execute("COMMIT");
                st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
                assertReplica(port(st), "REPEATABLE READ overrides the serializable default (" + mode + ")");
                st.execute("COMMIT");
                st.execute("BEGIN READ ONLY");
                assertPrimary(port(st), "BEGIN READ ONLY, serializable by default (" + mode + ")");
                st.execute("COMMIT");
                st.execute("BEGIN");
                st.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
                assertReplica(port(st), "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, read only by default ("
                        + mode + ")");
                st.execute("COMMIT");
                st.execute("RESET default_transaction_isolation");
                st.execute("BEGIN");
                assertReplica(port(st), "after RESET default_transaction_isolation (" + mode + ")");
                st.execute("COMMIT");
            }
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY");
                st.execute("BEGIN");
                assertPrimary(port(st), "SET SESSION CHARACTERISTICS ... SERIALIZABLE, READ ONLY; BEGIN (" + mode + ")");
                st.execute("COMMIT");
            }
            Map<String, String> props = new java.util.HashMap<>(mode);
            props.put("options", "-c default_transaction_isolation=serializable -c default_transaction_read_only=on");
            try (Connection c = router.connect(props); Statement st = c.createStatement()) {
                st.execute("BEGIN");
                assertPrimary(port(st), "serializable by startup option, read only; BEGIN (" + mode + ")");
                st.execute("COMMIT");
            }
        }
    }

    @Test
    void autocommitReadsUnderSerializableDefaultSucceed() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                st.execute("SET default_transaction_isolation = 'serializable'");
                for (int i = 0; i < 3; i++) {
                    port(st);
                }
            }
        }
    }

    @Test
    void startupOptionDefaultTransactionReadOnly() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            Map<String, String> props = new java.util.HashMap<>(mode);
            props.put("options", "-c default_transaction_read_only=on");
            try (Connection c = router.connect(props); Statement st = c.createStatement()) {
                st.execute("BEGIN");
                assertReplica(port(st), "startup default_transaction_read_only=on; BEGIN (" + mode + ")");
                st.execute("COMMIT");
            }
        }
    }

    @Test
    void roleDefaultTransactionReadOnly() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = Jdbc.connect(router.host(), router.port(), PgClusterExtension.DB, "ro_role_user",
                    "ro_pass", mode); Statement st = c.createStatement()) {
                st.execute("BEGIN");
                assertReplica(port(st), "ALTER ROLE ... SET default_transaction_read_only = on; BEGIN (" + mode + ")");
                st.execute("COMMIT");
            }
        }
    }

    @Test
    void writeRefusedEverywhereIsRetriedOnlyOnce() throws Exception {
        // the role is read-only by default: the replica and then the primary refuse the write; the client gets
        // the primary's refusal once, and goes on
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED}) {
            try (Connection c = Jdbc.connect(router.host(), router.port(), PgClusterExtension.DB, "ro_role_user",
                    "ro_pass", mode); Statement st = c.createStatement()) {
                java.sql.SQLException e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                        () -> st.executeQuery("/* pgsplit: route=replica */ SELECT nextval('ro_seq')"));
                assertEquals("25006", e.getSQLState());
                e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                        () -> st.executeQuery("SELECT nextval('ro_seq')"));
                assertEquals("25006", e.getSQLState());
                assertReplica(port(st), "after the refusals (" + mode + ")");
            }
        }
        try (Connection p = router.direct("primary")) {
            assertEquals(Boolean.FALSE, Jdbc.queryValue(p, "SELECT is_called FROM ro_seq"), "nextval never ran");
        }
    }

    @Test
    void pgjdbcSetTransactionAsFirstStatement() throws Exception {
        // pgjdbc sends its BEGIN together with the first statement
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED, Map.of("prepareThreshold", "1")}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.execute("SET TRANSACTION READ ONLY");
                assertReplica(port(st), "pgjdbc BEGIN + SET TRANSACTION READ ONLY (" + mode + ")");
                c.commit();
                st.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY");
                assertPrimary(port(st), "pgjdbc BEGIN + SET TRANSACTION SERIALIZABLE READ ONLY (" + mode + ")");
                c.commit();
                st.execute("SET TRANSACTION READ WRITE");
                assertPrimary(port(st), "pgjdbc BEGIN + SET TRANSACTION READ WRITE (" + mode + ")");
                c.commit();
            }
        }
    }

    @Test
    void pgjdbcSerializableReadOnly() throws Exception {
        for (Map<String, String> mode : new Map[] {SIMPLE, EXTENDED, Map.of("prepareThreshold", "1")}) {
            try (Connection c = router.connect(mode); Statement st = c.createStatement()) {
                c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                c.setAutoCommit(false);
                c.setReadOnly(true);
                assertPrimary(port(st), "pgjdbc serializable + setReadOnly(true) (" + mode + ")");
                c.commit();
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                assertReplica(port(st), "pgjdbc repeatable read + setReadOnly(true) (" + mode + ")");
                c.commit();
            }
        }
    }

    @Test
    void pgjdbcFetchSizeInReadOnlyTransaction() throws Exception {
        for (Map<String, String> mode : new Map[] {EXTENDED, Map.of("prepareThreshold", "1")}) {
            try (Connection c = router.connect(mode)) {
                c.setAutoCommit(false);
                c.setReadOnly(true);
                for (int round = 0; round < 2; round++) {
                    try (java.sql.PreparedStatement ps = c.prepareStatement(
                            "SELECT inet_server_port(), g FROM generate_series(1, 100) g")) {
                        ps.setFetchSize(7); // a portal fetched in pieces, each Execute in its own Sync
                        Set<Integer> ports = new HashSet<>();
                        int rows = 0;
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                ports.add(rs.getInt(1));
                                rows++;
                            }
                        }
                        assertEquals(100, rows);
                        assertEquals(1, ports.size(), ports.toString());
                        assertReplica(ports.iterator().next(), "fetchSize in a read-only transaction (" + mode + ")");
                    }
                    c.commit();
                }
            }
        }
    }

    @Test
    void pgjdbcReadOnlyConnections() throws Exception {
        for (Map<String, String> mode : new Map[] {Map.of("prepareThreshold", "1"), EXTENDED, SIMPLE}) {
            try (Connection c = router.connect(mode)) {
                c.setAutoCommit(false);
                c.setReadOnly(true);
                try (Statement st = c.createStatement()) {
                    for (int i = 0; i < 3; i++) {
                        assertReplica(port(st), "setReadOnly(true) transaction (" + mode + ")");
                        c.commit();
                    }
                }
                try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT inet_server_port() + ?")) {
                    for (int i = 0; i < 3; i++) {
                        ps.setInt(1, 0);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertReplica(rs.getInt(1), "prepared, read only (" + mode + ")");
                        }
                        c.commit();
                    }
                    c.setReadOnly(false);
                    for (int i = 0; i < 3; i++) {
                        ps.setInt(1, 0);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertPrimary(rs.getInt(1), "prepared, read write (" + mode + ")");
                        }
                        c.commit();
                    }
                }
                try (Statement st = c.createStatement()) {
                    assertPrimary(port(st), "setReadOnly(false) transaction (" + mode + ")");
                    c.commit();
                }
            }
        }
    }
}
