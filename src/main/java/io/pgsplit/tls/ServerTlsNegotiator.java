package io.pgsplit.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.pgsplit.config.ServerTlsMode;
import java.io.IOException;

/**
 * The start of a server connection with server TLS on: sends SSLRequest, reads the one-byte answer, and on
 * 'S' puts an SslHandler at the head of the pipeline. Only once TLS is up (or, in prefer mode, refused) does
 * it pass channelActive on, so the login behind it starts on the right transport; then it leaves. A
 * server that refuses TLS where it is required, or a handshake that fails (wrong CA, wrong name), fails
 * the connection with an exception saying which.
 */
public final class ServerTlsNegotiator extends ChannelInboundHandlerAdapter {
    private static final int SSL_REQUEST_CODE = 80877103;

    private final ServerTls tls;
    private final String host;
    private final int port;
    private boolean answered;

    public ServerTlsNegotiator(ServerTls tls, String host, int port) {
        this.tls = tls;
        this.host = host;
        this.port = port;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.buffer(8).writeInt(8).writeInt(SSL_REQUEST_CODE));
        // channelActive goes on once TLS is decided
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (answered) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf buf = (ByteBuf) msg;
        try {
            if (!buf.isReadable()) {
                return;
            }
            answered = true;
            byte answer = buf.readByte();
            if (buf.isReadable()) {
                // the answer must come alone: bytes after it were not encrypted (as libpq checks since CVE-2021-23222)
                fail(ctx, "server sent unencrypted data after its answer to SSLRequest");
                return;
            }
            if (answer == 'S') {
                ctx.pipeline().addFirst("server-tls", tls.newHandler(ctx.channel(), host, port));
            } else if (answer == 'N' && tls.mode() == ServerTlsMode.PREFER) {
                ctx.pipeline().remove(this);
                ctx.fireChannelActive();
            } else if (answer == 'N') {
                fail(ctx, "server does not support TLS, but server_tls.mode is " + tls.mode().yamlName());
            } else {
                fail(ctx, "unexpected answer to SSLRequest (byte " + (answer & 0xff) + ")");
            }
        } finally {
            buf.release();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                ctx.pipeline().remove(this);
                ctx.fireChannelActive();
            } else {
                fail(ctx, "TLS handshake failed (server_tls.mode " + tls.mode().yamlName() + "): "
                        + rootMessage(done.cause()));
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ClientTls.isHandshakeFailure(cause)) {
            return;   // reported by the handshake completion event
        }
        ctx.fireExceptionCaught(cause);
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return String.valueOf(c.getMessage());
    }

    private void fail(ChannelHandlerContext ctx, String message) {
        ctx.fireExceptionCaught(new IOException(message));
        ctx.close();
    }
}
