package io.pgsplit.config;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code pgsplit config check FILE}: validates a configuration file without starting anything. */
public final class ConfigCheck {

    /** Exit status for a usage or configuration error. */
    public static final int CONFIG_ERROR = 2;

    private ConfigCheck() {
    }

    /**
     * Loads {@code file}; on success prints {@code pgsplit.yaml: OK (1 database, 3 users, 2 replicas)} to
     * {@code out} and returns 0, otherwise prints each error on its own line to {@code err} and returns 2.
     */
    public static int run(Path file, PrintStream out, PrintStream err) {
        try {
            PgsplitConfig config = ConfigLoader.load(file);
            out.println(file + ": OK (" + count(config.databases().size(), "database") + ", "
                    + count(config.users().size(), "user") + ", " + count(config.replicaCount(), "replica") + ")");
            return 0;
        } catch (ConfigException e) {
            e.errors().forEach(err::println);
            return CONFIG_ERROR;
        }
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
