package io.pgsplit.admin;

import static org.junit.jupiter.api.Assertions.fail;

import io.pgsplit.testing.RouterFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Real clients against the admin console: psql, pgjdbc in simple mode, pgbench in the background. */
final class AdminTesting {
    static final String ADMIN_USER = "pgsplit";
    static final String ADMIN_PASSWORD = "admin-pw";
    static final String STATS_USER = "watcher";
    static final String STATS_PASSWORD = "watch-pw";

    /** The admin section and the stats user, for RouterFixture.builder(...).users(...).yaml(...). */
    static final String USERS = "  " + STATS_USER + ": {password: " + STATS_PASSWORD + "}\n";

    static String adminYaml(String extra) {
        return "admin:\n  enabled: true\n  user: " + ADMIN_USER + "\n  password: " + ADMIN_PASSWORD
                + "\n  stats_users: [" + STATS_USER + "]\n" + extra;
    }

    private AdminTesting() {
    }

    record Result(int exitCode, String output) {
    }

    static Result run(long timeoutSeconds, String password, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(command)).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", password);
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        pb.environment().put("PSQLRC", "/dev/null");
        Process p = pb.start();
        p.getOutputStream().close();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try {
                p.getInputStream().transferTo(out);
            } catch (IOException ignored) {
                // process gone
            }
        });
        reader.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("timed out: " + String.join(" ", command) + "\n" + out.toString(StandardCharsets.UTF_8));
        }
        reader.join(10_000);
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }

    /** psql -c against the console database as {@code user}; unaligned output with '|' separators. */
    static Result psql(RouterFixture router, String database, String user, String password, String sql)
            throws Exception {
        return run(60, password, "psql", "-X", "-A", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", router.host(), "-p",
                String.valueOf(router.port()), "-U", user, "-d", database, "-c", sql);
    }

    /** psql -c against the console on {@code port} as the admin user. */
    static Result psql(int port, String sql) throws Exception {
        return run(60, ADMIN_PASSWORD, "psql", "-X", "-A", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", String.valueOf(port), "-U", ADMIN_USER, "-d", "pgsplit", "-c", sql);
    }

    static Connection console(RouterFixture router) throws SQLException {
        return console(router, ADMIN_USER, ADMIN_PASSWORD);
    }

    static Connection console(RouterFixture router, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection("jdbc:postgresql://" + router.host() + ":" + router.port() + "/pgbouncer",
                p);
    }

    /** Rows of a SHOW as maps column name to text value. */
    static List<Map<String, String>> show(Connection c, String sql) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(sql)) {
            java.sql.ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnName(i), rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    static Map<String, String> rowOf(List<Map<String, String>> rows, String key, String value) {
        return rows.stream().filter(r -> value.equals(r.get(key))).findFirst()
                .orElseThrow(() -> new AssertionError("no row with " + key + " = " + value + " in " + rows));
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** pgbench against the router in the background; {@link Bench#finish} returns its output. */
    static final class Bench {
        final Process process;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final Thread reader;

        Bench(RouterFixture router, String... extra) throws IOException {
            this(router.host(), router.port(), extra);
        }

        Bench(String host, int port, String... extra) throws IOException {
            List<String> cmd = new ArrayList<>(List.of("pgbench", "-h", host, "-p", String.valueOf(port), "-U", "app",
                    "-n"));
            cmd.addAll(List.of(extra));
            cmd.add("app");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("PGPASSWORD", "app");
            process = pb.start();
            process.getOutputStream().close();
            reader = new Thread(() -> {
                try {
                    process.getInputStream().transferTo(out);
                } catch (IOException ignored) {
                    // gone
                }
            });
            reader.start();
        }

        String finish(long timeoutSeconds) throws Exception {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                fail("pgbench timed out:\n" + out.toString(StandardCharsets.UTF_8));
            }
            reader.join(10_000);
            String text = out.toString(StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                fail("pgbench exit " + process.exitValue() + ":\n" + text);
            }
            return text;
        }

        /** pgbench's "number of failed transactions: N" (0 when the line is absent: older pgbench). */
        static long failed(String output) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("number of failed transactions: (\\d+)")
                    .matcher(output);
            return m.find() ? Long.parseLong(m.group(1)) : 0;
        }

        static long processed(String output) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                    "number of transactions actually processed: (\\d+)").matcher(output);
            if (!m.find()) {
                throw new AssertionError("no transaction count in pgbench output:\n" + output);
            }
            return Long.parseLong(m.group(1));
        }
    }

    static void pgbenchInit(io.pgsplit.localpg.LocalPgCluster c) throws Exception {
        Result r = run(120, "app", "pgbench", "-i", "-q", "-s", "1", "-h", c.host(), "-p",
                String.valueOf(c.primaryPort()), "-U", "app", "app");
        if (r.exitCode() != 0) {
            fail("pgbench -i: " + r.output());
        }
        c.waitForReplay();
    }
}
