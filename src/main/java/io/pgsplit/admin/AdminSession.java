package io.pgsplit.admin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.FrameDecoder;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import io.pgsplit.protocol.SqlState;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A logged-in client of the virtual database {@code pgsplit}/{@code pgbouncer}: it takes over the channel from the
 * start-up handler once authentication succeeded. Simple protocol only, one command per Query; an
 * extended-protocol message is refused with an error (answered at its Sync), as PgBouncer does.
 */
public final class AdminSession extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AdminSession.class);

    private final AdminConsole console;
    private final AdminConsole.Role role;
    private final String user;
    private boolean skippingToSync;
    private boolean closed;

    private AdminSession(AdminConsole console, AdminConsole.Role role, String user) {
        this.console = console;
        this.role = role;
        this.user = user;
    }

    /**
     * Completes the log-in of an authenticated console user (AuthenticationOk, parameters, key data,
     * ReadyForQuery) and puts a console session in place of {@code loginHandler} in the channel's pipeline.
     */
    public static void takeOver(Channel channel, io.netty.channel.ChannelHandler loginHandler, AdminConsole console,
                                String user) {
        AdminSession s = new AdminSession(console, console.roleFor(user), user);
        console.sessionOpened();
        channel.write(Messages.authenticationOk());
        channel.write(Messages.parameterStatus("server_version", "16.0 (pgsplit admin console)"));
        channel.write(Messages.parameterStatus("server_encoding", "UTF8"));
        channel.write(Messages.parameterStatus("client_encoding", "UTF8"));
        channel.write(Messages.parameterStatus("DateStyle", "ISO, MDY"));
        channel.write(Messages.parameterStatus("integer_datetimes", "on"));
        channel.write(Messages.parameterStatus("standard_conforming_strings", "on"));
        channel.write(Messages.parameterStatus("application_name", ""));
        channel.write(Messages.backendKeyData(0, 0));
        channel.writeAndFlush(Messages.readyForQuery('I'));
        channel.pipeline().replace(loginHandler, "admin", s);
        log.info("admin console: user \"{}\" logged in from {} ({})", user, channel.remoteAddress(),
                s.role == AdminConsole.Role.ADMIN ? "admin" : "stats only");
    }

    @Override
    public void channelRead(ChannelHandlerContext c, Object m) {
        ByteBuf msg = (ByteBuf) m;
        try {
            if (closed) {
                return;
            }
            byte type = msg.getByte(0);
            switch (type) {
                case MessageType.Frontend.QUERY -> {
                    if (skippingToSync) {
                        return;
                    }
                    String sql = Bufs.getCString(msg, 5);
                    c.channel().config().setAutoRead(false); // one command at a time, in order
                    console.execute(sql, role, c.channel().eventLoop(), out -> c.channel().eventLoop().execute(() -> {
                        for (ByteBuf b : out) {
                            c.write(b);
                        }
                        c.writeAndFlush(Messages.readyForQuery('I'));
                        c.channel().config().setAutoRead(true);
                    }));
                }
                case MessageType.Frontend.PARSE, MessageType.Frontend.BIND, MessageType.Frontend.DESCRIBE,
                        MessageType.Frontend.EXECUTE, MessageType.Frontend.CLOSE, MessageType.Frontend.FLUSH -> {
                    if (!skippingToSync) {
                        skippingToSync = true;
                        c.writeAndFlush(Messages.error(SqlState.FEATURE_NOT_SUPPORTED,
                                "extended query protocol not supported by the admin console: use the simple "
                                        + "protocol (psql, or preferQueryMode=simple)"));
                    }
                }
                case MessageType.Frontend.SYNC -> {
                    skippingToSync = false;
                    c.writeAndFlush(Messages.readyForQuery('I'));
                }
                case MessageType.Frontend.TERMINATE -> c.close();
                default -> {
                    closed = true;
                    c.writeAndFlush(Messages.fatal(SqlState.PROTOCOL_VIOLATION, "invalid frontend message type "
                            + FrameDecoder.printable(type) + " for the admin console"))
                            .addListener(f -> c.close());
                }
            }
        } finally {
            msg.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext c) {
        if (!closed) {
            closed = true;
        }
        console.sessionClosed();
        c.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
        log.debug("admin console: user \"{}\": {}", user, cause.toString());
        c.close();
    }
}
