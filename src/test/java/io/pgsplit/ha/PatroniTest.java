package io.pgsplit.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgsplit.config.ConfigLoader;
import io.pgsplit.server.Pgsplit;
import io.pgsplit.testing.Jdbc;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * pgsplit in front of a real Patroni cluster (etcd + three PostgreSQL nodes), roles from Patroni's REST API: a
 * {@code patronictl switchover} and a killed leader postmaster are both followed, and writes resume within 5 s of
 * the new leader being up. Slow (a minute or two): tag {@code patroni}, left out of the default run and run by
 * {@code .ci/run} on its own.
 */
@Tag("patroni")
class PatroniTest {

    private static int write(Connection c) throws SQLException {
        return ((Number) Jdbc.queryValue(c, "INSERT INTO p(port) VALUES (inet_server_port()) RETURNING port")).intValue();
    }

    /** Writes until one lands on {@code port}; returns when (System.nanoTime). Errors (a wait that ran out) are retried. */
    private static long writeUntilOn(Connection c, int port, Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (write(c) == port) {
                    return System.nanoTime();
                }
            } catch (SQLException e) {
                last = e;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no write on port " + port + " within " + max.toMillis() + " ms", last);
    }

    @Test
    @Timeout(240)
    void switchoverAndAKilledLeaderAreFollowed() throws Exception {
        assumeTrue(PatroniCluster.installed(), "patroni and etcd-server are not installed (.ci/run installs them)");
        try (PatroniCluster pc = PatroniCluster.start(Path.of("target", "patroni"), Duration.ofSeconds(90))) {
            try (Connection su = Jdbc.connect("127.0.0.1", pc.pgPorts[0], "postgres", "postgres", "pw");
                 Statement st = su.createStatement()) {
                st.execute("CREATE ROLE app LOGIN PASSWORD 'app'");
                st.execute("CREATE DATABASE app OWNER app");
            }
            int port = portBelowEphemeralRange();
            StringBuilder y = new StringBuilder("listen: {host: 127.0.0.1, port: " + port + "}\ndatabases:\n  app:\n"
                    + "    servers:\n");
            for (int i = 0; i < PatroniCluster.NODES; i++) {
                y.append("      - {name: n").append(i + 1).append(", host: 127.0.0.1, port: ").append(pc.pgPorts[i])
                        .append("}\n");
            }
            y.append("    patroni: [").append(pc.restUrl(0)).append(", ").append(pc.restUrl(1)).append(", ")
                    .append(pc.restUrl(2)).append("]\n");
            y.append("users:\n  app: {password: app}\npool: {pool_mode: transaction}\n");
            y.append("ha: {check_interval: 500ms, check_timeout: 2s, failover_wait: 20s}\n");
            try (Pgsplit router = Pgsplit.start(ConfigLoader.parse(y.toString(), "patroni-test.yaml"));
                 Connection c = Jdbc.connect("127.0.0.1", router.port(), "app", "app", "app")) {
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE p(id serial, port int)");
                }
                assertEquals(pc.pgPorts[0], write(c));
                assertEquals("patroni", router.health("app").roleSource());

                // 1. patronictl switchover n1 -> n2
                System.out.println(pc.switchover(0, 1));
                long t0 = System.nanoTime();
                PatroniCluster.awaitUntil(t0 + Duration.ofSeconds(60).toNanos(), "n2 leads", () -> pc.leader() == 1);
                long leaderUp = System.nanoTime();
                long resumed = writeUntilOn(c, pc.pgPorts[1], Duration.ofSeconds(30));
                long ms = (resumed - leaderUp) / 1_000_000;
                System.out.println("HA-MEASURE Patroni switchover: new leader up " + (leaderUp - t0) / 1_000_000
                        + " ms after patronictl returned; writes resumed " + ms + " ms after that");
                assertTrue(ms < 5000, "writes resumed " + ms + " ms after the new leader was up");

                // 2. the leader's postmaster killed: Patroni restarts it or fails over; either way, followed
                pc.killPostmaster(1);
                long killed = System.nanoTime();
                PatroniCluster.awaitUntil(killed + Duration.ofSeconds(30).toNanos(), "Patroni notices the dead leader",
                        () -> pc.leader() != 1 || !accepts(pc.pgPorts[1]));
                int[] leader = {-1};
                PatroniCluster.awaitUntil(killed + Duration.ofSeconds(90).toNanos(), "a running leader again", () -> {
                    leader[0] = pc.leader();
                    return leader[0] >= 0 && accepts(pc.pgPorts[leader[0]]);
                });
                long upAgain = System.nanoTime();
                long resumed2 = writeUntilOn(c, pc.pgPorts[leader[0]], Duration.ofSeconds(30));
                long ms2 = (resumed2 - upAgain) / 1_000_000;
                System.out.println("HA-MEASURE Patroni killed leader postmaster: n" + (leader[0] + 1) + " leads after "
                        + (upAgain - killed) / 1_000_000 + " ms; writes resumed " + ms2 + " ms after that");
                assertTrue(ms2 < 5000, "writes resumed " + ms2 + " ms after the leader was up again");
            }
        }
    }

    /** A free port below Linux's ephemeral range (32768+), which the cluster's own connections keep taking. */
    private static int portBelowEphemeralRange() throws Exception {
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 100; attempt++) {
            int candidate = 20000 + random.nextInt(12000);
            try (ServerSocket s = new ServerSocket(candidate, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
                return candidate;
            } catch (java.io.IOException taken) {
                // try another
            }
        }
        throw new AssertionError("no free port below 32000");
    }

    /** Whether a server takes a superuser login and answers as a primary now. */
    private static boolean accepts(int port) {
        try (Connection c = Jdbc.connect("127.0.0.1", port, "postgres", "postgres", "pw")) {
            return Boolean.FALSE.equals(Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));
        } catch (SQLException e) {
            return false;
        }
    }
}
