package io.pgsplit.admin;

import io.netty.buffer.ByteBuf;
import io.pgsplit.protocol.Bufs;
import io.pgsplit.protocol.MessageType;
import io.pgsplit.protocol.Messages;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A console answer in the making: columns (name and PostgreSQL type, as PgBouncer declares them) and rows of text
 * values, written out as RowDescription, DataRows and CommandComplete. Values are sent in text format; null is SQL
 * NULL.
 */
public final class ResultSet {
    /** The column types PgBouncer's console uses (its timestamps are text). */
    public enum Type {
        TEXT(25, -1), INT4(23, 4), INT8(20, 8), NUMERIC(1700, -1);

        final int oid;
        final int size;

        Type(int oid, int size) {
            this.oid = oid;
            this.size = size;
        }
    }

    public record Column(String name, Type type) {
    }

    private final List<Column> columns = new ArrayList<>();
    private final List<Object[]> rows = new ArrayList<>();

    public ResultSet column(String name, Type type) {
        columns.add(new Column(name, type));
        return this;
    }

    /** Adds columns of one type. */
    public ResultSet columns(Type type, String... names) {
        for (String n : names) {
            column(n, type);
        }
        return this;
    }

    /** One row: as many values as columns ({@code toString()} of each, null for NULL). */
    public ResultSet row(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException(values.length + " values for " + columns.size() + " columns");
        }
        rows.add(values);
        return this;
    }

    public List<Column> columns() {
        return columns;
    }

    public List<Object[]> rows() {
        return rows;
    }

    /** RowDescription, one DataRow per row, CommandComplete {@code tag}. */
    public List<ByteBuf> toMessages(String tag) {
        List<ByteBuf> out = new ArrayList<>(rows.size() + 2);
        ByteBuf desc = Messages.begin(MessageType.Backend.ROW_DESCRIPTION, 32 * columns.size());
        desc.writeShort(columns.size());
        for (Column c : columns) {
            Bufs.writeCString(desc, c.name());
            desc.writeInt(0).writeShort(0).writeInt(c.type().oid).writeShort(c.type().size).writeInt(-1).writeShort(0);
        }
        out.add(Messages.finish(desc));
        for (Object[] row : rows) {
            ByteBuf data = Messages.begin(MessageType.Backend.DATA_ROW, 16 * row.length);
            data.writeShort(row.length);
            for (Object v : row) {
                if (v == null) {
                    data.writeInt(-1);
                } else {
                    byte[] b = String.valueOf(v).getBytes(StandardCharsets.UTF_8);
                    data.writeInt(b.length).writeBytes(b);
                }
            }
            out.add(Messages.finish(data));
        }
        out.add(Messages.commandComplete(tag));
        return out;
    }
}
