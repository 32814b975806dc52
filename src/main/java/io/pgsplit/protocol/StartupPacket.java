package io.pgsplit.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An untyped start-up packet: StartupMessage, SSLRequest, GSSENCRequest or CancelRequest,
 * told apart by the code after the length.
 */
public record StartupPacket(int code, Map<String, String> parameters, int cancelProcessId, int cancelSecretKey) {

    /** Decodes a whole packet (length included). */
    public static StartupPacket decode(ByteBuf packet) {
        int length = packet.readInt();
        int code = packet.readInt();
        if (code == MessageType.CANCEL_REQUEST) {
            if (length != 16) {
                throw new ProtocolException("invalid length of CancelRequest: " + length);
            }
            return new StartupPacket(code, Map.of(), packet.readInt(), packet.readInt());
        }
        if (code == MessageType.SSL_REQUEST || code == MessageType.GSSENC_REQUEST) {
            if (length != 8) {
                throw new ProtocolException("invalid length of encryption request: " + length);
            }
            return new StartupPacket(code, Map.of(), 0, 0);
        }
        if (code >> 16 != 3) {
            throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol " + (code >> 16) + "." + (code & 0xFFFF)
                    + ": server supports 3.0 to 3.0");
        }
        Map<String, String> params = new LinkedHashMap<>();
        while (packet.isReadable()) {
            String name = Bufs.readCString(packet);
            if (name.isEmpty()) {
                break;
            }
            if (!packet.isReadable()) {
                throw new ProtocolException("invalid startup packet layout: expected terminator as last byte");
            }
            params.put(name, Bufs.readCString(packet));
        }
        return new StartupPacket(code, Collections.unmodifiableMap(params), 0, 0);
    }
}
