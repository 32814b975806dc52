package io.pgsplit.config.yaml;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A YAML mapping at a known key path, with typed getters. Every getter treats a missing key and an
 * explicit null ({@code key:} with no value) alike and returns the given default; a present but invalid
 * value records an error (with path, line and column) and also yields the default, so binding continues
 * and all problems are reported together.
 *
 * <p>Keys are matched exactly (YAML keys are case-sensitive). Duplicate keys are reported once per mapping.
 * YAML merge keys are supported ({@code <<: *defaults}), so files can share settings through anchors;
 * keys written in the mapping itself win over merged ones.
 */
public final class YamlSection {

    private final YamlValue self;
    /** Key -> value in file order; for a duplicated key the last one wins, as in SnakeYAML, after an error. */
    private final Map<String, YamlValue> entries = new LinkedHashMap<>();
    /** Key -> the key's own node, so key-level errors (unknown key) point at the key, not its value. */
    private final Map<String, Node> keyNodes = new HashMap<>();

    YamlSection(YamlValue self) {
        this.self = self;
        MappingNode mapping = (MappingNode) self.node();
        boolean report = self.reader().firstVisit(mapping);
        List<Node> mergedMappings = new ArrayList<>();
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (Tag.MERGE.equals(keyNode.getTag())) {
                collectMerged(tuple.getValueNode(), mergedMappings, report);
                continue;
            }
            if (!(keyNode instanceof ScalarNode scalarKey)) {
                if (report) {
                    self.reader().error(keyNode, self.path(), "keys must be plain text, not a list or mapping");
                }
                continue;
            }
            String key = scalarKey.getValue();
            String childPath = childPath(key);
            if (keyNodes.containsKey(key) && report) {
                int firstLine = keyNodes.get(key).getStartMark().getLine() + 1;
                self.reader().error(keyNode, childPath, "duplicate key (first defined at line " + firstLine + ")");
            }
            keyNodes.put(key, keyNode);
            entries.put(key, new YamlValue(self.reader(), childPath, tuple.getValueNode()));
        }
        // YAML merge keys ("<<: *defaults"): keys written here win, then earlier merged mappings win over later ones
        for (Node merged : mergedMappings) {
            for (NodeTuple tuple : ((MappingNode) merged).getValue()) {
                if (tuple.getKeyNode() instanceof ScalarNode scalarKey && !Tag.MERGE.equals(scalarKey.getTag())
                        && !entries.containsKey(scalarKey.getValue())) {
                    keyNodes.put(scalarKey.getValue(), scalarKey);
                    entries.put(scalarKey.getValue(),
                            new YamlValue(self.reader(), childPath(scalarKey.getValue()), tuple.getValueNode()));
                }
            }
        }
    }

    /** The mappings a merge key refers to: one mapping, or a list of mappings. */
    private void collectMerged(Node value, List<Node> into, boolean report) {
        if (value instanceof MappingNode) {
            into.add(value);
        } else if (value instanceof SequenceNode sequence
                && sequence.getValue().stream().allMatch(item -> item instanceof MappingNode)) {
            into.addAll(sequence.getValue());
        } else if (report) {
            self.reader().error(value, childPath("<<"), "a merge key (<<) needs a mapping or a list of mappings");
        }
    }

    /** The path of this mapping; {@code ""} for the document root. */
    public String path() {
        return self.path();
    }

    /** This mapping as a value (for errors located at the mapping itself). */
    public YamlValue self() {
        return self;
    }

    /** The path of a key inside this mapping: {@code path + "." + key}, or just {@code key} at the root. */
    public String childPath(String key) {
        return self.path().isEmpty() ? key : self.path() + "." + key;
    }

    /**
     * Reports every key not in {@code known} as {@code unknown key (did you mean X?)}, located at the key,
     * or {@code unknown key (expected one of: a, b, c)} when nothing is close.
     */
    public void expectKeys(String... known) {
        expectKeys(Arrays.asList(known));
    }

    /** @see #expectKeys(String...) */
    public void expectKeys(Collection<String> known) {
        for (String key : entries.keySet()) {
            if (known.contains(key)) {
                continue;
            }
            String suggestion = DidYouMean.suggest(key, known);
            String hint = suggestion != null
                    ? "did you mean " + suggestion + "?"
                    : "expected one of: " + String.join(", ", known);
            self.reader().error(keyNodes.get(key), childPath(key), "unknown key (" + hint + ")");
        }
    }

    /** All entries in file order; values may be null ({@link YamlValue#isNull()}). */
    public Map<String, YamlValue> entries() {
        return entries;
    }

    /** The node of a key itself (to locate errors about the key), or null. */
    public Node keyNode(String key) {
        return keyNodes.get(key);
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** True if the key is present with a non-null value. */
    public boolean has(String key) {
        YamlValue value = entries.get(key);
        return value != null && !value.isNull();
    }

    /** The value of a key, or null if absent or explicitly null. */
    public YamlValue get(String key) {
        return has(key) ? entries.get(key) : null;
    }

    /** The value of a key; if absent or null records {@code <path>.<key>: required} at this mapping and returns null. */
    public YamlValue require(String key) {
        YamlValue value = get(key);
        if (value == null) {
            self.reader().error(keyNodes.containsKey(key) ? keyNodes.get(key) : self.node(), childPath(key), "required");
        }
        return value;
    }

    /** Records an error about {@code key} located at its value if present, else at its key, else at this mapping. */
    public void error(String key, String message) {
        YamlValue value = entries.get(key);
        Node at = value != null && value.node() != null ? value.node()
                : keyNodes.containsKey(key) ? keyNodes.get(key) : self.node();
        self.reader().error(at, childPath(key), message);
    }

    public String string(String key, String defaultValue) {
        return orDefault(key, YamlValue::asString, defaultValue);
    }

    /** A string that must be present; null after recording {@code required}. */
    public String requiredString(String key) {
        YamlValue value = require(key);
        return value == null ? null : value.asString();
    }

    public Integer integer(String key, Integer defaultValue, NumberRange range) {
        return orDefault(key, v -> v.asInt(range), defaultValue);
    }

    public Long longInteger(String key, Long defaultValue, NumberRange range) {
        return orDefault(key, v -> v.asLong(range), defaultValue);
    }

    /** A byte count with optional unit, see {@link Scalars#parseBytes}. */
    public Long bytes(String key, Long defaultValue, NumberRange range) {
        return orDefault(key, v -> v.asBytes(range), defaultValue);
    }

    public Boolean bool(String key, Boolean defaultValue) {
        return orDefault(key, YamlValue::asBool, defaultValue);
    }

    /** A duration, see {@link Scalars#parseDuration}. */
    public Duration duration(String key, Duration defaultValue) {
        return orDefault(key, YamlValue::asDuration, defaultValue);
    }

    /** One of {@code values} by its YAML spelling, see {@link YamlValue#asEnum}. */
    public <E> E enumValue(String key, E defaultValue, E[] values, Function<E, String> spelling) {
        return orDefault(key, v -> v.asEnum(values, spelling), defaultValue);
    }

    /** A nested mapping, or null if absent/null or not a mapping (error recorded). */
    public YamlSection section(String key) {
        YamlValue value = get(key);
        return value == null ? null : value.asSection();
    }

    /** A list's items, or an empty list if absent/null or not a list (error recorded). */
    public List<YamlValue> list(String key) {
        YamlValue value = get(key);
        return value == null ? List.of() : value.asList();
    }

    private <T> T orDefault(String key, Function<YamlValue, T> convert, T defaultValue) {
        YamlValue value = get(key);
        if (value == null) {
            return defaultValue;
        }
        T converted = convert.apply(value);
        return converted == null ? defaultValue : converted;
    }

    @Override
    public String toString() {
        return "YamlSection" + entries.keySet() + " at " + (path().isEmpty() ? "<root>" : path());
    }
}
