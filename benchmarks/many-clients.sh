#!/usr/bin/env bash
# N clients active at once through pgsplit with a pool of 20 (issue 18): starts `bin/pgsplit demo`, runs
# benchmarks/many_clients.py against it (all clients connect together; then rounds in which every
# client has a statement in flight at once: read, write, read-only transaction), and writes
# benchmarks/results/<date>-many-clients-<N>.md with failures, p50/p99 and pgsplit's RSS.
#   benchmarks/many-clients.sh [CLIENTS (default 10000)] [ROUNDS (default 3)]
set -euo pipefail
CLIENTS=${1:-10000}
ROUNDS=${2:-3}
source "$(dirname "$0")/demo_env.sh"
trap demo_stop EXIT
ulimit -n 65536 2>/dev/null || true
[[ -f "$REPO_DIR/target/pgsplit.jar" ]] || (cd "$REPO_DIR" && mvn -q -B package -DskipTests)
demo_start 20
OUT="$REPO_DIR/benchmarks/results/$(date -u +%Y-%m-%d)-many-clients-$CLIENTS.md"
log "running $CLIENTS clients x $ROUNDS rounds"
set +e
RESULT=$(python3 "$REPO_DIR/benchmarks/many_clients.py" --port "$PGSPLIT_PORT" --clients "$CLIENTS" \
  --rounds "$ROUNDS" --pid "$PGSPLIT_JVM_PID")
RC=$?
set -e
log "$RESULT"
WRITES=$(PGPASSWORD=app psql -X -At -h 127.0.0.1 -p "$PRIMARY_PORT" -U app -d app -c "SELECT count(*) FROM many_clients" \
  2>/dev/null <<<"" || echo "?")
{
  echo "# $CLIENTS active clients, pool 20 ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Command: \`benchmarks/many-clients.sh $CLIENTS $ROUNDS\` (pgsplit started by \`bin/pgsplit demo --pool-size 20\`,"
  echo "transaction pooling, reads to 2 replicas; clients: benchmarks/many_clients.py, SCRAM logins, one asyncio process)."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), shared with other"
  echo "work during the run (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
  echo "Repository: $(git -C "$REPO_DIR" describe --always --dirty)."
  echo
  echo '```json'
  echo "$RESULT"
  echo '```'
  echo
  echo "Rows written (primary): $WRITES. RSS is the demo's JVM (pgsplit and the small demo launcher)."
} >"$OUT"
log "report: $OUT"
exit $RC
