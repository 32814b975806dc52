package io.pgsplit.localpg;

import static io.pgsplit.testing.PgClusterExtension.APP_PASSWORD;
import static io.pgsplit.testing.PgClusterExtension.APP_USER;
import static io.pgsplit.testing.PgClusterExtension.DB;
import static io.pgsplit.testing.PgClusterExtension.MD5_PASSWORD;
import static io.pgsplit.testing.PgClusterExtension.MD5_USER;
import static io.pgsplit.testing.PgClusterExtension.PLAIN_PASSWORD;
import static io.pgsplit.testing.PgClusterExtension.PLAIN_USER;
import static io.pgsplit.testing.PgClusterExtension.TRUST_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PgClusterExtension.class)
class LocalPgClusterTest {
    private final LocalPgCluster cluster;

    LocalPgClusterTest(LocalPgCluster cluster) {
        this.cluster = cluster;
    }

    @Test
    void clusterHasPrimaryAndTwoReplicasOnDistinctPorts() {
        assertEquals(List.of("r1", "r2"), cluster.replicaNames());
        assertEquals(2, cluster.replicaPorts().size());
        assertEquals(3, List.of(cluster.primaryPort(), cluster.replicaPorts().get(0), cluster.replicaPorts().get(1))
                .stream().distinct().count());
        assertTrue(Files.exists(cluster.logFile("primary")));
        assertTrue(Files.exists(cluster.logFile("r1")));
    }

    @Test
    void rowWrittenOnPrimaryBecomesVisibleOnEveryReplica() throws Exception {
        String table = "replication_check";
        String marker = UUID.randomUUID().toString();
        try (Connection c = Jdbc.connect(cluster, LocalPgCluster.PRIMARY, DB, APP_USER, APP_PASSWORD);
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + table + " (marker text PRIMARY KEY)");
            st.execute("INSERT INTO " + table + " VALUES ('" + marker + "')");
        }
        for (String replica : cluster.replicaNames()) {
            try (Connection c = Jdbc.connect(cluster, replica, DB, APP_USER, APP_PASSWORD)) {
                awaitTrue(Duration.ofSeconds(30), replica + " sees the row", () -> {
                    try {
                        return Long.valueOf(1).equals(Jdbc.queryValue(c,
                                "SELECT count(*) FROM " + table + " WHERE marker = '" + marker + "'"));
                    } catch (SQLException e) {
                        if ("42P01".equals(e.getSQLState())) {
                            return false; // the CREATE TABLE has not been replayed yet
                        }
                        throw e;
                    }
                });
            }
        }
    }

    @Test
    void waitForReplayMakesWritesVisibleOnReplicas() throws Exception {
        cluster.execute(DB, "CREATE TABLE IF NOT EXISTS replay_check (n int); INSERT INTO replay_check VALUES (42);");
        cluster.waitForReplay();
        for (String replica : cluster.replicaNames()) {
            assertEquals("t", cluster.query(replica, DB, "SELECT exists(SELECT 1 FROM replay_check WHERE n = 42)"));
        }
    }

    @Test
    void replicasAreInRecoveryAndPrimaryIsNot() throws Exception {
        assertEquals(false, Jdbc.queryValue(cluster.host(), cluster.primaryPort(), DB, APP_USER, APP_PASSWORD,
                "SELECT pg_is_in_recovery()"));
        for (int port : cluster.replicaPorts()) {
            assertEquals(true, Jdbc.queryValue(cluster.host(), port, DB, APP_USER, APP_PASSWORD,
                    "SELECT pg_is_in_recovery()"));
        }
    }

    @Test
    void everyNodeReportsItsOwnPort() throws Exception {
        for (String node : cluster.nodeNames()) {
            int port = cluster.port(node);
            assertEquals(port, Jdbc.queryValue(cluster.host(), port, DB, APP_USER, APP_PASSWORD,
                    "SELECT inet_server_port()"), node);
        }
    }

    @Test
    void passwordsAreCheckedForScramAndMd5StoredRoles() throws Exception {
        assertEquals("SCRAM", cluster.query("primary", "postgres",
                "SELECT left(rolpassword, 5) FROM pg_authid WHERE rolname = '" + APP_USER + "'"));
        assertEquals("md5", cluster.query("primary", "postgres",
                "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = '" + MD5_USER + "'"));
        for (String node : cluster.nodeNames()) {
            int port = cluster.port(node);
            assertEquals(APP_USER, Jdbc.queryValue(cluster.host(), port, DB, APP_USER, APP_PASSWORD, "SELECT current_user"));
            assertEquals(MD5_USER, Jdbc.queryValue(cluster.host(), port, DB, MD5_USER, MD5_PASSWORD, "SELECT current_user"));
            assertLoginRejected(port, APP_USER, "wrong");
            assertLoginRejected(port, MD5_USER, "wrong");
        }
    }

    @Test
    void trustAndCleartextUsersCanLogIn() throws Exception {
        int port = cluster.primaryPort();
        assertEquals(TRUST_USER, Jdbc.queryValue(cluster.host(), port, DB, TRUST_USER, null, "SELECT current_user"));
        assertEquals(PLAIN_USER, Jdbc.queryValue(cluster.host(), port, DB, PLAIN_USER, PLAIN_PASSWORD, "SELECT current_user"));
        assertLoginRejected(port, PLAIN_USER, "wrong");
    }

    /** A second, private cluster: custom log dir, no replicas, idempotent stop, logs kept, dir reusable. */
    @Test
    void ownClusterStopsIdempotentlyKeepsLogsAndCanReuseItsDir() throws Exception {
        Path base = Path.of(System.getProperty("pgsplit.test.dir", "target/pgcluster")).resolveSibling("pgcluster-lifecycle");
        Path logs = base.resolveSibling("pgcluster-lifecycle-logs");
        for (int run = 1; run <= 2; run++) {
            LocalPgCluster own = LocalPgCluster.builder().dir(base).logTo(logs).replicas(0).build();
            int port;
            try (own) {
                own.start();
                port = own.primaryPort();
                assertTrue(own.replicaPorts().isEmpty());
                own.createUser("u" + run, "p" + run, PasswordType.MD5);
                assertEquals("u" + run, Jdbc.queryValue(own.host(), port, "postgres", "u" + run, "p" + run, "SELECT current_user"));
            }
            own.stop(); // second stop: no-op
            assertFalse(own.isRunning());
            assertEquals(logs.toAbsolutePath().normalize().resolve("primary.log"), own.logFile("primary"));
            assertTrue(Files.size(own.logFile("primary")) > 0, "log kept after stop");
            assertThrows(SQLException.class, () -> Jdbc.connect(own.host(), port, "postgres", "u" + 1, "p" + 1).close());
        }
    }

    /** A port taken between picking it and starting the server: the node moves to another port. */
    @Test
    void nodeRetriesOnAnotherPortWhenItsPortIsTaken() throws Exception {
        Path base = Path.of(System.getProperty("pgsplit.test.dir", "target/pgcluster")).resolveSibling("pgcluster-portclash");
        LocalPgCluster own = LocalPgCluster.builder().dir(base).replicas(0).build();
        own.start().stop(); // leaves an initialised data dir behind
        OsUser osUser = OsUser.forPostgres();
        PgTools tools = new PgTools(PgBinaries.locate(), osUser, own.dir());
        try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getByName(own.host()))) {
            PgNode node = new PgNode("primary", own.dataDir("primary"), own.socketDir("primary"),
                    own.logFile("primary"), squatter.getLocalPort());
            node.writeNodeConf(osUser);
            node.start(tools, own.host(), osUser);
            try {
                assertTrue(node.port() != squatter.getLocalPort());
                assertEquals(node.port(), Jdbc.queryValue(own.host(), node.port(), "postgres", own.superuser(),
                        own.superuserPassword(), "SELECT inet_server_port()"));
            } finally {
                node.stop(tools);
            }
        }
        assertTrue(Files.readString(own.logFile("primary")).contains("could not bind"));
    }

    /**
     * {@code kill -9} of a JVM skips its shutdown hooks; the watchdog must still stop the cluster. Runs a
     * cluster in a child JVM ({@link HoldCluster}), kills it, and waits for the postmaster to disappear.
     */
    @Test
    void killedJvmLeavesNoPostgresBehind() throws Exception {
        Path base = Path.of(System.getProperty("pgsplit.test.dir", "target/pgcluster")).resolveSibling("pgcluster-kill9");
        Files.createDirectories(base.getParent());
        Path output = base.resolveSibling("pgcluster-kill9-jvm.log");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classPath, HoldCluster.class.getName(), base.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            awaitTrue(Duration.ofSeconds(90), "the child JVM started its cluster",
                    () -> Files.readString(output).contains(HoldCluster.READY) || !jvm.isAlive());
            assertTrue(jvm.isAlive(), () -> "child JVM died: " + readQuietly(output));
            Path pidFile = base.resolve("primary").resolve("data").resolve("postmaster.pid");
            String postmasterPid = Files.readAllLines(pidFile).get(0).trim();
            assertTrue(isAlive(postmasterPid));

            jvm.destroyForcibly(); // SIGKILL: no shutdown hooks
            jvm.waitFor();
            awaitTrue(Duration.ofSeconds(30), "the postmaster of the killed JVM's cluster is gone",
                    () -> !isAlive(postmasterPid));
            assertFalse(Files.exists(pidFile));
        } finally {
            jvm.destroyForcibly();
        }
    }

    /** Child JVM for {@link #killedJvmLeavesNoPostgresBehind}: starts a cluster in args[0] and waits to be killed. */
    static final class HoldCluster {
        static final String READY = "CLUSTER READY";

        public static void main(String[] args) throws Exception {
            LocalPgCluster.builder().dir(Path.of(args[0])).replicas(1).build().start();
            System.out.println(READY);
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5).toMillis());
        }
    }

    /** True while the process exists and is not a zombie (dead, waiting to be reaped). */
    private static boolean isAlive(String pid) {
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private void assertLoginRejected(int port, String user, String password) {
        SQLException e = assertThrows(SQLException.class,
                () -> Jdbc.connect(cluster.host(), port, DB, user, password).close());
        assertEquals("28P01", e.getSQLState(), e.getMessage());
    }

    /** Polls until {@code condition} holds or the timeout passes; no fixed sleeps. */
    private static void awaitTrue(Duration timeout, String what, SqlCondition condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    @FunctionalInterface
    private interface SqlCondition {
        boolean holds() throws SQLException, java.io.IOException;
    }
}
