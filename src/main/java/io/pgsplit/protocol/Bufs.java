package io.pgsplit.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** Reading the protocol's primitive types without copying more than needed. */
public final class Bufs {
    private Bufs() {
    }

    /** Index of the NUL that ends the C string starting at {@code from}, or -1 if none before {@code limit}. */
    public static int cstringEnd(ByteBuf buf, int from, int limit) {
        return buf.indexOf(from, limit, (byte) 0);
    }

    /** Reads a NUL-terminated UTF-8 string at the reader index and advances past the NUL. */
    public static String readCString(ByteBuf buf) {
        int start = buf.readerIndex();
        int end = cstringEnd(buf, start, buf.writerIndex());
        if (end < 0) {
            throw new ProtocolException("unterminated string in message");
        }
        String s = buf.toString(start, end - start, StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return s;
    }

    /** The C string at an absolute index (reader index untouched). */
    public static String getCString(ByteBuf buf, int index) {
        int end = cstringEnd(buf, index, buf.writerIndex());
        if (end < 0) {
            throw new ProtocolException("unterminated string in message");
        }
        return buf.toString(index, end - index, StandardCharsets.UTF_8);
    }

    /** Whether the C string at {@code index} is {@code s}; compares bytes, without decoding, when {@code s} is ASCII. */
    public static boolean cstringEquals(ByteBuf buf, int index, String s) {
        int n = s.length();
        if (index + n >= buf.writerIndex()) {
            return false; // no room for s and its NUL
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                return s.equals(getCString(buf, index));
            }
            if (buf.getByte(index + i) != (byte) c) {
                return false;
            }
        }
        return buf.getByte(index + n) == 0;
    }

    /** Writes a string followed by its NUL terminator. */
    public static void writeCString(ByteBuf buf, String s) {
        buf.writeCharSequence(s, StandardCharsets.UTF_8);
        buf.writeByte(0);
    }
}
