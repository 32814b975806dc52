package io.pgsplit.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The fields of an ErrorResponse or NoticeResponse that pgsplit looks at: severity, SQLSTATE, message.
 * Parsed from a whole message (type byte and length included) without moving its reader index.
 */
public record ErrorFields(String severity, String sqlState, String message) {

    public static ErrorFields parse(ByteBuf msg) {
        int end = msg.readerIndex() + 1 + msg.getInt(msg.readerIndex() + 1);
        int i = msg.readerIndex() + 5;
        String severity = null;
        String code = null;
        String message = null;
        while (i < end) {
            byte field = msg.getByte(i++);
            if (field == 0) {
                break;
            }
            int nul = msg.indexOf(i, end, (byte) 0);
            if (nul < 0) {
                break;
            }
            String value = msg.toString(i, nul - i, StandardCharsets.UTF_8);
            switch (field) {
                case 'V' -> severity = value;
                case 'S' -> severity = severity == null ? value : severity;
                case 'C' -> code = value;
                case 'M' -> message = value;
                default -> {
                }
            }
            i = nul + 1;
        }
        return new ErrorFields(severity == null ? "ERROR" : severity, code == null ? "" : code,
                message == null ? "" : message);
    }

    public boolean isFatal() {
        return "FATAL".equals(severity) || "PANIC".equals(severity);
    }

    @Override
    public String toString() {
        return severity + " " + sqlState + " " + message;
    }
}
