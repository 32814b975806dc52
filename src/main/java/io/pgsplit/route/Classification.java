package io.pgsplit.route;

/**
 * The routing decision for one query string.
 *
 * @param parsed   the cached facts it was decided from
 * @param write    true: send to the primary
 * @param reason   human readable, e.g. "read: SELECT", "write: function my_fn() is volatile"
 * @param function the function that decided, or null
 */
public record Classification(ParsedQuery parsed, boolean write, String reason, String function) {

    public boolean read() {
        return !write;
    }
}
