package io.pgsplit.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each kind of user mistake, with the exact text users see. */
class ConfigErrorsTest {

    private static final String USERS = "users: {u: {password: x}}\n";
    private static final String DATABASES = "databases: {app: {primary: db}}\n";

    private static List<String> errors(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "pgsplit.yaml"));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void portOutOfRangeInAReplica() {
        assertEquals(List.of("pgsplit.yaml: databases.app.replicas[1].port: 70000 is not a port (1-65535) (line 8, column 15)"),
                errors("""
                        databases:
                          app:
                            primary: "127.0.0.1:5432"
                            replicas:
                              - {name: r1, host: h1}
                              - name: r2
                                host: h2
                                port: 70000
                        """ + USERS));
    }

    @Test
    void errorRecordCarriesItsParts() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(DATABASES + USERS + "listen: {port: 0}\n", "pgsplit.yaml"));
        assertEquals(List.of(new ConfigError("pgsplit.yaml", "listen.port", "0 is not a port (1-65535)", 3, 16)), e.errors());
        assertEquals("pgsplit.yaml: listen.port: 0 is not a port (1-65535) (line 3, column 16)", e.getMessage());
    }

    @Test
    void unknownKeyWithDidYouMean() {
        assertEquals(List.of("pgsplit.yaml: pool.pool_sise: unknown key (did you mean pool_size?) (line 4, column 3)"),
                errors(DATABASES + USERS + """
                        pool:
                          pool_sise: 10
                        """));
    }

    @Test
    void unknownKeyWithoutCloseMatchListsTheKnownOnes() {
        assertEquals(List.of("pgsplit.yaml: admin.colour: unknown key (expected one of: enabled, user, password, admin_users, stats_users, metrics) (line 4, column 3)"),
                errors(DATABASES + USERS + "admin:\n  colour: red\n"));
    }

    @Test
    void didYouMeanAtEveryLevel() {
        assertEquals(List.of(
                        "pgsplit.yaml: lisen: unknown key (did you mean listen?) (line 1, column 1)",
                        "pgsplit.yaml: databases.app.replica: unknown key (did you mean replicas?) (line 4, column 5)",
                        "pgsplit.yaml: users.u.passwd: unknown key (did you mean password?) (line 6, column 13)"),
                errors("""
                        lisen: {port: 1}
                        databases:
                          app:
                            replica: []
                            primary: db
                        users: {u: {passwd: x, auth: trust}}
                        """));
    }

    @Test
    void wrongType() {
        assertEquals(List.of("pgsplit.yaml: listen.port: \"abc\" is not a number (line 4, column 9)"),
                errors(DATABASES + USERS + "listen:\n  port: abc\n"));
        assertEquals(List.of("pgsplit.yaml: listen.port: \"1.5\" is not a whole number (line 3, column 16)"),
                errors(DATABASES + USERS + "listen: {port: 1.5}\n"));
        assertEquals(List.of("pgsplit.yaml: listen: expected a mapping (key: value), got a list (line 3, column 9)"),
                errors(DATABASES + USERS + "listen: [1, 2]\n"));
        assertEquals(List.of("pgsplit.yaml: routing.hints: \"maybe\" is not a boolean (true or false) (line 3, column 18)"),
                errors(DATABASES + USERS + "routing: {hints: maybe}\n"));
    }

    @Test
    void enumErrorListsAllowedValues() {
        assertEquals(List.of(
                        "pgsplit.yaml: users.v.auth: \"password\" is not one of: scram-sha-256, md5, trust, cert (line 2, column 19)",
                        "pgsplit.yaml: pool.pool_mode: \"fast\" is not one of: session, transaction, statement (line 3, column 19)",
                        "pgsplit.yaml: routing.primary_reads: \"sometimes\" is not one of: true, false, fallback (line 4, column 26)"),
                errors("""
                        databases: {app: {primary: db}}
                        users: {v: {auth: password, password: x}}
                        pool: {pool_mode: fast}
                        routing: {primary_reads: sometimes}
                        """));
    }

    @Test
    void missingFile(@TempDir Path dir) {
        Path missing = Path.of("no-such-dir", "pgsplit.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing));
        assertEquals("no-such-dir/pgsplit.yaml: file not found", e.getMessage());
        assertEquals(0, e.errors().get(0).line());
    }

    @Test
    void yamlSyntaxError() {
        assertEquals(List.of("pgsplit.yaml: YAML syntax error: mapping values are not allowed here (line 3, column 11)"),
                errors("""
                        databases:
                          app:
                            key: a: b
                        """));
    }

    @Test
    void severalDocumentsAreASyntaxError() {
        assertEquals(List.of("pgsplit.yaml: YAML syntax error: expected a single document in the stream but found another document (line 2, column 1)"),
                errors("a: 1\n---\nb: 2\n"));
    }

    @Test
    void requiredValues() {
        assertEquals(List.of("pgsplit.yaml: databases.app.primary: required (line 3, column 5)"),
                errors("""
                        databases:
                          app:
                            dbname: x
                        """ + USERS));
        assertEquals(List.of("pgsplit.yaml: databases: required", "pgsplit.yaml: users: required"), errors(""));
        assertEquals(List.of("pgsplit.yaml: databases: at least one database is required (line 1, column 12)",
                        "pgsplit.yaml: users: at least one user is required (line 2, column 8)"),
                errors("databases: {}\nusers: {}\n"));
        assertEquals(List.of("pgsplit.yaml: users.u.password: required unless auth is trust or cert (line 2, column 12)"),
                errors(DATABASES + "users: {u: {auth: md5}}\n"));
    }

    @Test
    void poolConstraints() {
        assertEquals(List.of("pgsplit.yaml: pool.min_pool_size: min_pool_size (5) is larger than pool_size (2) (line 3, column 37)"),
                errors(DATABASES + USERS + "pool: {pool_size: 2, min_pool_size: 5}\n"));
        // the conflict is reported where it is introduced: in the database's override
        assertEquals(List.of("pgsplit.yaml: databases.app.pool.pool_size: min_pool_size (5) is larger than pool_size (2) (line 2, column 50)"),
                errors("pool: {min_pool_size: 5}\ndatabases: {app: {primary: db, pool: {pool_size: 2}}}\n" + USERS));
        assertEquals(List.of("pgsplit.yaml: pool.pool_size: 0 is not a positive number (line 3, column 19)"),
                errors(DATABASES + USERS + "pool: {pool_size: 0}\n"));
    }

    @Test
    void replicaNamesAndWeights() {
        assertEquals(List.of(
                        "pgsplit.yaml: databases.app.replicas[1].name: duplicate replica name \"r1\" (line 6, column 16)",
                        "pgsplit.yaml: databases.app.replicas[2].name: \"bad name\" is not a valid replica name (letters, digits, _ and - only) (line 7, column 16)",
                        "pgsplit.yaml: databases.app.replicas[2].weight: -1 is not zero or a positive number (line 7, column 43)"),
                errors("""
                        databases:
                          app:
                            primary: db
                            replicas:
                              - {name: r1, host: a}
                              - {name: r1, host: b}
                              - {name: bad name, host: c, weight: -1}
                        """ + USERS));
    }

    @Test
    void passwordFormats() {
        assertEquals(List.of(
                        "pgsplit.yaml: users.b.password: an md5 hash cannot check scram-sha-256 logins; give the plaintext password or a SCRAM verifier, or use auth: md5 (line 4, column 17)",
                        "pgsplit.yaml: users.c.password: is not a valid SCRAM verifier (expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>) (line 5, column 17)"),
                errors(DATABASES + """
                        users:
                          a: {auth: md5, password: md50123456789abcdef0123456789abcdef}
                          b: {password: md50123456789abcdef0123456789abcdef, server_password: s}
                          c: {password: "SCRAM-SHA-256$oops", server_password: s}
                        """));
    }

    @Test
    void missingRulesFileIsNamed(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("pgsplit.yaml"), DATABASES + USERS + "routing: {rules: missing.yaml}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertEquals(file + ": routing.rules: rules file " + dir.toAbsolutePath().resolve("missing.yaml")
                + " does not exist (line 3, column 18)", e.getMessage());
    }

    @Test
    void adminNeedsAPasswordWhenEnabled() {
        assertEquals(List.of("pgsplit.yaml: admin.password: required when the admin console is enabled (line 3, column 8)"),
                errors(DATABASES + USERS + "admin: {enabled: true}\n"));
    }

    @Test
    void structuralProblems() {
        assertEquals(List.of("pgsplit.yaml: expected a mapping (key: value), got a list (line 1, column 1)"), errors("- a\n- b\n"));
        assertEquals(List.of("pgsplit.yaml: listen.port: duplicate key (first defined at line 4) (line 5, column 3)"),
                errors(DATABASES + USERS + "listen:\n  port: 1\n  port: 2\n"));
    }

    @Test
    void allErrorsOfAFileAreReportedTogetherInFileOrder() {
        List<String> errors = errors("""
                listen:
                  port: 99999
                  startup_timeout: 10x
                databases:
                  app:
                    primary: "db:0"
                    load_balancing: random
                users:
                  u: {auth: md5}
                pool: {pool_size: many}
                """);
        assertEquals(List.of(
                "pgsplit.yaml: listen.port: 99999 is not a port (1-65535) (line 2, column 9)",
                "pgsplit.yaml: listen.startup_timeout: \"10x\" is not a duration (use 500ms, 10s, 5m, 1h, or a number of seconds) (line 3, column 20)",
                "pgsplit.yaml: databases.app.primary: 0 is not a port (1-65535) (line 6, column 14)",
                "pgsplit.yaml: databases.app.load_balancing: \"random\" is not one of: round_robin, least_outstanding, weighted (line 7, column 21)",
                "pgsplit.yaml: users.u.password: required unless auth is trust or cert (line 9, column 6)",
                "pgsplit.yaml: pool.pool_size: \"many\" is not a number (line 10, column 19)"), errors);
    }

    @Test
    void configCheckReportsOkOrEachError(@TempDir Path dir) throws Exception {
        Path good = Path.of("pgsplit.example.yaml");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, ConfigCheck.run(good, print(out), print(err)));
        assertEquals("pgsplit.example.yaml: OK (1 database, 4 users, 2 replicas)\n", out.toString(StandardCharsets.UTF_8));
        assertEquals("", err.toString(StandardCharsets.UTF_8));

        Path bad = Files.writeString(dir.resolve("bad.yaml"), "listen: {port: x}\n");
        out.reset();
        assertEquals(2, ConfigCheck.run(bad, print(out), print(err)));
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        assertEquals(bad + ": databases: required (line 1, column 1)\n" + bad + ": users: required (line 1, column 1)\n"
                + bad + ": listen.port: \"x\" is not a number (line 1, column 16)\n", err.toString(StandardCharsets.UTF_8));
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    @Test
    void serversAndPrimaryTogetherAndAnUnknownCheckUser() {
        assertEquals(List.of(
                "pgsplit.yaml: databases.app.primary: use either servers (roles discovered) or primary and replicas, not both (line 1, column 28)",
                "pgsplit.yaml: databases.app.patroni: \"8008\" is not a Patroni REST API URL (http://host:8008) (line 1, column 71)",
                "pgsplit.yaml: ha.check_user: \"nobody\" is not a configured user (line 3, column 18)"),
                errors("databases: {app: {primary: a, servers: [\"b:5432\", \"c:5432\"], patroni: \"8008\"}}\n" + USERS
                        + "ha: {check_user: nobody}\n"));
    }
}
