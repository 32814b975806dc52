-- Read-heavy workload, read-only part (weight 9; see run.sh: -f read-heavy.sql@9 -f read-heavy-write.sql@1).
-- An explicit read-only transaction: a router with splitting on may send it to a replica.
\set aid random(1, 100000 * :scale)
\set bid random(1, 1 * :scale)
\set tid random(1, 10 * :scale)
BEGIN READ ONLY;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SELECT bbalance FROM pgbench_branches WHERE bid = :bid;
SELECT tbalance FROM pgbench_tellers WHERE tid = :tid;
END;
