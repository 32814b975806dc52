package io.pgsplit.consistency;

/** PostgreSQL WAL positions ({@code pg_lsn}, written {@code 16/B374D848}) as unsigned 64-bit numbers. */
public final class Lsn {
    /** WAL page size of every PostgreSQL build pgsplit has met (wal_block_size); see {@link #coveringEnd}. */
    static final int PAGE = 8192;

    private Lsn() {
    }

    /** {@code hi/lo} in hex; -1 for SQL NULL (null) or text that is not an LSN. */
    public static long parse(String text) {
        if (text == null) {
            return -1;
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            return -1;
        }
        try {
            long hi = Long.parseLong(text, 0, slash, 16);
            long lo = Long.parseLong(text, slash + 1, text.length(), 16);
            if (hi < 0 || hi > 0xFFFFFFFFL || lo < 0 || lo > 0xFFFFFFFFL) {
                return -1;
            }
            return hi << 32 | lo;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static String format(long lsn) {
        if (lsn < 0) {
            return "unknown";
        }
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }

    /**
     * The position a replica must have replayed to (pg_last_wal_replay_lsn(), the END of its last record) to
     * hold everything before the insert position {@code insert} (pg_current_wal_insert_lsn()). At a page
     * start, the insert position points past the page header (24 bytes, 40 at a segment start), while a replica
     * that replayed the record ending at the page boundary reports the boundary itself: without this, such a
     * read would wait for the next WAL record, up to 15 s on an idle primary. No record ends inside a header
     * (records are at least 24 bytes), so lowering the requirement to the boundary loses nothing.
     */
    static long coveringEnd(long insert) {
        long inPage = insert % PAGE;
        return inPage == 24 || inPage == 40 ? insert - inPage : insert;
    }
}
