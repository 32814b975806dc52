package io.pgsplit.cli;

import io.pgsplit.config.ConfigException;
import io.pgsplit.config.ConfigLoader;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.localpg.PasswordType;
import io.pgsplit.server.Pgsplit;
import io.pgsplit.tls.CertificateGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local PostgreSQL primary with streaming replicas and pgsplit in front of them, "
                + "with user app (password app) owning database app. Prints each server's address and a "
                + "postgresql:// URI for psql. pgsplit serves TLS with a certificate it generates (a demo CA "
                + "whose file it prints, for sslmode=verify-full) and finds users missing from its config on "
                + "the primary (auth_query): a role created there logs in through pgsplit at once. "
                + "Ctrl-C or SIGTERM stops everything.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--replicas", defaultValue = "2", description = "Number of streaming replicas (default ${DEFAULT-VALUE})")
    int replicas;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where the servers' data and logs go "
            + "(default: a pgsplit-demo directory under the system temp dir)")
    Path dir;

    @Option(names = "--port", defaultValue = "6432", description = "pgsplit's port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--pool-mode", defaultValue = "transaction",
            description = "session, transaction or statement (default ${DEFAULT-VALUE})")
    String poolMode;

    @Option(names = "--pool-size", defaultValue = "10", description = "Server connections per pool (default ${DEFAULT-VALUE})")
    int poolSize;

    @Option(names = "--rules", paramLabel = "FILE", description = "A routing-rules file (see routing-rules/)")
    Path rules;

    @Option(names = "--metrics-port", defaultValue = "9930",
            description = "Port of the Prometheus endpoint http://127.0.0.1:PORT/metrics; 0 = none (default ${DEFAULT-VALUE})")
    int metricsPort;

    @Override
    public Integer call() throws Exception {
        if (replicas < 0 || replicas > 10) {
            System.err.println("pgsplit demo: --replicas must be between 0 and 10");
            return 2;
        }
        // Checked before PostgreSQL starts (seconds of work) rather than when the config is built after it.
        if (!List.of("session", "transaction", "statement").contains(poolMode)) {
            System.err.println("pgsplit demo: --pool-mode must be session, transaction or statement, not \""
                    + poolMode + "\"");
            return 2;
        }
        if (port < 1 || port > 65535 || poolSize < 1 || metricsPort < 0 || metricsPort > 65535) {
            System.err.println("pgsplit demo: --port must be 1-65535, --metrics-port 0-65535 and --pool-size at least 1");
            return 2;
        }
        if (rules != null && !Files.isRegularFile(rules)) {
            System.err.println("pgsplit demo: --rules " + rules + ": file not found");
            return 2;
        }
        Path base = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"), "pgsplit-demo");
        PgsplitConfig config;
        LocalPgCluster cluster = LocalPgCluster.builder().dir(base).replicas(replicas).build();
        CountDownLatch stopped = new CountDownLatch(1);
        Pgsplit[] router = new Pgsplit[1];
        Thread hook = new Thread(() -> {
            if (router[0] != null) {
                router[0].close();
            }
            cluster.stop();
            stopped.countDown();
        }, "pgsplit-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("starting PostgreSQL (primary + " + replicas + " replicas) in " + base + " ...");
        cluster.start();
        cluster.createUser("app", "app", PasswordType.SCRAM);
        cluster.createDatabase("app", "app");
        System.out.println("primary " + cluster.host() + ":" + cluster.primaryPort());
        List<String> names = cluster.replicaNames();
        for (int i = 0; i < names.size(); i++) {
            System.out.println("replica " + names.get(i) + " " + cluster.host() + ":" + cluster.replicaPorts().get(i));
        }
        // TLS: a demo CA and a certificate for 127.0.0.1/localhost it signed, made now (Bouncy Castle)
        Path tlsDir = Files.createTempDirectory("pgsplit-demo-tls");
        CertificateGenerator.Issued ca = CertificateGenerator.certificateAuthority("pgsplit demo CA");
        Path caFile = tlsDir.resolve("ca.crt");
        Files.writeString(caFile, CertificateGenerator.pem(ca.certificate()));
        CertificateGenerator.issue(ca, "pgsplit demo", List.of("127.0.0.1", "localhost", "::1"))
                .write(tlsDir.resolve("server.crt"), tlsDir.resolve("server.key"));
        try {
            config = ConfigLoader.parse(yaml(cluster, tlsDir), "demo");
        } catch (ConfigException e) {
            e.errors().forEach(System.err::println);
            return 2;
        }
        router[0] = Pgsplit.start(config);
        System.out.println("pgsplit " + cluster.host() + ":" + router[0].port() + " (" + poolMode + " pooling, "
                + "reads to replicas, " + config.routing().consistency().yamlName() + " consistency)");
        System.out.println("postgresql://app:app@" + cluster.host() + ":" + router[0].port() + "/app");
        System.out.println("admin console: psql \"postgresql://pgsplit:pgsplit@" + cluster.host() + ":"
                + router[0].port() + "/pgsplit\" -c 'SHOW POOLS'   (also as database pgbouncer)");
        if (metricsPort > 0) {
            System.out.println("metrics: http://" + cluster.host() + ":" + router[0].metricsPort() + "/metrics");
        }
        System.out.println("Try: psql \"postgresql://app:app@" + cluster.host() + ":" + router[0].port()
                + "/app\" -c 'SELECT inet_server_port(), pg_is_in_recovery()'   (Ctrl-C stops the demo)");
        System.out.println("TLS (certificate checked against the demo CA): psql \"postgresql://app:app@localhost:"
                + router[0].port() + "/app?sslmode=verify-full&sslrootcert=" + caFile + "\"");
        System.out.println("New users without touching pgsplit's config: psql \"postgresql://" + cluster.superuser() + ":"
                + cluster.superuserPassword() + "@" + cluster.host() + ":" + cluster.primaryPort()
                + "/postgres\" -c \"CREATE ROLE x LOGIN PASSWORD 'y'\"   then   psql \"postgresql://x:y@"
                + cluster.host() + ":" + router[0].port() + "/app\"");
        if (!names.isEmpty()) {
            printFailoverCommands(cluster, names.get(0));
        }
        System.out.flush();
        stopped.await();
        return 0;
    }

    /** How to try a failover by hand: the pg_ctl commands (as the postgres user when the demo runs as root). */
    private static void printFailoverCommands(LocalPgCluster cluster, String replica) {
        String as = "root".equals(System.getProperty("user.name")) ? "runuser -u postgres -- " : "";
        String pgCtl = as + cluster.binDir().resolve("pg_ctl");
        System.out.println("Try a failover (writes wait up to ha.failover_wait for the new primary, reads go on):");
        System.out.println("  " + pgCtl + " -D " + cluster.dataDir(LocalPgCluster.PRIMARY) + " -m fast stop   # stop the primary");
        System.out.println("  " + pgCtl + " -D " + cluster.dataDir(replica) + " promote   # promote " + replica);
    }

    /** The servers listed without roles (pgsplit learns which is the primary, and follows a promotion). */
    private String yaml(LocalPgCluster cluster, Path tlsDir) {
        StringBuilder y = new StringBuilder();
        y.append("listen: {host: 127.0.0.1, port: ").append(port).append("}\n");
        y.append("databases:\n  app:\n    servers:\n");
        y.append("      - {name: primary, host: ").append(cluster.host()).append(", port: ")
                .append(cluster.primaryPort()).append("}\n");
        List<String> names = cluster.replicaNames();
        for (int i = 0; i < names.size(); i++) {
            y.append("      - {name: ").append(names.get(i)).append(", host: ").append(cluster.host())
                    .append(", port: ").append(cluster.replicaPorts().get(i)).append("}\n");
        }
        y.append("users:\n  app: {password: app}\n");
        // TLS for clients that ask (libpq does by default), plaintext for the others
        y.append("tls: {mode: prefer, cert_file: \"").append(tlsDir.resolve("server.crt")).append("\", key_file: \"")
                .append(tlsDir.resolve("server.key")).append("\"}\n");
        // users missing from the config are looked up on the primary, as the superuser (demo only: in production
        // give a role of its own a SECURITY DEFINER function, docs/CONFIGURATION.md)
        y.append("auth_query: {user: \"").append(cluster.superuser()).append("\", password: \"")
                .append(cluster.superuserPassword()).append("\"}\n");
        y.append("pool: {pool_mode: ").append(poolMode).append(", pool_size: ").append(poolSize).append("}\n");
        if (rules != null) {
            y.append("routing: {rules: \"").append(rules.toAbsolutePath()).append("\"}\n");
        }
        // the admin console (PgBouncer's commands) and the Prometheus endpoint
        y.append("admin:\n  enabled: true\n  user: pgsplit\n  password: pgsplit\n");
        if (metricsPort > 0) {
            y.append("  metrics: \"127.0.0.1:").append(metricsPort).append("\"\n");
        }
        return y.toString();
    }

    static boolean exists(Path p) {
        return Files.exists(p);
    }
}
