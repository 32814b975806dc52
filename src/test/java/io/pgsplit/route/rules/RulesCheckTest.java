package io.pgsplit.route.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.cli.Main;
import io.pgsplit.config.ConfigError;
import io.pgsplit.config.ConfigException;
import io.pgsplit.route.Classification;
import io.pgsplit.route.ClassifierSettings;
import io.pgsplit.route.FunctionCatalog;
import io.pgsplit.route.RouteDecision;
import io.pgsplit.route.RouteRequest;
import io.pgsplit.route.SqlClassifier;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rules files as operators write them: every mistake reported at once with file, line, column and a plain
 * explanation; {@code pgsplit rules check} and {@code pgsplit explain} as a user runs them.
 */
class RulesCheckTest {
    private static final Set<String> TARGETS = Set.of("r1", "r2", "analytics");
    private static final SqlClassifier CLASSIFIER = new SqlClassifier(ClassifierSettings.defaults());

    @TempDir
    Path dir;

    private static List<String> errors(String yaml) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> RulesLoader.parse(yaml, "rules.yaml", null, TARGETS));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    private static RoutingRules rules(String yaml) throws ConfigException {
        return RulesLoader.parse(yaml, "rules.yaml", null, TARGETS);
    }

    static RouteRequest request(String sql, String app, String address, boolean inTxn) {
        Classification c = CLASSIFIER.classify(sql, FunctionCatalog.EMPTY, true);
        return new RouteRequest(sql, sql, c.parsed().statements(), c.write(), c.reason(), c, "app", "alice", app,
                address == null ? null : new InetSocketAddress(address, 40000), inTxn, "auto", false, false, false,
                false);
    }

    @Test
    void everyMistakeIsReportedWithItsPositionAndAPlainExplanation() {
        List<String> errors = errors("""
                rules:
                  - name: reports
                    match:
                      sql: '(?i)^select (from'
                      tabels: [report_*]
                      kind: [selct]
                      client_address: [10.0.0.0/33, db.example.com]
                      in_transaction: maybe
                    route: r3
                  - name: reports
                    route: replica
                    max_lag: soon
                  - match: {user: bob}
                    route: primary
                rulez: []
                """);
        assertEquals(List.of(
                "rules.yaml: rules[0].match.sql: invalid regular expression: Unclosed group near index 17 in "
                        + "\"(?i)^select (from\" (Java regex syntax; in YAML, prefer single quotes so backslashes "
                        + "stay as written) (line 4, column 12)",
                "rules.yaml: rules[0].match.tabels: unknown key (did you mean tables?) (line 5, column 7)",
                "rules.yaml: rules[0].match.kind[0]: \"selct\" is not a statement kind (did you mean select?) "
                        + "(line 6, column 14)",
                "rules.yaml: rules[0].match.client_address[0]: \"10.0.0.0/33\": prefix length 33 is over 32 (the "
                        + "size of an IPv4 address) (line 7, column 24)",
                "rules.yaml: rules[0].match.client_address[1]: \"db.example.com\" is not an IP address or network "
                        + "(e.g. 10.0.0.0/8, 192.168.1.7, fd00::/8); host names are not allowed (line 7, column 37)",
                "rules.yaml: rules[0].match.in_transaction: \"maybe\" is not a boolean (true or false) "
                        + "(line 8, column 23)",
                "rules.yaml: rules[0].route: unknown replica or group \"r3\" (did you mean r1?); use primary, "
                        + "replica, any, or one of the configuration's replicas and groups: analytics, r1, r2 "
                        + "(line 9, column 12)",
                "rules.yaml: rules[1].name: duplicate rule name \"reports\" (first used at line 2); names must be "
                        + "unique, they identify the rule in logs and counters (line 10, column 11)",
                "rules.yaml: rules[1].max_lag: \"soon\" is not a duration (use 500ms, 10s, 5m, 1h, or a number of "
                        + "seconds) (line 12, column 14)",
                "rules.yaml: rules[2].name: required (line 13, column 5)",
                "rules.yaml: rulez: unknown key (did you mean rules?) (line 15, column 1)"), errors);
    }

    @Test
    void wrongTypesAndYamlSyntax() {
        assertEquals(List.of(
                "rules.yaml: rules[0].match.tables: expected a string or a list of strings, got a mapping "
                        + "(line 4, column 15)",
                "rules.yaml: rules[0].dry_run: \"often\" is not a boolean (true or false) (line 6, column 14)",
                "rules.yaml: functions.read_only[0]: expected a string, got a list (line 8, column 15)"),
                errors("""
                        rules:
                          - name: a
                            match:
                              tables: {x: 1}
                            route: primary
                            dry_run: often
                        functions:
                          read_only: [[f]]
                        """));
        assertEquals(List.of("rules.yaml: YAML syntax error: expected ',' or ']', but got <stream end> "
                + "(line 3, column 1)"), errors("rules:\n  - name: [a\n"));
    }

    @Test
    void globsIgnoreTheSchemaUnlessTheyNameOne() {
        Glob unqualified = Glob.forNames("report_*");
        assertTrue(unqualified.matches("report_x"));
        assertTrue(unqualified.matches("public.report_x"));
        assertFalse(unqualified.matches("reports"));
        Glob schema = Glob.forNames("analytics.*");
        assertTrue(schema.matches("analytics.events"));
        assertFalse(schema.matches("events"));
        assertFalse(schema.matches("public.analytics_events"));
        assertTrue(Glob.plain("billing-*").matches("Billing-Worker"));
        assertFalse(Glob.plain("billing-*").matches("billing"));
        assertTrue(Glob.plain("a?c*d").matches("abcxxd"));
    }

    @Test
    void networksIpv4AndIpv6() {
        assertTrue(Cidr.parse("10.0.0.0/8").contains(new InetSocketAddress("10.200.3.4", 1)));
        assertFalse(Cidr.parse("10.0.0.0/8").contains(new InetSocketAddress("11.0.0.1", 1)));
        assertTrue(Cidr.parse("192.168.1.7").contains(new InetSocketAddress("192.168.1.7", 1)));
        assertFalse(Cidr.parse("192.168.1.7").contains(new InetSocketAddress("192.168.1.8", 1)));
        assertTrue(Cidr.parse("fd00::/8").contains(new InetSocketAddress("fd12::1", 1)));
        assertFalse(Cidr.parse("fd00::/8").contains(new InetSocketAddress("fe80::1", 1)));
        assertFalse(Cidr.parse("fd00::/8").contains(new InetSocketAddress("10.0.0.1", 1)));
        assertTrue(Cidr.parse("0.0.0.0/0").contains(new InetSocketAddress("8.8.8.8", 1)));
        assertTrue(Cidr.parse("::1").contains(new InetSocketAddress("::1", 1)));
    }

    @Test
    void firstMatchingRuleDecidesAndNamesItself() throws Exception {
        RoutingRules r = rules("""
                rules:
                  - name: never
                    match: {database: nope}
                    route: primary
                  - name: office
                    match:
                      client_address: [10.1.0.0/16, "fd00::/8"]
                      kind: [select]
                      in_transaction: false
                    route: analytics
                  - name: reports
                    match:
                      sql: '(?i)^select .* from report_'
                      tables: [report_*]
                    route: replica
                  - name: writes-of-audit
                    match: {tables_written: [audit_*], kind: [insert, update]}
                    route: any
                """);
        RouteDecision d = r.match(request("SELECT 1", "x", "10.1.2.3", false));
        assertEquals(RouteDecision.Target.NAMED, d.target());
        assertEquals("analytics", d.nodeName());
        assertEquals("rule \"office\"", d.reason());
        assertNull(r.match(request("SELECT 1", "x", "10.1.2.3", true)), "in_transaction: false");
        assertNull(r.match(request("SELECT 1; DELETE FROM t", "x", "10.1.2.3", false)), "kind: every statement");
        assertEquals("rule \"reports\"", r.match(request("select * from report_sales", "x", null, false)).reason());
        assertNull(r.match(request("select * from reportx", "x", null, false)));
        assertEquals("rule \"writes-of-audit\"",
                r.match(request("UPDATE audit_x SET a = 1", "x", null, false)).reason());
        assertNull(r.match(request("SELECT * FROM audit_x", "x", null, false)), "tables_written: not a read");
        assertEquals(java.util.Map.of("never", 0L, "office", 1L, "reports", 1L, "writes-of-audit", 1L), r.counts());
    }

    @Test
    void rememberedStatementMatchesNeverServeOtherStatements() throws Exception {
        RoutingRules r = rules("""
                rules:
                  - name: audit-writes
                    match: {tables_written: [audit_*]}
                    route: primary
                  - name: reads
                    match: {kind: [select]}
                    route: r1
                """);
        RouteRequest select = request("SELECT 1", "x", null, false);
        assertEquals("rule \"reads\"", r.match(select).reason());
        assertEquals("rule \"reads\"", r.match(select).reason(), "remembered");
        // same first text, other statements (an extended-protocol batch: the text is the first Parse's)
        RouteRequest batch = request("DELETE FROM audit_x", "x", null, false);
        RouteRequest mixed = new RouteRequest("SELECT 1", "SELECT 1", batch.statements(), true, "write", null,
                "app", "alice", "x", null, false, "auto", false, false, false, false);
        assertEquals("rule \"audit-writes\"", r.match(mixed).reason());
        assertEquals("rule \"reads\"", r.match(select).reason());
    }

    @Test
    void functionDeclarationsChangeTheClassification() throws Exception {
        RoutingRules r = rules("""
                functions:
                  read_only: [my_report_fn, "audit.*"]
                  writes: [cache_fill]
                """);
        SqlClassifier classifier = new SqlClassifier(ClassifierSettings.defaults());
        FunctionCatalog none = FunctionCatalog.EMPTY;
        assertTrue(classifier.classify("SELECT my_report_fn()", none, true).write());
        assertFalse(classifier.classify("SELECT lower('x')", none, true).write());
        classifier.functionOverrides(r);
        assertFalse(classifier.classify("SELECT my_report_fn()", none, true).write());
        assertFalse(classifier.classify("SELECT public.my_report_fn()", none, true).write());
        assertFalse(classifier.classify("SELECT audit.summary(1)", none, true).write());
        assertTrue(classifier.classify("SELECT cache_fill()", none, true).write());
        assertTrue(classifier.classify("SELECT nextval('s')", none, true).write(), "built-in writes stay writes");
        assertEquals(RoutingRules.EMPTY, null == RoutingRules.EMPTY.declared("x") ? RoutingRules.EMPTY : null);
    }

    private record Run(int status, String out, String err) {
    }

    private static synchronized Run cli(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = Main.execute(args);
            System.out.flush();
            System.err.flush();
            return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private Path config(String rulesFile) throws Exception {
        Path cfg = dir.resolve("pgsplit.yaml");
        Files.writeString(cfg, """
                databases:
                  app:
                    primary: "127.0.0.1:5432"
                    replicas:
                      - {name: r1, host: 127.0.0.1, port: 5433}
                      - {name: r2, host: 127.0.0.1, port: 5434, group: analytics}
                users: {app: {password: app}}
                """ + (rulesFile == null ? "" : "routing: {rules: " + rulesFile + "}\n"));
        return cfg;
    }

    @Test
    void rulesCheckReportsEveryErrorAndExitsTwo() throws Exception {
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, """
                rules:
                  - name: reports
                    match:
                      sql: '(?i)^select ('
                      tabels: [report_*]
                    route: r3
                """);
        Run run = cli("rules", "check", broken.toString(), "--config", config(null).toString());
        assertEquals(2, run.status(), run.toString());
        assertEquals(List.of(
                broken + ": rules[0].match.sql: invalid regular expression: Unclosed group near index 13 in "
                        + "\"(?i)^select (\" (Java regex syntax; in YAML, prefer single quotes so backslashes stay "
                        + "as written) (line 4, column 12)",
                broken + ": rules[0].match.tabels: unknown key (did you mean tables?) (line 5, column 7)",
                broken + ": rules[0].route: unknown replica or group \"r3\" (did you mean r1?); use primary, "
                        + "replica, any, or one of the configuration's replicas and groups: analytics, r1, r2 "
                        + "(line 6, column 12)",
                broken + ": 3 errors"), run.err().lines().toList());
        assertEquals("", run.out());

        Run missing = cli("rules", "check", dir.resolve("nope.yaml").toString());
        assertEquals(2, missing.status());
        assertEquals(dir.resolve("nope.yaml") + ": file not found", missing.err().lines().findFirst().orElseThrow());
    }

    @Test
    void everyExampleFileChecksCleanAgainstAConfig() throws Exception {
        Path cfg = config(null);
        List<Path> examples;
        try (Stream<Path> s = Files.list(Path.of("routing-rules"))) {
            examples = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertEquals(5, examples.size(), examples.toString());
        for (Path p : examples) {
            Run run = cli("rules", "check", p.toString(), "--config", cfg.toString());
            assertEquals(0, run.status(), p + ": " + run);
            assertTrue(run.out().startsWith(p + ": OK ("), run.out());
        }
        Run reports = cli("rules", "check", "routing-rules/reports-to-replicas.yaml");
        assertEquals("routing-rules/reports-to-replicas.yaml: OK (2 rules, 1 in dry run, 0 function declarations; "
                + "replica names not checked: no --config)\n", reports.out());
        // without the group in the configuration, the analytics example is refused
        Path noGroup = dir.resolve("nogroup.yaml");
        Files.writeString(noGroup, Files.readString(cfg).replace(", group: analytics", ""));
        Run analytics = cli("rules", "check", "routing-rules/analytics-replica.yaml", "--config", noGroup.toString());
        assertEquals(2, analytics.status());
        assertTrue(analytics.err().contains("rules[0].route: unknown replica or group \"analytics\""), analytics.err());
    }

    @Test
    void explainShowsTheMatchingRule() throws Exception {
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, """
                rules:
                  - name: trial
                    match: {tables: [report_*]}
                    route: primary
                    dry_run: true
                  - name: reports-on-replicas
                    match:
                      sql: '(?i)^select .* from report_'
                      tables: [report_*]
                    route: r2
                functions:
                  read_only: [my_report_fn]
                """);
        Path cfg = config("rules.yaml");
        Run run = cli("explain", "--config", cfg.toString(), "SELECT my_report_fn(a) FROM report_sales");
        assertEquals(0, run.status(), run.toString());
        assertTrue(run.out().contains("route:          replica r2\n"), run.out());
        assertTrue(run.out().contains("reason:         rule \"reports-on-replicas\"\n"), run.out());
        assertTrue(run.out().contains("matched rule \"reports-on-replicas\" (line 6) -> replica r2"), run.out());
        assertTrue(run.out().contains("dry run:        rule \"trial\" would send it to primary"), run.out());
        assertTrue(run.out().contains("classification: read"), run.out());

        Run other = cli("explain", "--config", cfg.toString(), "SELECT 1 FROM orders");
        assertTrue(other.out().contains("none matches"), other.out());
        assertTrue(other.out().contains("route:          replica\n"), other.out());

        Files.writeString(rules, "rules: [{name: x, route: nowhere}]\n");
        Run bad = cli("explain", "--config", cfg.toString(), "SELECT 1");
        assertEquals(2, bad.status());
        assertNotNull(bad.err());
        assertTrue(bad.err().contains("unknown replica or group \"nowhere\""), bad.err());
    }
}
