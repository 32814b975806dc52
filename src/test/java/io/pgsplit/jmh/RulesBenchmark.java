package io.pgsplit.jmh;

import io.pgsplit.route.Classification;
import io.pgsplit.route.ClassifierSettings;
import io.pgsplit.route.FunctionCatalog;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.RouteRequest;
import io.pgsplit.route.SqlClassifier;
import io.pgsplit.route.rules.RoutingRules;
import io.pgsplit.route.rules.RulesLoader;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Cost of matching a 10-rule routing-rules file against one request, next to a cache-hit classification
 * (what every statement already pays). {@code typical*}: a file like the examples of {@code routing-rules/}
 * (tables, application names, networks, kinds, a few regular expressions); {@code regexOnly*}: ten rules with
 * only a {@code sql} regular expression each, the worst case (every regex runs on every statement).
 * {@code *NoMatch}: no rule matches (every rule is tried); {@code *LastMatches}: the tenth rule decides.
 *
 * <p>Run (after {@code mvn -q -B test-compile}):
 * <pre>
 * mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.pgsplit.jmh.RulesBenchmark
 * </pre>
 * Arguments, if any, are passed to JMH as a regular-expression filter of benchmark names.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class RulesBenchmark {

    static final String SQL = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

    static final String TYPICAL = """
            rules:
              - name: reports-on-replicas
                match: {sql: '(?i)^\\s*select\\b', tables: [report_*]}
                route: replica
              - name: audit-on-primary
                match: {tables: [audit_log, "audit.*"]}
                route: primary
              - name: billing-on-primary
                match: {application_name: [billing, "billing-*"]}
                route: primary
              - name: batch-host
                match: {client_address: [10.20.0.0/16, "fd00:20::/32"]}
                route: primary
              - name: analytics
                match: {tables: ["analytics.*"], kind: [select]}
                route: r2
              - name: exports
                match: {application_name: "export*", kind: [select, copy]}
                route: any
              - name: admin-user
                match: {user: [admin, dba], in_transaction: false}
                route: primary
              - name: other-db
                match: {database: legacy}
                route: primary
              - name: hot-functions
                match: {functions: [cache_*, "billing.*"]}
                route: primary
              - name: accounts-from-office
                match: {tables: [pgbench_*], client_address: [10.1.0.0/16], sql: '(?i)where aid ='}
                route: r1
            """;

    private SqlClassifier classifier;
    private RoutingRules typical;
    private RoutingRules regexOnly;
    private RouteRequest request;
    private RouteRequest otherClient;

    @Setup
    public void setup() throws Exception {
        classifier = new SqlClassifier(ClassifierSettings.defaults());
        Classification c = classifier.classify(SQL, FunctionCatalog.EMPTY, true); // cached for the hit benchmark
        typical = RulesLoader.parse(TYPICAL, "bench.yaml", null, null);
        StringBuilder y = new StringBuilder("rules:\n");
        for (int i = 1; i <= 10; i++) {
            String sql = i < 10 ? "(?i)from\\s+report_" + i + "\\b" : "(?i)from\\s+pgbench_accounts\\b";
            y.append("  - name: rule-").append(i).append("\n    match: {sql: '").append(sql)
                    .append("'}\n    route: replica\n");
        }
        regexOnly = RulesLoader.parse(y.toString(), "bench.yaml", null, null);
        request = request(c, "10.1.2.3");
        otherClient = request(c, "192.168.7.7");
        if (typical.match(request) == null || typical.match(otherClient) != null
                || regexOnly.match(request) == null) {
            throw new IllegalStateException("benchmark rules do not match as intended");
        }
    }

    private static RouteRequest request(Classification c, String address) {
        return new RouteRequest(SQL, SQL, c.parsed().statements(), c.write(), c.reason(), c, "app", "app", "shop",
                new InetSocketAddress(address, 50000), false, "auto", false, false, false, false);
    }

    @Benchmark
    public Classification classifyCacheHit() {
        return classifier.classify(SQL, FunctionCatalog.EMPTY, true);
    }

    @Benchmark
    public RouteDecision typicalNoMatch() {
        return typical.match(otherClient);
    }

    @Benchmark
    public RouteDecision typicalLastMatches() {
        return typical.match(request);
    }

    @Benchmark
    public RouteDecision regexOnlyLastMatches() {
        return regexOnly.match(request);
    }

    public static void main(String[] args) throws RunnerException {
        Options options = new OptionsBuilder()
                .include(RulesBenchmark.class.getSimpleName() + (args.length > 0 ? ".*" + args[0] : ""))
                .build();
        new Runner(options).run();
    }
}
