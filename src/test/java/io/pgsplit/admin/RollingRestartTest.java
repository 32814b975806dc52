package io.pgsplit.admin;

import static io.pgsplit.admin.AdminTesting.await;
import static io.pgsplit.admin.AdminTesting.rowOf;
import static io.pgsplit.admin.AdminTesting.show;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rolling restart: a second pgsplit starts on the same port (listen.reuse_port) while the first drains with the
 * console's SHUTDOWN WAIT_FOR_CLIENTS; pgbench, connecting per transaction (-C), runs across it without a failure.
 */
@ExtendWith(PgClusterExtension.class)
class RollingRestartTest {
    static final java.nio.file.Path MIGRATE_REQ = java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_migrate_req");

    @Test
    void pgbenchRunsAcrossARollingRestart(LocalPgCluster cluster) throws Exception {
        // Without it, a connection the kernel queued on the old listener when it closes is reset: a client sees
        // "server closed the connection unexpectedly" at connect (README "Operate it"). .ci/run sets it.
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(MIGRATE_REQ)
                && java.nio.file.Files.readString(MIGRATE_REQ).strip().equals("1"),
                "rolling restart needs sysctl net.ipv4.tcp_migrate_req=1 (Linux 5.14+); .ci/run sets it");
        AdminTesting.pgbenchInit(cluster);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        // the two instances differ only in their console password: how the test knows which one it reached
        String base = RouterFixture.builder(cluster).listen("reuse_port: true").pool("pool_mode: transaction, pool_size: 4")
                .yamlText(port);
        Pgsplit old = Pgsplit.start(ConfigLoader.parse(base + console("old-pw"), "old.yaml"));
        Pgsplit fresh = null;
        try {
            AdminTesting.Bench bench = new AdminTesting.Bench("127.0.0.1", port, "-C", "-c", "4", "-j", "2", "-T", "30");
            await("pgbench on the old instance", Duration.ofSeconds(30), () -> xacts(port, "old-pw") > 20);
            fresh = Pgsplit.start(ConfigLoader.parse(base + console("new-pw"), "new.yaml"));
            await("the new instance taking connections too", Duration.ofSeconds(30), () -> xacts(port, "new-pw") > 5);
            try (Connection a = reach(port, "old-pw"); Statement st = a.createStatement()) {
                st.execute("SHUTDOWN WAIT_FOR_CLIENTS");
            }
            Pgsplit drained = old;
            await("the old instance drained and stopped", Duration.ofSeconds(60), drained::isClosed);
            long after = xacts(port, "new-pw");
            String out = bench.finish(120);
            assertTrue(xacts(port, "new-pw") > after, "no transaction on the new instance after the old one left");
            System.out.println("pgbench across the rolling restart: processed "
                    + AdminTesting.Bench.processed(out) + ", failed " + AdminTesting.Bench.failed(out));
            assertEquals(0, AdminTesting.Bench.failed(out), out);
            assertTrue(out.contains("number of transactions actually processed"), out);
        } finally {
            old.close();
            if (fresh != null) {
                fresh.close();
            }
        }
    }

    private static String console(String password) {
        return "admin: {enabled: true, user: pgsplit, password: " + password + "}\n";
    }

    /** A console connection to the instance whose password is {@code password} (the kernel picks one per connect). */
    private static Connection reach(int port, String password) throws SQLException {
        SQLException last = null;
        for (int i = 0; i < 100; i++) {
            try {
                return Jdbc.connect("127.0.0.1", port, "pgsplit", "pgsplit", password, Map.of("preferQueryMode", "simple"));
            } catch (SQLException wrongInstance) {
                last = wrongInstance;
            }
        }
        throw last;
    }

    private static long xacts(int port, String password) {
        try (Connection c = reach(port, password)) {
            return Long.parseLong(rowOf(show(c, "SHOW STATS_TOTALS"), "database", "app").get("xact_count"));
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }
}
