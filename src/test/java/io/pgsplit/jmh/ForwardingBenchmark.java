package io.pgsplit.jmh;

import io.pgsplit.config.ConfigLoader;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.localpg.PasswordType;
import io.pgsplit.server.Pgsplit;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Forwarding a DataRow-heavy result through pgsplit's pipeline, against the same query straight
 * to PostgreSQL: the difference is what the router costs per result (its scan of message headers
 * and the forwarding of runs of rows as slices). A real primary is started in the trial setup, so
 * this measures the real pipeline end to end, client included.
 *
 * <p>Run (after {@code mvn -q -B test-compile}):
 * <pre>
 * mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.pgsplit.jmh.ForwardingBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ForwardingBenchmark {
    @Param({"10000"})
    int rows;

    private LocalPgCluster cluster;
    private Pgsplit router;
    private Connection direct;
    private Connection proxied;
    private String sql;

    @Setup
    public void setUp() throws Exception {
        cluster = LocalPgCluster.builder().dir(Path.of("target", "jmh-cluster")).replicas(0).build();
        cluster.start();
        cluster.createUser("bench", "bench", PasswordType.SCRAM);
        cluster.createDatabase("bench", "bench");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        router = Pgsplit.start(ConfigLoader.parse("listen: {port: " + port + "}\n"
                + "databases: {bench: {primary: \"127.0.0.1:" + cluster.primaryPort() + "\"}}\n"
                + "users: {bench: {password: bench}}\n"
                + "pool: {pool_mode: transaction, pool_size: 2}\n", "bench.yaml"));
        Properties p = new Properties();
        p.setProperty("user", "bench");
        p.setProperty("password", "bench");
        direct = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + cluster.primaryPort() + "/bench", p);
        proxied = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/bench", p);
        sql = "SELECT g, repeat('x', 100), now() FROM generate_series(1, " + rows + ") g";
    }

    @TearDown
    public void tearDown() throws Exception {
        direct.close();
        proxied.close();
        router.close();
        cluster.stop();
    }

    private static long drain(Connection c, String sql) throws Exception {
        long sum = 0;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                sum += rs.getInt(1) + rs.getString(2).length();
            }
        }
        return sum;
    }

    @Benchmark
    public long directToPostgres() throws Exception {
        return drain(direct, sql);
    }

    @Benchmark
    public long throughPgsplit() throws Exception {
        return drain(proxied, sql);
    }

    public static void main(String[] args) throws Exception {
        new Runner(new OptionsBuilder().include(ForwardingBenchmark.class.getSimpleName()).build()).run();
    }
}
