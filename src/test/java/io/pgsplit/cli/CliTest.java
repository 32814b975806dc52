package io.pgsplit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The command line as a user meets it: exit codes (0 success, 1 runtime failure, 2 usage or
 * configuration error) and what is printed, through {@link Main#execute}, the same entry point
 * {@code bin/pgsplit} reaches through {@code main}. ({@code .ci/run} also runs the built jar through
 * {@code bin/pgsplit}.)
 */
class CliTest {
    @TempDir
    Path tmp;

    /** What one invocation returned and printed. */
    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    /** Runs the CLI in-process with System.out/err captured (picocli's writers wrap them at creation). */
    static Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            exit = Main.execute(args);
        } finally {
            System.out.flush();
            System.err.flush();
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpListsEveryCommand() {
        Result r = run("--help");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().startsWith("Usage: pgsplit"), r.out());
        for (String cmd : new String[] {"run", "demo", "config", "explain", "rules", "help"}) {
            assertTrue(r.out().contains("\n  " + cmd + " "), "--help does not list " + cmd + ":\n" + r.out());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"run", "demo", "config", "config check", "explain", "rules"})
    void everySubcommandHasHelp(String command) {
        String[] words = (command + " --help").split(" ");
        Result r = run(words);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().startsWith("Usage: pgsplit " + command + " "), r.out());
    }

    @Test
    void helpCommandShowsASubcommandsHelp() {
        Result r = run("help", "demo");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("--replicas"), r.out());
        assertTrue(r.out().contains("--pool-mode"), r.out());
    }

    @Test
    void version() {
        Result r = run("--version");
        assertEquals(0, r.exit(), r.all());
        // "pgsplit 0.1.0" from the jar's manifest; "pgsplit development build" from target/classes
        assertTrue(r.out().matches("pgsplit (\\d+\\.\\d+\\.\\d+.*|development build)\\R"), r.out());
    }

    @Test
    void theExampleConfigIsValid() {
        Result r = run("config", "check", "pgsplit.example.yaml");
        assertEquals(0, r.exit(), r.all());
        assertEquals("pgsplit.example.yaml: OK (1 database, 4 users, 2 replicas)", r.out().strip());
        assertEquals("", r.err());
    }

    @Test
    void aBrokenConfigPrintsEveryErrorWithItsKeyPathAndExits2() throws Exception {
        Path file = tmp.resolve("broken.yaml");
        Files.writeString(file, """
                listen:
                  port: 70000
                  colour: red
                databases:
                  app:
                    primary: "127.0.0.1:5432"
                users:
                  app: {password: app}
                """);
        Result r = run("config", "check", file.toString());
        assertEquals(2, r.exit(), r.all());
        assertEquals("", r.out());
        String[] lines = r.err().strip().split("\\R");
        assertEquals(2, lines.length, r.err());
        assertTrue(r.err().contains(file + ": listen.port: 70000 is not a port (1-65535) (line 2, column 9)"), r.err());
        assertTrue(r.err().contains(file + ": listen.colour: unknown key"), r.err());
        assertTrue(r.err().contains("(line 3, column 3)"), r.err());

        // run refuses the same file the same way, before listening on anything
        Result started = run("run", "-c", file.toString());
        assertEquals(2, started.exit(), started.all());
        assertTrue(started.err().contains("listen.port: 70000 is not a port"), started.err());
    }

    @Test
    void configCheckOfAMissingFile() {
        Path missing = tmp.resolve("nope.yaml");
        Result r = run("config", "check", missing.toString());
        assertEquals(2, r.exit(), r.all());
        assertEquals(missing + ": file not found", r.err().strip());
    }

    @Test
    void runWithAMissingFileExits2() {
        Path missing = tmp.resolve("nope.yaml");
        Result r = run("run", "--config", missing.toString());
        assertEquals(2, r.exit(), r.all());
        assertEquals(missing + ": file not found", r.err().strip());
    }

    @Test
    void runWithoutConfigIsAUsageError() {
        Result r = run("run");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("Missing required option: '--config=FILE'"), r.err());
    }

    @Test
    void runThatCannotListenExits1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path file = tmp.resolve("taken.yaml");
            Files.writeString(file, """
                    listen: {host: 127.0.0.1, port: %d}
                    databases:
                      app: {primary: "127.0.0.1:1"}
                    users:
                      app: {password: app}
                    routing: {catalog_refresh: 0}
                    """.formatted(taken.getLocalPort()));
            Result r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run("run", "-c", file.toString()));
            assertEquals(1, r.exit(), r.all());
            assertTrue(r.err().startsWith("pgsplit: "), r.err());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bogus", "config bogus", "rules bogus"})
    void unknownCommandExits2(String command) {
        Result r = run(command.split(" "));
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("'bogus'"), r.err());
        assertTrue(r.err().contains("Usage: pgsplit"), r.err());
    }

    @Test
    void unknownOptionExits2() {
        Result r = run("config", "check", "--frobnicate", "pgsplit.example.yaml");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--frobnicate"), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "config", "rules"})
    void missingCommandExits2(String command) {
        Result r = run(command.isEmpty() ? new String[0] : new String[] {command});
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().startsWith("missing "), r.err());
    }

    @Test
    void demoRejectsBadFlagsBeforeStartingAnything() {
        Result replicas = run("demo", "--replicas", "11", "--dir", tmp.resolve("never").toString());
        assertEquals(2, replicas.exit(), replicas.all());
        assertTrue(replicas.err().contains("--replicas must be between 0 and 10"), replicas.err());

        Result mode = run("demo", "--pool-mode", "sessoin", "--dir", tmp.resolve("never").toString());
        assertEquals(2, mode.exit(), mode.all());
        assertTrue(mode.err().contains("--pool-mode must be session, transaction or statement"), mode.err());

        Result notANumber = run("demo", "--port", "six");
        assertEquals(2, notANumber.exit(), notANumber.all());
        assertTrue(notANumber.err().contains("'six' is not an int"), notANumber.err());
        assertTrue(Files.notExists(tmp.resolve("never")), "the demo created its directory");
    }

    @Test
    void explainSaysWhereAStatementGoesAndWhy() {
        Result read = run("explain", "SELECT 1");
        assertEquals(0, read.exit(), read.all());
        assertTrue(read.out().contains("route:          replica"), read.out());

        Result write = run("explain", "SELECT nextval('s')");
        assertEquals(0, write.exit(), write.all());
        assertTrue(write.out().contains("route:          primary"), write.out());
        assertTrue(write.out().contains("nextval"), write.out());

        Result hinted = run("explain", "/* pgsplit: route=primary */ SELECT 1");
        assertEquals(0, hinted.exit(), hinted.all());
        assertTrue(hinted.out().contains("route:          primary"), hinted.out());
        assertTrue(hinted.out().contains("hint: /* pgsplit: route=primary */"), hinted.out());

        Result txn = run("explain", "--in-transaction", "SELECT 1");
        assertEquals(0, txn.exit(), txn.all());
        assertTrue(txn.out().contains("route:          the connection of the open transaction"), txn.out());
    }

    @Test
    void explainWithABrokenConfigExits2() throws Exception {
        Path file = tmp.resolve("broken.yaml");
        Files.writeString(file, "routing: {splitting: maybe}\n");
        Result r = run("explain", "-c", file.toString(), "SELECT 1");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("routing.splitting"), r.err());
    }
}
