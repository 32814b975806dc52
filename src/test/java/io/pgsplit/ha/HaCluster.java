package io.pgsplit.ha;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.localpg.PasswordType;
import io.pgsplit.pool.DatabaseRuntime;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.RouterFixture;
import io.pgsplit.topology.Node;
import io.pgsplit.topology.Topology;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A cluster of its own (primary + r1 + r2, user and database {@code app}) for a test that breaks it: failover
 * tests must not touch the shared one the other tests use. Plus pgsplit in front of it and the faults.
 */
final class HaCluster implements AutoCloseable {
    final LocalPgCluster pg;
    RouterFixture router;

    private HaCluster(LocalPgCluster pg) {
        this.pg = pg;
    }

    static HaCluster start(String name) {
        LocalPgCluster pg = LocalPgCluster.builder().dir(Path.of("target", "ha-" + name)).replicas(2).build().start();
        pg.createUser("app", "app", PasswordType.SCRAM);
        pg.createDatabase("app", "app");
        return new HaCluster(pg);
    }

    /** pgsplit with {@code ha} and {@code pool} settings (YAML flow-mapping insides). */
    RouterFixture router(String ha, String pool) throws Exception {
        router = RouterFixture.builder(pg).pool(pool).yaml("ha: {" + ha + "}\n").start();
        return router;
    }

    Topology topology() {
        DatabaseRuntime db = router.router().context().database("app");
        return db.topology();
    }

    Node node(String name) {
        return topology().nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    Connection connect() throws SQLException {
        return router.connect();
    }

    Connection direct(String node) throws SQLException {
        return Jdbc.connect(pg, node, "app", pg.superuser(), pg.superuserPassword());
    }

    /** SIGSTOP ({@code stop}) or SIGCONT a node's postmaster and every process under it: the whole server freezes. */
    void freeze(String node, boolean stop) throws Exception {
        long pid = pg.postmasterPid(node);
        List<String> cmd = new ArrayList<>(List.of("kill", stop ? "-STOP" : "-CONT", String.valueOf(pid)));
        ProcessHandle.of(pid).ifPresent(p -> p.descendants().forEach(d -> cmd.add(String.valueOf(d.pid()))));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(cmd + " failed: " + new String(p.getInputStream().readAllBytes()));
        }
    }

    /** Waits for {@code condition}, polling every 20 ms; returns how long it took in ms. */
    static long await(String what, Duration max, BooleanSupplier condition) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + max.toMillis() + " ms: " + what);
            }
            Thread.sleep(20);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Override
    public void close() {
        if (router != null) {
            router.close();
        }
        pg.stop();
    }
}
