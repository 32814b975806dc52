package io.pgsplit.authquery;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.ServerDataListener;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * Runs the auth query once on a logged-in server connection, with the user name as parameter {@code $1}
 * (extended protocol: the name is never spliced into SQL), and completes with the stored password of the
 * single row, or null when there is no row or the password is NULL. Everything happens on the
 * connection's event loop; nothing blocks.
 */
final class AuthLookup implements ServerDataListener {
    private final CompletableFuture<String> result;
    private ByteBuf pending = ByteBufAllocator.DEFAULT.buffer();
    private int rows;
    private String password;
    private String error;

    private AuthLookup(CompletableFuture<String> result) {
        this.result = result;
    }

    static CompletableFuture<String> run(ServerConnection conn, String query, String userName) {
        CompletableFuture<String> result = new CompletableFuture<>();
        conn.attach(new AuthLookup(result));
        conn.write(Messages.parse("", query, new int[0]));
        conn.write(bind(userName));
        ByteBuf execute = Messages.begin(MessageType.Frontend.EXECUTE, 5);
        execute.writeByte(0).writeInt(0);
        conn.write(Messages.finish(execute));
        conn.write(Messages.sync());
        conn.flush();
        return result;
    }

    private static ByteBuf bind(String value) {
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Messages.begin(MessageType.Frontend.BIND, 16 + v.length);
        Bufs.writeCString(b, "");   // portal
        Bufs.writeCString(b, "");   // statement
        b.writeShort(0);            // parameter formats: all text
        b.writeShort(1);
        b.writeInt(v.length).writeBytes(v);
        b.writeShort(0);            // result formats: all text
        return Messages.finish(b);
    }

    @Override
    public void onServerData(ServerConnection connection, ByteBuf data) {
        pending.writeBytes(data);
        data.release();
        while (pending.readableBytes() >= 5) {
            int len = pending.getInt(pending.readerIndex() + 1);
            if (pending.readableBytes() < len + 1) {
                break;
            }
            ByteBuf msg = pending.readSlice(len + 1);
            switch (msg.getByte(0)) {
                case 'D' -> row(msg);
                case 'E' -> error = ErrorFields.parse(msg).message();
                case 'Z' -> {
                    connection.state.transactionStatus = (char) msg.getByte(5);
                    finish(connection);
                    return;
                }
                default -> {
                    // ParseComplete, BindComplete, CommandComplete, notices
                }
            }
        }
        pending.discardReadBytes();
    }

    private void row(ByteBuf msg) {
        rows++;
        int cols = msg.getUnsignedShort(5);
        if (cols != 2) {
            error = "auth_query must return two columns (name, password), it returned " + cols;
            return;
        }
        int at = 7;
        at += 4 + Math.max(0, msg.getInt(at));   // the name: not needed, the query selected it
        int n = msg.getInt(at);
        password = n < 0 ? null : msg.toString(at + 4, n, StandardCharsets.UTF_8);
    }

    private void finish(ServerConnection connection) {
        connection.attach(null);
        pending.release();
        pending = null;
        if (error == null && rows > 1) {
            error = "auth_query returned " + rows + " rows for one user";
        }
        if (error != null) {
            result.completeExceptionally(new IllegalStateException(error));
        } else {
            result.complete(password);
        }
    }

    @Override
    public void onServerClosed(ServerConnection connection, Throwable cause) {
        if (pending != null) {
            pending.release();
            pending = null;
        }
        result.completeExceptionally(new IllegalStateException("server connection closed during auth_query"
                + (cause == null ? "" : ": " + cause.getMessage())));
    }

    @Override
    public void onServerWritabilityChanged(ServerConnection connection, boolean writable) {
    }
}
