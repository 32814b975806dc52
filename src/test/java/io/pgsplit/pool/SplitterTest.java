package io.pgsplit.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.pgsplit.protocol.Messages;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SplitterTest {
    @Test
    void splitsAcrossChunks() {
        ByteBuf all = PooledByteBufAllocator.DEFAULT.buffer();
        all.writeBytes(Messages.commandComplete("SELECT 1"));
        all.writeBytes(Messages.readyForQuery('I'));
        List<String> types = new ArrayList<>();
        MessageSplitter s = new MessageSplitter();
        s.feed(all.readRetainedSlice(3), m -> types.add(String.valueOf((char) m.getByte(m.readerIndex()))));
        s.feed(all.readRetainedSlice(all.readableBytes() - 2), m -> types.add(String.valueOf((char) m.getByte(m.readerIndex()))));
        s.feed(all.readRetainedSlice(2), m -> types.add(String.valueOf((char) m.getByte(m.readerIndex()))));
        assertEquals(List.of("C", "Z"), types);
        assertEquals(1, all.refCnt());
        all.release();
        ByteBuf one = PooledByteBufAllocator.DEFAULT.buffer();
        one.writeBytes(Messages.commandComplete("SELECT 1"));
        s.feed(one, m -> types.add("x"));
        assertEquals(0, one.refCnt());
    }
}
