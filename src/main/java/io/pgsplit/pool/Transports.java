package io.pgsplit.pool;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * Picks the client socket channel class matching the transport of an event loop (epoll or NIO).
 * The epoll classes are looked up by name: they are only on the runtime class path (native jar).
 */
final class Transports {
    private static final Class<? extends IoHandler> EPOLL_HANDLER = load("io.netty.channel.epoll.EpollIoHandler");
    private static final Class<? extends SocketChannel> EPOLL_CHANNEL = load("io.netty.channel.epoll.EpollSocketChannel");

    private Transports() {
    }

    static Class<? extends SocketChannel> socketChannelFor(EventLoopGroup group) {
        if (EPOLL_HANDLER != null && EPOLL_CHANNEL != null && group instanceof IoEventLoopGroup io
                && io.isIoType(EPOLL_HANDLER)) {
            return EPOLL_CHANNEL;
        }
        return NioSocketChannel.class;
    }

    @SuppressWarnings("unchecked")
    private static <T> Class<? extends T> load(String name) {
        try {
            return (Class<? extends T>) Class.forName(name, false, Transports.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }
}
