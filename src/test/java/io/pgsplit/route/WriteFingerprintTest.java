package io.pgsplit.route;

import io.pgsplit.session.RouterContext;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Writes that differ only in literal values share one classification (RouterContext keys it by
 * {@link QueryFingerprint#ofWrite}). A shared key must mean a shared answer: these cases check that the facts
 * taken from one text are exactly what classifying the other text on its own gives.
 */
class WriteFingerprintTest {
    private final SqlClassifier classifier = new SqlClassifier(ClassifierSettings.defaults());

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "UPDATE pgbench_accounts SET abalance = abalance + -4211 WHERE aid = 66712;|UPDATE pgbench_accounts SET abalance = abalance + -? WHERE aid = ?",
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 8, 12, CURRENT_TIMESTAMP)|INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)",
        "delete from \"Orders\" where note = 'it''s' and id > 10.5|delete from \"Orders\" where note = ? and id > ?",
        "  UPDATE t SET a = nextval('s') WHERE id = $1 AND b = 2|UPDATE t SET a = nextval(?) WHERE id = $1 AND b = ?",
    })
    void replacesLiteralValuesOfPlainWrites(String sql, String expected) {
        assertEquals(expected, QueryFingerprint.ofWrite(sql));
        assertNull(QueryFingerprint.of(sql), "never under a read's key");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT abalance FROM pgbench_accounts WHERE aid = 1", // a read: QueryFingerprint.of
        "UPDATE t SET a = b WHERE c = d",                      // no literal: the exact cache serves it
        "UPDATE t SET a = 1; SELECT 2",                        // several statements
        "UPDATE t SET a = 1 -- comment",                       // comments may carry hints
        "/* pgsplit: route=replica */ UPDATE t SET a = 1",
        "UPDATE t SET a = set_config('search_path', 'x', false)", // literal values become session state
        "UPDATE t SET a = $$x$$",
        "UPDATE t SET a = E'\\n'",
        "SET search_path = 'x'",                               // not INSERT, UPDATE or DELETE
        "INSERTX INTO t VALUES (1)",
    })
    void refusesAnythingElse(String sql) {
        assertNull(QueryFingerprint.ofWrite(sql));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 2|UPDATE pgbench_accounts SET abalance = abalance + 99 WHERE aid = 100000",
        "UPDATE pgbench_accounts SET abalance = abalance + -1 WHERE aid = 2|UPDATE pgbench_accounts SET abalance = abalance + -99 WHERE aid = 100000",
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 1, CURRENT_TIMESTAMP)|INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (9, 8, 7, 6, CURRENT_TIMESTAMP)",
        "DELETE FROM s.t WHERE name = 'a' RETURNING id|DELETE FROM s.t WHERE name = 'a longer name' RETURNING id",
        "INSERT INTO t SELECT * FROM u WHERE k = 1|INSERT INTO t SELECT * FROM u WHERE k = 2",
        "UPDATE t SET v = now() + interval '1 day' WHERE id = 1|UPDATE t SET v = now() + interval '2 days' WHERE id = 3",
    })
    void sharedFactsAreThoseOfEveryTextWithTheKey(String first, String other) {
        assertEquals(QueryFingerprint.ofWrite(first), QueryFingerprint.ofWrite(other));
        ParsedQuery shared = classifier.sharableWrite(first);
        assertNotNull(shared, first);
        Classification viaKey = classifier.decide(shared, FunctionCatalog.EMPTY);
        Classification alone = classifier.classify(other, FunctionCatalog.EMPTY, true);
        assertTrue(viaKey.write());
        assertEquals(alone.write(), viaKey.write());
        assertEquals(alone.reason(), viaKey.reason());
        assertEquals(alone.parsed().statements(), shared.statements());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT 1",                                          // not a write
        "UPDATE t SET a = 1; UPDATE u SET b = 2",            // two statements
        "SET search_path = 'x'",
    })
    void onlyPlainSingleWritesAreShared(String sql) {
        assertNull(classifier.sharableWrite(sql));
    }
}
