package io.pgsplit.config;

import io.pgsplit.config.yaml.NumberRange;
import io.pgsplit.config.yaml.YamlSection;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns the YAML tree of a configuration file into a {@link PgsplitConfig}, recording every problem in the
 * reader behind {@code root}. Always returns a config (with defaults where values were invalid); the
 * caller must check the reader for errors before using it.
 */
final class ConfigBinder {

    static final String LISTEN = "listen";
    static final String DATABASES = "databases";
    static final String USERS = "users";
    static final String POOL = "pool";
    static final String ROUTING = "routing";
    static final String ADMIN = "admin";
    static final String HA = "ha";

    private final Path baseDirectory;

    /** @param baseDirectory where relative paths (the rules file) are resolved */
    ConfigBinder(Path baseDirectory) {
        this.baseDirectory = baseDirectory;
    }

    PgsplitConfig bind(YamlSection root, Path source) {
        root.expectKeys(LISTEN, DATABASES, USERS, POOL, ROUTING, ADMIN, HA, SecurityBinder.TLS, SecurityBinder.AUTH_QUERY);
        ListenConfig listen = bindListen(root.section(LISTEN));

        YamlSection poolSection = root.section(POOL);
        PoolConfig pool = PoolConfig.defaults();
        if (poolSection != null) {
            pool = PoolBinder.apply(pool, PoolBinder.read(poolSection));
            PoolBinder.validate(pool, poolSection, null);
        }

        RoutingConfig routing = bindRouting(root.section(ROUTING));
        Map<String, DatabaseConfig> databases = bindDatabases(root, pool, poolSection);
        Map<String, UserConfig> users = UserBinder.bindAll(root);
        AdminConfig admin = bindAdmin(root.section(ADMIN), users);
        SecurityBinder security = new SecurityBinder(baseDirectory);
        HaConfig ha = bindHa(root.section(HA), users);
        return new PgsplitConfig(listen, databases, users, pool, routing, admin, source,
                security.bindTls(root.section(SecurityBinder.TLS)),
                security.bindAuthQuery(root.section(SecurityBinder.AUTH_QUERY)), ha);
    }

    private static HaConfig bindHa(YamlSection section, Map<String, UserConfig> users) {
        HaConfig defaults = HaConfig.defaults();
        if (section == null) {
            return defaults;
        }
        section.expectKeys("check_interval", "check_timeout", "check_user", "failover_wait");
        Duration interval = section.duration("check_interval", defaults.checkInterval());
        Duration timeout = section.duration("check_timeout", defaults.checkTimeout());
        if (interval.isZero()) {
            section.error("check_interval", "must be more than 0 (servers are always checked)");
        }
        if (timeout.isZero()) {
            section.error("check_timeout", "must be more than 0 (a server that stops answering must be noticed)");
        }
        String user = section.string("check_user", null);
        if (user != null && !users.containsKey(user)) {
            section.error("check_user", "\"" + user + "\" is not a configured user");
        }
        return new HaConfig(interval, timeout, user, section.duration("failover_wait", defaults.failoverWait()));
    }

    private static ListenConfig bindListen(YamlSection section) {
        ListenConfig defaults = ListenConfig.defaults();
        if (section == null) {
            return defaults;
        }
        section.expectKeys("host", "port", "max_client_conn", "startup_timeout", "max_message_size", "worker_threads",
                "reuse_port", "peer_id", "peers");
        String host = section.string("host", defaults.host());
        if (host.isBlank()) {
            section.error("host", "must not be empty");
        }
        return new ListenConfig(
                host,
                section.integer("port", defaults.port(), NumberRange.PORT),
                section.integer("max_client_conn", defaults.maxClientConn(), NumberRange.POSITIVE),
                section.duration("startup_timeout", defaults.startupTimeout()),
                // below a few KiB even ordinary startup packets would be refused
                section.bytes("max_message_size", (long) defaults.maxMessageSize(),
                        new NumberRange(8192, Integer.MAX_VALUE, "a size between 8192 and 2147483647 bytes")).intValue(),
                section.integer("worker_threads", defaults.workerThreads(), NumberRange.NON_NEGATIVE),
                section.bool("reuse_port", defaults.reusePort()),
                section.integer("peer_id", 0, new NumberRange(0, 2047, "a peer id between 1 and 2047 (0 = none)")),
                peers(section));
    }

    /** {@code listen.peers}: peer id to address, e.g. {@code {1: "10.0.0.1:6432", 2: "10.0.0.2:6432"}}. */
    private static Map<Integer, HostPort> peers(YamlSection listen) {
        Map<Integer, HostPort> peers = new LinkedHashMap<>();
        YamlSection section = listen.section("peers");
        if (section == null) {
            return peers;
        }
        for (Map.Entry<String, io.pgsplit.config.yaml.YamlValue> e : section.entries().entrySet()) {
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException notANumber) {
                id = -1;
            }
            if (id < 1 || id > 2047) {
                section.error(e.getKey(), "\"" + e.getKey() + "\" is not a peer id (1-2047)");
                continue;
            }
            HostPort address = DatabaseBinder.address(e.getValue());
            if (address != null) {
                peers.put(id, address);
            }
        }
        return peers;
    }

    private Map<String, DatabaseConfig> bindDatabases(YamlSection root, PoolConfig globalPool, YamlSection globalPoolSection) {
        Map<String, DatabaseConfig> databases = new LinkedHashMap<>();
        if (root.get(DATABASES) == null) {
            root.require(DATABASES);
            return databases;
        }
        YamlSection section = root.section(DATABASES);
        if (section == null) {
            return databases;
        }
        if (section.isEmpty()) {
            section.self().error("at least one database is required");
        }
        section.entries().forEach((name, value) -> {
            DatabaseConfig db = DatabaseBinder.bind(name, value, globalPool, globalPoolSection,
                    new SecurityBinder(baseDirectory));
            if (db != null) {
                databases.put(name, db);
            }
        });
        return databases;
    }

    private RoutingConfig bindRouting(YamlSection section) {
        RoutingConfig defaults = RoutingConfig.defaults();
        if (section == null) {
            return defaults;
        }
        section.expectKeys("splitting", "rules", "hints", "load_balancing", "primary_reads", "max_statement_length",
                "max_nesting_depth", "catalog_refresh", "retry_write_on_replica", "classifier_cache_bytes",
                "max_replica_lag", "consistency", "causal_wait", "max_replica_lag_bytes");
        return new RoutingConfig(
                section.bool("splitting", defaults.splitting()),
                rulesFile(section),
                section.bool("hints", defaults.hints()),
                section.enumValue("load_balancing", defaults.loadBalancing(), LoadBalancing.values(), LoadBalancing::yamlName),
                section.enumValue("primary_reads", defaults.primaryReads(), PrimaryReads.values(), PrimaryReads::yamlName),
                section.integer("max_statement_length", defaults.maxStatementLength(), NumberRange.POSITIVE),
                section.integer("max_nesting_depth", defaults.maxNestingDepth(), NumberRange.POSITIVE),
                section.duration("catalog_refresh", defaults.catalogRefresh()),
                section.bool("retry_write_on_replica", defaults.retryWriteOnReplica()),
                section.bytes("classifier_cache_bytes", defaults.classifierCacheBytes(), NumberRange.NON_NEGATIVE_LONG),
                section.duration("max_replica_lag", defaults.maxReplicaLag()),
                section.enumValue("consistency", defaults.consistency(), Consistency.values(), Consistency::yamlName),
                section.duration("causal_wait", defaults.causalWait()),
                section.bytes("max_replica_lag_bytes", defaults.maxReplicaLagBytes(), NumberRange.NON_NEGATIVE_LONG));
    }

    /** The rules file, resolved against the config file's directory; it must exist now, not at first query. */
    private Path rulesFile(YamlSection section) {
        String text = section.string("rules", null);
        if (text == null) {
            return null;
        }
        if (text.isBlank()) {
            section.error("rules", "must not be empty (remove the key for no rules file)");
            return null;
        }
        Path resolved;
        try {
            resolved = baseDirectory.resolve(text).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            section.error("rules", "\"" + text + "\" is not a valid path");
            return null;
        }
        if (!Files.isRegularFile(resolved)) {
            section.error("rules", "rules file " + resolved + " does not exist");
        }
        return resolved;
    }

    private static AdminConfig bindAdmin(YamlSection section, Map<String, UserConfig> users) {
        AdminConfig defaults = AdminConfig.defaults();
        if (section == null) {
            return defaults;
        }
        section.expectKeys("enabled", "user", "password", "admin_users", "stats_users", "metrics");
        boolean enabled = section.bool("enabled", defaults.enabled());
        String user = section.string("user", defaults.user());
        String password = section.string("password", defaults.password());
        if (enabled && password == null) {
            // an admin console can pause pools and kill clients: never open it without a password
            section.error("password", "required when the admin console is enabled");
        }
        java.util.List<String> adminUsers = userNames(section, "admin_users", users);
        java.util.List<String> statsUsers = userNames(section, "stats_users", users);
        HostPort metrics = section.has("metrics") && !section.get("metrics").isNull()
                ? DatabaseBinder.address(section.get("metrics")) : null;
        return new AdminConfig(enabled, user, password, adminUsers, statsUsers, metrics);
    }

    /** A list of names from {@code users} (they log in to the console with their own passwords). */
    private static java.util.List<String> userNames(YamlSection section, String key, Map<String, UserConfig> users) {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (io.pgsplit.config.yaml.YamlValue item : section.list(key)) {
            String name = item.asString();
            if (name == null) {
                continue;
            }
            if (!users.containsKey(name)) {
                item.error("\"" + name + "\" is not one of the users (expected one of: "
                        + String.join(", ", users.keySet()) + ")");
                continue;
            }
            names.add(name);
        }
        return names;
    }
}
