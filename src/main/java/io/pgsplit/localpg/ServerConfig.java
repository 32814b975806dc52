package io.pgsplit.localpg;

import java.util.ArrayList;
import java.util.List;

/** The configuration text LocalPgCluster writes into the data dirs. */
final class ServerConfig {
    private ServerConfig() {
    }

    /** Appended to the primary's postgresql.conf; replicas inherit it through pg_basebackup. */
    static String settings(String host) {
        return "\n# ---- pgsplit LocalPgCluster ----\n"
                + "listen_addresses = " + confString(host) + "\n"
                + "max_connections = 300\n"
                + "wal_level = replica\n"
                + "max_wal_senders = 10\n"
                + "# lets a replica that falls behind during a benchmark catch up without replication slots\n"
                + "wal_keep_size = '256MB'\n"
                + "hot_standby = on\n"
                + "# throwaway data: durability buys nothing here, speed does (fsync only: synchronous_commit stays\n"
                + "# at PostgreSQL's default, on, so replication lag, causal reads and benchmarks behave as in production)\n"
                + "fsync = off\n"
                + "full_page_writes = off\n"
                + "shared_buffers = '64MB'\n"
                + "log_min_messages = warning\n"
                + "# pg_ctl -l writes the log file\n"
                + "logging_collector = off\n"
                + "# port and unix_socket_directories differ per node\n"
                + "include '" + PgNode.NODE_CONF + "'\n";
    }

    /** pg_hba.conf: see the class comment of {@link LocalPgCluster}. */
    static String hbaRules(String host) {
        List<String> addresses = new ArrayList<>(List.of("127.0.0.1/32", "::1/128"));
        if (!host.equals("127.0.0.1") && !host.equals("localhost") && !host.equals("::1")) {
            addresses.add("samehost"); // listening on another local address
        }
        StringBuilder hba = new StringBuilder()
                .append("# written by pgsplit LocalPgCluster; first matching line wins\n")
                .append("local   all          all                          trust\n");
        for (String address : addresses) {
            hba.append(line("all", LocalPgCluster.TRUST_USER, address, "trust"));
            hba.append(line("all", LocalPgCluster.PLAIN_PASSWORD_USER, address, "password"));
            // md5, not scram-sha-256: under "scram-sha-256" roles whose password is stored as md5 could not log in,
            // while "md5" accepts md5-stored passwords AND switches to SCRAM for SCRAM-stored ones.
            hba.append(line("replication", "all", address, "md5"));
            hba.append(line("all", "all", address, "md5"));
        }
        return hba.toString();
    }

    /** A postgresql.auto.conf line making a replica stream from the primary under its own application_name. */
    static String primaryConninfo(String host, int primaryPort, String user, String password, String replicaName) {
        String conninfo = "host=" + host + " port=" + primaryPort + " user=" + conninfoValue(user)
                + " password=" + conninfoValue(password) + " application_name=" + replicaName;
        return "primary_conninfo = " + confString(conninfo) + "\n";
    }

    /** A postgresql.conf string literal. */
    static String confString(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** A libpq connection-string value. */
    private static String conninfoValue(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String line(String database, String user, String address, String method) {
        return String.format("host    %-12s %-12s %-18s %s%n", database, user, address, method);
    }
}
