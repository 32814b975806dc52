package io.pgsplit.config.yaml;

import io.pgsplit.config.ConfigError;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a YAML file into a tree that knows, for every value, its key path and its line and column, and
 * collects every problem found while binding it to typed settings. Shared by the configuration file and
 * the routing-rules file so that both report errors the same way ({@link ConfigError}).
 *
 * <p>Typical use:
 * <pre>{@code
 * YamlReader reader = new YamlReader("rules.yaml");
 * YamlSection root = reader.readDocument(text);      // null after a syntax error
 * if (root != null) {
 *     root.expectKeys("rules", "defaults");           // unknown keys -> "unknown key (did you mean ...?)"
 *     for (YamlValue item : root.list("rules")) {     // paths "rules[0]", "rules[1]", ...
 *         YamlSection rule = item.asSection();
 *         ...
 *     }
 * }
 * if (reader.hasErrors()) throw new ConfigException(reader.errors());
 * }</pre>
 *
 * <p>Why not data binding (SnakeYAML's constructor or Jackson)? Those stop at the first problem and lose
 * positions; walking SnakeYAML's node graph ({@code compose}) keeps a {@link Mark} on every node, lets us
 * report all errors at once, and sees the raw text of each scalar, so {@code password: 0123} stays the
 * string {@code "0123"} instead of becoming a number.
 *
 * <p>Not thread-safe; use one reader per file read.
 */
public final class YamlReader {

    private final String fileName;
    private final List<ConfigError> errors = new ArrayList<>();
    /** Mappings whose keys were already checked for duplicates (a node reached twice via an alias counts once). */
    private final Set<Node> checkedMappings = Collections.newSetFromMap(new IdentityHashMap<>());

    /** @param fileName the file name as the user gave it; it starts every error message */
    public YamlReader(String fileName) {
        this.fileName = fileName;
    }

    public String fileName() {
        return fileName;
    }

    /**
     * Parses one YAML document whose top level must be a mapping. An empty document is an empty mapping.
     * Returns null, after recording the error, if the text is not valid YAML or its top level is not a mapping.
     */
    public YamlSection readDocument(String text) {
        YamlValue root = read(text);
        if (root == null) {
            return null;
        }
        if (root.isNull()) {
            return new YamlSection(new YamlValue(this, "", emptyMapping()));
        }
        return root.asSection();
    }

    /**
     * Parses one YAML document of any shape. Returns null, after recording the error, if the text is not
     * valid YAML; an empty document yields a null value ({@link YamlValue#isNull()}).
     */
    public YamlValue read(String text) {
        LoaderOptions options = new LoaderOptions();
        // a config file has no business holding many aliases; this bounds "billion laughs" documents
        options.setMaxAliasesForCollections(50);
        try {
            Node node = new Yaml(options).compose(new StringReader(text));
            return new YamlValue(this, "", node);
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
            if (problem != null && problem.startsWith("but ") && e.getContext() != null) {
                // SnakeYAML splits "expected a single document, but found another document" in two halves
                problem = e.getContext() + " " + problem;
            }
            errors.add(new ConfigError(fileName, "", "YAML syntax error: " + problem,
                    mark == null ? 0 : mark.getLine() + 1, mark == null ? 0 : mark.getColumn() + 1));
            return null;
        } catch (YAMLException e) {
            errors.add(ConfigError.withoutPosition(fileName, "", "YAML syntax error: " + e.getMessage()));
            return null;
        }
    }

    /** Records an error located at {@code node} (null node: no position). */
    public void error(Node node, String path, String message) {
        Mark mark = node == null ? null : node.getStartMark();
        if (mark == null) {
            errors.add(ConfigError.withoutPosition(fileName, path, message));
        } else {
            errors.add(new ConfigError(fileName, path, message, mark.getLine() + 1, mark.getColumn() + 1));
        }
    }

    /** True once any error was recorded. */
    public boolean hasErrors() {
        return !errors.isEmpty();
    }

    /**
     * All errors so far, in file order (errors without a position first), each reported once even if
     * the same node was visited twice through a YAML alias.
     */
    public List<ConfigError> errors() {
        List<ConfigError> sorted = new ArrayList<>(new LinkedHashSet<>(errors));
        sorted.sort(Comparator.comparingInt(ConfigError::line).thenComparingInt(ConfigError::column));
        return sorted;
    }

    /** Returns true the first time it is called for a given mapping node. */
    boolean firstVisit(Node mapping) {
        return checkedMappings.add(mapping);
    }

    private static MappingNode emptyMapping() {
        return new MappingNode(Tag.MAP, new ArrayList<>(), org.yaml.snakeyaml.DumperOptions.FlowStyle.AUTO);
    }
}
