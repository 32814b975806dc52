package io.pgsplit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The real pgbench through pgsplit: initialisation, then short runs in all three query modes. */
@ExtendWith(PgClusterExtension.class)
class PgbenchTest {
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");

    @ParameterizedTest(name = "{0} pooling")
    @ValueSource(strings = {"session", "transaction"})
    void initAndRunInEveryQueryMode(String poolMode, LocalPgCluster cluster) throws Exception {
        // three event loops: sessions and server connections on different loops hand work across threads
        try (RouterFixture router = RouterFixture.builder(cluster).listen("worker_threads: 3")
                .pool("pool_mode: " + poolMode + ", pool_size: 5")
                .start()) {
            List<String> conn = List.of("-h", router.host(), "-p", String.valueOf(router.port()), "-U", "app");
            List<String> init = Procs.args("pgbench", "-i", "-s", "1", "-q");
            init.addAll(conn);
            init.add("app");
            Procs.Result r = Procs.run(120, "app", null, init.toArray(String[]::new));
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.output().contains("done in"), r.toString());

            for (String protocol : List.of("simple", "extended", "prepared")) {
                List<String> run = Procs.args("pgbench", "-M", protocol, "-T", "3", "-c", "4", "-j", "2");
                run.addAll(conn);
                run.add("app");
                Procs.Result b = Procs.run(60, "app", null, run.toArray(String[]::new));
                String what = poolMode + " pooling, -M " + protocol + ": " + b;
                assertEquals(0, b.exitCode(), what);
                assertTrue(b.output().contains("number of failed transactions: 0 "), what);
                assertTrue(b.output().contains("query mode: " + protocol), what);
                Matcher m = PROCESSED.matcher(b.output());
                assertTrue(m.find(), what);
                assertTrue(Long.parseLong(m.group(1)) > 0, what);
            }
        }
    }
}
