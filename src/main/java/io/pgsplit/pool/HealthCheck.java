package io.pgsplit.pool;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgsplit.topology.Node;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes nodes that are down so they can come back: every {@code interval} each down node gets a
 * plain TCP connect to its host:port, and an accepted one is reported to the node
 * ({@link Node#probeAnswered()}); the topology package decides what that means (today: up again).
 * Deliberately shallow (no login): a node that accepts TCP but refuses logins comes back here and
 * its login errors still surface, clearly, on the next acquire (which reports only connect failures).
 * It lives beside {@link Pool} because it opens connections the same way; it never sets node state.
 */
public final class HealthCheck implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthCheck.class);
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

    private final EventLoopGroup group;
    private final Supplier<? extends Collection<Node>> nodes;
    private final Duration interval;
    private ScheduledFuture<?> task;

    public HealthCheck(EventLoopGroup group, Supplier<? extends Collection<Node>> nodes, Duration interval) {
        this.group = group;
        this.nodes = nodes;
        this.interval = interval == null || interval.isZero() || interval.isNegative() ? DEFAULT_INTERVAL : interval;
    }

    public HealthCheck(EventLoopGroup group, List<Node> nodes) {
        this(group, () -> nodes, DEFAULT_INTERVAL);
    }

    public synchronized HealthCheck start() {
        if (task == null) {
            long ms = interval.toMillis();
            task = group.next().scheduleWithFixedDelay(this::probeDownNodes, ms, ms, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** Probes every node that is down now (also called by the timer). */
    public void probeDownNodes() {
        for (Node node : nodes.get()) {
            if (!node.isUp()) {
                probe(node);
            }
        }
    }

    private void probe(Node node) {
        int timeout = (int) Math.min(interval.toMillis(), 5_000);
        new Bootstrap()
                .group(group)
                .channel(Transports.socketChannelFor(group))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeout)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(node.host(), node.port())
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        f.channel().close();
                        log.info("{} accepts connections again: marked up", node);
                        node.probeAnswered();
                    } else {
                        log.debug("{} still down: {}", node, Pool.describe(f.cause()));
                    }
                });
    }

    @Override
    public synchronized void close() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }
}
