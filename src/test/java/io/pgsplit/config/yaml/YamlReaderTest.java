package io.pgsplit.config.yaml;

import io.pgsplit.config.ConfigError;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class YamlReaderTest {

    @Test
    void durations() {
        assertEquals(Duration.ofMillis(500), Scalars.parseDuration("500ms"));
        assertEquals(Duration.ofSeconds(10), Scalars.parseDuration("10s"));
        assertEquals(Duration.ofMinutes(5), Scalars.parseDuration("5m"));
        assertEquals(Duration.ofHours(1), Scalars.parseDuration("1h"));
        assertEquals(Duration.ofSeconds(30), Scalars.parseDuration("30"), "a bare number means seconds");
        assertEquals(Duration.ZERO, Scalars.parseDuration("0"));
        assertEquals(Duration.ofSeconds(10), Scalars.parseDuration(" 10 S "));
        for (String bad : List.of("", "-1s", "1.5s", "10x", "s", "1d", "99999999999999999999h")) {
            assertNull(Scalars.parseDuration(bad), bad);
        }
    }

    @Test
    void byteSizes() {
        assertEquals(1000L, Scalars.parseBytes("1000"));
        assertEquals(64L << 10, Scalars.parseBytes("64kB"));
        assertEquals(32L << 20, Scalars.parseBytes("32MB"));
        assertEquals(32L << 20, Scalars.parseBytes("32MiB"));
        assertEquals(1L << 30, Scalars.parseBytes("1GiB"));
        assertNull(Scalars.parseBytes("1TB"));
        assertNull(Scalars.parseBytes("-1"));
        assertNull(Scalars.parseBytes("99999999999G"));
    }

    @Test
    void booleansAndIntegers() {
        assertEquals(Boolean.TRUE, Scalars.parseBoolean("yes"));
        assertEquals(Boolean.FALSE, Scalars.parseBoolean("False"));
        assertNull(Scalars.parseBoolean("1"));
        assertEquals(1000, Scalars.parseInteger("1_000").intValue());
        assertNull(Scalars.parseInteger("0x10"));
    }

    @Test
    void didYouMean() {
        List<String> keys = List.of("pool_size", "min_pool_size", "pool_mode", "server_lifetime");
        assertEquals("pool_size", DidYouMean.suggest("pool_sise", keys));
        assertEquals("pool_size", DidYouMean.suggest("poolsize", keys));
        assertEquals("pool_mode", DidYouMean.suggest("pool_mod", keys));
        assertEquals("server_lifetime", DidYouMean.suggest("server_life", keys), "prefix");
        assertEquals("pool_size", DidYouMean.suggest("POOL_SIZE", keys), "case-insensitive");
        assertNull(DidYouMean.suggest("colour", keys));
        assertEquals(3, DidYouMean.levenshtein("kitten", "sitting"));
        assertEquals(0, DidYouMean.levenshtein("", ""));
    }

    /** The way another file format (e.g. routing rules) uses the reader: typed getters, lists, positions. */
    @Test
    void bindingAnotherFileFormat() {
        YamlReader reader = new YamlReader("rules.yaml");
        YamlSection root = reader.readDocument("""
                rules:
                  - match: "^SELECT"
                    target: replica
                    timeout: 2s
                  - match: "^UPDATE"
                    target: nowhere
                    priority: high
                    tiemout: 1s
                """);
        root.expectKeys("rules");
        List<String> targets = new java.util.ArrayList<>();
        for (YamlValue item : root.list("rules")) {
            YamlSection rule = item.asSection();
            rule.expectKeys("match", "target", "timeout", "priority");
            assertTrue(rule.requiredString("match").startsWith("^"));
            targets.add(rule.enumValue("target", "primary", new String[] {"primary", "replica"}, s -> s));
            rule.duration("timeout", Duration.ZERO);
            rule.integer("priority", 0, NumberRange.between(0, 10));
        }
        assertEquals(List.of("replica", "primary"), targets, "an invalid value falls back to the default");
        assertEquals(List.of(
                "rules.yaml: rules[1].target: \"nowhere\" is not one of: primary, replica (line 6, column 13)",
                "rules.yaml: rules[1].priority: \"high\" is not a number (line 7, column 15)",
                "rules.yaml: rules[1].tiemout: unknown key (did you mean timeout?) (line 8, column 5)"),
                reader.errors().stream().map(ConfigError::toString).toList());
    }

    @Test
    void syntaxErrorsAndShapes() {
        YamlReader reader = new YamlReader("f.yaml");
        assertNull(reader.readDocument("a: [1, 2\n"));
        assertTrue(reader.errors().get(0).toString().startsWith("f.yaml: YAML syntax error: "), reader.errors().toString());
        assertTrue(reader.errors().get(0).hasPosition());

        YamlReader empty = new YamlReader("f.yaml");
        YamlSection root = empty.readDocument("# only a comment\n");
        assertTrue(root.isEmpty());
        assertFalse(empty.hasErrors());

        YamlReader nulls = new YamlReader("f.yaml");
        YamlSection section = nulls.readDocument("a:\nb: ~\nc: \"\"\n");
        assertFalse(section.has("a"));
        assertEquals("dflt", section.string("b", "dflt"), "explicit null means 'use the default'");
        assertEquals("", section.string("c", "dflt"));
        assertNull(section.require("a"));
        assertEquals("f.yaml: a: required (line 1, column 1)", nulls.errors().get(0).toString());
    }

    @Test
    void aliasedNodeIsReportedOnce() {
        YamlReader reader = new YamlReader("f.yaml");
        YamlSection root = reader.readDocument("base: &b {x: 1, x: 2}\nother: *b\n");
        root.section("base");
        root.section("other");
        assertEquals(1, reader.errors().size(), reader.errors().toString());
    }

    @Test
    void mergeKeysShareSettings() {
        YamlReader reader = new YamlReader("f.yaml");
        YamlSection root = reader.readDocument("""
                defaults: &defaults {port: 5433, weight: 2}
                replica:
                  <<: *defaults
                  weight: 5
                  host: h
                """);
        YamlSection replica = root.section("replica");
        replica.expectKeys("host", "port", "weight");
        assertEquals(5433, replica.integer("port", 0, NumberRange.PORT));
        assertEquals(5, replica.integer("weight", 0, NumberRange.NON_NEGATIVE), "own keys win over merged ones");
        assertFalse(reader.hasErrors(), reader.errors().toString());
    }
}
