package io.pgsplit.testing;

import java.nio.file.Path;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.localpg.PasswordType;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One real PostgreSQL cluster per test JVM, shared by every test class that uses
 * {@code @ExtendWith(PgClusterExtension.class)}: a primary and two streaming replicas ({@code r1}, {@code r2})
 * on 127.0.0.1, started on first use and stopped when the whole test run ends.
 *
 * <p>Get it by declaring a {@link LocalPgCluster} parameter (test methods, constructors, {@code @BeforeAll},
 * {@code @BeforeEach}) or from {@link #cluster()}.
 *
 * <p>What exists besides the superuser {@code postgres}/{@code postgres}:
 * <ul>
 *   <li>database {@value #DB}, owned by user {@value #APP_USER} (password {@value #APP_PASSWORD}, stored as SCRAM);</li>
 *   <li>{@value #MD5_USER} (password {@value #MD5_PASSWORD}, stored as md5; logs in via md5 over TCP);</li>
 *   <li>{@value #TRUST_USER} (no password; TCP login is {@code trust});</li>
 *   <li>{@value #PLAIN_USER} (password {@value #PLAIN_PASSWORD}; TCP login asks for the cleartext password).</li>
 * </ul>
 * All of them may connect to {@value #DB} and create objects in its {@code public} schema.
 *
 * <p>Cluster dir: system property {@code pgsplit.test.dir} (surefire sets {@code target/pgcluster}), else
 * {@code target/pgcluster}; server logs in its {@code logs/} subdir.
 */
public final class PgClusterExtension implements BeforeAllCallback, ParameterResolver {
    public static final String DB = "app";
    public static final String APP_USER = "app";
    public static final String APP_PASSWORD = "app";
    public static final String MD5_USER = "md5user";
    public static final String MD5_PASSWORD = "md5pass";
    public static final String TRUST_USER = LocalPgCluster.TRUST_USER;
    public static final String PLAIN_USER = LocalPgCluster.PLAIN_PASSWORD_USER;
    public static final String PLAIN_PASSWORD = "plainpass";
    public static final int REPLICAS = 2;

    private static final String STORE_KEY = PgClusterExtension.class.getName() + ".cluster";
    private static LocalPgCluster shared; // guarded by PgClusterExtension.class

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == LocalPgCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return cluster(extensionContext);
    }

    /** The shared cluster, started if needed, and registered to stop when the test run (root context) ends. */
    public static LocalPgCluster cluster(ExtensionContext context) {
        return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(STORE_KEY, key -> new StopAtEndOfRun(cluster()), StopAtEndOfRun.class)
                .cluster;
    }

    /**
     * The shared cluster, started if needed. Outside the extension's life cycle (no ExtensionContext) it is
     * stopped by the cluster's JVM shutdown hook instead.
     */
    public static synchronized LocalPgCluster cluster() {
        if (shared == null || !shared.isRunning()) {
            shared = startAndSetUp();
        }
        return shared;
    }

    private static LocalPgCluster startAndSetUp() {
        Path dir = Path.of(System.getProperty("pgsplit.test.dir", "target/pgcluster"));
        LocalPgCluster cluster = LocalPgCluster.builder().dir(dir).replicas(REPLICAS).build().start();
        cluster.createUser(APP_USER, APP_PASSWORD, PasswordType.SCRAM);
        cluster.createUser(MD5_USER, MD5_PASSWORD, PasswordType.MD5);
        cluster.createUser(TRUST_USER);
        cluster.createUser(PLAIN_USER, PLAIN_PASSWORD, PasswordType.SCRAM);
        cluster.createDatabase(DB, APP_USER);
        // PostgreSQL 15+: only the owner may create in public by default
        cluster.execute(DB, "GRANT ALL ON SCHEMA public TO " + MD5_USER + ", " + TRUST_USER + ", " + PLAIN_USER + ";");
        cluster.waitForReplay();
        return cluster;
    }

    /** Stops the cluster when JUnit closes the root store, i.e. after the last test class of the run. */
    private static final class StopAtEndOfRun implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private final LocalPgCluster cluster;

        StopAtEndOfRun(LocalPgCluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public void close() {
            synchronized (PgClusterExtension.class) {
                cluster.stop();
                if (shared == cluster) {
                    shared = null;
                }
            }
        }
    }
}
