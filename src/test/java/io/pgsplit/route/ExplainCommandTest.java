package io.pgsplit.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pgsplit explain}: the classification, the target and the reason, as a user reads them. */
class ExplainCommandTest {
    record Run(int exit, String out) {
        String line(String label) {
            for (String l : out.split("\n")) {
                if (l.startsWith(label + ":")) {
                    return l.substring(label.length() + 1).strip();
                }
            }
            throw new AssertionError("no \"" + label + ":\" line in:\n" + out);
        }
    }

    static synchronized Run explain(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int exit;
        try (PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            String[] full = new String[args.length + 1];
            full[0] = "explain";
            System.arraycopy(args, 0, full, 1, args.length);
            exit = Main.execute(full);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        return new Run(exit, out);
    }

    @Test
    void read() {
        Run r = explain("SELECT id, name FROM users WHERE id = 1");
        assertEquals(0, r.exit());
        assertTrue(r.line("classification").startsWith("read"), r.out());
        assertEquals("replica", r.line("route"), r.out());
        assertTrue(r.out().contains("users"), "names the table read: " + r.out());
        assertTrue(!r.line("reason").isEmpty(), r.out());
    }

    @Test
    void write() {
        Run r = explain("UPDATE accounts SET balance = balance - 1 WHERE id = 7");
        assertEquals(0, r.exit());
        assertTrue(r.line("classification").startsWith("write"), r.out());
        assertEquals("primary", r.line("route"), r.out());
        assertTrue(r.line("reason").toLowerCase().contains("update"), r.out());
    }

    @Test
    void volatileFunction() {
        Run r = explain("SELECT nextval('orders_id_seq')");
        assertTrue(r.line("classification").startsWith("write"), r.out());
        assertEquals("primary", r.line("route"), r.out());
        assertTrue(r.line("reason").contains("nextval"), r.out());
    }

    @Test
    void hinted() {
        Run r = explain("/* pgsplit: route=primary */ SELECT count(*) FROM orders");
        assertTrue(r.line("classification").startsWith("read"), r.out());
        assertEquals("primary", r.line("route"), r.out());
        assertTrue(r.line("reason").contains("hint"), r.out());
        Run back = explain("/* pgsplit: route=replica */ SELECT 1");
        assertEquals("replica", back.line("route"), back.out());
        Run data = explain("INSERT INTO notes VALUES ('/* pgsplit: route=replica */')");
        assertEquals("primary", data.line("route"), "a hint inside a string is data: " + data.out());
        assertTrue(data.line("reason").contains("INSERT"), data.out());
    }

    @Test
    void readOnlyAndSerializableTransactions() {
        Run ro = explain("BEGIN READ ONLY; SELECT 1");
        assertEquals("replica", ro.line("route"), ro.out());
        Run ser = explain("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY; SELECT 1");
        assertEquals("primary", ser.line("route"), ser.out());
        assertTrue(ser.line("reason").toLowerCase().contains("serializable"), ser.out());
    }

    @Test
    void configFileHintsOff(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("pgsplit.yaml");
        Files.writeString(cfg, """
                databases:
                  app:
                    primary: "127.0.0.1:5432"
                    replicas:
                      - {name: r1, host: 127.0.0.1, port: 5433}
                users:
                  app: {password: app}
                routing:
                  hints: false
                """);
        Run r = explain("--config", cfg.toString(), "/* pgsplit: route=primary */ SELECT 1");
        assertEquals(0, r.exit(), r.out());
        assertEquals("replica", r.line("route"), r.out());
        Run bad = explain("--config", dir.resolve("missing.yaml").toString(), "SELECT 1");
        assertTrue(bad.exit() != 0, bad.out());
    }
}
