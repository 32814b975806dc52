package io.pgsplit.route.rules;

import io.pgsplit.config.ConfigError;
import io.pgsplit.config.ConfigException;
import io.pgsplit.config.DatabaseConfig;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.ReplicaConfig;
import io.pgsplit.config.yaml.DidYouMean;
import io.pgsplit.config.yaml.YamlReader;
import io.pgsplit.config.yaml.YamlSection;
import io.pgsplit.config.yaml.YamlValue;
import io.pgsplit.route.StatementKind;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads and compiles a routing-rules file (format: {@code routing-rules/README.md}). Every problem is reported
 * at once, each with file, key path, line and column ({@link ConfigError}), through the configuration's YAML
 * reader, so {@code pgsplit rules check} and {@code pgsplit config check} speak alike.
 */
public final class RulesLoader {
    static final List<String> TOP_KEYS = List.of("rules", "functions");
    static final List<String> RULE_KEYS = List.of("name", "description", "match", "route", "consistency", "max_lag",
            "dry_run");
    static final List<String> MATCH_KEYS = List.of("sql", "kind", "tables", "tables_read", "tables_written",
            "functions", "database", "user", "application_name", "client_address", "in_transaction");
    static final List<String> FUNCTION_KEYS = List.of("read_only", "writes");
    /** {@code kind:} spellings: every statement kind in lower case, plus {@code copy} for both directions. */
    static final Map<String, Set<StatementKind>> KINDS = kinds();

    private RulesLoader() {
    }

    private static Map<String, Set<StatementKind>> kinds() {
        Map<String, Set<StatementKind>> m = new LinkedHashMap<>();
        for (StatementKind k : StatementKind.values()) {
            if (k != StatementKind.EMPTY) {
                m.put(k.name().toLowerCase(Locale.ROOT), EnumSet.of(k));
            }
        }
        m.put("copy", EnumSet.of(StatementKind.COPY_FROM, StatementKind.COPY_TO));
        return m;
    }

    /** The names a rule may route to in {@code config}: every replica name and replica group of every database. */
    public static Set<String> targets(PgsplitConfig config) {
        Set<String> names = new TreeSet<>();
        for (DatabaseConfig db : config.databases().values()) {
            for (ReplicaConfig r : db.replicas()) {
                names.add(r.name());
                if (r.group() != null) {
                    names.add(r.group());
                }
            }
        }
        return names;
    }

    /**
     * Reads {@code file}; errors name it as {@code displayName}. With a {@code config}, replica and group names
     * are checked against it.
     */
    public static RoutingRules load(Path file, String displayName, PgsplitConfig config) throws ConfigException {
        String text;
        try {
            if (Files.isDirectory(file)) {
                throw fail(displayName, "is a directory, not a file");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw fail(displayName, "file not found");
        } catch (AccessDeniedException e) {
            throw fail(displayName, "cannot read file: permission denied");
        } catch (CharacterCodingException e) {
            throw fail(displayName, "cannot read file: it is not UTF-8 text");
        } catch (IOException e) {
            throw fail(displayName, "cannot read file: " + e.getMessage());
        }
        return parse(text, displayName, file, config == null ? null : targets(config));
    }

    /**
     * Compiles rules text. {@code targets}: the replica and group names {@code route:} may use, or null to accept
     * any name (no configuration at hand).
     */
    public static RoutingRules parse(String text, String fileName, Path file, Set<String> targets)
            throws ConfigException {
        YamlReader reader = new YamlReader(fileName);
        YamlSection root = reader.readDocument(text);
        RoutingRules rules = null;
        if (root != null) {
            rules = new Binder(reader, targets).bind(root, file);
        }
        if (reader.hasErrors()) {
            throw new ConfigException(reader.errors());
        }
        return rules;
    }

    private static ConfigException fail(String fileName, String message) {
        return new ConfigException(List.of(ConfigError.withoutPosition(fileName, "", message)));
    }

    /** One pass over the document; errors accumulate in the reader. */
    private static final class Binder {
        private final YamlReader reader;
        private final Set<String> targets;

        Binder(YamlReader reader, Set<String> targets) {
            this.reader = reader;
            this.targets = targets;
        }

        RoutingRules bind(YamlSection root, Path file) {
            root.expectKeys(TOP_KEYS);
            List<Rule> rules = new ArrayList<>();
            Map<String, Integer> names = new HashMap<>();
            if (root.has("rules")) {
                for (YamlValue item : root.list("rules")) {
                    YamlSection rule = item.asSection();
                    if (rule != null) {
                        Rule r = rule(rule, names);
                        if (r != null) {
                            rules.add(r);
                        }
                    }
                }
            }
            List<Glob> readOnly = new ArrayList<>();
            List<Glob> writes = new ArrayList<>();
            YamlSection functions = root.section("functions");
            if (functions != null) {
                functions.expectKeys(FUNCTION_KEYS);
                readOnly = globs(functions, "read_only", true);
                writes = globs(functions, "writes", true);
                readOnly = readOnly == null ? List.of() : readOnly;
                writes = writes == null ? List.of() : writes;
                Set<String> w = new LinkedHashSet<>();
                writes.forEach(g -> w.add(g.text().toLowerCase(Locale.ROOT)));
                List<YamlValue> items = functions.has("read_only") && functions.get("read_only").isSequence()
                        ? functions.get("read_only").asList() : List.of();
                for (YamlValue v : items) {
                    if (v.isScalar() && w.contains(v.asString().toLowerCase(Locale.ROOT))) {
                        v.error("\"" + v.asString() + "\" is declared both read_only and writes: keep one");
                    }
                }
            }
            return new RoutingRules(file, rules, readOnly, writes);
        }

        private Rule rule(YamlSection s, Map<String, Integer> names) {
            s.expectKeys(RULE_KEYS);
            int line = s.self().node().getStartMark().getLine() + 1;
            String name = s.requiredString("name");
            if (name != null) {
                if (name.isBlank()) {
                    s.error("name", "must not be empty");
                } else if (names.containsKey(name)) {
                    s.error("name", "duplicate rule name \"" + name + "\" (first used at line " + names.get(name)
                            + "); names must be unique, they identify the rule in logs and counters");
                } else {
                    names.put(name, line);
                }
            }
            s.string("description", null);
            Pattern sql = null;
            Set<StatementKind> kinds = null;
            List<Glob> tables = null;
            List<Glob> tablesRead = null;
            List<Glob> tablesWritten = null;
            List<Glob> functions = null;
            List<Glob> databases = null;
            List<Glob> users = null;
            List<Glob> apps = null;
            List<Cidr> networks = null;
            Boolean inTransaction = null;
            YamlSection match = s.section("match");
            if (match != null) {
                match.expectKeys(MATCH_KEYS);
                sql = regex(match);
                kinds = kinds(match);
                tables = globs(match, "tables", true);
                tablesRead = globs(match, "tables_read", true);
                tablesWritten = globs(match, "tables_written", true);
                functions = globs(match, "functions", true);
                databases = globs(match, "database", false);
                users = globs(match, "user", false);
                apps = globs(match, "application_name", false);
                networks = networks(match);
                inTransaction = match.bool("in_transaction", null);
            }
            Rule.Target target = null;
            String targetName = null;
            String route = s.requiredString("route");
            if (route != null) {
                String r = route.trim();
                switch (r.toLowerCase(Locale.ROOT)) {
                    case "primary" -> target = Rule.Target.PRIMARY;
                    case "replica" -> target = Rule.Target.REPLICA;
                    case "any" -> target = Rule.Target.ANY;
                    default -> {
                        if (r.isEmpty()) {
                            s.error("route", "must not be empty (primary, replica, any, or a replica or group name)");
                        } else if (targets != null && !targets.contains(r)) {
                            List<String> all = new ArrayList<>(List.of("primary", "replica", "any"));
                            all.addAll(new TreeSet<>(targets));
                            String guess = DidYouMean.suggest(r, all);
                            s.error("route", "unknown replica or group \"" + r + "\""
                                    + (guess != null ? " (did you mean " + guess + "?)" : "")
                                    + "; use primary, replica, any, or one of the configuration's replicas and "
                                    + "groups: " + (targets.isEmpty() ? "(none)" : String.join(", ", new TreeSet<>(targets))));
                        } else {
                            target = Rule.Target.NAMED;
                            targetName = r;
                        }
                    }
                }
            }
            io.pgsplit.config.Consistency consistency = s.enumValue("consistency", null,
                    io.pgsplit.config.Consistency.values(), io.pgsplit.config.Consistency::yamlName);
            Duration maxLag = s.duration("max_lag", null);
            Boolean dryRun = s.bool("dry_run", false);
            if (name == null || target == null) {
                return null;
            }
            return new Rule(name, line, sql, kinds, tables, tablesRead, tablesWritten, functions, databases, users,
                    apps, networks, inTransaction, target, targetName, consistency, maxLag, dryRun != null && dryRun);
        }

        private Pattern regex(YamlSection match) {
            YamlValue v = match.get("sql");
            if (v == null) {
                return null;
            }
            String text = v.asString();
            if (text == null) {
                return null;
            }
            try {
                return Pattern.compile(text);
            } catch (PatternSyntaxException e) {
                v.error("invalid regular expression: " + e.getDescription()
                        + (e.getIndex() >= 0 ? " near index " + e.getIndex() : "") + " in " + quote(text)
                        + " (Java regex syntax; in YAML, prefer single quotes so backslashes stay as written)");
                return null;
            }
        }

        private Set<StatementKind> kinds(YamlSection match) {
            List<YamlValue> items = strings(match, "kind");
            if (items == null) {
                return null;
            }
            Set<StatementKind> kinds = EnumSet.noneOf(StatementKind.class);
            for (YamlValue v : items) {
                String k = v.asString();
                if (k == null) {
                    continue;
                }
                Set<StatementKind> mapped = KINDS.get(k.trim().toLowerCase(Locale.ROOT).replace(' ', '_'));
                if (mapped == null) {
                    String guess = DidYouMean.suggest(k.trim(), KINDS.keySet());
                    v.error(quote(k) + " is not a statement kind" + (guess != null ? " (did you mean " + guess + "?)"
                            : " (expected one of: select, insert, update, delete, merge, ddl, copy, call, ...; "
                            + "see routing-rules/README.md)"));
                } else {
                    kinds.addAll(mapped);
                }
            }
            return kinds.isEmpty() ? null : kinds;
        }

        private List<Cidr> networks(YamlSection match) {
            List<YamlValue> items = strings(match, "client_address");
            if (items == null) {
                return null;
            }
            List<Cidr> out = new ArrayList<>();
            for (YamlValue v : items) {
                String t = v.asString();
                if (t == null) {
                    continue;
                }
                try {
                    out.add(Cidr.parse(t));
                } catch (IllegalArgumentException e) {
                    v.error(e.getMessage());
                }
            }
            return out;
        }

        /** A string or a list of strings, as globs; null when the key is absent. */
        private List<Glob> globs(YamlSection s, String key, boolean objectNames) {
            List<YamlValue> items = strings(s, key);
            if (items == null) {
                return null;
            }
            List<Glob> out = new ArrayList<>();
            for (YamlValue v : items) {
                String t = v.asString();
                if (t == null) {
                    continue;
                }
                if (t.isBlank()) {
                    v.error("must not be empty");
                    continue;
                }
                out.add(objectNames ? Glob.forNames(t.trim()) : Glob.plain(t));
            }
            return out;
        }

        /** The items of a string-or-list value (each checked to be a scalar); null when absent. */
        private List<YamlValue> strings(YamlSection s, String key) {
            YamlValue v = s.get(key);
            if (v == null) {
                return null;
            }
            if (v.isScalar()) {
                return List.of(v);
            }
            if (!v.isSequence()) {
                v.error("expected a string or a list of strings, got " + v.shapeName());
                return List.of();
            }
            List<YamlValue> items = v.asList();
            if (items.isEmpty()) {
                v.error("an empty list matches nothing: remove the key or list at least one value");
            }
            List<YamlValue> out = new ArrayList<>();
            for (YamlValue item : items) {
                if (item.isScalar()) {
                    out.add(item);
                } else {
                    item.error("expected a string, got " + item.shapeName());
                }
            }
            return out;
        }

        private static String quote(String text) {
            return '"' + text + '"';
        }
    }
}
