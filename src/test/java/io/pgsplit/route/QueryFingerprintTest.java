package io.pgsplit.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class QueryFingerprintTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "SELECT abalance FROM pgbench_accounts WHERE aid = 42|SELECT abalance FROM pgbench_accounts WHERE aid = ?",
        "select * from t where name = 'O''Brien' and x > 1.5|select * from t where name = ? and x > ?",
        "WITH a AS (SELECT 1) SELECT * FROM a, t2 WHERE t2.c = 'x'|WITH a AS (SELECT ?) SELECT * FROM a, t2 WHERE t2.c = ?",
        "SELECT \"col1\", t1.c2 FROM t1 WHERE id = $1 AND v = 7|SELECT \"col1\", t1.c2 FROM t1 WHERE id = $1 AND v = ?",
        "VALUES (1, 'a')|VALUES (?, ?)",
        "SELECT abalance FROM pgbench_accounts WHERE aid = 7;|SELECT abalance FROM pgbench_accounts WHERE aid = ?",
    })
    void replacesLiteralValues(String sql, String expected) {
        assertEquals(expected, QueryFingerprint.of(sql));
    }

    @org.junit.jupiter.api.Test
    void collapsesValueLists() {
        assertEquals("SELECT * FROM t WHERE id IN (?) AND f(?)",
                QueryFingerprint.collapseLists("SELECT * FROM t WHERE id IN (?, ?,?) AND f(?,  ?)"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "UPDATE t SET a = 1 WHERE id = 2",                   // not a read keyword
        "SELECT E'\\''; UPDATE t SET a = 1; --'",            // E string and semicolons
        "SELECT 1; SELECT 2",                                // several statements
        "SELECT 'a' -- comment",                             // comments may carry hints
        "/* pgsplit: route=primary */ SELECT 1",             // hint comment
        "SELECT set_config('search_path', 'x', false)",      // literal values become session state
        "SELECT $$a$$",                                      // dollar quoting
        "SELECT 'a\\' , 1",                                  // backslash: left to the full classifier
        "SELECT 'unterminated",
        "SELECT a FROM t",                                   // nothing to replace: the exact cache serves it
    })
    void refusesAnythingNotPlainlySafe(String sql) {
        assertNull(QueryFingerprint.of(sql));
    }
}
