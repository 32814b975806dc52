package io.pgsplit.tls;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A test CA and a server certificate it signed (SAN 127.0.0.1 and localhost), as PEM files in a directory. */
public final class TlsFiles {
    public final Path dir;
    public final Path caFile;
    public final Path certFile;
    public final Path keyFile;
    public final CertificateGenerator.Issued ca;

    private TlsFiles(Path dir, CertificateGenerator.Issued ca) {
        this.dir = dir;
        this.ca = ca;
        this.caFile = dir.resolve("ca.pem");
        this.certFile = dir.resolve("server.crt");
        this.keyFile = dir.resolve("server.key");
    }

    public static TlsFiles create(String caName) throws Exception {
        Path dir = Files.createTempDirectory("pgsplit-tls");
        TlsFiles f = new TlsFiles(dir, CertificateGenerator.certificateAuthority(caName));
        Files.writeString(f.caFile, CertificateGenerator.pem(f.ca.certificate()));
        f.issueServer(f.ca);
        return f;
    }

    /** (Re)writes server.crt/server.key, signed by {@code by}. */
    public void issueServer(CertificateGenerator.Issued by) throws Exception {
        CertificateGenerator.issue(by, "pgsplit-test-server", List.of("127.0.0.1", "localhost")).write(certFile, keyFile);
    }

    /** The {@code tls:} section for these files. */
    public String yaml(String mode) {
        return "tls:\n  mode: " + mode + "\n  cert_file: \"" + certFile + "\"\n  key_file: \"" + keyFile + "\"\n";
    }
}
