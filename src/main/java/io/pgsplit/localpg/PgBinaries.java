package io.pgsplit.localpg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where the PostgreSQL server binaries ({@code initdb}, {@code pg_ctl}, ...) live.
 *
 * <p>Looked up, in order: the {@code PGSPLIT_PG_BIN} environment variable, {@code pg_config --bindir},
 * the newest {@code /usr/lib/postgresql/<version>/bin} (Debian/Ubuntu layout).
 */
public final class PgBinaries {
    /** Environment variable that overrides the lookup. */
    public static final String ENV_VAR = "PGSPLIT_PG_BIN";

    private static final List<String> REQUIRED_TOOLS = List.of("initdb", "pg_ctl", "pg_basebackup", "psql", "postgres");
    private static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");

    private final Path binDir;

    private PgBinaries(Path binDir) {
        this.binDir = binDir;
    }

    /** Binaries in an explicit directory; fails if a required tool is missing there. */
    public static PgBinaries at(Path binDir) {
        List<String> missing = missingTools(binDir);
        if (!missing.isEmpty()) {
            throw new PgClusterException("PostgreSQL bin dir " + binDir + " lacks " + missing);
        }
        return new PgBinaries(binDir.toAbsolutePath());
    }

    /** Finds the binaries as described in the class comment. */
    public static PgBinaries locate() {
        String fromEnv = System.getenv(ENV_VAR);
        if (fromEnv != null && !fromEnv.isBlank()) {
            Path dir = Path.of(fromEnv.trim());
            List<String> missing = missingTools(dir);
            if (!missing.isEmpty()) {
                throw new PgClusterException(ENV_VAR + "=" + fromEnv + " does not hold the PostgreSQL server binaries (missing " + missing + ")");
            }
            return new PgBinaries(dir.toAbsolutePath());
        }
        List<Path> tried = new ArrayList<>();
        Path fromPgConfig = pgConfigBinDir();
        if (fromPgConfig != null) {
            tried.add(fromPgConfig);
            if (missingTools(fromPgConfig).isEmpty()) {
                return new PgBinaries(fromPgConfig);
            }
        }
        for (Path dir : debianBinDirsNewestFirst()) {
            tried.add(dir);
            if (missingTools(dir).isEmpty()) {
                return new PgBinaries(dir);
            }
        }
        throw new PgClusterException("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, psql) not found"
                + (tried.isEmpty() ? "" : " (looked in " + tried + ")")
                + ". Install PostgreSQL (e.g. `apt-get install postgresql`) or set " + ENV_VAR + " to its bin directory.");
    }

    public Path binDir() {
        return binDir;
    }

    /** Absolute path of one tool, e.g. {@code tool("pg_ctl")}. */
    public String tool(String name) {
        return binDir.resolve(name).toString();
    }

    private static List<String> missingTools(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String tool : REQUIRED_TOOLS) {
            if (!Files.isExecutable(dir.resolve(tool))) {
                missing.add(tool);
            }
        }
        return missing;
    }

    /** {@code pg_config --bindir}, or null when pg_config is not on the PATH or fails. */
    private static Path pgConfigBinDir() {
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 && !out.isEmpty() ? Path.of(out) : null;
        } catch (IOException e) {
            return null; // no pg_config on the PATH
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static List<Path> debianBinDirsNewestFirst() {
        if (!Files.isDirectory(DEBIAN_ROOT)) {
            return List.of();
        }
        try (Stream<Path> versions = Files.list(DEBIAN_ROOT)) {
            return versions
                    .filter(v -> v.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                    .sorted(Comparator.comparingDouble((Path v) -> Double.parseDouble(v.getFileName().toString())).reversed())
                    .map(v -> v.resolve("bin"))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    @Override
    public String toString() {
        return binDir.toString();
    }
}
