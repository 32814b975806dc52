package io.pgsplit.server;

import io.pgsplit.session.RouterContext;
import io.netty.bootstrap.ServerBootstrap;
import io.pgsplit.session.LoginHandler;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.route.RouteRules;
import io.pgsplit.route.Router;
import io.pgsplit.tls.ClientTls;
import io.pgsplit.tls.DirectTlsDetector;
import java.net.InetSocketAddress;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening router: one event loop per core (epoll where available) serving both client and
 * server connections, so a client and its server connection usually share a thread.
 */
public final class PgsplitServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgsplitServer.class);
    /**
     * Netty's default receive-buffer sizing (the same adaptive guess, 2 KiB to start), but one
     * allocator for every client channel instead of one each: it only makes the per-channel handles
     * that hold the guesses. (A read buffer is returned to the pool after each read, so an idle
     * client holds none.)
     */
    private static final AdaptiveRecvByteBufAllocator RECV_ALLOCATOR = new AdaptiveRecvByteBufAllocator();

    private final PgsplitConfig config;
    private final EventLoopGroup group;
    private final PoolManager pools;
    private final RouterContext context;
    private Channel serverChannel;

    /**
     * listen.worker_threads, or by default one event loop per two cores (at least one). A router
     * mostly shares its machine with clients or servers, and every loop beyond one adds cross-thread
     * hand-offs (a client on one loop, its server connection on another) and more sleeps and wake-ups
     * per transaction: on a 2-core machine with pgbench and PostgreSQL beside it, one loop served
     * more transactions with less CPU each than two (benchmarks/results/ANALYSIS.md).
     */
    static int eventLoops(PgsplitConfig config) {
        int configured = config.listen().workerThreads();
        return configured > 0 ? configured : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    public PgsplitServer(PgsplitConfig config) {
        this(config, RouteRules.NONE, Set.of(), Set.of());
    }

    public PgsplitServer(PgsplitConfig config, RouteRules rules, Set<String> readOnlyFunctions,
                         Set<String> writeFunctions) {
        this.config = config;
        int threads = eventLoops(config);
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(threads, io);
        this.pools = new PoolManager(group);
        this.context = new RouterContext(config, pools, new Router(config.routing(), rules), readOnlyFunctions,
                writeFunctions);
        try {
            context.clientTls(new ClientTls(config.tls()));
        } catch (javax.net.ssl.SSLException e) {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
            throw new IllegalStateException("client TLS: " + e.getMessage(), e);
        }
        this.context.admin(new io.pgsplit.admin.AdminConsole(context, pools)); // issue 16: the admin console
    }

    public PgsplitServer start() throws InterruptedException {
        Class<? extends ServerSocketChannel> channelClass = Epoll.isAvailable()
                ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        int maxMessage = config.listen().maxMessageSize();
        if (config.listen().reusePort() && !Epoll.isAvailable()) {
            close();
            throw new IllegalStateException("listen.reuse_port needs Linux (epoll), which is not available here: "
                    + Epoll.unavailabilityCause());
        }
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECV_ALLOCATOR)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        context.clientOpened();
                        FrameDecoder decoder = new FrameDecoder(FrameDecoder.Mode.STARTUP, maxMessage);
                        if (context.clientTls().enabled()) { // issue 15: PostgreSQL 17 direct TLS
                            ch.pipeline().addLast("direct-tls", new DirectTlsDetector(context.clientTls()));
                        }
                        ch.pipeline().addLast("frames", decoder).addLast("login", new LoginHandler(context, decoder));
                    }
                });
        if (config.listen().reusePort()) {
            b.option(io.netty.channel.epoll.EpollChannelOption.SO_REUSEPORT, true); // rolling restart (issue 16)
        }
        try {
            serverChannel = b.bind(config.listen().host(), config.listen().port()).sync().channel();
        } catch (InterruptedException e) {
            close();
            throw e;
        } catch (Exception e) {
            // e.g. the port is taken: free the event loops (non-daemon threads) and say which address
            close();
            throw new IllegalStateException("cannot listen on " + config.listen().host() + ":"
                    + config.listen().port() + ": " + e.getMessage(), e);
        }
        log.info("pgsplit listening on {}:{} ({} event loops, {})", config.listen().host(), port(),
                eventLoops(config), Epoll.isAvailable() ? "epoll" : "nio");
        return this;
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public RouterContext context() {
        return context;
    }

    public PoolManager pools() {
        return pools;
    }

    public EventLoopGroup group() {
        return group;
    }

    /**
     * Stops taking new clients (SHUTDOWN WAIT_FOR_CLIENTS): the listening socket closes, connected clients go on.
     * {@link #awaitClose()} returns only after {@link #close()}.
     */
    public void stopAccepting() {
        accepting = false;
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(5, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private volatile boolean accepting = true;
    private final java.util.concurrent.CountDownLatch closedLatch = new java.util.concurrent.CountDownLatch(1);

    /** Blocks until the server channel closes. */
    public void awaitClose() throws InterruptedException {
        serverChannel.closeFuture().sync();
        if (!accepting) {
            closedLatch.await(); // draining (SHUTDOWN WAIT_FOR_CLIENTS): not over until close()
        }
    }

    @Override
    public void close() {
        // Every wait is bounded: a stop (Ctrl-C, SIGTERM) must end even if an event loop is stuck.
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(5, java.util.concurrent.TimeUnit.SECONDS);
        }
        pools.closeAll();
        context.close();
        closedLatch.countDown();
        if (!group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS)
                .awaitUninterruptibly(10, java.util.concurrent.TimeUnit.SECONDS)) {
            log.warn("event loops did not stop within 10 s; exiting anyway");
        }
    }
}
