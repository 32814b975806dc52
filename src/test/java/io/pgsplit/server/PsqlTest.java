package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The real psql through pgsplit (session pooling). */
@ExtendWith(PgClusterExtension.class)
class PsqlTest {
    static RouterFixture router;
    static LocalPgCluster cluster;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        router = RouterFixture.builder(c).pool("pool_mode: session, pool_size: 5").start();
    }

    @AfterAll
    static void stop() {
        router.close();
    }

    private Procs.Result psql(String stdin, String... args) throws Exception {
        List<String> cmd = Procs.args("psql", "-X", "-h", router.host(), "-p", String.valueOf(router.port()),
                "-U", "app", "-d", "app");
        cmd.addAll(List.of(args));
        return Procs.run(60, "app", stdin, cmd.toArray(String[]::new));
    }

    @Test
    void copyBothWays(@TempDir Path dir) throws Exception {
        StringBuilder csv = new StringBuilder();
        for (int i = 1; i <= 3000; i++) {
            csv.append(i).append(",\"name, ").append(i).append("\",").append(i % 5 == 0 ? "" : "\"x\"\"y\"").append('\n');
        }
        Path in = dir.resolve("in.csv");
        Path out = dir.resolve("out.csv");
        Files.writeString(in, csv.toString());
        Procs.Result r = psql(null, "-v", "ON_ERROR_STOP=1",
                "-c", "DROP TABLE IF EXISTS psql_copy",
                "-c", "CREATE TABLE psql_copy (id int primary key, name text, note text)",
                "-c", "\\copy psql_copy FROM '" + in + "' WITH (FORMAT csv)");
        assertFalse(r.output().contains("ERROR"), r.toString());
        assertEquals(0, r.exitCode(), r.toString());
        cluster.waitForReplay();
        r = psql(null, "-v", "ON_ERROR_STOP=1",
                "-c", "\\copy (SELECT * FROM psql_copy ORDER BY id) TO '" + out + "' WITH (FORMAT csv)");
        assertEquals(0, r.exitCode(), r.toString());
        String copied = Files.readString(out, StandardCharsets.UTF_8);
        if (!copied.equals(csv.toString())) {
            StringBuilder where = new StringBuilder();
            for (String node : cluster.nodeNames()) {
                where.append(node).append(": ").append(cluster.query(node, "app", "SELECT count(*) FROM psql_copy"))
                        .append(" rows; ");
            }
            assertEquals(csv.toString(), copied, "psql said: " + r + "\n" + where);
        }
        // and the table's content
        r = psql(null, "-At", "-c", "SELECT count(*), sum(id), count(note) FILTER (WHERE note = '') FROM psql_copy");
        assertEquals("3000|4501500|0", r.output().trim(), r.toString()); // empty CSV field is NULL
    }

    @Test
    void describeTable() throws Exception {
        Procs.Result r = psql(null, "-v", "ON_ERROR_STOP=1",
                "-c", "DROP TABLE IF EXISTS psql_described",
                "-c", "CREATE TABLE psql_described (id bigint primary key, label varchar(20) not null)");
        assertEquals(0, r.exitCode(), r.toString());
        cluster.waitForReplay();
        r = psql(null, "-v", "ON_ERROR_STOP=1", "-c", "\\d psql_described");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.output().contains("Table \"public.psql_described\""), r.toString());
        assertTrue(r.output().matches("(?s).*label\\s+\\|\\s+character varying\\(20\\).*not null.*"), r.toString());
        assertTrue(r.output().contains("\"psql_described_pkey\" PRIMARY KEY, btree (id)"), r.toString());
        r = psql(null, "-c", "\\d");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.output().contains("psql_described"), r.toString());
    }

    @Test
    void multiStatementString() throws Exception {
        Procs.Result r = psql(null, "-At", "-c", "SELECT 1; SELECT 2");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("1\n2", r.output().trim(), r.toString());
    }

    @Test
    void onErrorStop() throws Exception {
        String script = "SELECT 'before';\nSELECT 1/0;\nSELECT 'after';\n";
        Procs.Result stop = psql(script, "-At", "-v", "ON_ERROR_STOP=1");
        assertEquals(3, stop.exitCode(), stop.toString());
        assertTrue(stop.output().contains("before"), stop.toString());
        assertTrue(stop.output().contains("ERROR:  division by zero"), stop.toString());
        assertFalse(stop.output().contains("after"), stop.toString());

        Procs.Result goOn = psql(script, "-At");
        assertEquals(0, goOn.exitCode(), goOn.toString());
        assertTrue(goOn.output().contains("ERROR:  division by zero"), goOn.toString());
        assertTrue(goOn.output().contains("after"), goOn.toString());

        // in a single transaction (-1): the error rolls everything back
        Procs.Result single = psql("DROP TABLE IF EXISTS psql_single;\nCREATE TABLE psql_single (id int);\n"
                + "INSERT INTO psql_single VALUES (1);\nSELECT 1/0;\n", "-1", "-v", "ON_ERROR_STOP=1");
        assertEquals(3, single.exitCode(), single.toString());
        Procs.Result check = psql(null, "-At", "-c", "/* pgsplit: route=primary */ SELECT to_regclass('psql_single') IS NULL");
        assertEquals("t", check.output().trim(), check.toString());
    }
}
