package io.pgsplit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Debian's prometheus-pgbouncer-exporter, pointed at pgsplit's console as at a PgBouncer: it scrapes without
 * errors and reports pools and stats. (.ci/run installs the package; without it this test is skipped and says so.)
 */
@ExtendWith(PgClusterExtension.class)
class PgBouncerExporterTest {
    static final String EXPORTER = "/usr/bin/prometheus-pgbouncer-exporter";

    @Test
    void exporterScrapesPoolsAndStats(LocalPgCluster cluster) throws Exception {
        assumeTrue(new File(EXPORTER).canExecute(), EXPORTER + " is not installed (apt-get install "
                + "prometheus-pgbouncer-exporter; .ci/run does)");
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 4")
                .users(AdminTesting.USERS).yaml(AdminTesting.adminYaml("")).start()) {
            try (Connection app = router.connect(); Statement st = app.createStatement()) {
                for (int i = 0; i < 25; i++) {
                    st.execute("SELECT " + i);
                }
                int port;
                try (ServerSocket s = new ServerSocket(0)) {
                    port = s.getLocalPort();
                }
                Path log = Files.createTempFile("pgsplit-exporter", ".log");
                ProcessBuilder pb = new ProcessBuilder(EXPORTER, "--host", "127.0.0.1", "--port",
                        String.valueOf(port), "--pgbouncer-host", router.host(), "--pgbouncer-port",
                        String.valueOf(router.port()), "--pgbouncer-user", AdminTesting.ADMIN_USER)
                        .redirectErrorStream(true).redirectOutput(log.toFile());
                pb.environment().put("PGPASSWORD", AdminTesting.ADMIN_PASSWORD);
                pb.environment().remove("CONFIG");
                Process exporter = pb.start();
                try {
                    HttpClient http = HttpClient.newHttpClient();
                    HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                            .timeout(Duration.ofSeconds(10)).build();
                    HttpResponse<String> response = null;
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (response == null) {
                        assertTrue(exporter.isAlive(), "exporter exited:\n" + Files.readString(log));
                        try {
                            response = http.send(get, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                        } catch (java.io.IOException notYet) {
                            assertTrue(System.nanoTime() < deadline, "exporter never answered:\n"
                                    + Files.readString(log));
                            Thread.sleep(100);
                        }
                    }
                    String body = response.body();
                    assertEquals(200, response.statusCode(), body + "\n" + Files.readString(log));
                    assertFalse(Files.readString(log).contains("Traceback"), Files.readString(log));
                    assertTrue(body.contains("pgbouncer_active_clients{database=\"app\",user=\"app\"} 1.0"), body);
                    assertTrue(body.contains("pgbouncer_waiting_clients{database=\"app\",user=\"app\"} 0.0"), body);
                    assertTrue(body.contains("pgbouncer_pool_size{database=\"app\"}"), body);
                    assertTrue(body.contains("pgbouncer_pools "), body);
                    Matcher requests = Pattern.compile("pgbouncer_requests_total\\{database=\"app\"\\} ([0-9.e+]+)")
                            .matcher(body);
                    assertTrue(requests.find(), body);
                    assertTrue(Double.parseDouble(requests.group(1)) >= 25, body);
                } finally {
                    exporter.destroy();
                    exporter.waitFor();
                    Files.deleteIfExists(log);
                }
            }
        }
    }

}
