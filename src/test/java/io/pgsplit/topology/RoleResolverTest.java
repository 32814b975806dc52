package io.pgsplit.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Role discovery's decisions from what the checks saw (the servers' side is in ha/FailoverTest). */
class RoleResolverTest {
    private final Node pg1 = new Node("pg1", Node.Role.PRIMARY, "127.0.0.1", 5432, 1, null);
    private final Node pg2 = new Node("pg2", Node.Role.REPLICA, "127.0.0.1", 5433, 1, null);
    private final Node pg3 = new Node("pg3", Node.Role.REPLICA, "127.0.0.1", 5434, 1, null);
    private final List<Node> nodes = List.of(pg1, pg2, pg3);

    private static NodeStatus primary(int walSenders) {
        return new NodeStatus(false, walSenders, null, 1, 1);
    }

    private static NodeStatus standby(String upstream) {
        return new NodeStatus(true, 0, upstream, -1, 1);
    }

    private static Map<Node, NodeStatus> answers(Object... pairs) {
        Map<Node, NodeStatus> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((Node) pairs[i], (NodeStatus) pairs[i + 1]);
        }
        return m;
    }

    @Test
    void theOnlyServerAcceptingWritesIsThePrimaryWhereverItWasConfigured() {
        RoleResolver.Resolution r = RoleResolver.resolve(nodes, answers(pg2, primary(0), pg3, standby(null)));
        assertSame(pg2, r.primary());
        assertNull(r.problem());
        assertTrue(r.fenced().isEmpty());
    }

    @Test
    void noServerAcceptingWritesMeansNoPrimaryAndSaysWhy() {
        pg1.checkFailed("connect failed: Connection refused");
        RoleResolver.Resolution r = RoleResolver.resolve(nodes, answers(pg2, standby(null), pg3, standby(null)));
        assertNull(r.primary());
        assertEquals("no server accepts writes (pg1 127.0.0.1:5432: down (connect failed: Connection refused); "
                + "pg2 127.0.0.1:5433: standby; pg3 127.0.0.1:5434: standby)", r.problem());
    }

    @Test
    void splitBrainGoesToTheServerTheStandbysStreamFrom() {
        RoleResolver.Resolution r = RoleResolver.resolve(nodes,
                answers(pg1, primary(0), pg2, primary(0), pg3, standby("127.0.0.1:5432")));
        assertSame(pg1, r.primary());
        assertEquals(List.of(pg2), List.copyOf(r.fenced().keySet()));
        assertTrue(r.fenced().get(pg2).contains("not the primary the standbys follow (pg1 127.0.0.1:5432)"));
    }

    @Test
    void withoutUpstreamDetailsTheWalSenderCountDecides() {
        RoleResolver.Resolution r = RoleResolver.resolve(nodes,
                answers(pg1, primary(0), pg2, primary(1), pg3, standby(null)));
        assertSame(pg2, r.primary());
        assertEquals(List.of(pg1), List.copyOf(r.fenced().keySet()));
    }

    @Test
    void anUndecidableSplitBrainWritesNowhereAndSaysWhy() {
        RoleResolver.Resolution r = RoleResolver.resolve(nodes, answers(pg1, primary(0), pg2, primary(0)));
        assertNull(r.primary());
        assertEquals(List.of(pg1, pg2), List.copyOf(r.fenced().keySet()));
        assertTrue(r.problem().startsWith("split brain: pg1 127.0.0.1:5432 and pg2 127.0.0.1:5433 all accept writes"),
                r.problem());
        r = RoleResolver.resolve(nodes, answers(pg1, primary(1), pg2, primary(1)));
        assertNull(r.primary(), "a tie is no answer");
    }

    @Test
    void topologyAppliesAResolutionAndReleasesWaitingWrites() throws Exception {
        Topology t = new Topology("app", pg1, List.of(pg2, pg3));
        t.apply(RoleResolver.resolve(t.nodes(), answers(pg2, standby(null), pg3, standby(null))));
        assertNull(t.writablePrimary());
        assertTrue(t.whyNoPrimary().startsWith("no server accepts writes"), t.whyNoPrimary());
        var waiting = t.awaitWritablePrimary();
        assertTrue(!waiting.isDone());
        t.apply(RoleResolver.resolve(t.nodes(), answers(pg2, primary(1), pg3, standby("127.0.0.1:5433"))));
        assertSame(pg2, waiting.getNow(null));
        assertSame(pg2, t.primary());
        assertEquals(List.of(pg1, pg3), t.replicas());
        assertSame(Node.Role.REPLICA, pg1.role());
        assertTrue(t.readCandidates(null).contains(pg3));
    }

    @Test
    void failuresBanWithBackoffAndAnswerClearsIt() {
        pg3.baseBan(java.time.Duration.ofMillis(100));
        pg3.checkFailed("no answer");
        long first = pg3.health().bannedUntilNanos() - System.nanoTime();
        pg3.checkFailed("no answer");
        long second = pg3.health().bannedUntilNanos() - System.nanoTime();
        assertTrue(first <= 100_000_000L && second > 150_000_000L && second <= 200_000_000L, first + " " + second);
        assertEquals(2, pg3.health().consecutiveFailures());
        pg3.checkPassed(standby(null));
        assertTrue(pg3.isUp());
        assertEquals(0, pg3.health().bannedUntilNanos());
    }
}
