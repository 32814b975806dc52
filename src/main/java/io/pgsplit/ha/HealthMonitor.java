package io.pgsplit.ha;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.config.HaConfig;
import io.pgsplit.config.PoolConfig;
import io.pgsplit.config.PoolMode;
import io.pgsplit.pool.Pool;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.pool.ReleaseMode;
import io.pgsplit.pool.ServerConnection;
import io.pgsplit.pool.ServerCredentials;
import io.pgsplit.pool.ServerQuery;
import io.pgsplit.topology.Node;
import io.pgsplit.topology.NodeStatus;
import io.pgsplit.topology.RoleResolver;
import io.pgsplit.topology.Topology;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks every server of one database every {@code ha.check_interval}: logs in (on a private connection of its
 * own, kept between checks, never a client's) and asks {@link NodeStatus#CHECK_QUERY}, all within {@code ha.check_timeout}. A check
 * that fails or does not answer in time marks the node down (and bans it, see
 * {@link io.pgsplit.topology.NodeHealth}); a node going down has its client connections closed, so nothing
 * waits on a server that stopped answering. After each answer the roles are worked out again
 * ({@link RoleResolver}, or the Patroni REST API when configured) and applied to the {@link Topology}.
 *
 * <p>Non-blocking: everything runs on one event loop; checks of different nodes run at the same time, at most
 * one per node.
 */
public final class HealthMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthMonitor.class);

    private final Topology topology;
    private final PoolManager pools;
    private final EventLoop loop;
    private final Duration interval;
    private final Duration timeout;
    private final Map<Node, Pool> checkPools = new HashMap<>();
    private final PatroniSource patroni;
    // loop-confined
    private final Map<Node, Boolean> inFlight = new HashMap<>();
    private int firstRoundPending;
    private final CompletableFuture<Void> firstRound = new CompletableFuture<>();
    private ScheduledFuture<?> task;
    private volatile boolean closed;
    private volatile String lastSource = "checks";

    public HealthMonitor(Topology topology, PoolManager pools, ServerCredentials credentials, HaConfig ha,
                         List<String> patroniUrls) {
        this.topology = topology;
        this.pools = pools;
        this.loop = pools.eventLoopGroup().next();
        this.interval = ha.checkInterval();
        this.timeout = ha.checkTimeout();
        PoolConfig settings = PoolConfig.builder().mode(PoolMode.SESSION).poolSize(1).minPoolSize(0)
                .serverConnectTimeout(timeout).queryWaitTimeout(Duration.ZERO).serverResetQuery("").build();
        for (Node n : topology.nodes()) {
            n.baseBan(interval);
            n.onSuspect(this::checkNow);
            checkPools.put(n, pools.privatePool(n, credentials, settings));
        }
        this.patroni = patroniUrls.isEmpty() ? null : new PatroniSource(patroniUrls, timeout, topology);
    }

    /** Starts checking; the future completes when every node has been checked once (answered or failed). */
    public CompletableFuture<Void> start() {
        loop.execute(() -> {
            firstRoundPending = topology.nodes().size();
            round();
            long ms = interval.toMillis();
            task = loop.scheduleWithFixedDelay(this::round, ms, ms, TimeUnit.MILLISECONDS);
        });
        return firstRound;
    }

    /** Where the roles came from last: "checks" or "patroni". */
    public String roleSource() {
        return lastSource;
    }

    /** Checks {@code node} now, out of turn (something saw it fail); a check already running is not repeated. */
    public void checkNow(Node node) {
        loop.execute(() -> {
            if (!closed && checkPools.containsKey(node)) {
                check(node);
            }
        });
    }

    private void round() {
        if (closed) {
            return;
        }
        long now = System.nanoTime();
        for (Node n : topology.nodes()) {
            if (n.health().checkDue(now)) {
                check(n);
            }
        }
        if (patroni != null) {
            patroni.refresh(loop, this::resolve);
        }
    }

    private void check(Node node) {
        if (Boolean.TRUE.equals(inFlight.get(node))) {
            return;
        }
        inFlight.put(node, true);
        Pool pool = checkPools.get(node);
        ServerConnection[] conn = new ServerConnection[1];
        boolean[] done = new boolean[1];
        ScheduledFuture<?> deadline = loop.schedule(() -> {
            if (!done[0]) {
                done[0] = true;
                if (conn[0] != null) {
                    conn[0].close("health check unanswered for " + timeout.toMillis() + " ms");
                }
                finish(node, null, "no answer to the health check within " + timeout.toMillis() + " ms");
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        pool.acquire(loop).addListener((Future<ServerConnection> acquired) -> {
            if (!acquired.isSuccess()) {
                if (!done[0]) {
                    done[0] = true;
                    deadline.cancel(false);
                    finish(node, null, acquired.cause().getMessage());
                }
                return;
            }
            ServerConnection c = acquired.getNow();
            if (done[0]) {
                pool.release(c, ReleaseMode.CLOSE);
                return;
            }
            conn[0] = c;
            ServerQuery.run(c, NodeStatus.CHECK_QUERY).addListener((Future<List<String[]>> q) -> {
                boolean ok = q.isSuccess() && !q.getNow().isEmpty();
                pool.release(c, ok ? ReleaseMode.REUSE : ReleaseMode.CLOSE);
                if (done[0]) {
                    return;
                }
                done[0] = true;
                deadline.cancel(false);
                if (ok) {
                    NodeStatus status;
                    try {
                        status = NodeStatus.parse(q.getNow().get(0), System.nanoTime());
                    } catch (RuntimeException e) {
                        finish(node, null, "unexpected health-check answer: " + e.getMessage());
                        return;
                    }
                    finish(node, status, null);
                } else {
                    finish(node, null, "health check failed: " + (q.isSuccess() ? "no row" : q.cause().getMessage()));
                }
            });
        });
    }

    private void finish(Node node, NodeStatus status, String failure) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> finish(node, status, failure));
            return;
        }
        inFlight.put(node, false);
        if (closed) {
            return;
        }
        if (status != null) {
            NodeStatus before = node.lastStatus();
            node.checkPassed(status);
            if (before == null || before.inRecovery() != status.inRecovery()) {
                log.info("database \"{}\": {} {} {}", topology.database(), node.name(), node.address(), status);
            }
        } else {
            boolean wasUp = node.isUp();
            node.checkFailed(failure);
            if (wasUp) {
                // nothing may keep waiting on a server that stopped answering: sessions see the close and
                // fail or run the read elsewhere
                pools.closeConnectionsTo(node, "server marked down: " + failure);
            }
        }
        if (firstRoundPending > 0 && --firstRoundPending == 0) {
            resolve();
            firstRound.complete(null);
            return;
        }
        if (firstRoundPending == 0) {
            resolve();
        }
    }

    /** Works the roles out again from the latest answers (or Patroni's view, while it answers) and applies them. */
    private void resolve() {
        if (closed || firstRoundPending > 0) {
            return;
        }
        Map<Node, NodeStatus> answers = new LinkedHashMap<>();
        for (Node n : topology.nodes()) {
            if (n.isUp() && n.lastStatus() != null) {
                answers.put(n, n.lastStatus());
            }
        }
        RoleResolver.Resolution resolution = patroni == null ? null : patroni.resolution(answers);
        lastSource = resolution != null ? "patroni" : "checks";
        if (resolution == null) {
            resolution = RoleResolver.resolve(topology.nodes(), answers);
        }
        topology.apply(resolution);
    }

    @Override
    public void close() {
        closed = true;
        loop.execute(() -> {
            if (task != null) {
                task.cancel(false);
            }
            firstRound.complete(null);
        });
    }
}
