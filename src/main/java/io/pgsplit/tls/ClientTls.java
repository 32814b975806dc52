package io.pgsplit.tls;

import io.netty.channel.Channel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.pgsplit.config.ClientTlsConfig;
import io.pgsplit.config.ClientTlsMode;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS between clients and pgsplit: the server-side SslContext built from the configured PEM files
 * (rebuilt by {@link #reload()}, on SIGHUP), the answer to SSLRequest, and PostgreSQL 17's direct TLS
 * (see {@link DirectTlsDetector}). TLS 1.2 and 1.3 only (BoringSSL or the JDK, {@link TlsProvider}); ALPN offers {@code postgresql}, as
 * PostgreSQL 17 does.
 *
 * <p>A connection that was handed an SslContext keeps it: a reload applies to new connections.
 */
public final class ClientTls {
    private static final Logger log = LoggerFactory.getLogger(ClientTls.class);
    /** The ALPN protocol PostgreSQL 17 registered; direct TLS requires it. */
    public static final String ALPN_PROTOCOL = "postgresql";
    static final String HANDLER_NAME = "tls";
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final ClientTlsConfig config;
    private volatile SslContext context;

    /** @throws SSLException if TLS is enabled and the files do not make a usable context */
    public ClientTls(ClientTlsConfig config) throws SSLException {
        this.config = config;
        this.context = config.enabled() ? build(config) : null;
        if (context != null) {
            log.info("client TLS {} with certificate {}{}", config.mode().yamlName(), config.certFile(),
                    config.caFile() == null ? "" : ", client certificates checked against " + config.caFile());
        }
    }

    /** No client TLS (SSLRequest is answered 'N'). */
    public static ClientTls disabled() {
        try {
            return new ClientTls(ClientTlsConfig.defaults());
        } catch (SSLException e) {
            throw new AssertionError(e);
        }
    }

    public boolean enabled() {
        return context != null;
    }

    public ClientTlsMode mode() {
        return config.mode();
    }

    /**
     * Re-reads the certificate, key and CA files; new connections use them. A broken file is logged and
     * the previous context stays. Returns whether the new files were installed.
     */
    public boolean reload() {
        if (!config.enabled()) {
            return false;
        }
        try {
            context = build(config);
            log.info("client TLS certificate reloaded from {}", config.certFile());
            return true;
        } catch (SSLException | RuntimeException e) {
            log.error("client TLS certificate NOT reloaded, keeping the previous one: {}", e.getMessage());
            return false;
        }
    }

    static SslContext build(ClientTlsConfig c) throws SSLException {
        try {
            SslContextBuilder b = SslContextBuilder.forServer(c.certFile().toFile(), c.keyFile().toFile())
                    .sslProvider(TlsProvider.get())
                    .protocols(PROTOCOLS)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ALPN_PROTOCOL));
            if (c.caFile() != null) {
                b.trustManager(c.caFile().toFile()).clientAuth(ClientAuth.OPTIONAL);
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            // Netty reports unreadable PEM this way
            throw new SSLException("cannot use " + c.certFile() + " / " + c.keyFile() + ": " + e.getMessage(), e);
        }
    }

    /** A handler for one new connection; {@code startTls}: let the first write ('S') out in plaintext. */
    SslHandler newHandler(Channel channel, boolean startTls) {
        return new SslHandler(context.newEngine(channel.alloc()), startTls);
    }

    /**
     * Answers an SSLRequest: 'N' when TLS is off (or already on: a second request is refused as PostgreSQL
     * does, by not upgrading twice), else 'S' and the TLS handshake starts. {@code bufferedAfterRequest} is
     * what the client sent after the request without waiting for the answer: plaintext a man in the middle
     * could have injected to run as if it came over TLS (CVE-2021-23214), so it is refused.
     *
     * @return an error message to send as FATAL, or null
     */
    public String answerSslRequest(Channel channel, int bufferedAfterRequest) {
        if (!enabled() || isTls(channel)) {
            channel.writeAndFlush(channel.alloc().buffer(1).writeByte('N'));
            return null;
        }
        if (bufferedAfterRequest > 0) {
            return "received unencrypted data after SSL request";
        }
        channel.pipeline().addFirst(HANDLER_NAME, newHandler(channel, true));
        channel.writeAndFlush(channel.alloc().buffer(1).writeByte('S'));
        return null;
    }

    /** Whether a plaintext client may go on to log in (false in require mode). */
    public boolean permits(Channel channel) {
        return config.mode() != ClientTlsMode.REQUIRE || isTls(channel);
    }

    public static boolean isTls(Channel channel) {
        return channel.pipeline().get(SslHandler.class) != null;
    }

    /** The connection's TLS handler, or null. */
    public static SslHandler handler(Channel channel) {
        return channel.pipeline().get(SslHandler.class);
    }

    /**
     * The common name of the certificate the client presented and the handshake verified against
     * {@code tls.ca_file}, or null (no TLS, no certificate, or no CN).
     */
    public static String verifiedClientCn(Channel channel) {
        SslHandler h = handler(channel);
        if (h == null) {
            return null;
        }
        try {
            java.security.cert.Certificate[] peer = h.engine().getSession().getPeerCertificates();
            if (peer.length == 0 || !(peer[0] instanceof java.security.cert.X509Certificate cert)) {
                return null;
            }
            for (javax.naming.ldap.Rdn rdn : new javax.naming.ldap.LdapName(
                    cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
            return null;
        } catch (javax.net.ssl.SSLPeerUnverifiedException | javax.naming.InvalidNameException e) {
            return null;
        }
    }

    /** A failed TLS handshake (bad certificate, unsupported version, not TLS at all): the client's fault. */
    public static boolean isHandshakeFailure(Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        return c instanceof SSLHandshakeException || c instanceof javax.net.ssl.SSLException
                || c instanceof io.netty.handler.ssl.NotSslRecordException;
    }
}
