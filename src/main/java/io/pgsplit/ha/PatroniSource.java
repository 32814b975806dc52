package io.pgsplit.ha;

import io.netty.channel.EventLoop;
import io.pgsplit.topology.Node;
import io.pgsplit.topology.NodeStatus;
import io.pgsplit.topology.RoleResolver;
import io.pgsplit.topology.Topology;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The roles as Patroni sees them: {@code GET <url>/cluster} of its REST API, asynchronously, each health-check
 * round. While Patroni answers, its leader is the primary (once that server itself accepts writes, so no write
 * reaches a standby still being promoted); when no URL answers, role discovery falls back to pgsplit's own
 * checks. The configured URLs are tried in turn (any Patroni member answers for the whole cluster).
 */
final class PatroniSource {
    private static final Logger log = LoggerFactory.getLogger(PatroniSource.class);

    /** The leader as Patroni last reported it. */
    record Leader(String host, int port, String name) {
    }

    private final List<String> urls;
    private final Duration timeout;
    private final Topology topology;
    private final HttpClient http;
    private int next;
    /** The last answer: leader (null: Patroni says there is none), and whether Patroni answered at all. */
    private volatile Leader leader;
    private volatile boolean answering;
    private boolean inFlight;

    PatroniSource(List<String> urls, Duration timeout, Topology topology) {
        this.urls = urls;
        this.timeout = timeout;
        this.topology = topology;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** Asks Patroni (one request at a time); {@code then} runs on {@code loop} after an answer or failure. */
    void refresh(EventLoop loop, Runnable then) {
        if (inFlight) {
            return;
        }
        inFlight = true;
        String url = urls.get(Math.floorMod(next, urls.size())) + "/cluster";
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
        http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) ->
                loop.execute(() -> {
                    inFlight = false;
                    boolean was = answering;
                    if (error == null && response.statusCode() == 200) {
                        try {
                            leader = leaderOf(response.body());
                            answering = true;
                        } catch (RuntimeException e) {
                            failed(url, "unreadable answer: " + e.getMessage(), was);
                        }
                    } else {
                        failed(url, error != null ? String.valueOf(error.getMessage() == null ? error : error.getMessage())
                                : "HTTP " + response.statusCode(), was);
                    }
                    if (answering && !was) {
                        log.info("database \"{}\": roles from Patroni ({})", topology.database(), url);
                    }
                    then.run();
                }));
    }

    private void failed(String url, String why, boolean wasAnswering) {
        answering = false;
        next++;
        if (wasAnswering) {
            log.warn("database \"{}\": Patroni at {} does not answer ({}); roles from pgsplit's own checks until it does",
                    topology.database(), url, why);
        }
    }

    /** Patroni's view as a resolution, or null when Patroni does not answer (then the checks decide). */
    RoleResolver.Resolution resolution(Map<Node, NodeStatus> answers) {
        if (!answering) {
            return null;
        }
        Leader l = leader;
        if (l == null) {
            return new RoleResolver.Resolution(null, Map.of(), "Patroni reports no leader (a failover or switchover "
                    + "in progress?)");
        }
        Node primary = byAddress(l.host, l.port);
        if (primary == null) {
            return new RoleResolver.Resolution(null, Map.of(), "Patroni's leader " + l.name + " " + l.host + ":" + l.port
                    + " is not one of the servers configured for database \"" + topology.database() + "\"");
        }
        NodeStatus s = answers.get(primary);
        if (s == null || s.inRecovery()) {
            return new RoleResolver.Resolution(null, Map.of(), "Patroni's leader " + primary.name() + " "
                    + primary.address() + (s == null ? " does not answer" : " does not accept writes yet"));
        }
        Map<Node, String> fenced = new LinkedHashMap<>();
        answers.forEach((n, st) -> {
            if (n != primary && !st.inRecovery()) {
                fenced.put(n, "accepts writes but Patroni's leader is " + primary.name() + " " + primary.address()
                        + ": a split brain; fenced, no reads or writes go to it");
            }
        });
        return new RoleResolver.Resolution(primary, fenced, null);
    }

    private Node byAddress(String host, int port) {
        Node samePort = null;
        int count = 0;
        for (Node n : topology.nodes()) {
            if (n.port() == port) {
                if (n.host().equalsIgnoreCase(host)) {
                    return n;
                }
                samePort = n;
                count++;
            }
        }
        return count == 1 ? samePort : null;
    }

    /** The running leader in a {@code /cluster} answer, or null if none. */
    static Leader leaderOf(String json) {
        Object root = new Json(json).value();
        if (!(root instanceof Map<?, ?> map) || !(map.get("members") instanceof List<?> members)) {
            throw new IllegalArgumentException("no members");
        }
        for (Object m : members) {
            if (m instanceof Map<?, ?> member && "leader".equals(member.get("role"))
                    && ("running".equals(member.get("state")) || "streaming".equals(member.get("state")))) {
                Object port = member.get("port");
                return new Leader(String.valueOf(member.get("host")),
                        port instanceof Number p ? p.intValue() : Integer.parseInt(String.valueOf(port)),
                        String.valueOf(member.get("name")));
            }
        }
        return null;
    }
}
