package io.pgsplit.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgsplit.config.LoadBalancing;
import io.pgsplit.config.PrimaryReads;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The topology's own bookkeeping (no server involved: which nodes it offers, roles, health reports, WAL positions). */
class TopologyTest {
    private final Node primary = new Node("primary", Node.Role.PRIMARY, "127.0.0.1", 5432, 1, null);
    private final Node r1 = new Node("r1", Node.Role.REPLICA, "127.0.0.1", 5433, 1, "east");
    private final Node r2 = new Node("r2", Node.Role.REPLICA, "127.0.0.1", 5434, 0, "east");
    private final Topology topology = new Topology("app", primary, List.of(r1, r2));

    @Test
    void readCandidatesAreUpReplicasWithWeight() {
        assertEquals(List.of(r1), topology.readCandidates(null), "weight 0 takes no balanced reads");
        assertEquals(List.of(r1, r2), topology.upNamed("east", null), "but can be named");
        r1.connectFailed("Connection refused");
        assertFalse(r1.isUp());
        assertEquals("Connection refused", r1.health().downReason());
        assertEquals(1, r1.health().consecutiveFailures());
        assertEquals(0, topology.readCandidateCount());
        r1.probeAnswered();
        assertTrue(r1.isUp());
        assertNull(r1.health().downReason());
        assertEquals(0, r1.health().consecutiveFailures());
    }

    @Test
    void assignPrimarySwapsRolesAndBalancingFollows() {
        ReadBalancer balancer = new ReadBalancer(topology, LoadBalancing.ROUND_ROBIN, PrimaryReads.FALSE);
        assertSame(r1, balancer.pickReadNode(null));
        topology.assignPrimary(r1);
        assertSame(r1, topology.primary());
        assertTrue(r1.isPrimary());
        assertFalse(primary.isPrimary());
        assertEquals(List.of(primary, r2), topology.replicas());
        assertSame(primary, balancer.pickReadNode(null), "the old primary is a replica now");
        assertEquals(List.of(primary, r1, r2), topology.nodes(), "membership is fixed");
        assertThrows(IllegalArgumentException.class,
                () -> topology.assignPrimary(new Node("x", Node.Role.REPLICA, "h", 1, 1, null)));
    }

    @Test
    void lsnParsesAndPrintsLikePostgres() {
        Lsn a = Lsn.parse("16/B374D848");
        assertEquals("16/B374D848", a.toString());
        assertEquals(0x16B374D848L, a.value());
        assertEquals(8, Lsn.parse("16/B374D850").bytesAfter(a));
        assertTrue(Lsn.parse("0/1").compareTo(Lsn.parse("FFFFFFFF/0")) < 0);
        assertThrows(IllegalArgumentException.class, () -> Lsn.parse("16B374D848"));
        assertFalse(ReplicationState.UNKNOWN.known());
    }
}
