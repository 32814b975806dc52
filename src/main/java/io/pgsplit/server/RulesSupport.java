package io.pgsplit.server;

import io.pgsplit.session.RouterContext;
import io.pgsplit.config.ConfigException;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.route.rules.RoutingRules;
import io.pgsplit.route.rules.RulesLoader;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loading the rules file named in the config ({@code routing.rules}) and installing it in a running router. */
final class RulesSupport {
    private static final Logger log = LoggerFactory.getLogger(RulesSupport.class);

    /** Routers that reload their rules on SIGHUP (tests run several in one JVM; one signal handler serves all). */
    private static final Set<Runnable> HUP_LISTENERS = new CopyOnWriteArraySet<>();
    private static boolean hupInstalled;

    private RulesSupport() {
    }

    /** The compiled rules of {@code config}'s rules file ({@link RoutingRules#EMPTY} without one); replica names checked. */
    static RoutingRules load(PgsplitConfig config) throws ConfigException {
        Path file = config == null ? null : config.routing().rulesFile();
        if (file == null) {
            return RoutingRules.EMPTY;
        }
        return RulesLoader.load(file, file.toString(), config);
    }

    /** Makes {@code rules} apply to the next statement: the router's rules and the classifier's function declarations. */
    static void install(RouterContext context, RoutingRules rules) {
        // declarations first: a statement routed by the new rules is classified with the new declarations
        context.classifier().functionOverrides(rules);
        context.router().rules(rules);
    }

    /** The function overrides are applied by {@link #install}: none go through ClassifierSettings. */
    static Set<String> readOnlyFunctions(PgsplitConfig config) {
        return Set.of();
    }

    static Set<String> writeFunctions(PgsplitConfig config) {
        return Set.of();
    }

    /**
     * Registers {@code reload} to run on SIGHUP. Where signals are unavailable (not a HotSpot-like JVM,
     * Windows, or HUP already taken by the JVM, e.g. with -Xrs) this only logs: the file watcher and
     * {@link Pgsplit#reloadRules()} still work.
     */
    static synchronized void onHangup(Runnable reload) {
        HUP_LISTENERS.add(reload);
        if (hupInstalled) {
            return;
        }
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> HUP_LISTENERS.forEach(Runnable::run));
            hupInstalled = true;
            log.debug("SIGHUP reloads the routing rules");
        } catch (Throwable e) { // IllegalArgumentException, UnsupportedOperationException, NoClassDefFoundError
            log.warn("cannot handle SIGHUP ({}); routing rules still reload when their file changes", e.toString());
        }
    }

    /** True once SIGHUP is handled by pgsplit (so sending it will not stop the JVM). */
    static synchronized boolean hangupHandled() {
        return hupInstalled;
    }

    static void removeHangup(Runnable reload) {
        HUP_LISTENERS.remove(reload);
    }

    static void forEachError(ConfigException e, Consumer<String> sink) {
        e.errors().forEach(err -> sink.accept(err.toString()));
    }
}
