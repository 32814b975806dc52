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
        YamlSection section = value.asSection();
        if (section == null) {
            return null;
        }
        section.expectKeys("primary", "dbname", "replicas", "pool", "load_balancing", "primary_reads",
                "consistency");
        YamlValue primaryValue = section.require("primary");
        HostPort primary = primaryValue == null ? null : address(primaryValue);
        String serverDatabase = section.string("dbname", name);
        if (serverDatabase.isBlank()) {
            section.error("dbname", "must not be empty");
        }
        List<ReplicaConfig> replicas = replicas(section);

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
        return new DatabaseConfig(name, primary, serverDatabase, replicas, poolOverrides, loadBalancing, primaryReads,
                consistency);
    }

    private static List<ReplicaConfig> replicas(YamlSection database) {
        List<ReplicaConfig> replicas = new ArrayList<>();
        Set<String> names = new HashSet<>();
        List<YamlValue> items = database.list("replicas");
        for (int i = 0; i < items.size(); i++) {
            ReplicaConfig replica = replica(items.get(i), i, names);
            if (replica != null) {
                replicas.add(replica);
            }
        }
        return replicas;
    }

    /** A replica: a mapping, or just an address string (then named {@code r1}, {@code r2}... by position). */
    private static ReplicaConfig replica(YamlValue item, int index, Set<String> namesSoFar) {
        String defaultName = "r" + (index + 1);
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
