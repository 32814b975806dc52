package io.pgsplit.config;

import io.pgsplit.config.yaml.NumberRange;
import io.pgsplit.config.yaml.Scalars;
import io.pgsplit.config.yaml.YamlSection;
import io.pgsplit.config.yaml.YamlValue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Binds one entry of {@code databases}, its addresses and its replicas. */
final class DatabaseBinder {

    /** Replica and group names appear in logs, metrics and routing rules: keep them to safe characters. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]+");

    private DatabaseBinder() {
    }

    /** Null only if the entry is not even a mapping (error recorded). */
    static DatabaseConfig bind(String name, YamlValue value, PoolConfig globalPool, YamlSection globalPoolSection) {
        return bind(name, value, globalPool, globalPoolSection, null);
    }

    /** @param security binds {@code server_tls} (issue 15); null = the key is not accepted */
    static DatabaseConfig bind(String name, YamlValue value, PoolConfig globalPool, YamlSection globalPoolSection,
                               SecurityBinder security) {
        YamlSection section = value.asSection();
        if (section == null) {
            return null;
        }
        section.expectKeys("primary", "dbname", "replicas", "servers", "patroni", "pool", "load_balancing",
                "primary_reads", "consistency", "server_tls", "auth_query");
        HostPort primary = null;
        String primaryName = null;
        List<ReplicaConfig> replicas;
        if (section.has("servers")) {
            // roles not stated: the first server is only the first guess, pg_is_in_recovery() decides
            for (String key : new String[] {"primary", "replicas"}) {
                if (section.has(key)) {
                    section.error(key, "use either servers (roles discovered) or primary and replicas, not both");
                }
            }
            List<ReplicaConfig> servers = servers(section);
            if (servers.isEmpty()) {
                section.error("servers", "at least one server is required");
                replicas = List.of();
            } else {
                ReplicaConfig first = servers.get(0);
                primary = first.address();
                primaryName = first.name();
                replicas = servers.subList(1, servers.size());
            }
        } else {
            YamlValue primaryValue = section.require("primary");
            primary = primaryValue == null ? null : address(primaryValue);
            replicas = replicas(section);
        }
        String serverDatabase = section.string("dbname", name);
        if (serverDatabase.isBlank()) {
            section.error("dbname", "must not be empty");
        }
        List<String> patroni = patroni(section);

        Map<String, Object> poolOverrides = Map.of();
        YamlSection poolSection = section.section("pool");
        if (poolSection != null) {
            poolOverrides = PoolBinder.read(poolSection);
            PoolBinder.validate(PoolBinder.apply(globalPool, poolOverrides), poolSection, globalPoolSection);
        }
        LoadBalancing loadBalancing =
                section.enumValue("load_balancing", null, LoadBalancing.values(), LoadBalancing::yamlName);
        PrimaryReads primaryReads =
                section.enumValue("primary_reads", null, PrimaryReads.values(), PrimaryReads::yamlName);
        Consistency consistency =
                section.enumValue("consistency", null, Consistency.values(), Consistency::yamlName);
        ServerTlsConfig serverTls = security == null ? null : security.bindServerTls(section.section("server_tls"));
        String authQuery = section.string("auth_query", null);
        if (authQuery != null && !authQuery.contains("$1")) {
            section.error("auth_query", "must take the user name as parameter $1");
        }
        return new DatabaseConfig(name, primary, serverDatabase, replicas, poolOverrides, loadBalancing, primaryReads,
                consistency, serverTls, authQuery, primaryName, patroni);
    }

    private static List<ReplicaConfig> replicas(YamlSection database) {
        return servers(database, "replicas", "r");
    }

    /** {@code servers}: like replicas (mapping or address), named {@code pg1}, {@code pg2}... by default. */
    private static List<ReplicaConfig> servers(YamlSection database) {
        return servers(database, "servers", "pg");
    }

    /** Patroni REST API URLs: one string or a list of them, each http(s)://host:port. */
    private static List<String> patroni(YamlSection database) {
        if (!database.has("patroni")) {
            return List.of();
        }
        List<String> urls = new ArrayList<>();
        YamlValue value = database.get("patroni");
        List<YamlValue> items = value.isScalar() ? List.of(value) : database.list("patroni");
        for (YamlValue item : items) {
            String url = item.asString();
            if (url == null) {
                continue;
            }
            url = url.trim();
            if (!url.matches("https?://[^/\\s]+(/.*)?")) {
                item.error("\"" + url + "\" is not a Patroni REST API URL (http://host:8008)");
                continue;
            }
            urls.add(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        }
        return urls;
    }

    private static List<ReplicaConfig> servers(YamlSection database, String key, String namePrefix) {
        List<ReplicaConfig> replicas = new ArrayList<>();
        Set<String> names = new HashSet<>();
        List<YamlValue> items = database.list(key);
        for (int i = 0; i < items.size(); i++) {
            ReplicaConfig replica = replica(items.get(i), namePrefix + (i + 1), names);
            if (replica != null) {
                replicas.add(replica);
            }
        }
        return replicas;
    }

    /** A replica: a mapping, or just an address string (then named {@code r1}, {@code r2}... by position). */
    private static ReplicaConfig replica(YamlValue item, String defaultName, Set<String> namesSoFar) {
        if (item.isScalar()) {
            HostPort address = address(item);
            if (address == null || !claimName(defaultName, item, namesSoFar)) {
                return null;
            }
            return new ReplicaConfig(defaultName, address.host(), address.port(), 1, null);
        }
        YamlSection section = item.asSection();
        if (section == null) {
            return null;
        }
        section.expectKeys("name", "host", "port", "weight", "group");
        String name = section.string("name", defaultName);
        YamlValue nameValue = section.has("name") ? section.get("name") : item;
        if (!NAME.matcher(name).matches()) {
            nameValue.error("\"" + name + "\" is not a valid replica name (letters, digits, _ and - only)");
        } else {
            claimName(name, nameValue, namesSoFar);
        }
        String host = section.requiredString("host");
        if (host != null && host.isBlank()) {
            section.error("host", "must not be empty");
        }
        int port = section.integer("port", HostPort.DEFAULT_PORT, NumberRange.PORT);
        int weight = section.integer("weight", 1, NumberRange.NON_NEGATIVE);
        String group = section.string("group", null);
        if (group != null && !NAME.matcher(group).matches()) {
            section.error("group", "\"" + group + "\" is not a valid group name (letters, digits, _ and - only)");
        }
        return new ReplicaConfig(name, host, port, weight, group);
    }

    private static boolean claimName(String name, YamlValue at, Set<String> namesSoFar) {
        if (!namesSoFar.add(name)) {
            at.error("duplicate replica name \"" + name + "\"");
            return false;
        }
        return true;
    }

    /**
     * An address: {@code "host:port"}, {@code "[ipv6]:port"}, {@code "host"} (port 5432), or a mapping
     * {@code {host: ..., port: ...}}. Null after recording an error.
     */
    static HostPort address(YamlValue value) {
        if (value.isMapping()) {
            YamlSection section = value.asSection();
            section.expectKeys("host", "port");
            String host = section.requiredString("host");
            int port = section.integer("port", HostPort.DEFAULT_PORT, NumberRange.PORT);
            if (host != null && host.isBlank()) {
                section.error("host", "must not be empty");
                return null;
            }
            return host == null ? null : new HostPort(host, port);
        }
        String text = value.asString();
        if (text == null) {
            return null;
        }
        return parseAddress(text.trim(), value);
    }

    private static HostPort parseAddress(String text, YamlValue at) {
        String host;
        String portText = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || (close + 1 < text.length() && text.charAt(close + 1) != ':')) {
                at.error(quoteInvalid(text));
                return null;
            }
            host = text.substring(1, close);
            portText = close + 1 < text.length() ? text.substring(close + 2) : null;
        } else {
            int firstColon = text.indexOf(':');
            if (firstColon != text.lastIndexOf(':')) {
                at.error(quoteInvalid(text) + "; write IPv6 addresses in brackets: [::1]:5432");
                return null;
            }
            host = firstColon < 0 ? text : text.substring(0, firstColon);
            portText = firstColon < 0 ? null : text.substring(firstColon + 1);
        }
        if (host.isEmpty()) {
            at.error(quoteInvalid(text));
            return null;
        }
        if (portText == null) {
            return new HostPort(host, HostPort.DEFAULT_PORT);
        }
        BigInteger port = Scalars.parseInteger(portText);
        if (port == null) {
            at.error(quoteInvalid(text));
            return null;
        }
        if (port.signum() <= 0 || port.compareTo(BigInteger.valueOf(65535)) > 0) {
            at.error(port + " is not " + NumberRange.PORT.description());
            return null;
        }
        return new HostPort(host, port.intValue());
    }

    private static String quoteInvalid(String text) {
        return "\"" + text + "\" is not an address (host:port)";
    }
}
