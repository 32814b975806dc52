package io.pgsplit.localpg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The OS user that runs the PostgreSQL binaries.
 *
 * <p>PostgreSQL refuses to run as root. When this JVM is root, every PostgreSQL binary is run through
 * {@code runuser -u postgres} (or a system user {@code pgsplit-pg} created on the fly when no {@code postgres}
 * user exists), and the directories PostgreSQL writes to are handed over to that user. Otherwise the binaries
 * simply run as the current user.
 */
final class OsUser {
    static final String PREFERRED_USER = "postgres";
    static final String FALLBACK_USER = "pgsplit-pg";

    /** The user to switch to, or null when running as the current (non-root) user. */
    private final String switchTo;

    private OsUser(String switchTo) {
        this.switchTo = switchTo;
    }

    /** Chooses (and if needed creates) the user PostgreSQL will run as. */
    static OsUser forPostgres() {
        if (!currentUserIsRoot()) {
            return new OsUser(null);
        }
        if (userExists(PREFERRED_USER)) {
            return new OsUser(PREFERRED_USER);
        }
        if (!userExists(FALLBACK_USER)) {
            runQuietly(List.of("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_USER));
            if (!userExists(FALLBACK_USER)) {
                throw new PgClusterException("running as root, and neither OS user '" + PREFERRED_USER + "' exists nor could '"
                        + FALLBACK_USER + "' be created with useradd; PostgreSQL cannot run as root");
            }
        }
        return new OsUser(FALLBACK_USER);
    }

    static boolean currentUserIsRoot() {
        try {
            // the owner of /proc/self is this process' effective uid
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** Name of the user PostgreSQL runs as. */
    String name() {
        return switchTo != null ? switchTo : System.getProperty("user.name");
    }

    /**
     * The command line that runs {@code argv} as this user with extra environment variables.
     * {@code env VAR=value} is used (rather than the process environment) because runuser does not
     * reliably pass the caller's environment through.
     */
    List<String> commandLine(List<String> argv, Map<String, String> env) {
        List<String> cmd = new ArrayList<>();
        if (switchTo != null) {
            cmd.addAll(List.of("runuser", "-u", switchTo, "--"));
        }
        if (!env.isEmpty()) {
            cmd.add("env");
            env.forEach((k, v) -> cmd.add(k + "=" + v));
        }
        cmd.addAll(argv);
        return cmd;
    }

    /** Makes the PostgreSQL user own {@code path} (no-op when not switching users). */
    void own(Path path) {
        if (switchTo == null) {
            return;
        }
        try {
            UserPrincipal owner = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(switchTo);
            Files.setOwner(path, owner);
        } catch (IOException e) {
            throw new PgClusterException("cannot chown " + path + " to " + switchTo + ": " + e, e);
        }
    }

    /**
     * Makes sure the PostgreSQL user can reach {@code dir}: every ancestor must be searchable by it.
     * Ancestors listed in {@code createdByUs} get {@code o+x}; others are left alone and reported.
     */
    void ensureCanTraverse(Path dir, Set<Path> createdByUs) {
        if (switchTo == null) {
            return;
        }
        for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            try {
                PosixFileAttributes attrs = Files.readAttributes(p, PosixFileAttributes.class);
                Set<PosixFilePermission> perms = attrs.permissions();
                boolean searchable = perms.contains(PosixFilePermission.OTHERS_EXECUTE)
                        || attrs.owner().getName().equals(switchTo);
                if (searchable) {
                    continue;
                }
                if (createdByUs.contains(p)) {
                    perms.add(PosixFilePermission.OTHERS_EXECUTE);
                    Files.setPosixFilePermissions(p, perms);
                } else {
                    throw new PgClusterException("directory " + p + " is not searchable by OS user '" + switchTo
                            + "' that runs PostgreSQL; use a cluster dir elsewhere or `chmod o+x " + p + "`");
                }
            } catch (IOException e) {
                throw new PgClusterException("cannot check permissions of " + p + ": " + e, e);
            }
        }
    }

    private static boolean userExists(String name) {
        return runQuietly(List.of("id", "-u", name)) == 0;
    }

    private static int runQuietly(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public String toString() {
        return name();
    }
}
