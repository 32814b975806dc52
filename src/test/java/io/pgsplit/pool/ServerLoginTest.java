package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.protocol.Messages;
import io.pgsplit.topology.Node;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The login handler on an embedded channel: message handling and the switch to raw mode. */
class ServerLoginTest {
    private static EventLoopGroup group;

    @BeforeAll
    static void start() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Records what reaches the listener. */
    private static final class Recorder implements ServerDataListener {
        final ByteBuf received = Unpooled.buffer();
        Throwable closedWith;
        boolean closed;

        @Override
        public void onServerData(ServerConnection connection, ByteBuf data) {
            received.writeBytes(data);
            data.release();
        }

        @Override
        public void onServerClosed(ServerConnection connection, Throwable cause) {
            closed = true;
            closedWith = cause;
        }

        @Override
        public void onServerWritabilityChanged(ServerConnection connection, boolean writable) {
        }
    }

    private static ByteBuf concat(ByteBuf... parts) {
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf p : parts) {
            all.writeBytes(p);
            p.release();
        }
        return all;
    }

    @Test
    void bytesAfterReadyForQueryReachTheListenerInOrder() throws Exception {
        PoolManager manager = new PoolManager(group);
        ServerCredentials creds = new ServerCredentials("u", null, "db");
        Pool pool = manager.pool(new Node("primary", Node.Role.PRIMARY, "127.0.0.1", 1, 1, null), creds,
                PoolConfig.defaults());
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ServerConnection conn = new ServerConnection(pool, ch, new ServerSessionState(10));
        Promise<ServerConnection> login = ImmediateEventExecutor.INSTANCE.newPromise();
        Recorder recorder = new Recorder();
        login.addListener(f -> conn.attach(recorder)); // runs inside ReadyForQuery handling, like a waiting session
        ch.pipeline().addLast(ServerLogin.FRAME_DECODER, new FrameDecoder(FrameDecoder.Mode.TYPED, 1 << 20));
        ch.pipeline().addLast("login", new ServerLogin(conn, creds, Duration.ZERO, login));
        ch.register();

        ByteBuf startup = ch.readOutbound();
        assertTrue(ByteBufUtil.hexDump(startup).contains(ByteBufUtil.hexDump("application_name".getBytes())));
        startup.release();

        ByteBuf notice = Messages.notice("01000", "after login");
        ByteBuf status = Messages.parameterStatus("TimeZone", "UTC");
        byte[] expected = ByteBufUtil.getBytes(concat(notice.retainedDuplicate(), status.retainedDuplicate()));
        int half = status.readableBytes() / 2;
        ch.writeInbound(concat(Messages.authenticationOk(), Messages.parameterStatus("server_version", "15.0"),
                Messages.backendKeyData(42, 7), Messages.readyForQuery('I'), notice, status.readRetainedSlice(half)));
        assertTrue(login.isSuccess());
        assertEquals(42, conn.backendProcessId());
        assertEquals("15.0", conn.loginParameters().get("server_version"));
        ch.runPendingTasks(); // the switch to raw mode
        assertEquals(List.of("server-data"), ch.pipeline().names().subList(0, ch.pipeline().names().size() - 1));
        ch.writeInbound(status);
        byte[] got = ByteBufUtil.getBytes(recorder.received);
        assertEquals(ByteBufUtil.hexDump(expected), ByteBufUtil.hexDump(got));

        ch.close();
        assertTrue(recorder.closed);
        manager.closeAll();
    }

    @Test
    void loginErrorFailsWithTheServersMessage() throws Exception {
        PoolManager manager = new PoolManager(group);
        ServerCredentials creds = new ServerCredentials("u", null, "nodb");
        Pool pool = manager.pool(new Node("r1", Node.Role.REPLICA, "10.0.0.9", 5433, 1, null), creds,
                PoolConfig.defaults());
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ServerConnection conn = new ServerConnection(pool, ch, new ServerSessionState(10));
        Promise<ServerConnection> login = ImmediateEventExecutor.INSTANCE.newPromise();
        ch.pipeline().addLast(ServerLogin.FRAME_DECODER, new FrameDecoder(FrameDecoder.Mode.TYPED, 1 << 20));
        ch.pipeline().addLast("login", new ServerLogin(conn, creds, Duration.ZERO, login));
        ch.register();
        ((ByteBuf) ch.readOutbound()).release();
        ch.writeInbound(Messages.fatal("3D000", "database \"nodb\" does not exist"));
        assertTrue(login.isDone() && !login.isSuccess());
        PoolException e = (PoolException) login.cause();
        assertEquals("3D000", e.sqlState());
        assertEquals("server login to replica r1 10.0.0.9:5433 failed: database \"nodb\" does not exist", e.getMessage());
        assertTrue(!ch.isOpen());
        manager.closeAll();
    }

    @Test
    void passwordRequestWithoutPasswordFailsClearly() throws Exception {
        PoolManager manager = new PoolManager(group);
        ServerCredentials creds = new ServerCredentials("u", null, "db");
        Pool pool = manager.pool(new Node("primary", Node.Role.PRIMARY, "127.0.0.1", 1, 1, null), creds,
                PoolConfig.defaults());
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ServerConnection conn = new ServerConnection(pool, ch, new ServerSessionState(10));
        Promise<ServerConnection> login = ImmediateEventExecutor.INSTANCE.newPromise();
        ch.pipeline().addLast(ServerLogin.FRAME_DECODER, new FrameDecoder(FrameDecoder.Mode.TYPED, 1 << 20));
        ch.pipeline().addLast("login", new ServerLogin(conn, creds, Duration.ZERO, login));
        ch.register();
        ((ByteBuf) ch.readOutbound()).release();
        ch.writeInbound(Messages.authenticationMd5(new byte[] {1, 2, 3, 4}));
        PoolException e = (PoolException) login.cause();
        assertEquals("28P01", e.sqlState());
        assertEquals("server login to primary 127.0.0.1:1 failed: server asks for md5 authentication but no password"
                + " is configured for user \"u\"", e.getMessage());
        manager.closeAll();
    }
}
