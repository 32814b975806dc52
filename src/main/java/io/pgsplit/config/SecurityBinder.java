package io.pgsplit.config;

import io.pgsplit.config.yaml.NumberRange;
import io.pgsplit.config.yaml.YamlSection;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Binds the {@code tls} (client TLS) and {@code auth_query} sections. */
final class SecurityBinder {
    static final String TLS = "tls";
    static final String AUTH_QUERY = "auth_query";

    private final Path baseDirectory;

    SecurityBinder(Path baseDirectory) {
        this.baseDirectory = baseDirectory;
    }

    ClientTlsConfig bindTls(YamlSection section) {
        if (section == null) {
            return ClientTlsConfig.defaults();
        }
        section.expectKeys("mode", "cert_file", "key_file", "ca_file");
        ClientTlsMode mode = section.enumValue("mode", ClientTlsMode.DISABLE, ClientTlsMode.values(),
                ClientTlsMode::yamlName);
        Path cert = file(section, "cert_file");
        Path key = file(section, "key_file");
        Path ca = file(section, "ca_file");
        if (mode != ClientTlsMode.DISABLE) {
            if (!section.has("cert_file")) {
                section.error("cert_file", "required when tls.mode is " + mode.yamlName());
            }
            if (!section.has("key_file")) {
                section.error("key_file", "required when tls.mode is " + mode.yamlName());
            }
        }
        return new ClientTlsConfig(mode, cert, key, ca);
    }

    ServerTlsConfig bindServerTls(YamlSection section) {
        if (section == null) {
            return ServerTlsConfig.disabled();
        }
        section.expectKeys("mode", "ca_file");
        ServerTlsMode mode = section.enumValue("mode", ServerTlsMode.DISABLE, ServerTlsMode.values(),
                ServerTlsMode::yamlName);
        Path ca = file(section, "ca_file");
        if (mode.verifies() && !section.has("ca_file")) {
            section.error("ca_file", "required when server_tls.mode is " + mode.yamlName());
        }
        return new ServerTlsConfig(mode, ca);
    }

    AuthQueryConfig bindAuthQuery(YamlSection section) {
        AuthQueryConfig d = AuthQueryConfig.defaults();
        if (section == null) {
            return d;
        }
        section.expectKeys("query", "user", "password", "database", "cache_ttl", "negative_cache_ttl", "pool_size",
                "recheck");
        String query = section.string("query", d.query());
        if (query.isBlank()) {
            section.error("query", "must not be empty");
        } else if (!query.contains("$1")) {
            section.error("query", "must take the user name as parameter $1");
        }
        // without a user auth_query is off; the other keys alone mean a forgotten user
        String user = section.string("user", null);
        if (user == null && (section.has("query") || section.has("password") || section.has("database"))) {
            section.error("user", "required to look users up (auth_query is off without it)");
        }
        String password = section.string("password", null);
        if (PasswordFormats.looksLikeScramVerifier(password) || PasswordFormats.isMd5Hash(password)) {
            section.error("password", "must be the real password: pgsplit logs in with it");
        }
        return new AuthQueryConfig(query, user, password, section.string("database", null),
                section.duration("cache_ttl", d.cacheTtl()),
                section.duration("negative_cache_ttl", d.negativeCacheTtl()),
                section.integer("pool_size", d.poolSize(), NumberRange.POSITIVE),
                section.bool("recheck", d.recheck()));
    }

    /** A file that must exist now (a typo should stop the start, not the first TLS client). */
    private Path file(YamlSection section, String key) {
        String text = section.string(key, null);
        if (text == null) {
            return null;
        }
        Path resolved;
        try {
            resolved = baseDirectory.resolve(text).normalize();
        } catch (InvalidPathException e) {
            section.error(key, "\"" + text + "\" is not a valid path");
            return null;
        }
        if (!Files.isReadable(resolved)) {
            section.error(key, "file " + resolved + " does not exist or is not readable");
        }
        return resolved;
    }
}
