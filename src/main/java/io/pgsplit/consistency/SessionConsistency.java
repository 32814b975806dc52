package io.pgsplit.consistency;

import io.pgsplit.topology.Node;
import io.pgsplit.config.Consistency;
import io.pgsplit.config.DatabaseConfig;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.RoutingConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.route.Router;
import java.util.regex.Pattern;

/**
 * One client's consistency: its level (the routing default, overridden by its database, its user, the start-up
 * option {@code pgsplit.consistency}, then {@code SET pgsplit.consistency}; a comment hint
 * {@code /* pgsplit: consistency=eventual *}{@code /} for one statement) and the number of its own latest
 * acknowledged write, which session consistency waits for. Confined to the client's event loop.
 */
public final class SessionConsistency {
    /** The session's own setting name: answered by pgsplit, never sent to a server. */
    public static final String SETTING = "pgsplit.consistency";
    private static final Pattern COMMENT_HINT =
            Pattern.compile("/\\*\\s*pgsplit\\s*:\\s*consistency\\s*=\\s*([A-Za-z]+)\\s*\\*/");

    private final Consistency configured;
    private Consistency level;
    private long ownAck;

    /** @param configured the level the configuration gives this database and user */
    public SessionConsistency(Consistency configured) {
        this.configured = configured;
        this.level = configured;
    }

    /** The level configured for {@code user} in {@code database}: the user's, else the database's, else the default. */
    public static Consistency configured(PgsplitConfig config, String database, String user) {
        UserConfig u = config.users().get(user);
        if (u != null && u.consistency() != null) {
            return u.consistency();
        }
        DatabaseConfig d = config.databases().get(database);
        return d != null ? d.effectiveConsistency(config.routing()) : config.routing().consistency();
    }

    /**
     * For {@code pgsplit explain}: the level a read of {@code sql} gets from the configuration or its comment hint,
     * where that comes from, and what it means.
     */
    public static String describe(PgsplitConfig config, String database, String user, String sql) {
        RoutingConfig routing = config == null ? RoutingConfig.defaults() : config.routing();
        Consistency c = config == null ? routing.consistency() : configured(config, database, user);
        String source = "routing.consistency";
        if (config != null && config.users().get(user) != null && config.users().get(user).consistency() != null) {
            source = "user " + user;
        } else if (config != null && config.databases().get(database) != null
                && config.databases().get(database).consistency() != null) {
            source = "database " + database;
        }
        Consistency hinted = routing.hints() && sql != null ? Consistency.parse(Router.commentHint(sql, COMMENT_HINT))
                : null;
        if (hinted != null) {
            c = hinted;
            source = "comment hint";
        }
        long wait = routing.causalWait().toMillis();
        String what = switch (c) {
            case CAUSAL -> "a replica only once it has replayed every write pgsplit acknowledged before the read "
                    + "(waits up to " + wait + " ms, then the primary)";
            case SESSION -> "a replica only once it has replayed the client's own acknowledged writes (waits up to "
                    + wait + " ms, then the primary)";
            case EVENTUAL -> "any replica within the lag limits";
        };
        return c.yamlName() + " (" + source + "): " + what;
    }

    /** The error for a value {@link #set} would refuse, else null. */
    public static String validate(String value) {
        return value == null || value.equalsIgnoreCase("default") || Consistency.parse(value) != null ? null
                : "invalid value for parameter \"" + SETTING + "\": \"" + value + "\" (allowed: causal, session, eventual)";
    }

    public Consistency level() {
        return level;
    }

    /**
     * {@code SET pgsplit.consistency = value} (or the start-up option); null value = RESET. Returns an error
     * message for a value that is not a level, else null.
     */
    public String set(String value) {
        if (value == null || value.equalsIgnoreCase("default")) {
            level = configured;
            return null;
        }
        String bad = validate(value);
        if (bad == null) {
            level = Consistency.parse(value);
        }
        return bad;
    }

    /**
     * Work of this client that ran on {@code node} is being acknowledged with ReadyForQuery status
     * {@code status}: the end of a transaction (or an autocommit statement) on the primary counts.
     * {@code read}: pgsplit classified the work as a read (a read that fell back to the primary), not counted.
     */
    public void acknowledging(ReadGate gate, Node node, char status, boolean read) {
        if (status == 'I' && node.isPrimary() && !read) {
            ownAck = gate.acknowledged();
        }
    }

    /**
     * The requirement of a read about to choose a node; {@code hintSql}: its text, for a comment hint (or null);
     * {@code ruled}: the level a routing rule gives it (or null). The comment wins over the rule, the rule over
     * the session.
     */
    public ReadCheck check(ReadGate gate, String hintSql, Consistency ruled) {
        Consistency c = ruled != null ? ruled : level;
        if (hintSql != null && hintSql.indexOf("consistency") >= 0) {
            Consistency hinted = Consistency.parse(Router.commentHint(hintSql, COMMENT_HINT));
            if (hinted != null) {
                c = hinted;
            }
        }
        return gate.check(c, ownAck);
    }
}
