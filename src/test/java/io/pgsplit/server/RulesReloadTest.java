package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.route.rules.RoutingRules;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Rules changed while pgsplit runs: reload on demand, on file change and on SIGHUP; bad files; dry_run; counters. */
@ExtendWith(PgClusterExtension.class)
class RulesReloadTest {
    static LocalPgCluster cluster;

    @TempDir
    Path dir;
    Path file;
    RouterFixture router;
    ListAppender<ILoggingEvent> logs;
    Logger rulesLogger;
    Logger pgsplitLogger;

    @BeforeAll
    static void cluster(LocalPgCluster c) {
        cluster = c;
    }

    @BeforeEach
    void captureLogs() {
        logs = new ListAppender<>();
        logs.start();
        rulesLogger = (Logger) LoggerFactory.getLogger(RoutingRules.class);
        pgsplitLogger = (Logger) LoggerFactory.getLogger(Pgsplit.class);
        rulesLogger.addAppender(logs);
        pgsplitLogger.addAppender(logs);
    }

    @AfterEach
    void stop() {
        rulesLogger.detachAppender(logs);
        pgsplitLogger.detachAppender(logs);
        if (router != null) {
            router.close();
        }
    }

    private static String rule(String name, String route) {
        return "rules:\n  - name: " + name + "\n    match:\n      sql: 'reload-probe'\n    route: " + route + "\n";
    }

    /** Replaces the file as a careful operator (or a config management tool) does: write aside, rename over. */
    private void write(String text) throws Exception {
        Path tmp = dir.resolve("rules.yaml.tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private RouterFixture start(String rules) throws Exception {
        file = dir.resolve("rules.yaml");
        write(rules);
        router = RouterFixture.builder(cluster).rules(file).start();
        return router;
    }

    private int port(String name) {
        return cluster.replicaPorts().get(cluster.replicaNames().indexOf(name));
    }

    private static int probe(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT inet_server_port() /* reload-probe */")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10); // polling with a deadline
        }
    }

    /** A copy of the captured events (appenders are called under the appender's lock, from any thread). */
    private List<ILoggingEvent> events() {
        synchronized (logs) {
            return new ArrayList<>(logs.list);
        }
    }

    private List<String> messages(Level level) {
        List<String> out = new ArrayList<>();
        for (ILoggingEvent e : events()) {
            if (e.getLevel() == level) {
                out.add(e.getFormattedMessage());
            }
        }
        return out;
    }

    @Test
    void ruleChangedUnderLiveTrafficWithoutClientErrors() throws Exception {
        start(rule("probe", "primary"));
        int r1 = port("r1");
        int r2 = port("r2");
        // phase 1: primary (first file), 2: r2 (reloadRules()), 3: r1 (the watcher sees the file change)
        AtomicInteger phase = new AtomicInteger(1);
        Queue<int[]> seen = new ConcurrentLinkedQueue<>();
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicInteger[] perPhase = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Map<String, String> props = t % 2 == 0 ? Map.of() : Map.of("preferQueryMode", "simple");
            Thread client = new Thread(() -> {
                try (Connection conn = router.connect(props)) {
                    while (phase.get() < 4) {
                        int p = phase.get(); // read BEFORE the query: its rules were installed before it was set
                        if (p == 4) {
                            break;
                        }
                        seen.add(new int[] {p, probe(conn)});
                        perPhase[p].incrementAndGet();
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "client-" + t);
            client.start();
            clients.add(client);
        }
        await("traffic in phase 1", () -> perPhase[1].get() >= 40 || !errors.isEmpty());

        write(rule("probe", "r2"));
        assertTrue(router.router().reloadRules());
        phase.set(2);
        await("traffic in phase 2", () -> perPhase[2].get() >= 40 || !errors.isEmpty());

        write(rule("probe", "r1"));
        // no reloadRules(): the file watcher must notice
        try (Connection conn = router.connect()) {
            await("the watcher to install the new file", () -> {
                try {
                    return probe(conn) == r1;
                } catch (SQLException e) {
                    throw new AssertionError(e);
                }
            });
        }
        phase.set(3);
        await("traffic in phase 3", () -> perPhase[3].get() >= 40 || !errors.isEmpty());
        phase.set(4);
        for (Thread c : clients) {
            c.join(10_000);
        }
        assertTrue(errors.isEmpty(), "client errors: " + errors);
        // A statement started in phase p was routed by p's rules or, when a reload came while it was on its way
        // (the phase is bumped only after the reload), by the next phase's; once the phase is bumped, every
        // statement follows the new rules.
        int[] expected = {0, cluster.primaryPort(), r2, r1, r1};
        for (int[] s : seen) {
            int p = s[0];
            assertTrue(s[1] == expected[p] || p < 3 && s[1] == expected[p + 1],
                    "phase " + p + " ran on port " + s[1] + ", expected " + expected[p]);
        }
        long exactlyNew = seen.stream().filter(s -> s[0] >= 2 && s[1] == expected[s[0]]).count();
        assertTrue(exactlyNew >= 80, "the new targets held: " + exactlyNew);
        assertTrue(router.router().ruleCounts().get("probe") >= 120, "counts carry over reloads by rule name: "
                + router.router().ruleCounts());
        assertTrue(messages(Level.INFO).stream().anyMatch(m -> m.startsWith("routing rules reloaded from")),
                "reload logged: " + messages(Level.INFO));
    }

    @Test
    void invalidFileKeepsTheOldRulesAndLogsEveryError() throws Exception {
        start(rule("probe", "r2"));
        int r2 = port("r2");
        try (Connection conn = router.connect()) {
            assertEquals(r2, probe(conn));
            write("rules:\n  - name: probe\n    match: {sql: '(unclosed'}\n    route: r9\n");
            assertFalse(router.router().reloadRules());
            assertEquals(r2, probe(conn), "the old rules stay");
            List<String> errors = messages(Level.ERROR);
            assertTrue(errors.stream().anyMatch(m -> m.contains("rules[0].match.sql: invalid regular expression: "
                    + "Unclosed group near index 9") && m.contains("(line 3, column 18)")), errors.toString());
            assertTrue(errors.stream().anyMatch(m -> m.contains("rules[0].route: unknown replica or group \"r9\"")
                    && m.contains("(line 4, column 12)")), errors.toString());
            assertTrue(errors.get(0).contains("NOT reloaded, keeping the previous rules"), errors.toString());

            // the watcher also sees the broken file and keeps the old rules: a fixed file then applies
            write(rule("probe", "primary"));
            await("the watcher to install the fixed file", () -> {
                try {
                    return probe(conn) == cluster.primaryPort();
                } catch (SQLException e) {
                    throw new AssertionError(e);
                }
            });
        }
    }

    @Test
    void dryRunLogsAndCountsWithoutChangingTheRoute() throws Exception {
        start("""
                rules:
                  - name: trial-primary
                    match: {sql: 'reload-probe'}
                    route: primary
                    dry_run: true
                  - name: to-r1
                    match: {sql: 'reload-probe', kind: [select]}
                    route: r1
                  - name: unused
                    match: {application_name: nobody}
                    route: primary
                """);
        try (Connection conn = router.connect()) {
            for (int i = 0; i < 5; i++) {
                assertEquals(port("r1"), probe(conn), "the dry-run rule does not decide; the next rule does");
            }
        }
        assertEquals(Map.of("trial-primary", 5L, "to-r1", 5L, "unused", 0L), router.router().ruleCounts());
        List<String> info = messages(Level.INFO).stream().filter(m -> m.contains("(dry run)")).toList();
        assertEquals(5, info.size(), info.toString());
        assertEquals("rule \"trial-primary\" (dry run) would send to primary: SELECT inet_server_port() "
                + "/* reload-probe */", info.get(0));
    }

    @Test
    void sighupReloads() throws Exception {
        start(rule("probe", "r1"));
        assumeTrue(RulesSupport.hangupHandled(), "SIGHUP handling unavailable in this JVM");
        try (Connection conn = router.connect()) {
            assertEquals(port("r1"), probe(conn));
            write(rule("probe", "r2"));
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid()))
                    .redirectErrorStream(true).start();
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, kill.exitValue());
            // the watcher reloads the changed file too: check that the signal itself caused a reload
            await("a reload by the signal handler", () -> events().stream().anyMatch(e ->
                    e.getThreadName().contains("SIGHUP") && e.getFormattedMessage().startsWith("routing rules reloaded")));
            await("the new rules after SIGHUP", () -> {
                try {
                    return probe(conn) == port("r2");
                } catch (SQLException e) {
                    throw new AssertionError(e);
                }
            });
        }
    }
}
