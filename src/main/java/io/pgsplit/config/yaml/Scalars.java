package io.pgsplit.config.yaml;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the scalar notations used in pgsplit files. Each returns {@code null} for text it does not
 * accept, so the caller can word the error with the key path and position it knows about.
 * Also usable for command-line flags that take the same notations.
 */
public final class Scalars {

    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9][0-9_]*");
    private static final Pattern DURATION = Pattern.compile("([0-9]+)\\s*(ms|s|m|h)?");
    private static final Pattern BYTES = Pattern.compile("([0-9]+)\\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?");

    private Scalars() {
    }

    /**
     * A whole number in decimal, with optional sign and YAML-style {@code _} digit separators
     * ({@code 1_000}). Returns the exact value, however large, so range errors can quote it.
     */
    public static BigInteger parseInteger(String text) {
        String trimmed = text.trim();
        if (!INTEGER.matcher(trimmed).matches()) {
            return null;
        }
        return new BigInteger(trimmed.replace("_", ""));
    }

    /**
     * A duration: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, or a bare whole number meaning
     * seconds (the most common unit for timeouts). Negative durations are rejected; {@code 0} is
     * accepted (pgsplit uses it for "disabled").
     */
    public static Duration parseDuration(String text) {
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return null;
        }
        try {
            long amount = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> null;
            };
        } catch (ArithmeticException | NumberFormatException tooLarge) {
            return null;
        }
    }

    /**
     * A byte count: a bare number of bytes, or a number with a unit, PostgreSQL style, where every unit is
     * a power of 1024 ({@code 64MB} = {@code 64MiB} = 67108864): {@code B, kB/KiB/k, MB/MiB/M, GB/GiB/G},
     * case-insensitive.
     */
    public static Long parseBytes(String text) {
        Matcher m = BYTES.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return null;
        }
        try {
            long amount = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "b" : m.group(2);
            long multiplier = switch (unit.charAt(0)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                case 'g' -> 1L << 30;
                default -> 1L;
            };
            return Math.multiplyExact(amount, multiplier);
        } catch (ArithmeticException | NumberFormatException tooLarge) {
            return null;
        }
    }

    /**
     * A boolean: {@code true/false}, and the YAML 1.1 spellings {@code yes/no/on/off}, case-insensitive.
     */
    public static Boolean parseBoolean(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> Boolean.TRUE;
            case "false", "no", "off" -> Boolean.FALSE;
            default -> null;
        };
    }
}
