package io.pgsplit.pool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.SqlState;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a new server connection in: StartupMessage, the authentication exchange the server asks for
 * (trust, cleartext, MD5, SCRAM-SHA-256), then ParameterStatus and BackendKeyData up to the first
 * ReadyForQuery. Sits behind a {@link FrameDecoder} in TYPED mode and leaves the pipeline (with the
 * decoder) once logged in. Runs on the connection's event loop; completes {@code result} exactly once.
 */
final class ServerLogin extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ServerLogin.class);
    static final String FRAME_DECODER = "frames";
    /** Login messages are small; a bigger one means we are not talking to PostgreSQL. */
    static final int MAX_LOGIN_MESSAGE = 1 << 20;

    private final ServerConnection connection;
    private final ServerCredentials credentials;
    private final Duration timeout;
    private final Promise<ServerConnection> result;
    private ServerAuth.Scram scram;
    private ScheduledFuture<?> timeoutTask;
    /** After ReadyForQuery: everything is passed on to the raw handler until this handler leaves. */
    private boolean loggedIn;

    ServerLogin(ServerConnection connection, ServerCredentials credentials, Duration timeout,
                Promise<ServerConnection> result) {
        this.connection = connection;
        this.credentials = credentials;
        this.timeout = timeout;
        this.result = result;
    }

    private String server() {
        return connection.node().toString();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!timeout.isZero()) {
            timeoutTask = ctx.executor().schedule(() -> fail(ctx, SqlState.CONNECTION_FAILURE,
                    "no answer within " + timeout.toMillis() + " ms", null), timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", credentials.user());
        params.put("database", credentials.database());
        // The session code applies each client's own parameters; the name lets operators (and tests) find us.
        params.put("application_name", credentials.applicationName());
        ctx.writeAndFlush(Messages.startupMessage(params));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (loggedIn) {
            ctx.fireChannelRead(msg); // decoded after ReadyForQuery, before the switch: in order, to the raw handler
            return;
        }
        ByteBuf buf = (ByteBuf) msg;
        try {
            handle(ctx, buf);
        } catch (Exception e) {
            fail(ctx, e instanceof PoolException pe ? pe.sqlState() : SqlState.CONNECTION_FAILURE,
                    e.getMessage(), e);
        } finally {
            ReferenceCountUtil.release(buf);
        }
    }

    private void handle(ChannelHandlerContext ctx, ByteBuf msg) throws Exception {
        if (result.isDone()) {
            return; // failed already; the channel is closing
        }
        byte type = msg.getByte(msg.readerIndex());
        switch (type) {
            case MessageType.Backend.AUTHENTICATION -> authenticate(ctx, msg);
            case MessageType.Backend.PARAMETER_STATUS -> {
                int at = msg.readerIndex() + 5;
                String name = Bufs.getCString(msg, at);
                String value = Bufs.getCString(msg, at + name.getBytes(StandardCharsets.UTF_8).length + 1);
                connection.loginParameter(name, value);
            }
            case MessageType.Backend.BACKEND_KEY_DATA ->
                    connection.backendKey(msg.getInt(msg.readerIndex() + 5), msg.getInt(msg.readerIndex() + 9));
            case MessageType.Backend.ERROR_RESPONSE -> {
                ErrorFields error = ErrorFields.parse(msg);
                fail(ctx, error.sqlState().isEmpty() ? SqlState.CONNECTION_FAILURE : error.sqlState(),
                        error.message(), null);
            }
            case MessageType.Backend.NOTICE_RESPONSE -> log.debug("{} login notice: {}", server(), ErrorFields.parse(msg));
            case MessageType.Backend.NEGOTIATE_PROTOCOL_VERSION ->
                    log.debug("{} negotiated a lower protocol minor version; startup options it ignored are fine", server());
            case MessageType.Backend.READY_FOR_QUERY -> {
                cancelTimeout();
                loggedIn = true;
                connection.loginDone();
                connection.switchToRawMode(ctx, FRAME_DECODER);
                result.trySuccess(connection);
            }
            default -> throw new PoolException(SqlState.PROTOCOL_VIOLATION,
                    "unexpected message '" + FrameDecoder.printable(type) + "' during login", null);
        }
    }

    private void authenticate(ChannelHandlerContext ctx, ByteBuf msg) throws Exception {
        int start = msg.readerIndex();
        int end = start + 1 + msg.getInt(start + 1);
        int code = msg.getInt(start + 5);
        byte[] data = ByteBufUtil.getBytes(msg, start + 9, end - (start + 9));
        switch (code) {
            case MessageType.AUTH_OK -> {
            }
            case MessageType.AUTH_CLEARTEXT -> ctx.writeAndFlush(Messages.passwordMessage(password("password")));
            case MessageType.AUTH_MD5 -> ctx.writeAndFlush(Messages.passwordMessage(
                    ServerAuth.md5(credentials.user(), password("md5"), data)));
            case MessageType.AUTH_SASL -> {
                List<String> mechanisms = mechanisms(data);
                if (!mechanisms.contains(ServerAuth.SCRAM_MECHANISM)) {
                    throw new PoolException(SqlState.FEATURE_NOT_SUPPORTED,
                            "server offers SASL mechanisms " + mechanisms + ", pgsplit supports only "
                                    + ServerAuth.SCRAM_MECHANISM, null);
                }
                scram = ServerAuth.scram(password("SCRAM-SHA-256"));
                ctx.writeAndFlush(Messages.saslInitialResponse(ServerAuth.SCRAM_MECHANISM, scram.clientFirst()));
            }
            case MessageType.AUTH_SASL_CONTINUE -> ctx.writeAndFlush(Messages.saslResponse(scram().clientFinal(data)));
            case MessageType.AUTH_SASL_FINAL -> scram().verifyServerFinal(data);
            default -> throw new PoolException(SqlState.FEATURE_NOT_SUPPORTED,
                    "server asks for authentication method " + code + " (pgsplit supports trust, password, md5 and "
                            + "scram-sha-256)", null);
        }
    }

    private ServerAuth.Scram scram() throws PoolException {
        if (scram == null) {
            throw new PoolException(SqlState.PROTOCOL_VIOLATION, "SASL continue without a SASL exchange", null);
        }
        return scram;
    }

    private String password(String method) throws PoolException {
        if (credentials.password() == null) {
            throw new PoolException(SqlState.INVALID_PASSWORD, "server asks for " + method + " authentication but no "
                    + "password is configured for user \"" + credentials.user() + "\"", null);
        }
        return credentials.password();
    }

    private static List<String> mechanisms(byte[] data) {
        List<String> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < data.length; i++) {
            if (data[i] == 0) {
                if (i > from) {
                    out.add(new String(data, from, i - from, StandardCharsets.UTF_8));
                }
                from = i + 1;
            }
        }
        return out;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (loggedIn) {
            ctx.fireChannelInactive();
            return;
        }
        fail(ctx, SqlState.CONNECTION_FAILURE, "server closed the connection", null);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (loggedIn) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        fail(ctx, SqlState.CONNECTION_FAILURE, String.valueOf(cause.getMessage()), cause);
    }

    private void fail(ChannelHandlerContext ctx, String sqlState, String reason, Throwable cause) {
        cancelTimeout();
        if (result.tryFailure(new PoolException(sqlState, "server login to " + server() + " failed: " + reason, cause))) {
            ctx.close();
        }
    }

    private void cancelTimeout() {
        if (timeoutTask != null) {
            timeoutTask.cancel(false);
            timeoutTask = null;
        }
    }
}
