package io.pgsplit.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.config.ConfigLoader;
import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.server.Pgsplit;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TLS from pgsplit to the servers: the test cluster's primary is switched to TLS with a certificate from a
 * test CA (SAN 127.0.0.1), the replicas stay plaintext. verify-full and verify-ca connect over TLS (the
 * server's pg_stat_ssl says so), a wrong CA or a certificate for another name is refused with a message
 * saying why, require refuses a server without TLS, prefer falls back to plaintext.
 */
@ExtendWith(PgClusterExtension.class)
class ServerTlsTest {
    static LocalPgCluster cluster;
    static TlsFiles files;
    static TlsFiles otherCa;
    static Path localhostOnlyCa;

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        files = TlsFiles.create("server test CA");
        otherCa = TlsFiles.create("unrelated CA");
        Path data = c.dataDir(LocalPgCluster.PRIMARY);
        Files.copy(files.certFile, data.resolve("pgsplit-test-server.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(files.keyFile, data.resolve("pgsplit-test-server.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        chownToDataDirOwner(data, data.resolve("pgsplit-test-server.crt"), data.resolve("pgsplit-test-server.key"));
        c.execute("ALTER SYSTEM SET ssl_cert_file = 'pgsplit-test-server.crt';\n"
                + "ALTER SYSTEM SET ssl_key_file = 'pgsplit-test-server.key';\n"
                + "ALTER SYSTEM SET ssl = on;\nSELECT pg_reload_conf();");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"on".equals(c.query(LocalPgCluster.PRIMARY, "postgres", "SHOW ssl").trim())) {
            assertTrue(System.nanoTime() < deadline, "the primary did not turn TLS on");
            Thread.sleep(50);   // pg_reload_conf signals the postmaster; backends started later see the change
        }
    }

    private static void chownToDataDirOwner(Path dataDir, Path... files) throws Exception {
        var owner = Files.getOwner(dataDir);
        for (Path f : files) {
            Files.setOwner(f, owner);
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.execute("ALTER SYSTEM RESET ssl; ALTER SYSTEM RESET ssl_cert_file; ALTER SYSTEM RESET ssl_key_file;\n"
                    + "SELECT pg_reload_conf();");
        }
    }

    /** A router with database "app" on the primary only (or on replica r1), with {@code serverTls}. */
    static Pgsplit router(String node, String serverTls) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String yaml = "listen: {host: 127.0.0.1, port: " + port + "}\n"
                + "databases:\n  app:\n    primary: \"127.0.0.1:" + cluster.port(node) + "\"\n"
                + "    server_tls: {" + serverTls + "}\n"
                + "users:\n  app: {password: app}\n";
        return Pgsplit.start(ConfigLoader.parse(yaml, "server-tls.yaml"));
    }

    static Object serverSideSsl(Pgsplit router) throws SQLException {
        try (Connection c = Jdbc.connect("127.0.0.1", router.port(), "app", "app", "app")) {
            return Jdbc.queryValue(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        }
    }

    @Test
    void verifyFullAndVerifyCaConnectOverTls() throws Exception {
        for (String mode : List.of("verify-full", "verify-ca", "require", "prefer")) {
            try (Pgsplit r = router(LocalPgCluster.PRIMARY, "mode: " + mode + ", ca_file: \"" + files.caFile + "\"")) {
                assertEquals(true, serverSideSsl(r), mode);
            }
        }
        try (Pgsplit r = router(LocalPgCluster.PRIMARY, "mode: disable")) {
            assertEquals(false, serverSideSsl(r));
        }
    }

    @Test
    void aCertificateFromAnotherCaIsRefused() throws Exception {
        try (Pgsplit r = router(LocalPgCluster.PRIMARY, "mode: verify-full, ca_file: \"" + otherCa.caFile + "\"")) {
            SQLException e = assertThrows(SQLException.class, () -> serverSideSsl(r));
            assertTrue(e.getMessage().contains("TLS handshake failed (server_tls.mode verify-full)"), e.getMessage());
        }
    }

    @Test
    void verifyFullChecksTheHostName() throws Exception {
        // connect by "localhost": the certificate names 127.0.0.1 and localhost, so this works ...
        // ... and a certificate without the address pgsplit connects to does not
        TlsFiles wrongName = TlsFiles.create("names CA");
        CertificateGenerator.issue(wrongName.ca, "db.example", List.of("db.example")).write(wrongName.certFile,
                wrongName.keyFile);
        Path data = cluster.dataDir(LocalPgCluster.PRIMARY);
        Path crt = data.resolve("pgsplit-test-server.crt");
        Path key = data.resolve("pgsplit-test-server.key");
        try {
            Files.copy(wrongName.certFile, crt, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(wrongName.keyFile, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            chownToDataDirOwner(data, crt, key);
            cluster.execute("SELECT pg_reload_conf();");
            Thread.sleep(300);   // the postmaster reloads the certificate asynchronously after the signal
            try (Pgsplit r = router(LocalPgCluster.PRIMARY, "mode: verify-full, ca_file: \"" + wrongName.caFile + "\"")) {
                SQLException e = assertThrows(SQLException.class, () -> serverSideSsl(r));
                assertTrue(e.getMessage().contains("TLS handshake failed"), e.getMessage());
            }
            try (Pgsplit r = router(LocalPgCluster.PRIMARY, "mode: verify-ca, ca_file: \"" + wrongName.caFile + "\"")) {
                assertEquals(true, serverSideSsl(r), "verify-ca does not check the name");
            }
        } finally {
            Files.copy(files.certFile, crt, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(files.keyFile, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            chownToDataDirOwner(data, crt, key);
            cluster.execute("SELECT pg_reload_conf();");
            Thread.sleep(300);
        }
    }

    @Test
    void requireRefusesAServerWithoutTlsAndPreferFallsBack() throws Exception {
        // The server without TLS is the primary with ssl turned off for this test: pgsplit learns the roles
        // (issue 14), so a standby named as the primary would hold every statement waiting for a primary.
        primarySsl(false);
        try {
            try (Pgsplit r = router(LocalPgCluster.PRIMARY, "mode: require")) {
                SQLException e = assertThrows(SQLException.class, () -> serverSideSsl(r));
                assertTrue(e.getMessage().contains("server does not support TLS, but server_tls.mode is require"),
                        e.getMessage());
            }
            try (Pgsplit r = router(LocalPgCluster.PRIMARY, "mode: prefer")) {
                assertEquals(false, serverSideSsl(r));
            }
        } finally {
            primarySsl(true);
        }
    }

    private static void primarySsl(boolean on) throws Exception {
        String value = on ? "on" : "off";
        cluster.execute("ALTER SYSTEM SET ssl = " + value + ";\nSELECT pg_reload_conf();");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!value.equals(cluster.query(LocalPgCluster.PRIMARY, "postgres", "SHOW ssl").trim())) {
            assertTrue(System.nanoTime() < deadline, "the primary did not turn TLS " + value);
            Thread.sleep(50);   // pg_reload_conf signals the postmaster; backends started later see the change
        }
    }
}
