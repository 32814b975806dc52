package io.pgsplit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code tls} and {@code auth_query} sections: defaults, values and the errors users see. */
class SecurityConfigTest {
    private static final String BASE = "databases: {app: {primary: db}}\nusers: {u: {password: x}}\n";

    private static List<String> errors(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(BASE + yaml, "pgsplit.yaml"));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void defaultsAreOff() throws Exception {
        PgsplitConfig c = ConfigLoader.parse(BASE, "pgsplit.yaml");
        assertFalse(c.tls().enabled());
        assertFalse(c.authQuery().enabled());
        assertEquals(AuthQueryConfig.DEFAULT_QUERY, c.authQuery().query());
    }

    @Test
    void tlsRequiresItsFiles() {
        assertEquals(List.of(
                "pgsplit.yaml: tls.cert_file: required when tls.mode is require (line 3, column 6)",
                "pgsplit.yaml: tls.key_file: required when tls.mode is require (line 3, column 6)"),
                errors("tls: {mode: require}\n"));
        assertEquals(List.of("pgsplit.yaml: tls.cert_file: file /nonexistent/server.crt does not exist or is not "
                        + "readable (line 3, column 33)"),
                errors("tls: {mode: require, cert_file: /nonexistent/server.crt, key_file: /etc/hostname}\n"));
        assertEquals(List.of("pgsplit.yaml: tls.mode: \"on\" is not one of: disable, allow, prefer, require (line 3, column 13)"),
                errors("tls: {mode: on}\n"));
    }

    @Test
    void serverTlsVerifyNeedsACaFile() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                "databases: {app: {primary: db, server_tls: {mode: verify-full}}}\nusers: {u: {password: x}}\n",
                "pgsplit.yaml"));
        assertEquals("pgsplit.yaml: databases.app.server_tls.ca_file: required when server_tls.mode is verify-full "
                + "(line 1, column 44)", e.errors().get(0).toString());
        PgsplitConfig c = ConfigLoader.parse(
                "databases: {app: {primary: db, server_tls: {mode: require}}}\nusers: {u: {password: x}}\n", "pgsplit.yaml");
        assertEquals(ServerTlsMode.REQUIRE, c.databases().get("app").serverTls().mode());
    }

    @Test
    void authQuery() throws Exception {
        PgsplitConfig c = ConfigLoader.parse(BASE + "auth_query: {user: lookup, password: pw, cache_ttl: 10s}\n",
                "pgsplit.yaml");
        assertTrue(c.authQuery().enabled());
        assertEquals(Duration.ofSeconds(10), c.authQuery().cacheTtl());
        assertEquals(Duration.ofSeconds(5), c.authQuery().negativeCacheTtl());
        assertEquals(List.of("pgsplit.yaml: auth_query.query: must take the user name as parameter $1 (line 3, column 21)"),
                errors("auth_query: {query: \"SELECT 1\", user: lookup}\n"));
        assertEquals(List.of("pgsplit.yaml: auth_query.user: required to look users up (auth_query is off without it) (line 3, column 13)"),
                errors("auth_query: {password: pw}\n"));
    }
}
