package io.pgsplit.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL 17's direct TLS ({@code sslnegotiation=direct}): the client starts the TLS handshake at once
 * instead of sending SSLRequest. A TLS record starts with byte 0x16 (handshake), which no PostgreSQL
 * start-up packet can (its first byte is the high byte of a length under 10,000). On that byte this handler
 * puts an SslHandler in front of itself; the handshake must then negotiate ALPN {@code postgresql}, as
 * PostgreSQL requires, so a client of another protocol cannot be confused for ours. Otherwise it leaves.
 */
public final class DirectTlsDetector extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(DirectTlsDetector.class);
    private static final byte TLS_HANDSHAKE_RECORD = 0x16;

    private final ClientTls tls;
    private boolean decided;

    public DirectTlsDetector(ClientTls tls) {
        this.tls = tls;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (decided) {
            ctx.fireChannelRead(msg);   // decrypted bytes on their way to the frame decoder
            return;
        }
        ByteBuf buf = (ByteBuf) msg;
        if (!buf.isReadable()) {
            buf.release();
            return;
        }
        decided = true;
        if (buf.getByte(buf.readerIndex()) == TLS_HANDSHAKE_RECORD && tls.enabled()) {
            ctx.pipeline().addBefore(ctx.name(), ClientTls.HANDLER_NAME, tls.newHandler(ctx.channel(), false));
            ctx.pipeline().fireChannelRead(buf);   // from the head: through the new SslHandler, then us
        } else {
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(buf);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
            String alpn = ctx.pipeline().get(SslHandler.class).applicationProtocol();
            if (!ClientTls.ALPN_PROTOCOL.equals(alpn)) {
                log.info("client {}: direct TLS without ALPN \"{}\" refused", ctx.channel().remoteAddress(),
                        ClientTls.ALPN_PROTOCOL);
                ctx.close();
                return;
            }
            ctx.pipeline().remove(this);
        }
        ctx.fireUserEventTriggered(evt);
    }
}
