package io.pgsplit.session;

import io.pgsplit.pool.DatabaseRuntime;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.pgsplit.config.ConfigLoader;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.pool.PoolManager;
import io.pgsplit.route.Classification;
import io.pgsplit.route.RouteRules;
import io.pgsplit.route.Router;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The statement caches behind RouterContext.classify, without servers (nothing here connects). */
class RouterContextClassifyTest {
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final RouterContext ctx;
    private final DatabaseRuntime db;

    RouterContextClassifyTest() throws Exception {
        PgsplitConfig config = ConfigLoader.parse("""
                databases:
                  app:
                    primary: "127.0.0.1:1"
                    replicas:
                      - { name: r1, host: 127.0.0.1, port: 2 }
                users:
                  app: { password: app }
                """, "test.yaml");
        ctx = new RouterContext(config, new PoolManager(group), new Router(config.routing(), RouteRules.NONE),
                Set.of(), Set.of());
        db = ctx.database("app");
    }

    @AfterEach
    void stop() {
        ctx.close();
        group.shutdownGracefully();
    }

    @Test
    void writesThatDifferOnlyInValuesShareOneClassificationAndFillNoCache() {
        long before = ctx.classifier().cacheStats().missCount();
        for (int i = 0; i < 200; i++) {
            Classification c = ctx.classify("UPDATE pgbench_accounts SET abalance = abalance + " + i
                    + " WHERE aid = " + (1000 + i), db, true);
            assertTrue(c.write(), c.toString());
            assertEquals(Set.of("pgbench_accounts"), c.parsed().statements().get(0).tablesWritten());
        }
        // Before write fingerprints each text missed twice (the probe, then the full classification) and was
        // then cached: 200 unique texts crowding out statements that do repeat.
        long misses = ctx.classifier().cacheStats().missCount() - before;
        assertEquals(200, misses, "one probe per text, then found by its fingerprint");
        assertNull(ctx.classifier().cachedOrNull("UPDATE pgbench_accounts SET abalance = abalance + 7 WHERE aid = 1007"));
    }
}
