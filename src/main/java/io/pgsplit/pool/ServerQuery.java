package io.pgsplit.pool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.Promise;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.Messages;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one simple query of pgsplit's own on a server connection and collects its rows as text.
 * For small internal queries (the function catalog, WAL positions), never for client traffic.
 */
public final class ServerQuery implements ServerDataListener {
    private final Promise<List<String[]>> result;
    private final List<String[]> rows = new ArrayList<>();
    private ByteBuf pending = ByteBufAllocator.DEFAULT.buffer();
    private String error;

    private ServerQuery(Promise<List<String[]>> result) {
        this.result = result;
    }

    public static Promise<List<String[]>> run(ServerConnection conn, String sql) {
        Promise<List<String[]>> p = conn.eventLoop().newPromise();
        ServerQuery q = new ServerQuery(p);
        conn.attach(q);
        conn.write(Messages.query(sql));
        conn.flush();
        return p;
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
            byte type = msg.getByte(0);
            if (type == 'D') {
                int cols = msg.getUnsignedShort(5);
                String[] row = new String[cols];
                int at = 7;
                for (int c = 0; c < cols; c++) {
                    int n = msg.getInt(at);
                    at += 4;
                    if (n >= 0) {
                        row[c] = msg.toString(at, n, StandardCharsets.UTF_8);
                        at += n;
                    }
                }
                rows.add(row);
            } else if (type == 'E') {
                error = ErrorFields.parse(msg).toString();
            } else if (type == 'Z') {
                connection.state.transactionStatus = (char) msg.getByte(5);
                finish(connection);
                return;
            }
        }
        pending.discardReadBytes();
    }

    private void finish(ServerConnection connection) {
        connection.attach(null);
        pending.release();
        pending = null;
        if (error != null) {
            result.tryFailure(new IllegalStateException(error));
        } else {
            result.trySuccess(rows);
        }
    }

    @Override
    public void onServerClosed(ServerConnection connection, Throwable cause) {
        if (pending != null) {
            pending.release();
            pending = null;
        }
        result.tryFailure(cause == null ? new IllegalStateException("server connection closed") : cause);
    }

    @Override
    public void onServerWritabilityChanged(ServerConnection connection, boolean writable) {
    }
}
