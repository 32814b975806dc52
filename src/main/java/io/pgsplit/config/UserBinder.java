package io.pgsplit.config;

import io.pgsplit.config.yaml.YamlSection;
import io.pgsplit.config.yaml.YamlValue;

import java.util.LinkedHashMap;
import java.util.Map;

/** Binds the {@code users} section and checks each user's password against its auth method. */
final class UserBinder {

    private UserBinder() {
    }

    static Map<String, UserConfig> bindAll(YamlSection root) {
        Map<String, UserConfig> users = new LinkedHashMap<>();
        if (root.get(ConfigBinder.USERS) == null) {
            root.require(ConfigBinder.USERS);
            return users;
        }
        YamlSection section = root.section(ConfigBinder.USERS);
        if (section == null) {
            return users;
        }
        if (section.isEmpty()) {
            section.self().error("at least one user is required");
        }
        section.entries().forEach((name, value) -> {
            UserConfig user = bind(name, value);
            if (user != null) {
                users.put(name, user);
            }
        });
        return users;
    }

    private static UserConfig bind(String name, YamlValue value) {
        YamlSection section = value.asSection();
        if (section == null) {
            return null;
        }
        section.expectKeys("auth", "password", "server_user", "server_password", "pool_mode",
                "consistency");
        AuthMethod auth = section.enumValue("auth", AuthMethod.SCRAM_SHA_256, AuthMethod.values(), AuthMethod::yamlName);
        String password = section.string("password", null);
        if (password != null && password.isEmpty()) {
            password = null; // PostgreSQL never accepts an empty password, so "" can only mean "none"
        }
        checkPassword(section, auth, password);

        String serverUser = section.string("server_user", name);
        String serverPassword = serverPassword(section, password);
        PoolMode poolMode = section.enumValue("pool_mode", null, PoolMode.values(), PoolMode::yamlName);
        Consistency consistency =
                section.enumValue("consistency", null, Consistency.values(), Consistency::yamlName);
        return new UserConfig(name, auth, password, serverUser, serverPassword, poolMode, consistency);
    }

    private static void checkPassword(YamlSection section, AuthMethod auth, String password) {
        if (password == null) {
            if (auth != AuthMethod.TRUST) {
                section.error("password", "required unless auth is trust");
            }
            return;
        }
        if (PasswordFormats.looksLikeScramVerifier(password) && !PasswordFormats.isWellFormedScramVerifier(password)) {
            section.error("password", "is not a valid SCRAM verifier "
                    + "(expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)");
        } else if (auth == AuthMethod.MD5 && PasswordFormats.looksLikeScramVerifier(password)) {
            section.error("password", "a SCRAM verifier cannot check md5 logins; "
                    + "give the plaintext or md5 password, or use auth: scram-sha-256");
        } else if (auth == AuthMethod.SCRAM_SHA_256 && PasswordFormats.isMd5Hash(password)) {
            section.error("password", "an md5 hash cannot check scram-sha-256 logins; "
                    + "give the plaintext password or a SCRAM verifier, or use auth: md5");
        }
    }

    /**
     * Explicit {@code server_password} (even {@code ""}) wins; else the client password if plaintext. A hashed
     * client password cannot log in to a server, so then server_password is required.
     */
    private static String serverPassword(YamlSection section, String password) {
        if (section.has("server_password")) {
            String serverPassword = section.string("server_password", null);
            if (PasswordFormats.looksLikeScramVerifier(serverPassword)) {
                section.error("server_password", "must be the real password: pgsplit cannot log in with a SCRAM verifier");
            }
            return serverPassword;
        }
        if (password == null || PasswordFormats.isPlaintext(password)) {
            return password;
        }
        section.error("server_password", "required because password is a hash "
                + "(pgsplit needs the real password to log in to the server; use \"\" if the server asks for none)");
        return null;
    }
}
