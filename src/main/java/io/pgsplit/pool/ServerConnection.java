package io.pgsplit.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.topology.Node;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logged-in connection to a PostgreSQL server, owned by a {@link Pool}. While a client session
 * holds it, every byte the server sends goes to the attached {@link ServerDataListener}.
 *
 * <p>Threading: every public method may be called from any thread. {@link #write}, {@link #flush},
 * {@link #setAutoRead} and {@link #close} are marshalled onto the connection's event loop by Netty,
 * in call order. Listener callbacks always run on {@link #eventLoop()}. {@link #state} is not
 * synchronized: only the session holding the connection (or the pool while it is idle) touches it.
 */
public final class ServerConnection {
    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

    /** pgsplit's knowledge of the session on this server connection (params, prepared statements). */
    public final ServerSessionState state;

    private final Pool pool;
    private final Channel channel;
    private final long createdNanos = System.nanoTime();
    private final Map<String, String> loginParameters = new HashMap<>();
    private volatile Map<String, String> loginParametersView = Map.of();
    private volatile int backendProcessId;
    private volatile int backendSecretKey;
    private volatile ServerDataListener listener;
    /** Set once the closed notification went out, so channelInactive after exceptionCaught is not repeated. Loop-confined. */
    private boolean closeNotified;
    /** Splits data that arrives while no listener is attached. Loop-confined. */
    private MessageSplitter unattendedSplitter;

    // Pool bookkeeping, guarded by the pool's lock.
    long idleSinceNanos;
    /** In the pool's idle list (guards against a double release). */
    boolean inIdleList;
    boolean discarded;

    ServerConnection(Pool pool, Channel channel, ServerSessionState state) {
        this.pool = pool;
        this.channel = channel;
        this.state = state;
    }

    public Channel channel() {
        return channel;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public Node node() {
        return pool.node();
    }

    public Pool pool() {
        return pool;
    }

    /** The server's BackendKeyData, used to forward a client's cancel to this connection. */
    public int backendProcessId() {
        return backendProcessId;
    }

    public int backendSecretKey() {
        return backendSecretKey;
    }

    /** ParameterStatus values received at login (server_version, TimeZone, ...). Unmodifiable. */
    public Map<String, String> loginParameters() {
        return loginParametersView;
    }

    /** Nanos (System.nanoTime) when the connection was opened, for server_lifetime. */
    public long createdNanos() {
        return createdNanos;
    }

    /** Routes the server's bytes to {@code listener} from now on (null detaches; data is then discarded and logged). */
    public void attach(ServerDataListener listener) {
        this.listener = listener;
    }

    /** Writes without flushing; the caller flushes once per batch. */
    public void write(ByteBuf msg) {
        channel.write(msg, channel.voidPromise());
    }

    public void flush() {
        channel.flush();
    }

    public boolean isWritable() {
        return channel.isWritable();
    }

    /** Pauses or resumes reading from the server (back-pressure from a slow client). */
    public void setAutoRead(boolean autoRead) {
        channel.config().setAutoRead(autoRead);
    }

    public boolean isActive() {
        return channel.isActive();
    }

    /** Sends a CancelRequest for this connection's running query over a new connection to the same server. */
    public void cancel() {
        CancelSender.cancel(channel.eventLoop(), node(), backendProcessId, backendSecretKey);
    }

    /** Closes the connection and removes it from its pool. */
    public void close(String reason) {
        if (channel.isOpen()) {
            log.debug("closing {}: {}", this, reason);
        }
        channel.close();
    }

    @Override
    public String toString() {
        return "server connection " + backendProcessId + " to " + pool.node() + " (" + pool.database() + "/"
                + pool.user() + ")";
    }

    // ---- login (called by ServerLogin on the event loop) ----

    void loginParameter(String name, String value) {
        loginParameters.put(name, value);
        state.reportedParams.put(name, value);
    }

    void backendKey(int processId, int secretKey) {
        this.backendProcessId = processId;
        this.backendSecretKey = secretKey;
    }

    void loginDone() {
        loginParametersView = Collections.unmodifiableMap(new HashMap<>(loginParameters));
    }

    /**
     * Replaces the login handlers with the raw data handler. Called on the event loop from inside the
     * login handler's channelRead of ReadyForQuery. The raw handler goes in at once and the login
     * handler passes on whatever the decoder still emits; the login handler and the frame decoder
     * leave in a later task, when the decoder is not in the middle of a read. Removing the decoder
     * from inside its own read would hand its leftover partial bytes on before the whole messages it
     * decoded in the same read, and so scramble the stream.
     */
    void switchToRawMode(ChannelHandlerContext loginCtx, String frameDecoderName) {
        channel.pipeline().addLast("server-data", new RawHandler());
        loginCtx.executor().execute(() -> {
            if (loginCtx.pipeline().context(loginCtx.handler()) != null) {
                loginCtx.pipeline().remove(loginCtx.handler());
            }
            if (loginCtx.pipeline().get(frameDecoderName) != null) {
                loginCtx.pipeline().remove(frameDecoderName); // its partial message goes on to the raw handler
            }
        });
    }

    // ---- after login ----

    private void deliver(ByteBuf data) {
        ServerDataListener l = listener;
        if (l != null) {
            l.onServerData(this, data);
        } else {
            unattended(data);
        }
    }

    /**
     * Data while idle in the pool (or between sessions). Notices, ParameterStatus and notifications are
     * harmless; an ErrorResponse (FATAL: admin shutdown, idle_session_timeout, ...) or anything else
     * means the connection is no use any more.
     */
    private void unattended(ByteBuf data) {
        if (unattendedSplitter == null) {
            unattendedSplitter = new MessageSplitter();
        }
        unattendedSplitter.feed(data, msg -> {
            byte type = msg.getByte(msg.readerIndex());
            switch (type) {
                case MessageType.Backend.NOTICE_RESPONSE ->
                        log.debug("{} idle, server notice dropped: {}", this, ErrorFields.parse(msg));
                case MessageType.Backend.NOTIFICATION_RESPONSE -> log.debug("{} idle, notification dropped", this);
                case MessageType.Backend.PARAMETER_STATUS -> {
                    int at = msg.readerIndex() + 5;
                    String name = Bufs.getCString(msg, at);
                    String value = Bufs.getCString(msg, at + name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1);
                    state.reportedParams.put(name, value);
                }
                case MessageType.Backend.ERROR_RESPONSE -> {
                    log.info("{} idle, server sent {}: closing it", this, ErrorFields.parse(msg));
                    close("error while idle");
                }
                default -> {
                    log.warn("{} idle, unexpected message '{}' from server: closing it", this,
                            FrameDecoder.printable(type));
                    close("unexpected data while idle");
                }
            }
        });
        if (unattendedSplitter.hasPartialMessage()) {
            // A session attaching now would get the rest of a message without its start. Rare (the
            // server writes such messages whole); not worth reassembling across an attach.
            unattendedSplitter.release();
            close("partial message while idle");
        }
    }

    private void closed(Throwable cause) {
        if (closeNotified) {
            return;
        }
        closeNotified = true;
        if (unattendedSplitter != null) {
            unattendedSplitter.release();
        }
        ServerDataListener l = listener;
        if (l != null) {
            l.onServerClosed(this, cause);
        }
    }

    /** After login: hands the server's bytes and channel events to the attached listener. */
    private final class RawHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf) {
                deliver(buf);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed(null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof java.io.IOException) {
                log.debug("{} failed", ServerConnection.this, cause);
            } else {
                // Not the network: a bug in handling the server's bytes (the session's, which runs in this
                // read). Say so loudly rather than pass it off as a lost connection.
                log.warn("{} failed: unexpected error", ServerConnection.this, cause);
            }
            closed(cause);
            ctx.close();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ServerDataListener l = listener;
            if (l != null) {
                l.onServerWritabilityChanged(ServerConnection.this, ctx.channel().isWritable());
            }
        }
    }
}
