package io.pgsplit.testing;

import io.pgsplit.config.ConfigLoader;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.server.Pgsplit;
import java.io.IOException;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * pgsplit started in-process in front of the shared test cluster ({@link PgClusterExtension}).
 * Database {@code app} has the cluster's primary and replicas r1, r2; users are the fixture's:
 * {@code app}/{@code app} (scram-sha-256), {@code md5user}/{@code md5pass} (md5),
 * {@code trustuser} (trust) and {@code plainuser}/{@code plainpass} (the server asks cleartext).
 *
 * <pre>
 * try (RouterFixture router = RouterFixture.builder(cluster).pool("pool_mode: transaction, pool_size: 5").start()) {
 *     try (Connection c = router.connect()) { ... }
 * }
 * </pre>
 * Section strings are the inside of a YAML flow mapping ({@code "key: value, key: value"}).
 */
public final class RouterFixture implements AutoCloseable {
    private final LocalPgCluster cluster;
    private final Pgsplit router;
    private final PgsplitConfig config;

    private RouterFixture(LocalPgCluster cluster, Pgsplit router, PgsplitConfig config) {
        this.cluster = cluster;
        this.router = router;
        this.config = config;
    }

    public static Builder builder(LocalPgCluster cluster) {
        return new Builder(cluster);
    }

    /** Transaction pooling, splitting on, default pool size. */
    public static RouterFixture start(LocalPgCluster cluster) throws Exception {
        return builder(cluster).start();
    }

    public static final class Builder {
        private final LocalPgCluster cluster;
        private final Map<String, String> sections = new LinkedHashMap<>();
        private String extraYaml = "";
        private final Map<String, String> replicaGroups = new LinkedHashMap<>();
        private String extraUsers = "";

        private Builder(LocalPgCluster cluster) {
            this.cluster = cluster;
        }

        public Builder pool(String flowMapping) {
            sections.put("pool", flowMapping);
            return this;
        }

        public Builder routing(String flowMapping) {
            sections.put("routing", flowMapping);
            return this;
        }

        public Builder listen(String flowMapping) {
            sections.put("listen", flowMapping);
            return this;
        }

        /** Puts a replica in a group ({@code group:} of the replica), e.g. {@code replicaGroup("r2", "analytics")}. */
        public Builder replicaGroup(String replica, String group) {
            replicaGroups.put(replica, group);
            return this;
        }

        /** A routing-rules file: same as {@code routing("rules: <absolute path>")}. */
        public Builder rules(java.nio.file.Path file) {
            return routing("rules: \"" + file.toAbsolutePath() + "\"");
        }

        /**
         * More users, as lines of the {@code users:} block indented by two spaces, e.g.
         * {@code "  ro_user: {password: secret}\n"}.
         */
        public Builder users(String usersYaml) {
            extraUsers = usersYaml.endsWith("\n") ? usersYaml : usersYaml + "\n";
            return this;
        }

        /** Raw YAML appended as it is (for sections that need block style). */
        public Builder yaml(String yaml) {
            extraYaml = yaml;
            return this;
        }

        public String yamlText(int port) {
            StringBuilder y = new StringBuilder();
            y.append("listen: {host: 127.0.0.1, port: ").append(port);
            if (sections.containsKey("listen")) {
                y.append(", ").append(sections.get("listen"));
            }
            y.append("}\n");
            y.append("databases:\n  app:\n    primary: \"127.0.0.1:").append(cluster.primaryPort()).append("\"\n");
            y.append("    replicas:\n");
            List<String> names = cluster.replicaNames();
            for (int i = 0; i < names.size(); i++) {
                y.append("      - {name: ").append(names.get(i)).append(", host: 127.0.0.1, port: ")
                        .append(cluster.replicaPorts().get(i));
                if (replicaGroups.containsKey(names.get(i))) {
                    y.append(", group: ").append(replicaGroups.get(names.get(i)));
                }
                y.append("}\n");
            }
            y.append("users:\n");
            y.append("  app: {password: app}\n");
            y.append("  md5user: {auth: md5, password: md5pass}\n");
            y.append("  trustuser: {auth: trust, server_password: \"\"}\n");
            y.append("  plainuser: {password: plainpass}\n");
            y.append(extraUsers);
            for (Map.Entry<String, String> e : sections.entrySet()) {
                if (!e.getKey().equals("listen")) {
                    y.append(e.getKey()).append(": {").append(e.getValue()).append("}\n");
                }
            }
            y.append(extraYaml);
            return y.toString();
        }

        public RouterFixture start() throws Exception {
            int port = freePort();
            PgsplitConfig config = ConfigLoader.parse(yamlText(port), "test.yaml");
            Pgsplit router = Pgsplit.start(config);
            router.catalog().refreshAll().get();
            return new RouterFixture(cluster, router, config);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public int port() {
        return router.port();
    }

    public String host() {
        return "127.0.0.1";
    }

    public Pgsplit router() {
        return router;
    }

    public PgsplitConfig config() {
        return config;
    }

    public LocalPgCluster cluster() {
        return cluster;
    }

    /** {@code postgresql://app:app@127.0.0.1:PORT/app}, for psql and pgbench. */
    public String uri() {
        return "postgresql://app:app@127.0.0.1:" + port() + "/app";
    }

    public String jdbcUrl() {
        return Jdbc.url(host(), port(), PgClusterExtension.DB);
    }

    /** A pgjdbc connection as {@code app} through pgsplit. */
    public Connection connect() throws SQLException {
        return Jdbc.connect(host(), port(), PgClusterExtension.DB, PgClusterExtension.APP_USER,
                PgClusterExtension.APP_PASSWORD);
    }

    /** With pgjdbc properties, e.g. {@code Map.of("prepareThreshold", "1")}. */
    public Connection connect(Map<String, String> extra) throws SQLException {
        return Jdbc.connect(host(), port(), PgClusterExtension.DB, PgClusterExtension.APP_USER,
                PgClusterExtension.APP_PASSWORD, extra);
    }

    /** A direct pgjdbc connection (bypassing pgsplit) to a node: "primary", "r1", "r2". */
    public Connection direct(String node) throws SQLException {
        return Jdbc.connect(cluster, node, PgClusterExtension.DB, cluster.superuser(), cluster.superuserPassword());
    }

    @Override
    public void close() {
        router.close();
    }
}
