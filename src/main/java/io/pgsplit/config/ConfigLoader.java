package io.pgsplit.config;

import io.pgsplit.config.yaml.YamlReader;
import io.pgsplit.config.yaml.YamlSection;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * Loads and validates a pgsplit YAML configuration. Every value has a default; all problems in a file are
 * reported together in one {@link ConfigException}, each with file, key path, line and column.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /**
     * Loads {@code file}. Errors name the file as given (not its absolute path) and a relative
     * {@code routing.rules} is resolved against the file's directory.
     */
    public static PgsplitConfig load(Path file) throws ConfigException {
        String fileName = file.toString();
        String text;
        try {
            if (Files.isDirectory(file)) {
                throw fail(fileName, "is a directory, not a file");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw fail(fileName, "file not found");
        } catch (AccessDeniedException e) {
            throw fail(fileName, "cannot read file: permission denied");
        } catch (CharacterCodingException e) {
            throw fail(fileName, "cannot read file: it is not UTF-8 text");
        } catch (IOException e) {
            throw fail(fileName, "cannot read file: " + e.getMessage());
        }
        Path directory = file.toAbsolutePath().getParent();
        return parse(text, fileName, directory, file);
    }

    /**
     * Parses configuration text (tests, the demo). {@code sourceName} is used in error messages;
     * a relative {@code routing.rules} is resolved against the working directory; {@code source()} is null.
     */
    public static PgsplitConfig parse(String yaml, String sourceName) throws ConfigException {
        return parse(yaml, sourceName, Paths.get("").toAbsolutePath(), null);
    }

    private static PgsplitConfig parse(String yaml, String sourceName, Path baseDirectory, Path source)
            throws ConfigException {
        YamlReader reader = new YamlReader(sourceName);
        YamlSection root = reader.readDocument(yaml);
        PgsplitConfig config = null;
        if (root != null) {
            config = new ConfigBinder(baseDirectory).bind(root, source);
        }
        if (reader.hasErrors()) {
            throw new ConfigException(reader.errors());
        }
        return config;
    }

    private static ConfigException fail(String fileName, String message) {
        return new ConfigException(List.of(ConfigError.withoutPosition(fileName, "", message)));
    }
}
