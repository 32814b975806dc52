package io.pgsplit.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Locale;

/**
 * The {@code tls-server-end-point} channel binding of RFC 5929, section 4.1, which SCRAM-SHA-256-PLUS
 * uses: the hash of the server certificate the client saw, with the certificate's own signature hash,
 * except that MD5 and SHA-1 become SHA-256. libpq and pgjdbc compute the same on their side, so a proof
 * made for another server's certificate (a man in the middle) does not verify here.
 */
public final class ChannelBinding {
    public static final String TYPE = "tls-server-end-point";

    private ChannelBinding() {
    }

    /** The binding data of the connection's TLS session, or null when it is not on TLS. */
    public static byte[] tlsServerEndPoint(Channel channel) {
        SslHandler h = ClientTls.handler(channel);
        if (h == null) {
            return null;
        }
        Certificate[] local = h.engine().getSession().getLocalCertificates();
        if (local == null || local.length == 0 || !(local[0] instanceof X509Certificate cert)) {
            return null;
        }
        try {
            return MessageDigest.getInstance(hashOf(cert.getSigAlgName())).digest(cert.getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            return null;
        }
    }

    /** RFC 5929 4.1: the signature's hash, SHA-256 for MD5/SHA-1 (and for anything unrecognised). */
    static String hashOf(String signatureAlgorithm) {
        String a = signatureAlgorithm.toUpperCase(Locale.ROOT).replace("-", "");
        if (a.startsWith("SHA384")) {
            return "SHA-384";
        }
        if (a.startsWith("SHA512")) {
            return "SHA-512";
        }
        return "SHA-256";
    }
}
