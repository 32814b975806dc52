package io.pgsplit.server;

import io.pgsplit.config.PgsplitConfig;
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
    private volatile boolean closed;

    private Pgsplit(PgsplitServer server, CatalogRefresher catalog) {
        this.server = server;
        this.catalog = catalog;
    }

    public static Pgsplit start(PgsplitConfig config) throws InterruptedException {
        PgsplitServer server = new PgsplitServer(config).start();
        CatalogRefresher catalog = new CatalogRefresher(server.context(), server.group());
        catalog.start();
        return new Pgsplit(server, catalog);
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
        server.close();
        log.info("pgsplit stopped");
    }
}
