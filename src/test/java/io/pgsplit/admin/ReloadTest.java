package io.pgsplit.admin;

import static io.pgsplit.admin.AdminTesting.await;
import static io.pgsplit.admin.AdminTesting.rowOf;
import static io.pgsplit.admin.AdminTesting.show;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.config.ConfigLoader;
import io.pgsplit.server.Pgsplit;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reload without dropping clients: a configuration file changed under a running pgbench (pool size, a new user, a
 * replica removed) and applied by SIGHUP, then by the console's RELOAD; a broken file keeps the running
 * configuration; a restart-only change is reported.
 */
@ExtendWith(PgClusterExtension.class)
class ReloadTest {
    @TempDir
    Path dir;

    @Test
    void sighupAndReloadApplyChangesUnderPgbench(LocalPgCluster cluster) throws Exception {
        AdminTesting.pgbenchInit(cluster);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        RouterFixture.Builder yaml = RouterFixture.builder(cluster).users(AdminTesting.USERS)
                .yaml(AdminTesting.adminYaml(""));
        String base = yaml.yamlText(port);
        Path file = dir.resolve("pgsplit.yaml");
        Files.writeString(file, base + "pool: {pool_mode: transaction, pool_size: 2}\n");
        try (Pgsplit router = Pgsplit.start(ConfigLoader.load(file));
             Connection admin = console(port)) {
            assertEquals("2", rowOf(show(admin, "SHOW DATABASES"), "name", "app").get("pool_size"));
            Process bench = pgbench(port);
            await("pgbench running", Duration.ofSeconds(30), () -> xacts(admin) > 100);

            // pool size up, a user added, replica r2 removed: applied by SIGHUP
            String withoutR2 = base.replaceAll("(?m)^      - \\{name: r2,.*\\n", "")
                    .replace("users:\n", "users:\n  newbie: {password: newbie-pw, server_user: app, server_password: app}\n");
            assertNotEquals(base, withoutR2);
            Files.writeString(file, withoutR2 + "pool: {pool_mode: transaction, pool_size: 6}\n");
            Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid())).start();
            assertTrue(hup.waitFor(10, TimeUnit.SECONDS));
            await("pool_size 6 after SIGHUP", Duration.ofSeconds(30),
                    () -> "6".equals(row(admin, "SHOW DATABASES", "name", "app").get("pool_size")));
            await("r2 gone from SHOW NODES", Duration.ofSeconds(30), () -> nodes(admin).equals(List.of("primary", "r1")));
            // r2's connections close as their transactions end; no new read goes there
            await("no pgsplit connection left on r2", Duration.ofSeconds(30), () -> appBackends(cluster, "r2") == 0);
            AdminTesting.Result newbie = AdminTesting.run(30, "newbie-pw", "psql", "-X", "-A", "-t", "-h",
                    "127.0.0.1", "-p", String.valueOf(port), "-U", "newbie", "-d", "app", "-c", "SELECT current_user");
            assertEquals(0, newbie.exitCode(), newbie.output());
            assertEquals("app", newbie.output().strip());

            // r2 back, by the console's RELOAD
            Files.writeString(file, base + "pool: {pool_mode: transaction, pool_size: 6}\n");
            try (Statement st = admin.createStatement()) {
                st.execute("RELOAD");
            }
            assertEquals(List.of("primary", "r1", "r2"), nodes(admin));

            // a broken file: the running configuration stays, the error says why
            Files.writeString(file, base + "pool: {pool_mode: transaction, pool_size: many}\n");
            AdminTesting.Result bad = AdminTesting.psql(port, "RELOAD");
            assertNotEquals(0, bad.exitCode(), bad.output());
            assertTrue(bad.output().contains("configuration NOT reloaded") && bad.output().contains("pool_size"),
                    bad.output());
            assertEquals("6", row(admin, "SHOW DATABASES", "name", "app").get("pool_size"));

            // a restart-only setting: reported, not applied
            Files.writeString(file, base.replace("port: " + port + "}", "port: " + (port + 1) + "}")
                    + "pool: {pool_mode: transaction, pool_size: 6}\n");
            AdminTesting.Result restart = AdminTesting.psql(port, "RELOAD");
            assertEquals(0, restart.exitCode(), restart.output());
            assertTrue(restart.output().contains("listen.port changed (" + port + " -> " + (port + 1)
                    + ") but needs a restart"), restart.output());
            assertEquals(String.valueOf(port), rowOf(show(admin, "SHOW CONFIG"), "key", "listen_port").get("value"));

            assertTrue(bench.waitFor(180, TimeUnit.SECONDS), "pgbench did not finish");
            String out = new String(bench.getInputStream().readAllBytes());
            assertEquals(0, bench.exitValue(), out);
            assertEquals(0, AdminTesting.Bench.failed(out), out);
            assertEquals(1200, AdminTesting.Bench.processed(out), out);
        }
    }

    private static Process pgbench(int port) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("pgbench", "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", "app",
                "-n", "-c", "4", "-j", "2", "-t", "300", "-b", "tpcb-like", "-b", "select-only", "app")
                .redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", "app");
        return pb.start();
    }

    private static Connection console(int port) throws SQLException {
        return Jdbc.connect("127.0.0.1", port, "pgsplit", AdminTesting.ADMIN_USER, AdminTesting.ADMIN_PASSWORD,
                Map.of("preferQueryMode", "simple"));
    }

    private static Map<String, String> row(Connection admin, String sql, String key, String value) {
        try {
            return rowOf(show(admin, sql), key, value);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> nodes(Connection admin) {
        try {
            return show(admin, "SHOW NODES").stream().filter(r -> "app".equals(r.get("database")))
                    .map(r -> r.get("node")).toList();
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static long appBackends(LocalPgCluster cluster, String node) {
        try (Connection c = Jdbc.connect(cluster, node, "app", cluster.superuser(), cluster.superuserPassword());
             Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                     + "AND backend_type = 'client backend'")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static long xacts(Connection admin) {
        return Long.parseLong(row(admin, "SHOW STATS_TOTALS", "database", "app").get("xact_count"));
    }
}
