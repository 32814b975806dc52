package io.pgsplit.localpg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first start-up step of a {@link LocalPgCluster}: making its directory safe to use. The dir is wiped on
 * every start, so this refuses a dir LocalPgCluster did not make, and stops servers an earlier run left
 * running in it (a JVM killed before its watchdog could act) before deleting their data.
 */
final class ClusterDir {
    private static final Logger log = LoggerFactory.getLogger(LocalPgCluster.class);
    /** File proving a dir was made by us, so wiping it on start cannot destroy unrelated data. */
    private static final String MARKER_FILE = ".pgsplit-cluster";

    private ClusterDir() {
    }

    /** Stops a previous cluster left running in {@code dir}, wipes it, and creates the dirs PostgreSQL writes to. */
    static void prepare(Path dir, Path logDir, OsUser osUser, PgTools tools) {
        if (Files.exists(dir)) {
            if (!FileOps.isEmptyDir(dir) && !Files.exists(dir.resolve(MARKER_FILE))) {
                throw new PgClusterException("refusing to wipe " + dir + ": it is not empty and was not created by "
                        + "LocalPgCluster (no " + MARKER_FILE + " file); choose another dir");
            }
            stopLeftoverServers(dir, tools);
            FileOps.deleteRecursively(dir);
        }
        Set<Path> created = new HashSet<>();
        FileOps.createDirectories(dir, created);
        FileOps.createDirectories(logDir, created);
        FileOps.touch(dir.resolve(MARKER_FILE));
        osUser.own(dir);
        osUser.own(logDir);
        osUser.ensureCanTraverse(dir, created);
        osUser.ensureCanTraverse(logDir, created);
    }

    /** A cluster from an earlier run (e.g. a JVM killed before its watchdog could act) may still use the dir. */
    private static void stopLeftoverServers(Path dir, PgTools tools) {
        try (Stream<Path> children = Files.list(dir)) {
            for (Path nodeDir : children.toList()) {
                Path dataDir = nodeDir.resolve(LocalPgCluster.DATA_SUBDIR);
                Path pidFile = dataDir.resolve("postmaster.pid");
                if (!Files.isRegularFile(pidFile)) {
                    continue;
                }
                String firstLine = ProcessRunner.readLenient(pidFile).lines().findFirst().orElse("").trim();
                if (firstLine.matches("\\d+") && Files.exists(Path.of("/proc", firstLine))) {
                    log.warn("stopping a PostgreSQL server left running in {} (pid {})", dataDir, firstLine);
                    PgNode.stopImmediately(tools, dataDir);
                }
                removeOldSocketDir(dataDir);
            }
        } catch (IOException e) {
            throw new PgClusterException("cannot inspect " + dir + ": " + e, e);
        }
    }

    /** An earlier run's short socket dir under /tmp is named in its node conf; remove it along with the cluster. */
    private static void removeOldSocketDir(Path dataDir) throws IOException {
        Path nodeConf = dataDir.resolve(PgNode.NODE_CONF);
        if (!Files.isRegularFile(nodeConf)) {
            return;
        }
        for (String line : ProcessRunner.readLenient(nodeConf).lines().toList()) {
            int start = line.indexOf("'/tmp/pgsplit-sock-");
            if (line.startsWith("unix_socket_directories") && start >= 0) {
                FileOps.deleteQuietly(Path.of(line.substring(start + 1, line.lastIndexOf('\''))));
            }
        }
    }
}
