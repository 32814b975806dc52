package io.pgsplit.ha;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Patroni cluster for tests: one etcd (v3 API) and three Patroni-managed PostgreSQL nodes on 127.0.0.1, all
 * run as the {@code postgres} OS user when the JVM runs as root (PostgreSQL refuses to run as root), from Debian's
 * {@code patroni} and {@code etcd-server} packages. Test code only; everything is under {@code dir} and stopped
 * by {@link #close()} (processes are killed, by their own pid).
 */
final class PatroniCluster implements AutoCloseable {
    static final int NODES = 3;

    final Path dir;
    final int[] pgPorts = new int[NODES];
    final int[] restPorts = new int[NODES];
    private final int etcdClient;
    private final int etcdPeer;
    private final List<Process> processes = new ArrayList<>();
    private final Process[] patroni = new Process[NODES];
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private PatroniCluster(Path dir) throws IOException {
        this.dir = dir.toAbsolutePath();
        int[] ports = freePorts(2 + 2 * NODES);
        etcdClient = ports[0];
        etcdPeer = ports[1];
        for (int i = 0; i < NODES; i++) {
            pgPorts[i] = ports[2 + i];
            restPorts[i] = ports[2 + NODES + i];
        }
    }

    static boolean installed() {
        return Files.isExecutable(Path.of("/usr/bin/patroni")) && Files.isExecutable(Path.of("/usr/bin/etcd"))
                && pgBin() != null;
    }

    static Path pgBin() {
        try (var dirs = Files.list(Path.of("/usr/lib/postgresql"))) {
            return dirs.map(d -> d.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("postgres")))
                    .sorted().reduce((a, b) -> b).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** Starts etcd, then n1 (which bootstraps and leads), then n2 and n3; returns once both stream from n1. */
    static PatroniCluster start(Path dir, Duration timeout) throws Exception {
        PatroniCluster c = new PatroniCluster(dir);
        try {
            c.startAll(timeout);
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void startAll(Duration timeout) throws Exception {
        run(List.of("rm", "-rf", dir.toString()), false);
        Files.createDirectories(dir);
        own(dir);
        processes.add(spawn(List.of("etcd", "--name", "e1", "--data-dir", dir.resolve("etcd").toString(),
                "--listen-client-urls", "http://127.0.0.1:" + etcdClient,
                "--advertise-client-urls", "http://127.0.0.1:" + etcdClient,
                "--listen-peer-urls", "http://127.0.0.1:" + etcdPeer,
                "--initial-advertise-peer-urls", "http://127.0.0.1:" + etcdPeer,
                "--initial-cluster", "e1=http://127.0.0.1:" + etcdPeer), dir.resolve("etcd.log")));
        for (int i = 0; i < NODES; i++) {
            Path yml = dir.resolve("n" + (i + 1) + ".yml");
            Files.writeString(yml, config(i));
            own(yml);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        startNode(0);
        awaitUntil(deadline, "n1 leads", () -> leader() == 0);
        startNode(1);
        startNode(2);
        awaitUntil(deadline, "n2 and n3 stream from n1", () -> streamingReplicas() == NODES - 1);
    }

    void startNode(int i) throws IOException {
        patroni[i] = spawn(List.of("patroni", dir.resolve("n" + (i + 1) + ".yml").toString()),
                dir.resolve("n" + (i + 1) + ".log"));
        processes.add(patroni[i]);
    }

    private String config(int i) {
        String name = "n" + (i + 1);
        return """
                scope: pgsplit-test
                name: %s
                restapi: {listen: 127.0.0.1:%d, connect_address: 127.0.0.1:%d}
                etcd3: {hosts: 127.0.0.1:%d}
                bootstrap:
                  dcs:
                    ttl: 10
                    loop_wait: 1
                    retry_timeout: 3
                    maximum_lag_on_failover: 104857600
                    postgresql:
                      use_pg_rewind: true
                      use_slots: true
                      parameters: {wal_level: replica, hot_standby: "on", max_wal_senders: 10, max_replication_slots: 10, wal_log_hints: "on", fsync: "off"}
                  initdb: [{encoding: UTF8}, {auth: trust}]
                  pg_hba:
                    - local all all trust
                    - host all all 127.0.0.1/32 trust
                    - host replication all 127.0.0.1/32 trust
                postgresql:
                  listen: 127.0.0.1:%d
                  connect_address: 127.0.0.1:%d
                  data_dir: %s
                  bin_dir: %s
                  pgpass: %s
                  authentication:
                    superuser: {username: postgres, password: pw}
                    replication: {username: replicator, password: rep}
                    rewind: {username: postgres, password: pw}
                  parameters: {unix_socket_directories: %s}
                """.formatted(name, restPorts[i], restPorts[i], etcdClient, pgPorts[i], pgPorts[i],
                dir.resolve(name), pgBin(), dir.resolve("pgpass" + (i + 1)), dir);
    }

    /** Index of the running leader per Patroni's {@code GET /cluster}, or -1. */
    int leader() {
        String json = cluster();
        if (json == null) {
            return -1;
        }
        Matcher m = Pattern.compile("\\{[^{}]*\"role\": *\"leader\"[^{}]*}").matcher(json);
        while (m.find()) {
            String member = m.group();
            if (member.contains("\"state\": \"running\"")) {
                Matcher port = Pattern.compile("\"port\": *(\\d+)").matcher(member);
                if (port.find()) {
                    int p = Integer.parseInt(port.group(1));
                    for (int i = 0; i < NODES; i++) {
                        if (pgPorts[i] == p) {
                            return i;
                        }
                    }
                }
            }
        }
        return -1;
    }

    private int streamingReplicas() {
        String json = cluster();
        if (json == null) {
            return 0;
        }
        Matcher m = Pattern.compile("\"role\": *\"replica\"[^{}]*\"state\": *\"(streaming|running)\"").matcher(json);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** {@code GET /cluster} from any node that answers, or null. */
    String cluster() {
        for (int port : restPorts) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/cluster"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return r.body();
                }
            } catch (IOException e) {
                // that node's REST API is not up: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    String restUrl(int i) {
        return "http://127.0.0.1:" + restPorts[i];
    }

    /** {@code patronictl switchover} from {@code from} to {@code to}, without questions. */
    String switchover(int from, int to) throws Exception {
        return run(asPostgres(List.of("patronictl", "-c", dir.resolve("n1.yml").toString(), "switchover",
                "--leader", "n" + (from + 1), "--candidate", "n" + (to + 1), "--force")), true);
    }

    /** SIGKILL of a node's postmaster (Patroni, still running, notices and acts). */
    void killPostmaster(int i) throws Exception {
        String pid = Files.readAllLines(dir.resolve("n" + (i + 1)).resolve("postmaster.pid")).get(0).trim();
        run(List.of("kill", "-9", pid), true);
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static List<String> asPostgres(List<String> command) {
        if (!root()) {
            return command;
        }
        List<String> c = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        c.addAll(command);
        return c;
    }

    private void own(Path p) throws Exception {
        if (root()) {
            run(List.of("chown", "postgres:", p.toString()), true);
        }
    }

    private Process spawn(List<String> command, Path log) throws IOException {
        return new ProcessBuilder(asPostgres(command)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).directory(dir.toFile()).start();
    }

    private static String run(List<String> command, boolean check) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        if (check && p.exitValue() != 0) {
            throw new AssertionError(command + " exited " + p.exitValue() + ": " + out);
        }
        return out;
    }

    static void awaitUntil(long deadlineNanos, String what, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadlineNanos) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(100);
        }
    }

    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0);
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }

    /** Stops Patroni (which stops its PostgreSQL) and etcd; what does not exit in time is killed. */
    @Override
    public void close() {
        for (Process p : patroni) {
            if (p != null && p.isAlive()) {
                killTree(p, "-TERM");
            }
        }
        for (Process p : patroni) {
            waitOrKill(p);
        }
        for (Process p : processes) {
            if (p.isAlive()) {
                killTree(p, "-TERM");
                waitOrKill(p);
            }
        }
        // any PostgreSQL left behind (a postmaster Patroni had restarted)
        for (int i = 0; i < NODES; i++) {
            Path pidFile = dir.resolve("n" + (i + 1)).resolve("postmaster.pid");
            try {
                if (Files.exists(pidFile)) {
                    String pid = Files.readAllLines(pidFile).get(0).trim();
                    run(List.of("kill", "-9", pid), false);
                }
            } catch (Exception e) {
                // already gone
            }
        }
    }

    /** runuser is our child; the process to signal is its child (patroni / etcd), so signal every descendant too. */
    private static void killTree(Process p, String signal) {
        List<String> cmd = new ArrayList<>(List.of("kill", signal, String.valueOf(p.pid())));
        p.descendants().forEach(d -> cmd.add(String.valueOf(d.pid())));
        try {
            run(cmd, false);
        } catch (Exception e) {
            // gone already
        }
    }

    private static void waitOrKill(Process p) {
        if (p == null) {
            return;
        }
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                killTree(p, "-KILL");
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
