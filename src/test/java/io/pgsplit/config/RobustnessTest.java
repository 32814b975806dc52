package io.pgsplit.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/** Whatever a user writes, the loader answers with a config or a ConfigException, never another exception. */
class RobustnessTest {

    private static void loadsOrReportsErrors(String yaml) {
        try {
            ConfigLoader.parse(yaml, "t.yaml");
        } catch (ConfigException e) {
            assertFalse(e.errors().isEmpty());
            for (ConfigError error : e.errors()) {
                assertFalse(error.message() == null || error.message().isBlank(), yaml);
            }
        } catch (RuntimeException e) {
            throw new AssertionError("unexpected exception for:\n" + yaml, e);
        }
    }

    @Test
    void oddShapesAndValues() {
        List<String> inputs = List.of(
                "databases: [a]\nusers: x\n",
                "databases: {app: }\nusers: {u: }\n",
                "databases: {app: {primary: }}\n",
                "databases: {app: {primary: [1]}}\n",
                "databases: {app: {primary: {host: [x]}}}\n",
                "databases: {app: {primary: db, replicas: {a: 1}}}\n",
                "databases: {app: {primary: \":5432\"}}\n",
                "databases: {app: {primary: \"[::1\"}}\n",
                "databases: {app: {primary: \"[::1]x\"}}\n",
                "databases: {app: {primary: \"a:b:c\"}}\n",
                "databases: {app: {primary: db, replicas: [~, [], 5, {}]}}\n",
                "databases: {app: {primary: db, pool: {pool_size: ~}}}\n",
                "databases: {app: {primary: db, pool: [1]}}\n",
                "? [a]\n: b\n",
                "listen: {max_message_size: 1k, port: 0x1F}\n",
                "pool: {pool_size: 99999999999999999999999}\n",
                "routing: {rules: \"\"}\n",
                "routing: {rules: \"a\\0b\"}\n",
                "a: 1\n---\nb: 2\n",
                "x: !!binary aGVsbG8=\n",
                "x: !custom 1\n",
                "x: *undefined\n",
                "\uFEFFdatabases: {app: {primary: db}}\n",
                "\tdatabases: 1\n",
                "42\n",
                "~\n",
                "databases: &a {app: {primary: db}}\nusers: *a\n",
                "pool: {<<: 5}\n",
                "users: {u: {password: md5abc, server_password: \"SCRAM-SHA-256$1:a$b:c\"}}\n");
        inputs.forEach(RobustnessTest::loadsOrReportsErrors);
    }

    @Test
    void randomEditsOfTheExampleFile() throws Exception {
        String example = Files.readString(Path.of("pgsplit.example.yaml"));
        String alphabet = ":-[]{}#&*!|>'\"% \n\t0123456789abcxyz~,?@`<=";
        Random random = new Random(42);
        for (int round = 0; round < 1500; round++) {
            StringBuilder text = new StringBuilder(example);
            for (int edits = 1 + random.nextInt(3); edits > 0; edits--) {
                int at = random.nextInt(text.length());
                switch (random.nextInt(3)) {
                    case 0 -> text.deleteCharAt(at);
                    case 1 -> text.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    default -> text.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
                }
            }
            try {
                loadsOrReportsErrors(text.toString());
            } catch (AssertionError e) {
                fail("round " + round, e);
            }
        }
    }
}
