package io.pgsplit.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Checks the layout of the client messages pgsplit looks inside (Query, Parse, Bind, Describe,
 * Execute, Close) as soon as they arrive, before anything takes ownership of them: a malformed one
 * is a protocol violation (08P01, as PostgreSQL's "invalid message format"), never an exception
 * halfway through routing or rewriting it.
 */
public final class FrontendMessages {
    private FrontendMessages() {
    }

    /** Throws {@link ProtocolException} when {@code msg} (type byte and length included) is malformed. */
    public static void validate(ByteBuf msg) {
        Reader r = new Reader(msg);
        switch (msg.getByte(0)) {
            case MessageType.Frontend.QUERY -> r.cstring();
            case MessageType.Frontend.PARSE -> {
                r.cstring();
                r.cstring();
                r.skip(4L * r.count());
            }
            case MessageType.Frontend.BIND -> {
                r.cstring();
                r.cstring();
                r.skip(2L * r.count());
                int params = r.count();
                for (int i = 0; i < params; i++) {
                    int len = r.int32();
                    if (len < -1) {
                        throw r.invalid();
                    }
                    r.skip(Math.max(len, 0));
                }
                r.skip(2L * r.count());
            }
            case MessageType.Frontend.DESCRIBE, MessageType.Frontend.CLOSE -> {
                byte kind = r.byte1();
                if (kind != 'S' && kind != 'P') {
                    throw new ProtocolException("invalid " + (msg.getByte(0) == 'D' ? "DESCRIBE" : "CLOSE")
                            + " message subtype " + kind);
                }
                r.cstring();
            }
            case MessageType.Frontend.EXECUTE -> {
                r.cstring();
                r.int32();
            }
            default -> {
                return;
            }
        }
        r.end();
    }

    private static final class Reader {
        private final ByteBuf msg;
        private final int limit;
        private int at = 5;

        Reader(ByteBuf msg) {
            this.msg = msg;
            this.limit = msg.writerIndex();
        }

        ProtocolException invalid() {
            return new ProtocolException("invalid message format (message type '"
                    + FrameDecoder.printable(msg.getByte(0)) + "')");
        }

        void need(long n) {
            if (n < 0 || at + n > limit) {
                throw invalid();
            }
        }

        void cstring() {
            int end = Bufs.cstringEnd(msg, at, limit);
            if (end < 0) {
                throw invalid();
            }
            at = end + 1;
        }

        byte byte1() {
            need(1);
            return msg.getByte(at++);
        }

        int count() {
            need(2);
            int n = msg.getUnsignedShort(at);
            at += 2;
            return n;
        }

        int int32() {
            need(4);
            int v = msg.getInt(at);
            at += 4;
            return v;
        }

        void skip(long n) {
            need(n);
            at += (int) n;
        }

        void end() {
            if (at != limit) {
                throw invalid();
            }
        }
    }
}
