package io.pgsplit.server;

import io.pgsplit.cluster.Node;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.pool.HealthCheck;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running router: the server plus what runs beside it (function catalog refresh, rules reload).
 * What {@code pgsplit run} and {@code pgsplit demo} start, and what tests embed.
 */
public final class Pgsplit implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Pgsplit.class);

    private final PgsplitServer server;
    private final CatalogRefresher catalog;
    private final HealthCheck health;
    private volatile boolean closed;

    private Pgsplit(PgsplitServer server, CatalogRefresher catalog, HealthCheck health) {
        this.server = server;
        this.catalog = catalog;
        this.health = health;
    }

    public static Pgsplit start(PgsplitConfig config) throws InterruptedException {
        PgsplitServer server = new PgsplitServer(config).start();
        CatalogRefresher catalog = new CatalogRefresher(server.context(), server.group());
        catalog.start();
        // Nodes marked down by a failed connect are probed and brought back when they answer again.
        List<Node> nodes = new ArrayList<>();
        server.context().databases().values().forEach(db -> nodes.addAll(db.nodes()));
        HealthCheck health = new HealthCheck(server.group(), nodes).start();
        return new Pgsplit(server, catalog, health);
    }

    public int port() {
        return server.port();
    }

    public PgsplitServer server() {
        return server;
    }

    public RouterContext context() {
        return server.context();
    }

    public CatalogRefresher catalog() {
        return catalog;
    }

    public void awaitClose() throws InterruptedException {
        server.awaitClose();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        catalog.stop();
        health.close();
        server.close();
        log.info("pgsplit stopped");
    }
}
