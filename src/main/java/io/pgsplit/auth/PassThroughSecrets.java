package io.pgsplit.auth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The {@link PassThroughSecret} of each server user, one per name for the life of the router. */
public final class PassThroughSecrets {
    private final Map<String, PassThroughSecret> byUser = new ConcurrentHashMap<>();

    public PassThroughSecret of(String serverUser) {
        return byUser.computeIfAbsent(serverUser, PassThroughSecret::new);
    }
}
