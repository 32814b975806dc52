package io.pgsplit.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    static final String MINIMAL = """
            databases: {app: {primary: "127.0.0.1:5432"}}
            users:
              alice: {password: secret}
            """;

    @Test
    void exampleFileLoadsWithoutErrors() throws Exception {
        PgsplitConfig config = ConfigLoader.load(Path.of("pgsplit.example.yaml"));

        DatabaseConfig app = config.databases().get("app");
        assertEquals(new HostPort("127.0.0.1", 5432), app.primary());
        assertEquals(List.of("r1", "r2"), app.replicas().stream().map(ReplicaConfig::name).toList());
        assertEquals("analytics", app.replicas().get(1).group());
        assertEquals(List.of("alice", "reporting", "bob", "carol"), List.copyOf(config.users().keySet()));
        assertEquals(AuthMethod.MD5, config.users().get("bob").auth());
        assertEquals(AuthMethod.TRUST, config.users().get("carol").auth());
        assertEquals("", config.users().get("carol").serverPassword());
        assertEquals("reporting-secret", config.users().get("reporting").serverPassword());
        assertEquals(64 << 20, config.listen().maxMessageSize());
        assertEquals(32L << 20, config.routing().classifierCacheBytes());
        assertEquals(Path.of("pgsplit.example.yaml"), config.source());
        // the example spells out the defaults, so apart from the database's overrides it equals them
        assertEquals(ListenConfig.defaults(), config.listen());
        assertEquals(PoolConfig.defaults(), config.pool());
        assertEquals(RoutingConfig.defaults(), config.routing());
        assertEquals(30, config.poolFor("app", "alice").poolSize());
    }

    @Test
    void minimalFileGetsDefaults() throws Exception {
        PgsplitConfig config = ConfigLoader.parse(MINIMAL, "pgsplit.yaml");

        assertEquals(ListenConfig.defaults(), config.listen());
        assertEquals("127.0.0.1", config.listen().host());
        assertEquals(6432, config.listen().port());
        assertEquals(10_000, config.listen().maxClientConn());
        assertEquals(Duration.ofSeconds(10), config.listen().startupTimeout());
        assertEquals(PoolConfig.defaults(), config.pool());
        assertEquals(PoolMode.TRANSACTION, config.pool().mode());
        assertEquals(20, config.pool().poolSize());
        assertEquals("DISCARD ALL", config.pool().serverResetQuery());
        assertEquals(RoutingConfig.defaults(), config.routing());
        assertEquals(AdminConfig.defaults(), config.admin());
        assertNull(config.source());

        DatabaseConfig app = config.databases().get("app");
        assertEquals(DatabaseConfig.of("app", new HostPort("127.0.0.1", 5432)), app);
        assertEquals("app", app.serverDatabase());
        assertEquals(LoadBalancing.ROUND_ROBIN, app.effectiveLoadBalancing(config.routing()));
        assertEquals(PrimaryReads.FALLBACK, app.effectivePrimaryReads(config.routing()));

        UserConfig alice = config.users().get("alice");
        assertEquals(new UserConfig("alice", AuthMethod.SCRAM_SHA_256, "secret", "alice", "secret", null), alice);
    }

    @Test
    void addressForms() throws Exception {
        PgsplitConfig config = ConfigLoader.parse("""
                databases:
                  a: {primary: "db1"}
                  b: {primary: "[::1]:5433"}
                  c: {primary: {host: db3, port: 6000}, replicas: ["db4:6001", {host: db5}]}
                users: {u: {auth: trust}}
                """, "t.yaml");
        assertEquals(new HostPort("db1", 5432), config.databases().get("a").primary());
        assertEquals(new HostPort("::1", 5433), config.databases().get("b").primary());
        assertEquals("[::1]:5433", config.databases().get("b").primary().toString());
        assertEquals(new HostPort("db3", 6000), config.databases().get("c").primary());
        assertEquals(List.of(new ReplicaConfig("r1", "db4", 6001, 1, null), new ReplicaConfig("r2", "db5", 5432, 1, null)),
                config.databases().get("c").replicas());
        assertNull(config.users().get("u").password());
        assertNull(config.users().get("u").serverPassword());
    }

    @Test
    void scalarsKeepTheirTextExactly() throws Exception {
        // YAML 1.1 would turn these into numbers/booleans; a password or dbname must stay as written
        PgsplitConfig config = ConfigLoader.parse("""
                databases: {app: {primary: db, dbname: 0123}}
                users: {u: {password: yes, server_password: 00}}
                """, "t.yaml");
        assertEquals("0123", config.databases().get("app").serverDatabase());
        assertEquals("yes", config.users().get("u").password());
        assertEquals("00", config.users().get("u").serverPassword());
    }

    @Test
    void poolForAppliesGlobalThenDatabaseThenUser() throws Exception {
        PgsplitConfig config = ConfigLoader.parse("""
                pool:
                  pool_size: 10
                  min_pool_size: 2
                  query_wait_timeout: 30s
                databases:
                  app:
                    primary: db
                    pool: {pool_size: 40, server_lifetime: 5m}
                  other: {primary: db}
                users:
                  web: {password: x}
                  batch: {password: x, pool_mode: session}
                """, "t.yaml");

        PoolConfig web = config.poolFor("app", "web");
        assertEquals(40, web.poolSize());
        assertEquals(2, web.minPoolSize());
        assertEquals(Duration.ofMinutes(5), web.serverLifetime());
        assertEquals(Duration.ofSeconds(30), web.queryWaitTimeout());
        assertEquals(PoolMode.TRANSACTION, web.mode());

        PoolConfig batch = config.poolFor("app", "batch");
        assertEquals(PoolMode.SESSION, batch.mode());
        assertEquals(40, batch.poolSize());

        assertEquals(config.pool(), config.poolFor("other", "web"));
        assertEquals(10, config.poolFor("other", "batch").poolSize());
        assertEquals(config.pool(), config.poolFor("nope", null));
    }

    @Test
    void relativeRulesFileResolvesAgainstConfigDirectory(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path rules = java.nio.file.Files.writeString(dir.resolve("rules.yaml"), "rules: []\n");
        Path file = java.nio.file.Files.writeString(dir.resolve("pgsplit.yaml"), MINIMAL + "routing: {rules: rules.yaml}\n");
        PgsplitConfig config = ConfigLoader.load(file);
        assertEquals(rules.toAbsolutePath(), config.routing().rulesFile());
    }

    @Test
    void passwordsAreNotPrinted() throws Exception {
        PgsplitConfig config = ConfigLoader.parse(MINIMAL + "admin: {enabled: true, password: topsecret}\n", "t.yaml");
        assertTrue(!config.toString().contains("secret"), config.toString());
    }

    @Test
    void durationsInEveryNotation() throws Exception {
        PgsplitConfig config = ConfigLoader.parse(MINIMAL + """
                pool:
                  server_idle_timeout: 500ms
                  server_lifetime: 1h
                  query_wait_timeout: 0
                  reserve_pool_timeout: 7
                  idle_transaction_timeout: 5m
                routing: {catalog_refresh: 30s}
                """, "t.yaml");
        assertEquals(Duration.ofMillis(500), config.pool().serverIdleTimeout());
        assertEquals(Duration.ofHours(1), config.pool().serverLifetime());
        assertEquals(Duration.ZERO, config.pool().queryWaitTimeout(), "0 means disabled");
        assertEquals(Duration.ofSeconds(7), config.pool().reservePoolTimeout(), "a bare number is seconds");
        assertEquals(Duration.ofMinutes(5), config.pool().idleTransactionTimeout());
        assertEquals(Duration.ofSeconds(30), config.routing().catalogRefresh());
    }

    @Test
    void serversWithoutRolesAndTheHaSection() throws Exception {
        PgsplitConfig config = ConfigLoader.parse("""
                databases:
                  app:
                    servers: ["10.0.0.1:5432", {name: east, host: 10.0.0.2}]
                    patroni: http://10.0.0.1:8008/
                users: {alice: {password: secret}, monitor: {password: m}}
                ha: {check_interval: 500ms, check_timeout: 1s, check_user: monitor, failover_wait: 20s}
                """, "pgsplit.yaml");
        DatabaseConfig app = config.databases().get("app");
        assertEquals(new HostPort("10.0.0.1", 5432), app.primary());
        assertEquals("pg1", app.primaryName());
        assertEquals(List.of("east"), app.replicas().stream().map(ReplicaConfig::name).toList());
        assertEquals(List.of("http://10.0.0.1:8008"), app.patroni());
        assertEquals(new HaConfig(Duration.ofMillis(500), Duration.ofSeconds(1), "monitor", Duration.ofSeconds(20)),
                config.ha());
        assertEquals(HaConfig.defaults(), ConfigLoader.parse(MINIMAL, "x").ha());
    }
}
