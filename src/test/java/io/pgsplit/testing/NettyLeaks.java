package io.pgsplit.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;

/**
 * Netty buffer-leak detection for a test: {@link #paranoid()} tracks every buffer allocated from then
 * on; {@link #leakReports(LogCapture)} makes the detector look at what the garbage collector found
 * unreleased and returns the {@code LEAK:} reports it logged. Netty only reports a leak on a later
 * allocation after the leaked buffer was collected, hence the collect-and-allocate rounds.
 */
public final class NettyLeaks implements AutoCloseable {
    private final ResourceLeakDetector.Level previous;

    private NettyLeaks() {
        previous = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    public static NettyLeaks paranoid() {
        return new NettyLeaks();
    }

    /** The LEAK reports logged so far (after a few rounds of garbage collection and allocation). */
    public List<String> leakReports(LogCapture logs) throws InterruptedException {
        for (int round = 0; round < 4; round++) {
            System.gc();
            Thread.sleep(50);
            for (int i = 0; i < 64; i++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(64);
                b.release();
                ByteBuf h = ByteBufAllocator.DEFAULT.heapBuffer(64);
                h.release();
            }
        }
        return logs.events().stream().filter(e -> e.contains("LEAK:")).toList();
    }

    @Override
    public void close() {
        ResourceLeakDetector.setLevel(previous);
    }
}
