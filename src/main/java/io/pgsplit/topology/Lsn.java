package io.pgsplit.topology;

/**
 * A PostgreSQL WAL position ({@code pg_lsn}), written {@code X/Y} with two hexadecimal halves of a
 * 64-bit byte position. Ordered like the server orders them; the difference of two is a byte count.
 */
public record Lsn(long value) implements Comparable<Lsn> {

    /** Parses {@code 16/B374D848} as PostgreSQL prints it. */
    public static Lsn parse(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("not a WAL position (expected X/Y in hexadecimal): " + text);
        }
        try {
            long high = Long.parseLong(text.substring(0, slash), 16);
            long low = Long.parseLong(text.substring(slash + 1), 16);
            if (high > 0xFFFF_FFFFL || low > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("not a WAL position (each half is 32 bits): " + text);
            }
            return new Lsn(high << 32 | low);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a WAL position (expected X/Y in hexadecimal): " + text, e);
        }
    }

    /** Bytes from {@code earlier} to this position (negative if {@code earlier} is ahead). */
    public long bytesAfter(Lsn earlier) {
        return value - earlier.value;
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFF_FFFFL).toUpperCase();
    }
}
