package io.pgsplit.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.pgsplit.config.ServerTlsConfig;
import io.pgsplit.config.ServerTlsMode;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * TLS from pgsplit to one database's servers: the client-side SslContext for its mode (prefer and require
 * do not check the certificate, as libpq without a root certificate; verify-ca checks the chain against
 * {@code ca_file}; verify-full also the host name, against the certificate's subject alternative names).
 * Used by {@link ServerTlsNegotiator}, which sends SSLRequest before the login.
 */
public final class ServerTls {
    private final ServerTlsMode mode;
    private final SslContext context;

    private ServerTls(ServerTlsMode mode, SslContext context) {
        this.mode = mode;
        this.context = context;
    }

    /** Null when the mode is disable. */
    public static ServerTls of(ServerTlsConfig config) throws SSLException {
        if (config == null || config.mode() == ServerTlsMode.DISABLE) {
            return null;
        }
        // verify-full: RFC 2818 / 6125 name checks (SAN IP address or DNS name); anything else: none (Netty 4.2
        // turns them on by default for clients, which would make verify-ca behave as verify-full)
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(TlsProvider.get()).protocols("TLSv1.3", "TLSv1.2")
                .endpointIdentificationAlgorithm(config.mode() == ServerTlsMode.VERIFY_FULL ? "HTTPS" : null);
        if (config.mode().verifies()) {
            b.trustManager(config.caFile().toFile());
        } else {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE);
        }
        return new ServerTls(config.mode(), b.build());
    }

    public ServerTlsMode mode() {
        return mode;
    }

    SslHandler newHandler(Channel channel, String host, int port) {
        SSLEngine engine = context.newEngine(channel.alloc(), host, port);
        return new SslHandler(engine);
    }

    @Override
    public String toString() {
        return "ServerTls[" + mode.yamlName() + "]";
    }
}
