package io.pgsplit.config.yaml;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One value of a YAML document together with its key path (e.g. {@code databases.app.replicas[1].port}).
 * The {@code as...} conversions return the typed value, or {@code null} after recording an error at this
 * value's line and column, so binding can go on and report every problem in one pass.
 */
public final class YamlValue {

    private final YamlReader reader;
    private final String path;
    private final Node node;

    YamlValue(YamlReader reader, String path, Node node) {
        this.reader = reader;
        this.path = path;
        this.node = node;
    }

    /** The dotted key path of this value; {@code ""} for the document root. */
    public String path() {
        return path;
    }

    /** The SnakeYAML node (start/end marks, tag, style), or null for an empty document. */
    public Node node() {
        return node;
    }

    public YamlReader reader() {
        return reader;
    }

    /** True for an explicit null ({@code key:}, {@code key: ~}, {@code key: null}) or an empty document. */
    public boolean isNull() {
        return node == null || (node instanceof ScalarNode && Tag.NULL.equals(node.getTag()));
    }

    public boolean isScalar() {
        return node instanceof ScalarNode && !isNull();
    }

    public boolean isMapping() {
        return node instanceof MappingNode;
    }

    public boolean isSequence() {
        return node instanceof SequenceNode;
    }

    /** Records an error located at this value. */
    public void error(String message) {
        reader.error(node, path, message);
    }

    /** Any scalar as its text exactly as written (no YAML 1.1 coercions: {@code 0123} stays {@code "0123"}). */
    public String asString() {
        return scalarText("a string");
    }

    /** A whole number within {@code range} that fits an {@code int}. */
    public Integer asInt(NumberRange range) {
        Long value = asLong(range);
        if (value == null) {
            return null;
        }
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            error(value + " is not " + range.description());
            return null;
        }
        return value.intValue();
    }

    /** A whole number within {@code range}; errors: {@code "abc" is not a number}, {@code 70000 is not a port (1-65535)}. */
    public Long asLong(NumberRange range) {
        String text = scalarText("a number");
        if (text == null) {
            return null;
        }
        BigInteger value = Scalars.parseInteger(text);
        if (value == null) {
            error(quote(text) + (looksFractional(text) ? " is not a whole number" : " is not a number"));
            return null;
        }
        return inRange(value, range);
    }

    /** A byte count ({@code 65536}, {@code 64kB}, {@code 32MB}, {@code 1GiB}; see {@link Scalars#parseBytes}). */
    public Long asBytes(NumberRange range) {
        String text = scalarText("a size");
        if (text == null) {
            return null;
        }
        Long value = Scalars.parseBytes(text);
        if (value == null) {
            error(quote(text) + " is not a size (a number of bytes, or with a unit: 64kB, 32MB, 1GB)");
            return null;
        }
        return inRange(BigInteger.valueOf(value), range);
    }

    /** {@code true/false} (also {@code yes/no/on/off}). */
    public Boolean asBool() {
        String text = scalarText("a boolean");
        if (text == null) {
            return null;
        }
        Boolean value = Scalars.parseBoolean(text);
        if (value == null) {
            error(quote(text) + " is not a boolean (true or false)");
        }
        return value;
    }

    /** {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, or a bare number of seconds; {@code 0} is allowed. */
    public Duration asDuration() {
        String text = scalarText("a duration");
        if (text == null) {
            return null;
        }
        Duration value = Scalars.parseDuration(text);
        if (value == null) {
            error(quote(text) + " is not a duration (use 500ms, 10s, 5m, 1h, or a number of seconds)");
        }
        return value;
    }

    /**
     * One of {@code values}, matched case-insensitively against {@code spelling}; the error lists the
     * allowed spellings: {@code "sometimes" is not one of: true, false, fallback}.
     */
    public <E> E asEnum(E[] values, Function<E, String> spelling) {
        String text = scalarText("one of: " + allowed(values, spelling));
        if (text == null) {
            return null;
        }
        for (E value : values) {
            if (spelling.apply(value).equalsIgnoreCase(text.trim())) {
                return value;
            }
        }
        error(quote(text) + " is not one of: " + allowed(values, spelling));
        return null;
    }

    /** This value as a mapping; error {@code expected a mapping, got a list} otherwise. */
    public YamlSection asSection() {
        if (!isMapping()) {
            wrongShape("a mapping (key: value)");
            return null;
        }
        return new YamlSection(this);
    }

    /** This value as a list whose items have paths {@code path[0]}, {@code path[1]}...; empty after an error. */
    public List<YamlValue> asList() {
        if (!isSequence()) {
            wrongShape("a list");
            return List.of();
        }
        List<Node> items = ((SequenceNode) node).getValue();
        List<YamlValue> values = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            values.add(new YamlValue(reader, path + "[" + i + "]", items.get(i)));
        }
        return values;
    }

    /** A short description of what this value is, for "expected X, got Y" messages. */
    public String shapeName() {
        if (isNull()) {
            return "nothing";
        }
        if (isMapping()) {
            return "a mapping";
        }
        if (isSequence()) {
            return "a list";
        }
        return quote(((ScalarNode) node).getValue());
    }

    private String scalarText(String expected) {
        if (!isScalar()) {
            wrongShape(expected);
            return null;
        }
        return ((ScalarNode) node).getValue();
    }

    private void wrongShape(String expected) {
        error("expected " + expected + ", got " + shapeName());
    }

    private Long inRange(BigInteger value, NumberRange range) {
        if (value.compareTo(BigInteger.valueOf(range.min())) < 0 || value.compareTo(BigInteger.valueOf(range.max())) > 0) {
            error(value + " is not " + range.description());
            return null;
        }
        return value.longValue();
    }

    private static boolean looksFractional(String text) {
        try {
            Double.parseDouble(text.trim());
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static <E> String allowed(E[] values, Function<E, String> spelling) {
        return Stream.of(values).map(spelling).collect(Collectors.joining(", "));
    }

    static String quote(String text) {
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    @Override
    public String toString() {
        return path + " = " + shapeName();
    }
}
