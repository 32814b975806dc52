package io.pgsplit.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which TLS implementation pgsplit uses: BoringSSL through Netty's OpenSSL provider (netty-tcnative) when
 * its native library loads on this machine, which costs far less CPU per record than the JDK's SSLEngine
 * (benchmarks/results/2026-12-08-quick-tls-*.md), else the JDK's. {@code -Dpgsplit.tls.provider=jdk}
 * forces the JDK's.
 */
final class TlsProvider {
    private static final Logger log = LoggerFactory.getLogger(TlsProvider.class);
    private static volatile SslProvider chosen;

    private TlsProvider() {
    }

    static SslProvider get() {
        SslProvider p = chosen;
        if (p == null) {
            boolean jdk = "jdk".equalsIgnoreCase(System.getProperty("pgsplit.tls.provider"));
            p = !jdk && OpenSsl.isAvailable() && OpenSsl.isAlpnSupported() ? SslProvider.OPENSSL : SslProvider.JDK;
            if (p == SslProvider.OPENSSL) {
                log.info("TLS by {} (netty-tcnative)", OpenSsl.versionString());
            } else {
                log.info("TLS by the JDK{}", jdk ? " (pgsplit.tls.provider=jdk)"
                        : " (BoringSSL unavailable: " + OpenSsl.unavailabilityCause() + ")");
            }
            chosen = p;
        }
        return p;
    }
}
