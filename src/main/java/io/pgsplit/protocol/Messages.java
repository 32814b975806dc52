package io.pgsplit.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Builders for the few messages pgsplit writes itself. Everything else it forwards untouched.
 * Each method returns a new buffer the caller owns (write it to a channel, which releases it).
 */
public final class Messages {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    // Constant, payload-free replies are shared read-only buffers; duplicate() gives each write its own indices.
    private static final ByteBuf PARSE_COMPLETE = constant(MessageType.Backend.PARSE_COMPLETE);
    private static final ByteBuf BIND_COMPLETE = constant(MessageType.Backend.BIND_COMPLETE);
    private static final ByteBuf CLOSE_COMPLETE = constant(MessageType.Backend.CLOSE_COMPLETE);
    private static final ByteBuf NO_DATA = constant(MessageType.Backend.NO_DATA);
    private static final ByteBuf EMPTY_QUERY = constant(MessageType.Backend.EMPTY_QUERY_RESPONSE);
    private static final ByteBuf SYNC = constant(MessageType.Frontend.SYNC);
    private static final ByteBuf FLUSH = constant(MessageType.Frontend.FLUSH);
    private static final ByteBuf TERMINATE = constant(MessageType.Frontend.TERMINATE);

    private Messages() {
    }

    private static ByteBuf constant(byte type) {
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[] {type, 0, 0, 0, 4}).asReadOnly());
    }

    /** Starts a typed message; finish it with {@link #finish}. */
    public static ByteBuf begin(byte type, int payloadHint) {
        ByteBuf buf = ALLOC.buffer(5 + payloadHint);
        buf.writeByte(type);
        buf.writeInt(0); // length, patched by finish()
        return buf;
    }

    /** Patches the length field of a message started with {@link #begin}. */
    public static ByteBuf finish(ByteBuf buf) {
        buf.setInt(1, buf.writerIndex() - 1);
        return buf;
    }

    public static ByteBuf parseComplete() {
        return PARSE_COMPLETE.duplicate();
    }

    public static ByteBuf bindComplete() {
        return BIND_COMPLETE.duplicate();
    }

    public static ByteBuf closeComplete() {
        return CLOSE_COMPLETE.duplicate();
    }

    /** ParameterDescription of a statement without parameters. */
    public static ByteBuf parameterDescription() {
        ByteBuf b = begin(MessageType.Backend.PARAMETER_DESCRIPTION, 2);
        b.writeShort(0);
        return finish(b);
    }

    public static ByteBuf noData() {
        return NO_DATA.duplicate();
    }

    public static ByteBuf emptyQueryResponse() {
        return EMPTY_QUERY.duplicate();
    }

    public static ByteBuf sync() {
        return SYNC.duplicate();
    }

    public static ByteBuf flush() {
        return FLUSH.duplicate();
    }

    public static ByteBuf terminate() {
        return TERMINATE.duplicate();
    }

    public static ByteBuf readyForQuery(char status) {
        ByteBuf buf = ALLOC.buffer(6);
        buf.writeByte(MessageType.Backend.READY_FOR_QUERY).writeInt(5).writeByte(status);
        return buf;
    }

    public static ByteBuf commandComplete(String tag) {
        ByteBuf buf = begin(MessageType.Backend.COMMAND_COMPLETE, tag.length() + 1);
        Bufs.writeCString(buf, tag);
        return finish(buf);
    }

    public static ByteBuf parameterStatus(String name, String value) {
        ByteBuf buf = begin(MessageType.Backend.PARAMETER_STATUS, name.length() + value.length() + 2);
        Bufs.writeCString(buf, name);
        Bufs.writeCString(buf, value);
        return finish(buf);
    }

    public static ByteBuf backendKeyData(int processId, int secretKey) {
        ByteBuf buf = ALLOC.buffer(13);
        buf.writeByte(MessageType.Backend.BACKEND_KEY_DATA).writeInt(12).writeInt(processId).writeInt(secretKey);
        return buf;
    }

    public static ByteBuf authenticationOk() {
        return authentication(MessageType.AUTH_OK, null);
    }

    public static ByteBuf authenticationCleartext() {
        return authentication(MessageType.AUTH_CLEARTEXT, null);
    }

    public static ByteBuf authenticationMd5(byte[] salt) {
        return authentication(MessageType.AUTH_MD5, salt);
    }

    public static ByteBuf authenticationSasl(String... mechanisms) {
        ByteBuf buf = begin(MessageType.Backend.AUTHENTICATION, 32);
        buf.writeInt(MessageType.AUTH_SASL);
        for (String m : mechanisms) {
            Bufs.writeCString(buf, m);
        }
        buf.writeByte(0);
        return finish(buf);
    }

    public static ByteBuf authenticationSaslContinue(byte[] data) {
        return authentication(MessageType.AUTH_SASL_CONTINUE, data);
    }

    public static ByteBuf authenticationSaslFinal(byte[] data) {
        return authentication(MessageType.AUTH_SASL_FINAL, data);
    }

    private static ByteBuf authentication(int code, byte[] data) {
        ByteBuf buf = begin(MessageType.Backend.AUTHENTICATION, 4 + (data == null ? 0 : data.length));
        buf.writeInt(code);
        if (data != null) {
            buf.writeBytes(data);
        }
        return finish(buf);
    }

    /** An ErrorResponse with severity ERROR. */
    public static ByteBuf error(String sqlState, String message) {
        return errorOrNotice(MessageType.Backend.ERROR_RESPONSE, "ERROR", sqlState, message, null, null);
    }

    /** An ErrorResponse with severity FATAL: the connection closes after it. */
    public static ByteBuf fatal(String sqlState, String message) {
        return errorOrNotice(MessageType.Backend.ERROR_RESPONSE, "FATAL", sqlState, message, null, null);
    }

    public static ByteBuf error(String severity, String sqlState, String message, String detail, String hint) {
        return errorOrNotice(MessageType.Backend.ERROR_RESPONSE, severity, sqlState, message, detail, hint);
    }

    public static ByteBuf notice(String sqlState, String message) {
        return errorOrNotice(MessageType.Backend.NOTICE_RESPONSE, "NOTICE", sqlState, message, null, null);
    }

    private static ByteBuf errorOrNotice(byte type, String severity, String sqlState, String message,
                                         String detail, String hint) {
        ByteBuf buf = begin(type, 64 + message.length());
        buf.writeByte('S');
        Bufs.writeCString(buf, severity);
        buf.writeByte('V'); // non-localized severity, as PostgreSQL 9.6+ sends
        Bufs.writeCString(buf, severity);
        buf.writeByte('C');
        Bufs.writeCString(buf, sqlState);
        buf.writeByte('M');
        Bufs.writeCString(buf, message);
        if (detail != null) {
            buf.writeByte('D');
            Bufs.writeCString(buf, detail);
        }
        if (hint != null) {
            buf.writeByte('H');
            Bufs.writeCString(buf, hint);
        }
        buf.writeByte(0);
        return finish(buf);
    }

    // ---- frontend messages pgsplit sends to servers ----

    public static ByteBuf startupMessage(Map<String, String> params) {
        ByteBuf buf = ALLOC.buffer(128);
        buf.writeInt(0);
        buf.writeInt(MessageType.PROTOCOL_3_0);
        for (Map.Entry<String, String> e : params.entrySet()) {
            Bufs.writeCString(buf, e.getKey());
            Bufs.writeCString(buf, e.getValue());
        }
        buf.writeByte(0);
        buf.setInt(0, buf.writerIndex());
        return buf;
    }

    public static ByteBuf cancelRequest(int processId, int secretKey) {
        ByteBuf buf = ALLOC.buffer(16);
        buf.writeInt(16).writeInt(MessageType.CANCEL_REQUEST).writeInt(processId).writeInt(secretKey);
        return buf;
    }

    public static ByteBuf query(String sql) {
        ByteBuf buf = begin(MessageType.Frontend.QUERY, sql.length() + 1);
        Bufs.writeCString(buf, sql);
        return finish(buf);
    }

    public static ByteBuf passwordMessage(String password) {
        ByteBuf buf = begin(MessageType.Frontend.PASSWORD, password.length() + 1);
        Bufs.writeCString(buf, password);
        return finish(buf);
    }

    public static ByteBuf saslInitialResponse(String mechanism, byte[] data) {
        ByteBuf buf = begin(MessageType.Frontend.PASSWORD, mechanism.length() + 5 + data.length);
        Bufs.writeCString(buf, mechanism);
        buf.writeInt(data.length);
        buf.writeBytes(data);
        return finish(buf);
    }

    public static ByteBuf saslResponse(byte[] data) {
        ByteBuf buf = begin(MessageType.Frontend.PASSWORD, data.length);
        buf.writeBytes(data);
        return finish(buf);
    }

    /** Parse with a statement name of pgsplit's choosing; parameter type OIDs copied as given. */
    public static ByteBuf parse(String statementName, String sql, int[] paramTypes) {
        ByteBuf buf = begin(MessageType.Frontend.PARSE, statementName.length() + sql.length() + 8);
        Bufs.writeCString(buf, statementName);
        Bufs.writeCString(buf, sql);
        buf.writeShort(paramTypes.length);
        for (int oid : paramTypes) {
            buf.writeInt(oid);
        }
        return finish(buf);
    }

    /** Close of a prepared statement ('S') or portal ('P'). */
    public static ByteBuf close(char kind, String name) {
        ByteBuf buf = begin(MessageType.Frontend.CLOSE, name.length() + 2);
        buf.writeByte(kind);
        Bufs.writeCString(buf, name);
        return finish(buf);
    }

    /** Convenience for tests and logs. */
    public static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
