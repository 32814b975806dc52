package io.pgsplit.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BufsTest {
    /** A Parse-like message: type, length, then the statement name and the SQL as C strings. */
    private static ByteBuf parse(String name, String sql) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('P').writeInt(0);
        Bufs.writeCString(b, name);
        Bufs.writeCString(b, sql);
        return b;
    }

    @Test
    void cstringEqualsComparesTheWholeNameAndNothingElse() {
        ByteBuf m = parse("s1", "SELECT 1");
        assertTrue(Bufs.cstringEquals(m, 5, "s1"));
        assertFalse(Bufs.cstringEquals(m, 5, "s"), "a prefix is not the name");
        assertFalse(Bufs.cstringEquals(m, 5, "s12"));
        assertFalse(Bufs.cstringEquals(m, 5, ""));
        assertTrue(Bufs.cstringEquals(parse("", "SELECT 1"), 5, ""), "the unnamed statement");
        assertTrue(Bufs.cstringEquals(m, 8, "SELECT 1"));
    }

    @Test
    void cstringEqualsHandlesNonAsciiNamesAndUnterminatedEnds() {
        ByteBuf m = parse("é_stmt", "SELECT 1");
        assertTrue(Bufs.cstringEquals(m, 5, "é_stmt"));
        assertFalse(Bufs.cstringEquals(m, 5, "e_stmt"));
        ByteBuf cut = Unpooled.copiedBuffer("Pxxxxabc", StandardCharsets.UTF_8); // no NUL: never equal
        assertFalse(Bufs.cstringEquals(cut, 5, "abc"));
        assertEquals("é_stmt", Bufs.getCString(m, 5));
    }
}
