package io.pgsplit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.config.ConfigLoader;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.server.Pgsplit;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.DataOutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Several instances behind one address: a CancelRequest that lands on another instance than the one holding the
 * client is forwarded there (listen.peer_id / listen.peers), and the query is cancelled. The instances listen on
 * two ports here so the test can send the cancel to the other one on purpose (behind a balancer or with
 * reuse_port, where it lands is chance).
 */
@ExtendWith(PgClusterExtension.class)
class PeerCancelTest {
    @Test
    void aCancelLandingOnThePeerCancelsTheQuery(LocalPgCluster cluster) throws Exception {
        int portA;
        int portB;
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            portA = a.getLocalPort();
            portB = b.getLocalPort();
        }
        String peers = "peers: {1: \"127.0.0.1:" + portA + "\", 2: \"127.0.0.1:" + portB + "\"}";
        String yamlA = RouterFixture.builder(cluster).listen("peer_id: 1, " + peers).yamlText(portA);
        String yamlB = RouterFixture.builder(cluster).listen("peer_id: 2, " + peers).yamlText(portB);
        try (Pgsplit a = Pgsplit.start(ConfigLoader.parse(yamlA, "a.yaml"));
             Pgsplit b = Pgsplit.start(ConfigLoader.parse(yamlB, "b.yaml"));
             Connection c = io.pgsplit.testing.Jdbc.connect("127.0.0.1", portA, "app", "app", "app")) {
            int pid = backendPid(c);
            byte[] secret = backendSecret(c);
            assertEquals(1, pid >>> 20, "the process id carries instance A's peer id");
            try (Statement st = c.createStatement()) {
                CompletableFuture<SQLException> sleep = CompletableFuture.supplyAsync(() -> {
                    try {
                        st.execute("/* pgsplit: route=primary */ SELECT pg_sleep(60)");
                        return null;
                    } catch (SQLException e) {
                        return e;
                    }
                });
                // the query is running once the primary shows it
                AdminTesting.await("the sleep running", java.time.Duration.ofSeconds(30), () -> running(cluster));
                sendCancel(portB, pid, secret); // to the other instance
                SQLException cancelled = sleep.get(30, TimeUnit.SECONDS);
                assertTrue(cancelled != null && "57014".equals(cancelled.getSQLState()),
                        "expected a cancel (57014), got " + cancelled);
            }
        }
    }

    /** A CancelRequest packet, as a client sends it, to {@code port}. */
    static void sendCancel(int port, int pid, byte[] secret) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port); DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
            out.writeInt(12 + secret.length);
            out.writeInt(80877102);
            out.writeInt(pid);
            out.write(secret);
            out.flush();
            s.getInputStream().read(); // pgsplit closes the connection after a cancel
        }
    }

    /** The BackendKeyData pgjdbc received (the secret by reflection: pgjdbc does not publish it). */
    static int backendPid(Connection c) throws Exception {
        return c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor().getBackendPID();
    }

    static byte[] backendSecret(Connection c) throws Exception {
        Object executor = c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor();
        Class<?> k = executor.getClass();
        while (k != null && !k.getSimpleName().equals("QueryExecutorBase")) {
            k = k.getSuperclass();
        }
        java.lang.reflect.Field secret = k.getDeclaredField("cancelKey");
        secret.setAccessible(true);
        return ((byte[]) secret.get(executor)).clone();
    }

    static boolean running(LocalPgCluster cluster) {
        try (Connection c = io.pgsplit.testing.Jdbc.connect(cluster, "primary", "app", cluster.superuser(),
                cluster.superuserPassword()); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                     + "'%SELECT pg_sleep(60)' AND state = 'active' AND pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getLong(1) > 0;
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

}
