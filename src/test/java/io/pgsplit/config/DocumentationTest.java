package io.pgsplit.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keeps the reference and the example file in step with each other (the loader test keeps them in step with the code). */
class DocumentationTest {

    @Test
    void everyDocumentedKeyIsInTheExampleFile() throws Exception {
        String reference = Files.readString(Path.of("docs/CONFIGURATION.md"));
        String example = Files.readString(Path.of("pgsplit.example.yaml"));
        Matcher row = Pattern.compile("(?m)^\\| `([a-z_]+)` \\|").matcher(reference);
        List<String> missing = new ArrayList<>();
        int keys = 0;
        while (row.find()) {
            keys++;
            if (!Pattern.compile("(?m)^[ #-]*" + row.group(1) + ":").matcher(example).find()) {
                missing.add(row.group(1));
            }
        }
        assertTrue(keys > 50, "found only " + keys + " documented keys");
        assertEquals(List.of(), missing, "documented keys missing from pgsplit.example.yaml");
    }

    @Test
    void everyPoolKeyIsDocumented() throws Exception {
        String reference = Files.readString(Path.of("docs/CONFIGURATION.md"));
        for (String key : PoolBinder.KEYS) {
            assertTrue(reference.contains("| `" + key + "` |"), key);
        }
    }
}
