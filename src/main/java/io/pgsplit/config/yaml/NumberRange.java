package io.pgsplit.config.yaml;

/**
 * The accepted range of a whole-number setting, with the words used in the error message:
 * a value outside it is reported as {@code "<value> is not <description>"}, e.g.
 * {@code 70000 is not a port (1-65535)}.
 *
 * @param min         smallest accepted value (inclusive)
 * @param max         largest accepted value (inclusive)
 * @param description noun phrase completing "is not ...", e.g. {@code "a port (1-65535)"}
 */
public record NumberRange(long min, long max, String description) {

    /** TCP ports. */
    public static final NumberRange PORT = new NumberRange(1, 65535, "a port (1-65535)");
    /** Sizes and counts that must be at least 1 (fits an {@code int}). */
    public static final NumberRange POSITIVE = new NumberRange(1, Integer.MAX_VALUE, "a positive number");
    /** Sizes and counts where 0 is meaningful, usually "disabled" or "unlimited" (fits an {@code int}). */
    public static final NumberRange NON_NEGATIVE = new NumberRange(0, Integer.MAX_VALUE, "zero or a positive number");
    /** Like {@link #NON_NEGATIVE} but for {@code long} values such as byte counts. */
    public static final NumberRange NON_NEGATIVE_LONG = new NumberRange(0, Long.MAX_VALUE, "zero or a positive number");

    public NumberRange {
        if (min > max) {
            throw new IllegalArgumentException("min " + min + " > max " + max);
        }
    }

    /** A range described as {@code "a number between min and max"}. */
    public static NumberRange between(long min, long max) {
        return new NumberRange(min, max, "a number between " + min + " and " + max);
    }

    public boolean contains(long value) {
        return value >= min && value <= max;
    }
}
