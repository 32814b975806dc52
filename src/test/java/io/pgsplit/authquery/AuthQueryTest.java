package io.pgsplit.authquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.localpg.LocalPgCluster;
import io.pgsplit.testing.Jdbc;
import io.pgsplit.testing.PgClusterExtension;
import io.pgsplit.testing.RouterFixture;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * auth_query with the default query (pg_authid, as PgBouncer's): roles created on the primary after pgsplit
 * started log in through it with SCRAM (or md5) and pgsplit logs in to the servers with the client's own
 * keys: its config holds no password for them. Refusals are PostgreSQL's 28P01 for wrong, expired, unknown
 * and dropped users alike.
 */
@ExtendWith(PgClusterExtension.class)
class AuthQueryTest {
    static LocalPgCluster cluster;
    static RouterFixture router;
    static final AtomicInteger SEQ = new AtomicInteger();

    @BeforeAll
    static void start(LocalPgCluster c) throws Exception {
        cluster = c;
        // the lookup user reads pg_authid: a superuser here (the seed test uses a SECURITY DEFINER function instead)
        router = RouterFixture.builder(c).yaml("auth_query:\n  user: " + c.superuser() + "\n  password: \""
                + c.superuserPassword() + "\"\n  cache_ttl: 2s\n  negative_cache_ttl: 1s\n").start();
    }

    @AfterAll
    static void stop() {
        if (router != null) {
            router.close();
        }
    }

    static String newRole(String password, String extra) {
        String name = "aq_user_" + SEQ.incrementAndGet() + "_" + ProcessHandle.current().pid();
        cluster.execute("CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "' " + extra + ";");
        cluster.waitForReplay();
        return name;
    }

    static Connection connect(String user, String password) throws SQLException {
        return Jdbc.connect(router.host(), router.port(), "app", user, password);
    }

    static void assertRefused(String user, String password) {
        SQLException e = assertThrows(SQLException.class, () -> connect(user, password).close());
        assertEquals("28P01", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("password authentication failed for user \"" + user + "\""), e.getMessage());
    }

    @Test
    void roleCreatedAfterStartLogsInAndRunsOnPrimaryAndReplicas() throws Exception {
        String user = newRole("s3cret", "");
        assertTrue(!router.config().users().containsKey(user));
        try (Connection c = connect(user, "s3cret")) {
            assertEquals(true, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"), "an autocommit read runs on a replica");
            assertEquals(user, Jdbc.queryValue(c, "SELECT current_user"));
            c.setAutoCommit(false);
            assertEquals(false, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"), "a transaction runs on the primary");
            c.commit();
        }
        // psql (libpq) logs in the same way
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-At", "-h", "127.0.0.1", "-p",
                String.valueOf(router.port()), "-U", user, "-d", "app", "-c", "SELECT current_user").redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", "s3cret");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(user, out);
    }

    @Test
    void wrongPasswordUnknownUserAndExpiredAreRefusedAlike() throws Exception {
        String user = newRole("right", "");
        long failuresBefore = router.router().context().authFailures();
        assertRefused(user, "wrong");
        assertRefused("aq_nobody_" + ProcessHandle.current().pid(), "whatever");
        String expired = newRole("right", "VALID UNTIL '2001-01-01'");
        assertRefused(expired, "right");
        try (Connection c = connect(user, "right")) {
            assertEquals(1, Jdbc.queryValue(c, "SELECT 1"));
        }
        // counted for metrics (pgjdbc tries once per refusal: no TLS retry with sslmode=disable)
        assertTrue(router.router().context().authFailures() - failuresBefore >= 3);
    }

    @Test
    void md5StoredRoleLogsInWithMd5() throws Exception {
        String name = "aq_md5_" + ProcessHandle.current().pid();
        cluster.execute("SET password_encryption = 'md5'; CREATE ROLE " + name + " LOGIN PASSWORD 'pw5';");
        cluster.waitForReplay();
        try (Connection c = connect(name, "pw5")) {
            assertEquals(name, Jdbc.queryValue(c, "SELECT current_user"));
            assertEquals(true, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));
        }
        assertRefused(name, "nope");
    }

    @Test
    void droppedRoleIsRefusedAtOnce() throws Exception {
        String user = newRole("pw", "");
        try (Connection c = connect(user, "pw")) {
            assertEquals(1, Jdbc.queryValue(c, "SELECT 1"));
        }
        cluster.execute("DROP ROLE " + user + ";");
        cluster.waitForReplay();
        assertRefused(user, "pw");
    }

    /** recheck: false serves cached entries for their TTL: a dropped role still logs in until its entry expires. */
    @Test
    void withoutRecheckADroppedRoleIsRefusedOnceTheCacheEntryExpires() throws Exception {
        long ttlMs = 8000;
        try (RouterFixture cached = RouterFixture.builder(cluster).yaml("auth_query:\n  user: " + cluster.superuser()
                + "\n  password: \"" + cluster.superuserPassword() + "\"\n  cache_ttl: " + ttlMs + "ms\n  recheck: false\n")
                .start()) {
            String user = newRole("pw", "");
            Jdbc.queryValue(cached.host(), cached.port(), "app", user, "pw", "SELECT 1");
            long cachedAt = System.nanoTime();   // the entry was read at (or just before) this login
            cluster.execute("DROP ROLE " + user + ";");
            cluster.waitForReplay();
            // within the TTL the cached verifier still checks the client (its server connection is pooled);
            // under heavy load the TTL may be gone by now, and then there is nothing to check here
            if (System.nanoTime() - cachedAt < TimeUnit.MILLISECONDS.toNanos(ttlMs - 3000)) {
                Jdbc.queryValue(cached.host(), cached.port(), "app", user, "pw", "SELECT 1");
            }
            long deadline = cachedAt + TimeUnit.MILLISECONDS.toNanos(ttlMs + 20_000);
            while (true) {
                long attempt = System.nanoTime();
                try {
                    Jdbc.queryValue(cached.host(), cached.port(), "app", user, "pw", "SELECT 1");
                } catch (SQLException e) {
                    assertEquals("28P01", e.getSQLState(), e.getMessage());
                    assertTrue(attempt - cachedAt >= TimeUnit.MILLISECONDS.toNanos(ttlMs - 1000),
                            "refused before the cache entry could have expired");
                    break;
                }
                assertTrue(System.nanoTime() < deadline, "still logs in 20 s after the cache entry expired");
                Thread.sleep(200);   // waiting out a TTL: there is no event to wait for
            }
        }
    }

    @Test
    void changedPasswordOldIsRefusedAndNewWorksWithoutWaitingForTheCache() throws Exception {
        String user = newRole("old", "");
        try (Connection c = connect(user, "old")) {
            assertEquals(1, Jdbc.queryValue(c, "SELECT 1"));
        }
        cluster.execute("ALTER ROLE " + user + " PASSWORD 'new';");
        cluster.waitForReplay();
        try (Connection c = connect(user, "new")) {   // at once, well within cache_ttl
            assertEquals(true, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));
            c.setAutoCommit(false);
            assertEquals(false, Jdbc.queryValue(c, "SELECT pg_is_in_recovery()"));
            c.commit();
        }
        assertRefused(user, "old");
    }

    @Test
    void configuredUsersAreNotLookedUp() throws Exception {
        try (Connection c = router.connect()) {
            assertEquals(1, Jdbc.queryValue(c, "SELECT 1"));
        }
        assertRefused("app", "not-app");
    }

}
