package io.pgsplit.pool;

import static io.pgsplit.pool.RawPg.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.config.ConfigLoader;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.server.Pgsplit;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pool modes chosen per database and per user; pipelined Syncs keep their connection while they need it. */
@ExtendWith(PgClusterExtension.class)
class PoolModesTest {

    static String pid(Connection c) throws SQLException {
        return String.valueOf(Jdbc.queryValue(c, "SELECT pg_backend_pid()"));
    }

    @Test
    void poolModeFromTheDatabaseSectionAndFromTheUser(LocalPgCluster cluster) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        // global: transaction; database app: statement; user md5user: session
        String yaml = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 3")
                .routing("splitting: false").yamlText(port)
                .replace("    replicas:\n", "    pool: {pool_mode: statement}\n    replicas:\n")
                .replace("  md5user: {auth: md5, password: md5pass}",
                        "  md5user: {auth: md5, password: md5pass, pool_mode: session}");
        assertTrue(yaml.contains("pool_mode: statement") && yaml.contains("pool_mode: session"), yaml);
        try (Pgsplit router = Pgsplit.start(ConfigLoader.parse(yaml, "modes.yaml"))) {
            router.catalog().refreshAll().get();
            // app: the database's statement mode
            try (Connection app = Jdbc.connect("127.0.0.1", port, "app", "app", "app");
                 Statement st = app.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute("BEGIN"));
                assertEquals("0A000", e.getSQLState());
                st.execute("ROLLBACK");
            }
            // md5user: session mode, whatever the database says: transactions, SQL PREPARE, one backend throughout
            try (Connection s1 = Jdbc.connect("127.0.0.1", port, "app", "md5user", "md5pass");
                 Connection other = Jdbc.connect("127.0.0.1", port, "app", "md5user", "md5pass");
                 Statement st = s1.createStatement()) {
                String mine = pid(s1);
                st.execute("PREPARE pm_p AS SELECT 5");
                s1.setAutoCommit(false);
                assertEquals(mine, pid(s1));
                assertEquals("5", String.valueOf(Jdbc.queryValue(s1, "EXECUTE pm_p")));
                s1.commit();
                s1.setAutoCommit(true);
                for (int i = 0; i < 3; i++) {
                    assertNotEquals(mine, pid(other));
                    assertEquals(mine, pid(s1));
                }
            }
        }
    }

    /**
     * A client pipelines a whole transaction (one Sync per statement, all sent at once) while another
     * client competes for the two connections: every statement of the transaction runs on one connection.
     */
    @ParameterizedTest(name = "splitting {0}")
    @ValueSource(booleans = {false, true})
    void pipelinedTransactionStaysOnOneConnection(boolean splitting, LocalPgCluster cluster) throws Exception {
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 2")
                .routing("splitting: " + splitting).start();
             Connection other = Jdbc.connect(router.host(), router.port(), "app", "trustuser", null)) {
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Integer> competitor = CompletableFuture.supplyAsync(() -> {
                int n = 0;
                try {
                    while (!stop.get()) {
                        other.setAutoCommit(n % 2 == 0);
                        pid(other);
                        if (n % 2 == 0) {
                            other.setAutoCommit(true);
                        } else {
                            other.commit();
                            other.setAutoCommit(true);
                        }
                        n++;
                    }
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
                return n;
            });
            try (RawPg a = new RawPg(router.host(), router.port(), "trustuser", "app")) {
                for (int round = 0; round < 30; round++) {
                    a.parse("", "BEGIN").bind("", "").execute("").sync();
                    for (int i = 0; i < 3; i++) {
                        a.parse("", "SELECT pg_backend_pid()::text || '/' || txid_current()::text").bind("", "")
                                .execute("").sync();
                    }
                    a.parse("", "COMMIT").bind("", "").execute("").sync();
                    List<RawPg.Msg> replies = a.readReady(5);
                    String s = shape(replies);
                    List<String> rows = replies.stream().filter(m -> m.type() == 'D').map(RawPg.Msg::text).toList();
                    assertEquals(3, rows.size(), s);
                    assertEquals(1, rows.stream().distinct().count(), "one transaction, one connection: " + s);
                    assertEquals("1 2 C(BEGIN) Z(T) 1 2 D(" + rows.get(0) + ") C(SELECT 1) Z(T) 1 2 D(" + rows.get(0)
                            + ") C(SELECT 1) Z(T) 1 2 D(" + rows.get(0) + ") C(SELECT 1) Z(T) 1 2 C(COMMIT) Z(I)", s);
                }
                // pipelined autocommit units, each answered in order
                for (int i = 0; i < 5; i++) {
                    a.parse("", "SELECT '" + i + "'").bind("", "").execute("").sync();
                }
                assertEquals("1 2 D(0) C(SELECT 1) Z(I) 1 2 D(1) C(SELECT 1) Z(I) 1 2 D(2) C(SELECT 1) Z(I)"
                        + " 1 2 D(3) C(SELECT 1) Z(I) 1 2 D(4) C(SELECT 1) Z(I)", shape(a.readReady(5)));
            } finally {
                stop.set(true);
            }
            assertTrue(competitor.get(20, TimeUnit.SECONDS) > 0);
        }
    }
}
