package io.pgsplit.pool;

import io.netty.buffer.ByteBuf;
import io.pgsplit.protocol.ErrorFields;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a simple Query through a {@link ServerConnection} and collects text DataRows until ReadyForQuery. */
final class SqlRunner implements ServerDataListener {
    record Result(List<List<String>> rows, ErrorFields error, char status) {
        String single() {
            if (error != null) {
                throw new AssertionError("query failed: " + error);
            }
            return rows.get(0).get(0);
        }
    }

    private final MessageSplitter splitter = new MessageSplitter();
    private final List<List<String>> rows = new ArrayList<>();
    private final CompletableFuture<Result> result = new CompletableFuture<>();
    private ErrorFields error;

    /** Sends {@code sql} and returns the pending result (the listener stays attached until done). */
    static CompletableFuture<Result> start(ServerConnection conn, String sql) {
        SqlRunner runner = new SqlRunner();
        conn.attach(runner);
        conn.write(Messages.query(sql));
        conn.flush();
        return runner.result;
    }

    static Result run(ServerConnection conn, String sql) throws Exception {
        return start(conn, sql).get(10, TimeUnit.SECONDS);
    }

    static String single(ServerConnection conn, String sql) throws Exception {
        return run(conn, sql).single();
    }

    @Override
    public void onServerData(ServerConnection connection, ByteBuf data) {
        splitter.feed(data, msg -> {
            byte type = msg.getByte(msg.readerIndex());
            switch (type) {
                case MessageType.Backend.DATA_ROW -> rows.add(decodeRow(msg));
                case MessageType.Backend.ERROR_RESPONSE -> error = ErrorFields.parse(msg);
                case MessageType.Backend.READY_FOR_QUERY -> {
                    connection.attach(null);
                    splitter.release();
                    result.complete(new Result(rows, error, (char) msg.getByte(msg.readerIndex() + 5)));
                }
                default -> {
                }
            }
        });
    }

    private static List<String> decodeRow(ByteBuf msg) {
        int i = msg.readerIndex() + 5;
        int columns = msg.getShort(i);
        i += 2;
        List<String> row = new ArrayList<>(columns);
        for (int c = 0; c < columns; c++) {
            int len = msg.getInt(i);
            i += 4;
            if (len < 0) {
                row.add(null);
            } else {
                row.add(msg.toString(i, len, StandardCharsets.UTF_8));
                i += len;
            }
        }
        return row;
    }

    @Override
    public void onServerClosed(ServerConnection connection, Throwable cause) {
        splitter.release();
        result.completeExceptionally(cause != null ? cause : new IllegalStateException("server connection closed"));
    }

    @Override
    public void onServerWritabilityChanged(ServerConnection connection, boolean writable) {
    }
}
