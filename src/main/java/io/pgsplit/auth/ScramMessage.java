package io.pgsplit.auth;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A cursor over one SCRAM message: comma-separated {@code x=value} attributes (RFC 5802 section 7).
 * Every malformation becomes an {@link AuthFailedException}; the peer may be hostile, so nothing
 * here lets an unchecked exception escape, and error messages never echo attribute values.
 */
final class ScramMessage {
    private final String text;
    private final String what;   // e.g. "client-first-message", for error messages
    private int pos;

    private ScramMessage(String text, String what) {
        this.text = text;
        this.what = what;
    }

    /** Decodes the message bytes as strict UTF-8 (SCRAM messages are UTF-8 text). */
    static ScramMessage of(byte[] bytes, String what) throws AuthFailedException {
        if (bytes == null || bytes.length == 0) {
            throw new AuthFailedException("malformed SCRAM message: empty " + what);
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
            if (text.indexOf('\0') >= 0) {
                throw new AuthFailedException("malformed SCRAM message: " + what + " contains a NUL byte");
            }
            return new ScramMessage(text, what);
        } catch (CharacterCodingException e) {
            throw new AuthFailedException("malformed SCRAM message: " + what + " is not valid UTF-8");
        }
    }

    String text() {
        return text;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos >= text.length();
    }

    /** The name of the next attribute, or 0 if the next thing is not an {@code x=} attribute. */
    char peekAttribute() {
        if (pos + 1 < text.length() && isAlpha(text.charAt(pos)) && text.charAt(pos + 1) == '=') {
            return text.charAt(pos);
        }
        return 0;
    }

    /** Reads attribute {@code name} and returns its value (which may be empty). */
    String read(char name) throws AuthFailedException {
        if (peekAttribute() != name) {
            throw fail("expected attribute \"" + name + "=\"");
        }
        int start = pos + 2;
        int comma = text.indexOf(',', start);
        int end = comma < 0 ? text.length() : comma;
        String value = text.substring(start, end);
        pos = comma < 0 ? text.length() : comma + 1;
        if (comma >= 0 && pos == text.length()) {
            throw fail("trailing comma");
        }
        return value;
    }

    /** Reads any attribute (an extension we ignore, as PostgreSQL does) and returns its name. */
    char readAny() throws AuthFailedException {
        char name = peekAttribute();
        if (name == 0) {
            throw fail("expected an attribute");
        }
        read(name);
        return name;
    }

    /** Reads a single-character field followed by a comma (the gs2 channel-binding flag). */
    char readFlag() throws AuthFailedException {
        if (pos + 1 >= text.length() || text.charAt(pos + 1) != ',') {
            throw fail("expected a gs2 header");
        }
        char flag = text.charAt(pos);
        pos += 2;
        return flag;
    }

    /** Consumes a comma that must be next. */
    void expectComma() throws AuthFailedException {
        if (pos >= text.length() || text.charAt(pos) != ',') {
            throw fail("expected ','");
        }
        pos++;
    }

    void expectEnd() throws AuthFailedException {
        if (!atEnd()) {
            throw fail("unexpected data after the last attribute");
        }
    }

    AuthFailedException fail(String problem) {
        return new AuthFailedException("malformed SCRAM message: " + problem + " in " + what);
    }

    byte[] decodeBase64(String value, String attributeDescription) throws AuthFailedException {
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw fail("invalid base64 in " + attributeDescription);
        }
    }

    /** RFC 5802 "printable": %x21-2B / %x2D-7E, i.e. visible ASCII except ','. */
    static boolean isPrintableNonce(String nonce) {
        if (nonce.isEmpty()) {
            return false;
        }
        for (int i = 0; i < nonce.length(); i++) {
            char c = nonce.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
