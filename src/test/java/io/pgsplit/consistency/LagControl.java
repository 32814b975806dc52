package io.pgsplit.consistency;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/** Makes a replica of the shared test cluster lag on purpose, and undoes it. */
final class LagControl {
    private LagControl() {
    }

    /** Sets (or, with null, resets) {@code recovery_min_apply_delay} on {@code replica}, and waits until it applies. */
    static void delay(LocalPgCluster cluster, String replica, String delay) throws Exception {
        try (Connection c = Jdbc.connect(cluster, replica, PgClusterExtension.DB, cluster.superuser(),
                cluster.superuserPassword()); Statement st = c.createStatement()) {
            st.execute(delay == null ? "ALTER SYSTEM RESET recovery_min_apply_delay"
                    : "ALTER SYSTEM SET recovery_min_apply_delay = '" + delay + "'");
            st.execute("SELECT pg_reload_conf()");
        }
        String want = delay == null ? "0" : delay;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            // a new backend reads the reloaded file; the startup process got the same SIGHUP
            try (Connection c = Jdbc.connect(cluster, replica, PgClusterExtension.DB, cluster.superuser(),
                    cluster.superuserPassword()); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SHOW recovery_min_apply_delay")) {
                rs.next();
                if (rs.getString(1).equals(want)) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("recovery_min_apply_delay on " + replica + " never became " + want);
            }
            Thread.sleep(20); // polling a setting, with a deadline
        }
    }
}
