package io.pgsplit.route;

import java.util.List;
import java.util.Set;

/**
 * What the classifier knows about PostgreSQL's built-in functions without a catalog.
 *
 * <p>The real catalog ({@code pg_proc.provolatile}, loaded by the caller from the primary and passed as a
 * {@link FunctionCatalog}) takes precedence over {@link #isKnownReadOnly}: these lists only make the classifier behave
 * sensibly before a catalog is loaded (and in tests). {@link #isAlwaysWrite} wins over everything, catalogs included.
 * Names are looked up lower-case, with a leading "pg_catalog." removed.
 */
public final class BuiltinFunctions {

    private BuiltinFunctions() {}

    /** Functions with side effects that must run on the primary whatever a catalog or configuration says. */
    private static final Set<String> ALWAYS_WRITE = Set.of(
            "nextval", "setval", "set_config", "pg_notify", "txid_current", "txid_current_if_assigned",
            "pg_current_xact_id", "pg_current_xact_id_if_assigned", "loread", "lowrite",
            "pg_logical_emit_message", "pg_create_restore_point", "pg_switch_wal", "pg_reload_conf",
            "pg_terminate_backend", "pg_cancel_backend", "dblink_exec");
    private static final List<String> ALWAYS_WRITE_PREFIXES = List.of(
            "pg_advisory_", "pg_try_advisory_", "lo_", "pg_stat_reset", "pg_replication_origin_",
            "pg_create_logical_replication_slot", "pg_create_physical_replication_slot", "pg_drop_replication_slot");

    /** Session-level advisory locks: they outlive the transaction, so the session must stay on its server connection. */
    static final Set<String> SESSION_ADVISORY_LOCKS = Set.of(
            "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared");
    static final Set<String> SESSION_ADVISORY_UNLOCKS = Set.of(
            "pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all");

    /** Volatile in pg_proc but harmless on a replica: they change no data. */
    private static final Set<String> VOLATILE_BUT_READ_ONLY = Set.of(
            "random", "random_normal", "pg_sleep", "pg_sleep_for", "pg_sleep_until", "clock_timestamp", "timeofday",
            "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7",
            "statement_timestamp", "txid_current_snapshot", "pg_current_snapshot",
            // system information that pg_proc marks volatile but that only reads, and works on a standby
            "pg_is_in_recovery", "pg_last_wal_replay_lsn", "pg_last_wal_receive_lsn", "pg_last_xact_replay_timestamp",
            "pg_is_wal_replay_paused", "pg_get_wal_replay_pause_state", "pg_blocking_pids", "pg_stat_file",
            "pg_conf_load_time", "pg_postmaster_start_time");

    /** Well-known STABLE or IMMUTABLE built-ins, treated as reads when the catalog does not know them. */
    private static final Set<String> STABLE_OR_IMMUTABLE = Set.of(
            // aggregates and window functions
            "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "bit_and", "bit_or",
            "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp",
            "percentile_cont", "percentile_disc", "mode", "xmlagg", "any_value",
            "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
            "first_value", "last_value", "nth_value",
            // conditional, comparison
            "coalesce", "greatest", "least", "num_nulls", "num_nonnulls",
            // strings
            "lower", "upper", "length", "char_length", "character_length", "octet_length", "bit_length",
            "concat", "concat_ws", "substr", "substring", "position", "strpos", "replace", "split_part", "left", "right",
            "lpad", "rpad", "ltrim", "rtrim", "btrim", "trim", "initcap", "repeat", "reverse", "translate", "ascii", "chr",
            "md5", "sha224", "sha256", "sha384", "sha512", "encode", "decode", "format", "quote_ident", "quote_literal",
            "quote_nullable", "starts_with", "overlay", "unaccent", "similarity", "word_similarity",
            // numbers
            "abs", "ceil", "ceiling", "floor", "round", "trunc", "mod", "power", "pow", "sqrt", "cbrt", "exp", "ln", "log",
            "log10", "sign", "div", "pi", "degrees", "radians", "sin", "cos", "tan", "width_bucket", "gcd", "lcm",
            // dates and times
            "now", "current_timestamp", "current_date", "current_time", "localtime", "localtimestamp",
            "transaction_timestamp", "extract", "age", "isfinite", "timezone", "overlaps",
            // arrays, sets, ranges
            "unnest", "generate_series", "generate_subscripts", "cardinality", "lower_inf", "upper_inf", "isempty",
            "range_merge", "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange",
            // system information
            "inet_server_port", "inet_server_addr", "inet_client_addr", "inet_client_port", "pg_is_in_recovery",
            "version", "current_setting", "current_database", "current_catalog", "current_schema", "current_schemas",
            "current_user", "current_role", "session_user", "user", "pg_backend_pid", "pg_postmaster_start_time",
            "pg_conf_load_time", "pg_typeof", "format_type", "obj_description", "col_description", "shobj_description",
            "pg_table_size", "pg_relation_size", "pg_total_relation_size", "pg_indexes_size", "pg_database_size",
            "pg_column_size", "pg_size_pretty", "pg_size_bytes", "pg_last_wal_replay_lsn", "pg_last_wal_receive_lsn",
            "pg_last_xact_replay_timestamp", "pg_wal_lsn_diff", "pg_is_wal_replay_paused",
            "txid_snapshot_xmin", "txid_snapshot_xmax", "pg_snapshot_xmin", "pg_snapshot_xmax", "pg_xact_commit_timestamp",
            "pg_jit_available", "pg_listening_channels", "pg_my_temp_schema", "pg_blocking_pids", "pg_trigger_depth",
            "pg_encoding_to_char", "pg_char_to_encoding", "pg_client_encoding", "row_to_json", "to_json", "to_jsonb",
            "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery", "ts_rank", "ts_rank_cd", "ts_headline",
            "setweight", "numnode", "querytree", "host", "masklen", "network", "family", "abbrev", "broadcast",
            "netmask", "inet_same_family", "xmlelement", "xmlforest", "xmlconcat", "xpath", "xpath_exists",
            // SQL syntax that JSqlParser may report as function calls
            "exists", "row", "array", "cast", "any", "all", "some", "nullif", "collation for");
    private static final List<String> STABLE_OR_IMMUTABLE_PREFIXES = List.of(
            "json_", "jsonb_", "array_", "regexp_", "has_", "pg_get_", "to_", "date_", "make_", "justify_",
            "string_", "pg_stat_get_", "pg_stat_file", "ts_", "tsvector_", "tsquery_", "pg_has_role");

    /** Strips a "pg_catalog." qualifier: built-ins are the same functions however they are qualified. */
    public static String baseName(String name) {
        return name.startsWith("pg_catalog.") ? name.substring("pg_catalog.".length()) : name;
    }

    public static boolean isAlwaysWrite(String name) {
        String base = baseName(name);
        if (ALWAYS_WRITE.contains(base)) return true;
        for (String prefix : ALWAYS_WRITE_PREFIXES) {
            if (base.startsWith(prefix)) return true;
        }
        return false;
    }

    public static boolean isVolatileButReadOnly(String name) {
        return VOLATILE_BUT_READ_ONLY.contains(baseName(name));
    }

    /** A well-known STABLE or IMMUTABLE built-in: only consulted when the catalog says UNKNOWN. */
    public static boolean isKnownReadOnly(String name) {
        String base = baseName(name);
        if (base.contains(".")) return false; // some other schema's function of the same name
        if (STABLE_OR_IMMUTABLE.contains(base)) return true;
        for (String prefix : STABLE_OR_IMMUTABLE_PREFIXES) {
            if (base.startsWith(prefix)) return true;
        }
        return false;
    }
}
