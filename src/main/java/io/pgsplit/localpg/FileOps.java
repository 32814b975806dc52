package io.pgsplit.localpg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** File system chores, with IOExceptions turned into {@link PgClusterException}s that name the path. */
final class FileOps {
    private static final Logger log = LoggerFactory.getLogger(FileOps.class);

    private FileOps() {
    }

    static void write(Path file, String text, boolean append) {
        try {
            if (append) {
                Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } else {
                Files.writeString(file, text, StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new PgClusterException("cannot write " + file + ": " + e, e);
        }
    }

    static void touch(Path file) {
        write(file, "", false);
    }

    static boolean isEmptyDir(Path path) {
        try (Stream<Path> children = Files.list(path)) {
            return children.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** Like Files.createDirectories, adding the dirs that did not exist before to {@code created}. */
    static void createDirectories(Path path, Set<Path> created) {
        List<Path> missing = new ArrayList<>();
        for (Path p = path; p != null && !Files.exists(p); p = p.getParent()) {
            missing.add(p);
        }
        try {
            Files.createDirectories(path);
        } catch (IOException e) {
            throw new PgClusterException("cannot create " + path + ": " + e, e);
        }
        created.addAll(missing);
    }

    static void deleteRecursively(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new PgClusterException("cannot wipe " + root + ": " + e, e);
        }
    }

    /** Deletes a file or dir tree if it exists; failures are only logged (used for cleanup). */
    static void deleteQuietly(Path path) {
        try {
            if (Files.isDirectory(path)) {
                deleteRecursively(path);
            } else {
                Files.deleteIfExists(path);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot delete {}: {}", path, e.toString());
        }
    }
}
