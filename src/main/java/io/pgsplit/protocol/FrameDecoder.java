package io.pgsplit.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a byte stream into whole protocol messages, each emitted as a retained slice that still
 * holds its header (type byte and length), so it can be forwarded as it came.
 *
 * <p>A client connection starts in {@link Mode#STARTUP} (untyped, length-prefixed packets) and is
 * switched to {@link Mode#TYPED} once the StartupMessage is accepted. The length field is checked
 * against a cap before anything waits for or allocates the bytes it claims.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /** PostgreSQL's own limit for start-up packets (MAX_STARTUP_PACKET_LENGTH). */
    public static final int MAX_STARTUP_PACKET = 10_000;

    public enum Mode { STARTUP, TYPED }

    private Mode mode;
    private final int maxMessageSize;

    public FrameDecoder(Mode mode, int maxMessageSize) {
        this.mode = mode;
        this.maxMessageSize = maxMessageSize;
    }

    public void mode(Mode mode) {
        this.mode = mode;
    }

    public Mode mode() {
        return mode;
    }

    /** Bytes received but not yet decoded (after an SSLRequest: sent without waiting for the answer). */
    public int buffered() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            int start = in.readerIndex();
            int readable = in.readableBytes();
            if (mode == Mode.STARTUP) {
                if (readable < 4) {
                    return;
                }
                int length = in.getInt(start);
                if (length < 8 || length > MAX_STARTUP_PACKET) {
                    throw new ProtocolException("invalid length of startup packet: " + length);
                }
                if (readable < length) {
                    return;
                }
                out.add(in.retainedSlice(start, length));
                in.skipBytes(length);
                // A StartupMessage switches the mode; the handler does that before the next packet is
                // decoded, because ByteToMessageDecoder hands each message on before decoding more
                // only when we return here.
                return;
            }
            if (readable < 5) {
                return;
            }
            byte type = in.getByte(start);
            int length = in.getInt(start + 1);
            if (length < 4) {
                throw new ProtocolException("invalid message length " + length + " for message type '"
                        + printable(type) + "'");
            }
            if (length > maxMessageSize) {
                throw new ProtocolException("message of type '" + printable(type) + "' claims " + length
                        + " bytes, over the limit of " + maxMessageSize);
            }
            if (readable < length + 1) {
                return;
            }
            out.add(in.retainedSlice(start, length + 1));
            in.skipBytes(length + 1);
        }
    }

    public static String printable(byte type) {
        return type >= 32 && type < 127 ? String.valueOf((char) type) : String.format("\\x%02x", type & 0xFF);
    }
}
