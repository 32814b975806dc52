package io.pgsplit.pool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.function.Consumer;

/**
 * Cuts raw backend bytes (as a {@link ServerDataListener} receives them) into whole typed messages.
 * For the few places the pool reads what the server says itself: the reset query and unexpected
 * data on an idle connection; tests use it too. Not thread-safe: use it on one event loop.
 */
public final class MessageSplitter {
    private ByteBuf cumulation;

    /**
     * Takes ownership of {@code data} and calls {@code onMessage} for each whole message now available
     * (type byte and length included). The message buffer is only valid during the call; retain it to keep it.
     */
    public void feed(ByteBuf data, Consumer<ByteBuf> onMessage) {
        cumulation = cumulation == null ? data
                : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ByteBufAllocator.DEFAULT, cumulation, data);
        ByteBuf buf = cumulation;
        try {
            while (buf == cumulation && buf.readableBytes() >= 5) {
                int start = buf.readerIndex();
                int length = buf.getInt(start + 1);
                if (length < 4) {
                    throw new IllegalStateException("invalid backend message length " + length);
                }
                if (buf.readableBytes() < length + 1) {
                    break;
                }
                // a retained slice: the consumer may release this splitter (and so buf) while it reads msg
                ByteBuf msg = buf.retainedSlice(start, length + 1);
                buf.skipBytes(length + 1);
                try {
                    onMessage.accept(msg);
                } finally {
                    msg.release();
                }
            }
        } finally {
            if (buf == cumulation && !buf.isReadable()) {
                release();
            }
        }
    }

    /** True while part of a message is held, waiting for the rest. */
    public boolean hasPartialMessage() {
        return cumulation != null && cumulation.isReadable();
    }

    /** Drops any partial message held. Safe to call more than once, also from inside {@code onMessage}. */
    public void release() {
        ByteBuf buf = cumulation;
        cumulation = null;
        if (buf != null) {
            buf.release();
        }
    }
}
