package io.pgsplit.auth;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * The "Normalize(password)" step of SCRAM as PostgreSQL does it (src/common/saslprep.c): apply
 * SASLprep (RFC 4013), and if the password is not a valid SASLprep string, use its raw UTF-8 bytes
 * instead of failing. Both libpq and the server follow that rule, so matching it is what makes
 * non-ASCII passwords interoperate.
 *
 * <p>Simplifications, documented because they can matter only for exotic passwords:
 * <ul>
 *   <li>Unicode tables come from the JDK ({@link Normalizer}, {@link Character#getType},
 *       {@link Character#getDirectionality}) rather than the frozen Unicode 3.2 tables of
 *       RFC 3454, so a code point assigned after 3.2 is accepted here where PostgreSQL would
 *       fall back to raw bytes, and NFKC may differ for such code points.</li>
 *   <li>The prohibited-output tables (C.2-C.9) and the bidi rule are implemented from the RFC
 *       lists; the bidi categories come from the JDK.</li>
 *   <li>A Java string holding an unpaired surrogate encodes it as '?' in UTF-8; PostgreSQL never
 *       sees such a string, since it gets bytes.</li>
 * </ul>
 */
final class SaslPrep {
    private SaslPrep() {
    }

    /** The bytes to feed to Hi(): SASLprep'd UTF-8, or the raw UTF-8 when SASLprep rejects it. */
    static byte[] passwordBytes(String password) {
        String prepared = prepareOrNull(password);
        return (prepared != null ? prepared : password).getBytes(StandardCharsets.UTF_8);
    }

    /** SASLprep of {@code s}, or null where PostgreSQL would fall back to the raw bytes. */
    static String prepareOrNull(String s) {
        // Like PostgreSQL: pure ASCII needs no processing at all (not even the control check).
        if (s.chars().allMatch(c -> c < 0x80)) {
            return s;
        }
        // RFC 4013 2.1 mapping: non-ASCII spaces (C.1.2) become SPACE, B.1 characters vanish.
        StringBuilder mapped = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (isNonAsciiSpace(cp)) {
                mapped.append(' ');
            } else if (!isMappedToNothing(cp)) {
                mapped.appendCodePoint(cp);
            }
        }
        // RFC 4013 2.2 normalization.
        String normalized = Normalizer.normalize(mapped, Normalizer.Form.NFKC);

        // RFC 4013 2.3 prohibited output, 2.4 bidi, 2.5 unassigned code points.
        boolean hasRandAL = false;
        boolean hasL = false;
        int[] codePoints = normalized.codePoints().toArray();
        for (int cp : codePoints) {
            if (isNonAsciiSpace(cp) || isProhibited(cp) || Character.getType(cp) == Character.UNASSIGNED) {
                return null;
            }
            hasRandAL |= isRandAL(cp);
            hasL |= Character.getDirectionality(cp) == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
        }
        if (hasRandAL) {
            // RFC 3454 section 6: a string with RandALCat characters must not contain LCat
            // characters and must start and end with a RandALCat character.
            if (hasL || !isRandAL(codePoints[0]) || !isRandAL(codePoints[codePoints.length - 1])) {
                return null;
            }
        }
        return normalized;
    }

    private static boolean isRandAL(int cp) {
        byte dir = Character.getDirectionality(cp);
        return dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT
                || dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
    }

    /** RFC 3454 table C.1.2. */
    private static boolean isNonAsciiSpace(int cp) {
        return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B)
                || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** RFC 3454 table B.1 ("commonly mapped to nothing"). */
    private static boolean isMappedToNothing(int cp) {
        return cp == 0x00AD || cp == 0x034F || cp == 0x1806 || (cp >= 0x180B && cp <= 0x180D)
                || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060
                || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF;
    }

    /** RFC 3454 tables C.2.1 through C.9, as listed in RFC 4013 section 2.3. */
    private static boolean isProhibited(int cp) {
        return cp < 0x20 || cp == 0x7F                                       // C.2.1 ASCII control
                || (cp >= 0x80 && cp <= 0x9F)                                // C.2.2 non-ASCII control
                || cp == 0x06DD || cp == 0x070F || cp == 0x180E
                || cp == 0x200C || cp == 0x200D || cp == 0x2028 || cp == 0x2029
                || (cp >= 0x2060 && cp <= 0x2063) || (cp >= 0x206A && cp <= 0x206F)
                || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFC)
                || (cp >= 0x1D173 && cp <= 0x1D17A)
                || (cp >= 0xE000 && cp <= 0xF8FF)                            // C.3 private use
                || (cp >= 0xF0000 && cp <= 0xFFFFD) || (cp >= 0x100000 && cp <= 0x10FFFD)
                || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE // C.4 non-characters
                || (cp >= 0xD800 && cp <= 0xDFFF)                            // C.5 surrogates
                || (cp >= 0xFFF9 && cp <= 0xFFFD)                            // C.6 not plain text
                || (cp >= 0x2FF0 && cp <= 0x2FFB)                            // C.7 ideographic description
                || cp == 0x0340 || cp == 0x0341 || cp == 0x200E || cp == 0x200F // C.8 display/deprecated
                || (cp >= 0x202A && cp <= 0x202E)
                || cp == 0xE0001 || (cp >= 0xE0020 && cp <= 0xE007F);        // C.9 tagging
    }
}
