package io.pgsplit.consistency;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PrimaryWalTest {
    @Test
    void parsesAndFormats() {
        assertEquals(0x16B374D848L, PrimaryWal.parse("16/B374D848"));
        assertEquals("16/B374D848", PrimaryWal.format(0x16B374D848L));
        assertEquals(0, PrimaryWal.parse("0/0"));
        assertEquals(-1, PrimaryWal.parse(null));
        assertEquals(-1, PrimaryWal.parse("nonsense"));
        assertEquals(-1, PrimaryWal.parse("1/"));
        assertEquals("unknown", PrimaryWal.format(-1));
    }

    @Test
    void insertPositionPastAPageHeaderIsCoveredByThePageStart() {
        long page = 5L * PrimaryWal.PAGE;
        assertEquals(page, PrimaryWal.coveringEnd(page + 24)); // short page header
        assertEquals(page, PrimaryWal.coveringEnd(page + 40)); // long header, at a segment start
        assertEquals(page + 48, PrimaryWal.coveringEnd(page + 48));
        assertEquals(page, PrimaryWal.coveringEnd(page));
    }

    @Test
    void theEarliestAnswerCoveringAnAckIsTheRequirement() {
        PrimaryWal wal = new PrimaryWal(1);
        assertEquals(-1, wal.covering(1));
        wal.acknowledge();
        wal.answered(1, 1000, 1);
        wal.answered(1, 5000, 2); // same acks, more WAL (autovacuum...): 1000 still covers ack 1
        assertEquals(1000, wal.covering(1));
        wal.acknowledge();
        wal.answered(2, 6000, 3);
        assertEquals(1000, wal.covering(1));
        assertEquals(6000, wal.covering(2));
        assertEquals(-1, wal.covering(3));
        assertEquals(2, wal.firstSeenBeyond(1000)); // first seen past 1000 at t=2
        assertEquals(-1, wal.firstSeenBeyond(6000));
    }
}
