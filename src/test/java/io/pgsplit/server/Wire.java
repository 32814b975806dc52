package io.pgsplit.server;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A raw PostgreSQL protocol client on a plain socket, for sending what no driver would. */
final class Wire implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final OutputStream out;

    /** One backend message: its type and body (without the length). */
    record Msg(char type, byte[] body) {
        /** ErrorResponse / NoticeResponse fields by code. */
        Map<Character, String> fields() {
            Map<Character, String> f = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                f.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return f;
        }

        int int32(int at) {
            return ByteBuffer.wrap(body, at, 4).getInt();
        }
    }

    Wire(String host, int port) throws IOException {
        this(new Socket(host, port));
        socket.setSoTimeout(15_000);
    }

    /** Over a socket the caller connected (with its own buffer sizes and timeout). */
    Wire(Socket connected) throws IOException {
        socket = connected;
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    static byte[] startupPacket(Map<String, String> params) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writeInt(body, 196608);
        for (Map.Entry<String, String> e : params.entrySet()) {
            writeCString(body, e.getKey());
            writeCString(body, e.getValue());
        }
        body.write(0);
        return withLength(body.toByteArray());
    }

    /** An untyped packet: int32 length, int32 code, payload. */
    static byte[] untyped(int code, byte[] payload) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writeInt(body, code);
        body.writeBytes(payload);
        return withLength(body.toByteArray());
    }

    /** A typed message: type byte, int32 length, body. */
    static byte[] typed(char type, byte[] body) {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        m.write(type);
        writeInt(m, body.length + 4);
        m.writeBytes(body);
        return m.toByteArray();
    }

    static byte[] query(String sql) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeCString(b, sql);
        return typed('Q', b.toByteArray());
    }

    static byte[] passwordMessage(String password) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeCString(b, password);
        return typed('p', b.toByteArray());
    }

    private static byte[] withLength(byte[] body) {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        writeInt(m, body.length + 4);
        m.writeBytes(body);
        return m.toByteArray();
    }

    static void writeInt(ByteArrayOutputStream o, int v) {
        o.write(v >>> 24);
        o.write(v >>> 16);
        o.write(v >>> 8);
        o.write(v);
    }

    static void writeCString(ByteArrayOutputStream o, String s) {
        o.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        o.write(0);
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next single byte (for SSLRequest / GSSENCRequest answers). */
    int readByte() throws IOException {
        return in.read();
    }

    Msg read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int len = in.readInt();
        byte[] body = new byte[len - 4];
        in.readFully(body);
        return new Msg(type, body);
    }

    /** Reads until a message of {@code type} (returned) or an ErrorResponse (AssertionError). */
    Msg readUntil(char type) throws IOException {
        while (true) {
            Msg m = read();
            if (m.type() == type) {
                return m;
            }
            if (m.type() == 'E') {
                throw new AssertionError("unexpected error " + m.fields());
            }
        }
    }

    /** Reads until an ErrorResponse, which is returned; fails if the stream ends first. */
    Msg readError() throws IOException {
        while (true) {
            Msg m = read();
            if (m.type() == 'E') {
                return m;
            }
        }
    }

    /** True when the peer closed the connection (EOF) within the socket timeout; skips anything before. */
    boolean closedByPeer() throws IOException {
        try {
            while (in.read() >= 0) {
                // drain
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /** Logs in with password (cleartext-free: trust user) — used after a handshake to reach READY. */
    void loginTrust(String user, String database) throws IOException {
        send(startupPacket(Map.of("user", user, "database", database)));
        readUntil('Z');
    }

    static boolean isEof(IOException e) {
        return e instanceof EOFException;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
