package io.pgsplit.authquery;

import io.netty.channel.EventLoop;
import io.pgsplit.auth.ClientAuthenticator;
import io.pgsplit.auth.PassThroughSecrets;
import io.pgsplit.auth.ScramKeys;
import io.pgsplit.config.AuthMethod;
import io.pgsplit.config.DatabaseConfig;
import io.pgsplit.config.PasswordFormats;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.config.UserConfig;
import io.pgsplit.topology.Node;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The steps of a client's log-in that auth_query and pass-through add, kept out of the session so that it
 * only calls them: find a user missing from the config, turn the stored password into a user, remember
 * the client's keys for the servers after it logged in.
 */
public final class AuthQueryLogin {
    private AuthQueryLogin() {
    }

    /** Where a lookup for a client of {@code database} runs, or null (unknown database: nothing to look up). */
    public static AuthQueryService.Target target(PgsplitConfig config, String database, Node primary,
                                                 io.pgsplit.tls.ServerTls tls) {
        DatabaseConfig db = config.databases().get(database);
        return db == null || primary == null ? null
                : new AuthQueryService.Target(database, primary, db.serverDatabase(), tls, db.authQuery());
    }

    /**
     * Looks the user up and calls {@code then} on {@code loop} with the user (null: no such user, which then
     * fails like a wrong password) or {@code failed} with the cause when the lookup itself failed.
     */
    public static void lookup(AuthQueryService service, AuthQueryService.Target target, String userName, EventLoop loop,
                              Consumer<UserConfig> then, Consumer<Throwable> failed) {
        service.lookup(target, userName).whenComplete((stored, e) -> loop.execute(() -> {
            if (e != null) {
                failed.accept(e);
            } else {
                then.accept(userConfig(userName, stored));
            }
        }));
    }

    /** Reads the user again after a failed login; {@code then} gets the fresh user (or null) on {@code loop}. */
    public static void refresh(AuthQueryService service, AuthQueryService.Target target, String userName, EventLoop loop,
                               Consumer<UserConfig> then) {
        service.refresh(target, userName).whenComplete((stored, e) -> loop.execute(
                () -> then.accept(e != null ? null : userConfig(userName, stored))));
    }

    /**
     * A user found by auth_query: checked with SCRAM against a verifier or with md5 against an md5 hash,
     * logging in to the servers with the client's own keys (no password). A plaintext password (an
     * operator's own table may hold one) is checked with SCRAM and used for the servers too.
     */
    static UserConfig userConfig(String name, Optional<String> stored) {
        if (stored.isEmpty()) {
            return null;
        }
        String secret = stored.get();
        AuthMethod method = PasswordFormats.isMd5Hash(secret) ? AuthMethod.MD5 : AuthMethod.SCRAM_SHA_256;
        return new UserConfig(name, method, secret, name, PasswordFormats.isPlaintext(secret) ? secret : null, null);
    }

    /** After a successful login: what the servers will be logged in to with for this user. */
    public static void remember(PassThroughSecrets secrets, UserConfig user, ClientAuthenticator authenticator) {
        if (user == null || user.password() == null || PasswordFormats.isPlaintext(user.password())) {
            return;
        }
        ScramKeys keys = authenticator.clientKeys();
        if (keys != null) {
            secrets.of(user.serverUser()).scram(keys);
        }
        if (user.passwordIsMd5Hash()) {
            secrets.of(user.serverUser()).md5Hash(user.password());
        }
    }
}
