package io.pgsplit.pool;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A bare PostgreSQL v3 protocol client (trust authentication only), written independently of pgsplit's
 * own protocol code, for tests that must see every message: which ones arrive, in what order, how many.
 * Messages are buffered until {@link #flush()} (or a read).
 */
final class RawPg implements AutoCloseable {
    /** One backend message: its type and, for a few, a readable summary. */
    record Msg(char type, String text) {
        @Override
        public String toString() {
            return text == null ? String.valueOf(type) : type + "(" + text + ")";
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    RawPg(String host, int port, String user, String database) throws IOException {
        socket = new Socket(host, port);
        socket.setSoTimeout(20_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(body);
        b.writeInt(196608);
        cstring(b, "user");
        cstring(b, user);
        cstring(b, "database");
        cstring(b, database);
        b.writeByte(0);
        out.writeInt(body.size() + 4);
        body.writeTo(out);
        out.flush();
        List<Msg> startup = readUntilReady();
        if (startup.stream().anyMatch(m -> m.type() == 'E')) {
            throw new IOException("start-up failed: " + startup);
        }
    }

    private static void cstring(DataOutputStream b, String s) throws IOException {
        b.write(s.getBytes(StandardCharsets.UTF_8));
        b.writeByte(0);
    }

    private void message(char type, byte[] payload) throws IOException {
        DataOutputStream p = new DataOutputStream(pending);
        p.writeByte(type);
        p.writeInt(payload.length + 4);
        p.write(payload);
    }

    private static byte[] payload(IoWriter w) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        w.write(new DataOutputStream(body));
        return body.toByteArray();
    }

    private interface IoWriter {
        void write(DataOutputStream d) throws IOException;
    }

    RawPg parse(String name, String sql) throws IOException {
        message('P', payload(d -> {
            cstring(d, name);
            cstring(d, sql);
            d.writeShort(0);
        }));
        return this;
    }

    /** Bind with no parameters, text results. */
    RawPg bind(String portal, String statement) throws IOException {
        message('B', payload(d -> {
            cstring(d, portal);
            cstring(d, statement);
            d.writeShort(0);
            d.writeShort(0);
            d.writeShort(0);
        }));
        return this;
    }

    RawPg describe(char kind, String name) throws IOException {
        message('D', payload(d -> {
            d.writeByte(kind);
            cstring(d, name);
        }));
        return this;
    }

    RawPg execute(String portal) throws IOException {
        message('E', payload(d -> {
            cstring(d, portal);
            d.writeInt(0);
        }));
        return this;
    }

    RawPg close(char kind, String name) throws IOException {
        message('C', payload(d -> {
            d.writeByte(kind);
            cstring(d, name);
        }));
        return this;
    }

    RawPg sync() throws IOException {
        message('S', new byte[0]);
        return this;
    }

    RawPg query(String sql) throws IOException {
        message('Q', payload(d -> cstring(d, sql)));
        return this;
    }

    void flush() throws IOException {
        pending.writeTo(out);
        pending.reset();
        out.flush();
    }

    /** Sends what is buffered and reads replies up to and including the next ReadyForQuery. */
    List<Msg> readUntilReady() throws IOException {
        flush();
        List<Msg> got = new ArrayList<>();
        while (true) {
            Msg m = read();
            if (m.type() == 'S' || m.type() == 'K' || m.type() == 'R' || m.type() == 'N') {
                continue; // ParameterStatus, BackendKeyData, Authentication, notices: not what tests count
            }
            got.add(m);
            if (m.type() == 'Z') {
                return got;
            }
        }
    }

    /** Replies to {@code n} Syncs. */
    List<Msg> readReady(int n) throws IOException {
        List<Msg> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.addAll(readUntilReady());
        }
        return all;
    }

    private Msg read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int len = in.readInt();
        byte[] body = new byte[len - 4];
        in.readFully(body);
        String text = switch (type) {
            case 'C' -> new String(body, 0, body.length - 1, StandardCharsets.UTF_8);
            case 'Z' -> String.valueOf((char) body[0]);
            case 'E' -> errorCode(body);
            case 'D' -> firstColumn(body);
            default -> null;
        };
        return new Msg(type, text);
    }

    private static String errorCode(byte[] body) {
        String code = "?";
        String message = "";
        int i = 0;
        while (i < body.length && body[i] != 0) {
            byte field = body[i++];
            int end = i;
            while (body[end] != 0) {
                end++;
            }
            String value = new String(body, i, end - i, StandardCharsets.UTF_8);
            if (field == 'C') {
                code = value;
            } else if (field == 'M') {
                message = value;
            }
            i = end + 1;
        }
        return code + " " + message;
    }

    private static String firstColumn(byte[] body) {
        int n = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
        if (n == 0) {
            return "";
        }
        int len = ((body[2] & 0xff) << 24) | ((body[3] & 0xff) << 16) | ((body[4] & 0xff) << 8) | (body[5] & 0xff);
        return len < 0 ? "NULL" : new String(body, 6, len, StandardCharsets.UTF_8);
    }

    /** Compact form of a reply list for assertions: types, with values for D, C, Z and E's SQLSTATE. */
    static String shape(List<Msg> msgs) {
        StringBuilder s = new StringBuilder();
        for (Msg m : msgs) {
            if (s.length() > 0) {
                s.append(' ');
            }
            switch (m.type()) {
                case 'D', 'C', 'Z' -> s.append(m.type()).append('(').append(m.text()).append(')');
                case 'E' -> s.append("E(").append(m.text(), 0, 5).append(')');
                default -> s.append(m.type());
            }
        }
        return s.toString();
    }

    @Override
    public void close() throws IOException {
        try {
            message('X', new byte[0]);
            flush();
        } catch (IOException ignored) {
            // already gone
        }
        socket.close();
    }
}
