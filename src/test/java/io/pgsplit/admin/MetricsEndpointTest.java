package io.pgsplit.admin;

import static io.pgsplit.admin.AdminTesting.rowOf;
import static io.pgsplit.admin.AdminTesting.show;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Prometheus endpoint scraped during a pgbench run: every scrape parses with the Prometheus project's own
 * Python text parser (python3-prometheus-client, which Debian's PgBouncer exporter brings along), and once the
 * run is over its counters equal the console's SHOW STATS_TOTALS and SHOW POOLS.
 */
@ExtendWith(PgClusterExtension.class)
class MetricsEndpointTest {
    /** Prints every sample as {@code name{k="v",...} value}, labels sorted; fails on text it cannot parse. */
    static final String PARSER = String.join("\n",
            "import sys",
            "from prometheus_client.parser import text_string_to_metric_families",
            "for family in text_string_to_metric_families(sys.stdin.read()):",
            "    for s in family.samples:",
            "        labels = ','.join('%s=\"%s\"' % (k, v) for k, v in sorted(s.labels.items()))",
            "        print('%s{%s} %r' % (s.name, labels, s.value))");

    @Test
    void scrapedDuringPgbenchParsesAndAgreesWithTheConsole(LocalPgCluster cluster) throws Exception {
        AdminTesting.pgbenchInit(cluster);
        int metricsPort;
        try (ServerSocket s = new ServerSocket(0)) {
            metricsPort = s.getLocalPort();
        }
        try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 4")
                .users(AdminTesting.USERS).yaml(AdminTesting.adminYaml("  metrics: \"127.0.0.1:" + metricsPort
                        + "\"\n")).start();
             Connection admin = AdminTesting.console(router)) {
            assertEquals(metricsPort, router.router().metricsPort());
            AdminTesting.Bench bench = new AdminTesting.Bench(router, "-c", "4", "-j", "2", "-t", "200");
            int scrapes = 0;
            boolean sawClients = false;
            while (bench.process.isAlive() || scrapes < 3) {
                Map<String, Double> m = scrape(metricsPort);
                scrapes++;
                sawClients |= m.getOrDefault("pgsplit_clients{database=\"app\",state=\"active\",user=\"app\"}", 0.0)
                        + m.getOrDefault("pgsplit_clients{database=\"app\",state=\"waiting\",user=\"app\"}", 0.0) >= 1;
                Thread.sleep(100); // a scrape interval, not a wait for a condition
            }
            String out = bench.finish(120);
            assertEquals(0, AdminTesting.Bench.failed(out), out);
            assertTrue(sawClients, "no scrape during the run saw pgbench's clients");

            Map<String, Double> m = scrape(metricsPort);
            Map<String, String> totals = rowOf(show(admin, "SHOW STATS_TOTALS"), "database", "app");
            long xacts = Long.parseLong(totals.get("xact_count"));
            assertTrue(xacts >= 800, totals.toString());
            assertEquals(xacts, m.get("pgsplit_transactions_total{database=\"app\"}").longValue());
            assertEquals(xacts, m.get("pgsplit_transaction_duration_seconds_count{database=\"app\"}").longValue());
            assertEquals(Long.parseLong(totals.get("query_count")),
                    m.get("pgsplit_queries_total{database=\"app\"}").longValue());
            assertEquals(Long.parseLong(totals.get("query_count")),
                    m.get("pgsplit_query_duration_seconds_count{database=\"app\"}").longValue());
            assertEquals(Long.parseLong(totals.get("bytes_received")),
                    m.get("pgsplit_received_bytes_total{database=\"app\"}").longValue());
            assertEquals(Long.parseLong(totals.get("server_assignment_count")),
                    m.get("pgsplit_server_assignments_total{database=\"app\"}").longValue());
            Map<String, String> pool = rowOf(show(admin, "SHOW POOLS"), "user", "app");
            assertEquals(Double.parseDouble(pool.get("sv_idle")),
                    m.get("pgsplit_server_connections{database=\"app\",state=\"idle\",user=\"app\"}"));
            assertEquals(1.0, m.get("pgsplit_node_up{database=\"app\",node=\"r1\",role=\"replica\"}"));
            long routed = 0;
            for (Map.Entry<String, Double> e : m.entrySet()) {
                if (e.getKey().startsWith("pgsplit_routed_total{database=\"app\"")) {
                    routed += e.getValue().longValue();
                }
            }
            assertTrue(routed >= xacts, "routed " + routed + " units for " + xacts + " transactions");
            assertTrue(m.containsKey("pgsplit_auth_failures_total{}"), m.keySet().toString());
        }
    }

    /** GET /metrics, parsed by the Prometheus text parser. */
    static Map<String, Double> scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), r.headers().toString());
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", PARSER).redirectErrorStream(true).start();
        p.getOutputStream().write(r.body().getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "parser hung");
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "the Prometheus parser refused the exposition:\n" + text + "\n" + r.body());
        Map<String, Double> samples = new HashMap<>();
        for (String line : text.split("\n")) {
            int sp = line.lastIndexOf(' ');
            if (sp > 0) {
                samples.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
            }
        }
        return samples;
    }

}
