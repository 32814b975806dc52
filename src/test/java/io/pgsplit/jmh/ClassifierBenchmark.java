package io.pgsplit.jmh;

import io.pgsplit.route.ClassifierSettings;
import io.pgsplit.route.Classification;
import io.pgsplit.route.FunctionCatalog;
import io.pgsplit.route.SqlClassifier;
import io.pgsplit.route.SqlLexer;
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

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cost of classifying SQL: cold (cache miss: lexer, keyword classifier, then the lexical pass or JSqlParser) and warm
 * (cache hit).
 *
 * <p>"Cold" benchmarks make every query text unique by appending a counter in a trailing comment, which the lexer
 * drops: each call is a cache miss with the same work. The pgbench SELECT and the 5 KB SELECT are settled by the
 * lexical pass ({@code LexicalRead}); {@link #coldParsedSelect} is the pgbench SELECT inside a CTE, which the lexical
 * pass leaves to JSqlParser (with the hand-off to the parser pool), as any statement outside its subset.
 *
 * <p>Run (after {@code mvn -q -B test-compile}, which runs the JMH annotation processor):
 * <pre>
 * mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.pgsplit.jmh.ClassifierBenchmark
 * </pre>
 * Arguments, if any, are passed to JMH as a regular-expression filter of benchmark names.
 *
 * <p>Measured with JMH on the shared 2-core build box (so: noisy, upper bounds), us/op. With the lexical pass,
 * under a load average of 4-8: cache hit 0.013-0.034; cold pgbench SELECT 2.3-7.8 (lexical pass, no parse); cold
 * pgbench UPDATE 3.5-12 (keyword classifier only); cold 5 KB SELECT 133-145 (one run under a load spike: 1,280);
 * lexing the 5 KB text 42-83; cold pgbench SELECT in a CTE (parsed: JSqlParser and the hand-off) about 210.
 * Before the lexical pass, in the same conditions: cold pgbench SELECT 164 (earlier runs under a load of 6-12:
 * 230-420; raw JSqlParser ~40-80 plus ~30 for the hand-off to the parser pool), cold 5 KB SELECT 9.5 ms (earlier:
 * 20-80 ms).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ClassifierBenchmark {

    static final String PGBENCH_SELECT = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
    static final String PGBENCH_UPDATE = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2";
    static final String PARSED_SELECT = "WITH a AS (SELECT abalance FROM pgbench_accounts WHERE aid = $1) SELECT abalance FROM a";
    static final String FIVE_KB_SELECT = fiveKbSelect();

    private SqlClassifier classifier;
    private final AtomicLong counter = new AtomicLong();

    static String fiveKbSelect() {
        StringBuilder sb = new StringBuilder("SELECT o.id, o.customer_id, o.created_at");
        int i = 0;
        while (sb.length() < 4_600) {
            sb.append(", coalesce(o.col").append(i).append(", 0) + abs(o.amount").append(i).append(") AS c").append(i);
            i++;
        }
        sb.append(" FROM orders o JOIN customers c ON c.id = o.customer_id")
                .append(" LEFT JOIN order_lines l ON l.order_id = o.id")
                .append(" WHERE o.created_at > now() - interval '30 days' AND c.country = $1 AND o.status IN ('open', 'paid')")
                .append(" AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.amount > $2)")
                .append(" ORDER BY o.created_at DESC LIMIT 100");
        return sb.toString();
    }

    @Setup
    public void setup() {
        classifier = new SqlClassifier(ClassifierSettings.defaults());
        classifier.classify(PGBENCH_SELECT, FunctionCatalog.EMPTY, true); // cached for the hit benchmark
    }

    private String unique(String sql) {
        return sql + " -- " + counter.incrementAndGet();
    }

    @Benchmark
    public Classification coldPgbenchSelect() {
        return classifier.classify(unique(PGBENCH_SELECT), FunctionCatalog.EMPTY, true);
    }

    @Benchmark
    public Classification coldParsedSelect() {
        return classifier.classify(unique(PARSED_SELECT), FunctionCatalog.EMPTY, true);
    }

    @Benchmark
    public Classification coldPgbenchUpdate() {
        return classifier.classify(unique(PGBENCH_UPDATE), FunctionCatalog.EMPTY, true);
    }

    @Benchmark
    public Classification cold5kbSelect() {
        return classifier.classify(unique(FIVE_KB_SELECT), FunctionCatalog.EMPTY, true);
    }

    @Benchmark
    public SqlLexer.Result lex5kbSelect() {
        return SqlLexer.lex(FIVE_KB_SELECT);
    }

    @Benchmark
    public Classification cacheHitPgbenchSelect() {
        return classifier.classify(PGBENCH_SELECT, FunctionCatalog.EMPTY, true);
    }

    public static void main(String[] args) throws RunnerException {
        Options options = new OptionsBuilder()
                .include(ClassifierBenchmark.class.getSimpleName() + (args.length > 0 ? "." + args[0] : ""))
                .build();
        new Runner(options).run();
    }
}
