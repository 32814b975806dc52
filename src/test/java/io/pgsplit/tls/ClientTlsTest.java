package io.pgsplit.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Client TLS with real clients: psql, pgbench and pgjdbc with sslmode=require and verify-full against a
 * test CA, refused plaintext in require mode, PostgreSQL 17's direct TLS with ALPN, the certificate
 * reloaded on SIGHUP, and the injected-plaintext-after-SSLRequest attack refused.
 */
@ExtendWith(PgClusterExtension.class)
class ClientTlsTest {
    static TlsFiles files;
    static RouterFixture router;

    @BeforeAll
    static void start(LocalPgCluster cluster) throws Exception {
        files = TlsFiles.create("pgsplit test CA");
        CertificateGenerator.issue(files.ca, "certuser", List.of()).write(files.dir.resolve("certuser.crt"),
                files.dir.resolve("certuser.key"));
        CertificateGenerator.issue(files.ca, "someone_else", List.of()).write(files.dir.resolve("other.crt"),
                files.dir.resolve("other.key"));
        router = RouterFixture.builder(cluster)
                .users("  certuser: {auth: cert, server_user: app, server_password: app}\n")
                .yaml(files.yaml("require") + "  ca_file: \"" + files.caFile + "\"\n").start();
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    static String conninfo(String sslmode, Path rootCert) {
        return "host=127.0.0.1 port=" + router.port() + " dbname=app user=app sslmode=" + sslmode
                + (rootCert == null ? "" : " sslrootcert=" + rootCert);
    }

    /** Runs a client program; returns exit code and output. */
    static Object[] run(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", PgClusterExtension.APP_PASSWORD);
        pb.environment().put("PGSSLCERT", "/nonexistent");   // never pick up a ~/.postgresql client key
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        return new Object[] {p.exitValue(), new String(out)};
    }

    static String psql(String conninfo, String sql) throws Exception {
        Object[] r = run(List.of("psql", "-X", "-At", "-d", conninfo, "-c", sql));
        assertEquals(0, r[0], String.valueOf(r[1]));
        return ((String) r[1]).trim();
    }

    @Test
    void psqlWithSslmodeRequireAndVerifyFull() throws Exception {
        assertEquals("t|1", psql(conninfo("require", null), "SELECT pg_is_in_recovery() IS NOT NULL, 1"));
        assertEquals("1", psql(conninfo("verify-full", files.caFile), "SELECT 1"));
        // psql's own view of the connection: TLS 1.2 or 1.3
        String info = psql(conninfo("verify-full", files.caFile), "\\conninfo");
        assertTrue(info.contains("SSL connection (protocol: TLSv1."), info);
    }

    @Test
    void channelBindingRequireWithPsql() throws Exception {
        assertEquals("app", psql(conninfo("verify-full", files.caFile) + " channel_binding=require", "SELECT current_user"));
        assertEquals("1", psql(conninfo("require", null) + " channel_binding=require", "SELECT 1"));
    }

    @Test
    void channelBindingRequireWithPgjdbc() throws Exception {
        try (Connection c = router.connect(Map.of("sslmode", "verify-full", "sslrootcert", files.caFile.toString(),
                "channelBinding", "require"))) {
            assertEquals("app", io.pgsplit.testing.Jdbc.queryValue(c, "SELECT current_user"));
        }
    }

    @Test
    void certAuthenticationMapsTheCommonNameToTheUser() throws Exception {
        String base = "host=127.0.0.1 port=" + router.port() + " dbname=app user=certuser sslmode=verify-full sslrootcert="
                + files.caFile;
        Object[] ok = run(List.of("psql", "-X", "-At", "-d", base + " sslcert=" + files.dir.resolve("certuser.crt")
                + " sslkey=" + files.dir.resolve("certuser.key"), "-c", "SELECT current_user"));
        assertEquals(0, ok[0], String.valueOf(ok[1]));
        assertEquals("app", ((String) ok[1]).trim());   // logged in to the servers as its server_user
        Object[] wrongCn = run(List.of("psql", "-X", "-At", "-d", base + " sslcert=" + files.dir.resolve("other.crt")
                + " sslkey=" + files.dir.resolve("other.key"), "-c", "SELECT 1"));
        assertNotEquals(0, wrongCn[0]);
        assertTrue(((String) wrongCn[1]).contains("certificate authentication failed for user \"certuser\""),
                (String) wrongCn[1]);
        Object[] none = run(List.of("psql", "-X", "-At", "-d", base, "-c", "SELECT 1"));
        assertNotEquals(0, none[0]);
        assertTrue(((String) none[1]).contains("certificate authentication failed for user \"certuser\""),
                (String) none[1]);
    }

    @Test
    void verifyFullFailsAgainstAnotherCa() throws Exception {
        TlsFiles other = TlsFiles.create("some other CA");
        Object[] r = run(List.of("psql", "-X", "-At", "-d", conninfo("verify-full", other.caFile), "-c", "SELECT 1"));
        assertNotEquals(0, r[0]);
        assertTrue(((String) r[1]).contains("certificate verify failed"), (String) r[1]);
    }

    @Test
    void plaintextIsRefusedInRequireMode() throws Exception {
        Object[] r = run(List.of("psql", "-X", "-At", "-d", conninfo("disable", null), "-c", "SELECT 1"));
        assertNotEquals(0, r[0]);
        assertTrue(((String) r[1]).contains("pgsplit accepts only TLS connections"), (String) r[1]);
    }

    @Test
    void pgbenchOverTls() throws Exception {
        for (String mode : List.of("require", "verify-full")) {
            List<String> cmd = new ArrayList<>(List.of("pgbench", "-n", "-c", "2", "-t", "20",
                    "-f", writeScript().toString()));
            cmd.add(conninfo(mode, mode.equals("verify-full") ? files.caFile : null));
            Object[] r = run(cmd);
            assertEquals(0, r[0], String.valueOf(r[1]));
            assertTrue(((String) r[1]).contains("number of transactions actually processed: 40/40"), (String) r[1]);
        }
    }

    private static Path writeScript() throws Exception {
        Path script = files.dir.resolve("select.sql");
        Files.writeString(script, "SELECT inet_server_port(), pg_is_in_recovery();\n");
        return script;
    }

    @Test
    void pgjdbcWithVerifyFull() throws Exception {
        try (Connection c = router.connect(Map.of("sslmode", "verify-full", "sslrootcert", files.caFile.toString()));
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            assertTrue(rs.next());
        }
        TlsFiles other = TlsFiles.create("third CA");
        assertThrows(SQLException.class, () -> router.connect(Map.of("sslmode", "verify-full",
                "sslrootcert", other.caFile.toString())).close());
    }

    @Test
    void pgjdbcDirectTls() throws Exception {
        try (Connection c = router.connect(Map.of("sslmode", "verify-full", "sslrootcert", files.caFile.toString(),
                "sslNegotiation", "direct"));
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 42")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1));
        }
    }

    @Test
    void directTlsWithoutAlpnIsRefused() throws Exception {
        SSLSocket s = (SSLSocket) sslContext().getSocketFactory().createSocket("127.0.0.1", router.port());
        s.setSoTimeout(10_000);
        SSLParameters p = s.getSSLParameters();
        p.setApplicationProtocols(new String[] {"http/1.1"});
        s.setSSLParameters(p);
        try (s) {
            s.startHandshake();
            // the server closes right after the handshake: reading gives end of stream or an error
            int b;
            try {
                b = s.getInputStream().read();
            } catch (java.io.IOException e) {
                b = -1;
            }
            assertEquals(-1, b);
        } catch (javax.net.ssl.SSLException e) {
            // also acceptable: the handshake itself refused
        }
    }

    @Test
    void plaintextSentRightAfterSslRequestIsRefused() throws Exception {
        try (Socket s = new Socket("127.0.0.1", router.port())) {
            s.setSoTimeout(10_000);
            // SSLRequest and, without waiting for the answer, the start of something else: one write, one segment
            java.nio.ByteBuffer both = java.nio.ByteBuffer.allocate(16).putInt(8).putInt(80877103).putInt(8).putInt(196608);
            s.getOutputStream().write(both.array());
            s.getOutputStream().flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            int first = in.read();
            assertEquals('E', first, "expected an ErrorResponse rather than 'S'");
            byte[] rest = in.readAllBytes();
            assertTrue(new String(rest).contains("unencrypted data after SSL request"));
        }
    }

    @Test
    void certificateReloadsOnSighup() throws Exception {
        assumeTrue(io.pgsplit.server.PgsplitTestAccess.hangupHandled(), "SIGHUP handling unavailable in this JVM");
        TlsFiles second = TlsFiles.create("second CA");
        try {
            files.issueServer(second.ca);
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid())).start();
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Object[] r;
            do {
                r = run(List.of("psql", "-X", "-At", "-d", conninfo("verify-full", second.caFile), "-c", "SELECT 1"));
            } while (!r[0].equals(0) && System.nanoTime() < deadline);
            assertEquals(0, r[0], "new certificate not served after SIGHUP: " + r[1]);
            r = run(List.of("psql", "-X", "-At", "-d", conninfo("verify-full", files.caFile), "-c", "SELECT 1"));
            assertNotEquals(0, r[0], "the old CA still verifies");
        } finally {
            files.issueServer(files.ca);
            router.router().context().clientTls().reload();
        }
    }

    private static SSLContext sslContext() throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", files.ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, tmf.getTrustManagers(), null);
        return c;
    }
}
