package io.pgsplit.admin;

import io.pgsplit.config.AdminConfig;
import io.pgsplit.config.ListenConfig;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.RoutingConfig;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * SHOW CONFIG's rows: every setting of the listen, pool, routing and admin sections, its value, its default and
 * whether RELOAD applies it. Keys are the YAML keys without their section, as PgBouncer's are flat: the listen
 * address is {@code listen_addr}/{@code listen_port} and the admin section's keys start with {@code admin_}
 * (except {@code admin_users}, {@code stats_users} and {@code metrics_listen}). Read off the config records, so a new setting appears without
 * being listed here; passwords never appear.
 */
final class ConfigRows {
    record Row(String key, String value, String defaultValue, boolean reloadable) {
    }

    /** Settings only a restart changes. */
    private static final Set<String> RESTART_ONLY = Set.of("listen_addr", "listen_port", "worker_threads",
            "max_message_size", "reuse_port", "peer_id", "admin_enabled", "metrics_listen");
    private static final Set<String> HIDDEN = Set.of("admin_password");

    private ConfigRows() {
    }

    static List<Row> of(PgsplitConfig c) {
        List<Row> rows = new ArrayList<>();
        add(rows, "listen", c.listen(), ListenConfig.defaults());
        add(rows, "pool", c.pool(), PoolConfig.defaults());
        add(rows, "routing", c.routing(), RoutingConfig.defaults());
        add(rows, "admin", c.admin(), AdminConfig.defaults());
        return rows;
    }

    private static void add(List<Row> rows, String section, Record value, Record defaults) {
        for (RecordComponent rc : value.getClass().getRecordComponents()) {
            String key = flatKey(section, snake(rc.getName()));
            if (HIDDEN.contains(key)) {
                continue;
            }
            rows.add(new Row(key, text(get(rc, value)), text(get(rc, defaults)), !RESTART_ONLY.contains(key)));
        }
    }

    private static Object get(RecordComponent rc, Record r) {
        try {
            return rc.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    private static String flatKey(String section, String key) {
        return switch (section + "." + key) {
            case "listen.host" -> "listen_addr";
            case "listen.port" -> "listen_port";
            case "admin.admin_users", "admin.stats_users" -> key;
            case "admin.metrics" -> "metrics_listen";
            default -> section.equals("admin") ? "admin_" + key : key;
        };
    }

    static String snake(String camel) {
        StringBuilder b = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                b.append('_').append(Character.toLowerCase(ch));
            } else {
                b.append(ch);
            }
        }
        String s = b.toString();
        return switch (s) {
            case "mode" -> "pool_mode";
            case "rules_file" -> "rules";
            default -> s;
        };
    }

    private static String text(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof Duration d) {
            return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
        }
        if (v instanceof Enum<?> e) {
            return e.name().toLowerCase();
        }
        return v.toString();
    }
}
