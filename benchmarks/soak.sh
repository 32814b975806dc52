#!/usr/bin/env bash
# Soak (issue 18): a mixed workload through pgsplit for MINUTES (default 30), sampling pgsplit's RSS,
# heap after a full GC, open file descriptors and server connections every INTERVAL seconds (default
# 30). All of them should stay flat. Starts `bin/pgsplit demo --pool-size 20`; the workload, all at
# once for the whole time:
#   - pgbench tpcb-like, -M prepared, 8 clients: reads, writes, transactions, prepared statements
#   - pgbench -S -M simple, 4 clients: autocommit reads on the replicas
#   - pgbench -S -C, 2 clients: a new connection for every transaction (connects and disconnects)
#   - a cancel loop: psql runs SELECT pg_sleep(5) and is interrupted (SIGINT: psql sends a CancelRequest)
# Writes benchmarks/results/<date>-soak-<MINUTES>m.md, .csv and .svg (the chart).
#   benchmarks/soak.sh [MINUTES] [INTERVAL_SECONDS]
set -euo pipefail
MINUTES=${1:-30}
INTERVAL=${2:-30}
source "$(dirname "$0")/demo_env.sh"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done # not a bare wait: the demo is a job too
  demo_stop
}
trap cleanup EXIT
[[ -f "$REPO_DIR/target/pgsplit.jar" ]] || (cd "$REPO_DIR" && mvn -q -B package -DskipTests)
demo_start 20
export PGPASSWORD=app
URI="postgresql://app@127.0.0.1:$PGSPLIT_PORT/app"
STAMP="$(date -u +%Y-%m-%d)-soak-${MINUTES}m"
RESULTS="$REPO_DIR/benchmarks/results"
CSV="$RESULTS/$STAMP.csv"
LOGDIR="$DEMO_DIR/soak"
mkdir -p "$LOGDIR"
log "pgbench -i -s 5 on the primary"
pgbench -i -q -s 5 -h 127.0.0.1 -p "$PRIMARY_PORT" -U app app >"$LOGDIR/init.log" 2>&1
sleep 2 # replicas replay the tables
SECS=$((MINUTES * 60))
pgbench -n -M prepared -c 8 -j 2 -T "$SECS" -P 60 "$URI" >"$LOGDIR/tpcb.log" 2>&1 & PIDS+=($!)
pgbench -n -S -M simple -c 4 -j 1 -T "$SECS" -P 60 "$URI" >"$LOGDIR/select.log" 2>&1 & PIDS+=($!)
pgbench -n -S -C -c 2 -j 1 -T "$SECS" -P 60 "$URI" >"$LOGDIR/connect.log" 2>&1 & PIDS+=($!)
(
  end=$((SECONDS + SECS)); n=0
  while ((SECONDS < end)); do
    psql -X -q "$URI" -c "SELECT pg_sleep(5)" >/dev/null 2>&1 & p=$!
    sleep 0.7; kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
    n=$((n + 1)); echo "$n" >"$LOGDIR/cancels"
    sleep 1
  done
) & PIDS+=($!)

server_conns() {
  local total=0 p n
  for p in "$PRIMARY_PORT" "$R1_PORT" "$R2_PORT"; do
    n=$(psql -X -At -h 127.0.0.1 -p "$p" -U app -d app -c \
      "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" 2>/dev/null || echo 0)
    total=$((total + n))
  done
  echo "$total"
}
heap_after_gc_kb() {
  jcmd "$PGSPLIT_JVM_PID" GC.run >/dev/null 2>&1 || true
  # G1/Serial/Parallel all print "... total NK, used MK" on the heap line
  jcmd "$PGSPLIT_JVM_PID" GC.heap_info 2>/dev/null | grep -m1 -o 'used [0-9]*K' | grep -o '[0-9]*' || echo 0
}
echo "seconds,rss_mb,heap_after_gc_mb,fds,server_connections,load1" >"$CSV"
start=$SECONDS
log "soak for $MINUTES min, a sample every $INTERVAL s -> $CSV"
while ((SECONDS - start <= SECS)); do
  printf '%d,%.1f,%.1f,%d,%d,%s\n' $((SECONDS - start)) "$(echo "$(rss_kb "$PGSPLIT_JVM_PID") / 1024" | bc -l)" \
    "$(echo "$(heap_after_gc_kb) / 1024" | bc -l)" "$(ls "/proc/$PGSPLIT_JVM_PID/fd" | wc -l)" "$(server_conns)" \
    "$(cut -d' ' -f1 /proc/loadavg)" >>"$CSV"
  tail -1 "$CSV" >&2
  sleep "$INTERVAL"
done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()
tps() { grep -h '^tps = ' "$1" | head -1 | sed 's/ (.*//'; }
fails() { grep -h 'number of failed transactions' "$1" | head -1 || true; }
python3 "$REPO_DIR/benchmarks/soak_chart.py" "$CSV" "$RESULTS/$STAMP.svg"
{
  echo "# Soak, $MINUTES minutes ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Command: \`benchmarks/soak.sh $MINUTES $INTERVAL\` (pgsplit started by \`bin/pgsplit demo --pool-size 20\`, transaction"
  echo "pooling, reads to 2 replicas). Machine: $(nproc) cores, shared with other work (load average at the end:"
  echo "$(cut -d' ' -f1-3 /proc/loadavg)). Repository: $(git -C "$REPO_DIR" describe --always --dirty)."
  echo
  echo "| Workload | Result |"
  echo "|---|---|"
  echo "| pgbench tpcb-like -M prepared -c 8 | $(tps "$LOGDIR/tpcb.log"); $(fails "$LOGDIR/tpcb.log") |"
  echo "| pgbench -S -M simple -c 4 | $(tps "$LOGDIR/select.log"); $(fails "$LOGDIR/select.log") |"
  echo "| pgbench -S -C -c 2 (connect per transaction) | $(tps "$LOGDIR/connect.log"); $(fails "$LOGDIR/connect.log") |"
  echo "| cancelled pg_sleep(5) via psql SIGINT | $(cat "$LOGDIR/cancels" 2>/dev/null || echo 0) |"
  echo
  echo "![RSS, heap after GC, fds, server connections over time]($STAMP.svg)"
  echo
  echo "Samples (every $INTERVAL s; RSS of the demo JVM: pgsplit and its small launcher):"
  echo
  echo '```'
  cat "$CSV"
  echo '```'
} >"$RESULTS/$STAMP.md"
log "report: $RESULTS/$STAMP.md"
