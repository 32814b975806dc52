package io.pgsplit.pool;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.pgsplit.protocol.Messages;
import io.pgsplit.topology.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a CancelRequest to a server the way PostgreSQL wants it: over a new connection that carries
 * nothing else and is closed right after. Fire and forget: the server never answers a cancel, and
 * failures are only logged at debug (the query simply runs on).
 */
public final class CancelSender {
    private static final Logger log = LoggerFactory.getLogger(CancelSender.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private CancelSender() {
    }

    public static void cancel(EventLoopGroup group, Node node, int processId, int secretKey) {
        cancel(group, node.host(), node.port(), node.toString(), processId, secretKey);
    }

    /** The same to any address: also how a pgsplit passes a cancel to the peer instance that owns the key. */
    public static void cancel(EventLoopGroup group, String host, int port, String node, int processId, int secretKey) {
        ChannelFuture connect = new Bootstrap()
                .group(group)
                .channel(Transports.socketChannelFor(group))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new ChannelInboundHandlerAdapter()) // whatever comes back is dropped by the tail
                .connect(host, port);
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                log.debug("cancel for backend {} on {} not sent: {}", processId, node, f.cause().toString());
                return;
            }
            f.channel().writeAndFlush(Messages.cancelRequest(processId, secretKey))
                    .addListener((ChannelFuture w) -> {
                        if (!w.isSuccess()) {
                            log.debug("cancel for backend {} on {} failed: {}", processId, node, w.cause().toString());
                        }
                    })
                    .addListener(ChannelFutureListener.CLOSE);
        });
    }
}
