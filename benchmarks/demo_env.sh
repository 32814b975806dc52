# Sourced by many-clients.sh and soak.sh: starts `bin/pgsplit demo` (a primary, 2 streaming replicas and
# pgsplit in one JVM, the way users first meet pgsplit) on free ports and exports where everything is.
#   demo_start POOL_SIZE   sets DEMO_PID, PGSPLIT_PORT, PRIMARY_PORT, R1_PORT, R2_PORT, PGSPLIT_JVM_PID
#   demo_stop              SIGTERM to the demo (its shutdown hook stops the servers too)
REPO_DIR=${REPO_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

free_port() {
  local p=$1
  while ss -Htln "( sport = :$p )" 2>/dev/null | grep -q .; do p=$((p + 1)); done
  echo "$p"
}

demo_start() {
  local pool_size=$1
  DEMO_DIR=$(mktemp -d /tmp/pgsplit-demo.XXXXXX)
  chmod 755 "$DEMO_DIR"
  PGSPLIT_PORT=$(free_port 36432)
  log "starting bin/pgsplit demo --pool-size $pool_size --port $PGSPLIT_PORT --dir $DEMO_DIR/data"
  (cd "$REPO_DIR" && exec bin/pgsplit demo --pool-size "$pool_size" --port "$PGSPLIT_PORT" --dir "$DEMO_DIR/data") \
    >"$DEMO_DIR/demo.log" 2>&1 &
  DEMO_PID=$!
  local deadline=$((SECONDS + 180))
  until grep -q '^postgresql://' "$DEMO_DIR/demo.log" 2>/dev/null; do
    kill -0 "$DEMO_PID" 2>/dev/null || { cat "$DEMO_DIR/demo.log" >&2; log "demo exited"; return 1; }
    ((SECONDS < deadline)) || { log "demo not ready within 180 s"; return 1; }
    sleep 0.5
  done
  PRIMARY_PORT=$(sed -n 's/^primary [0-9.]*:\([0-9]*\).*/\1/p' "$DEMO_DIR/demo.log")
  R1_PORT=$(sed -n 's/^replica r1 [0-9.]*:\([0-9]*\).*/\1/p' "$DEMO_DIR/demo.log")
  R2_PORT=$(sed -n 's/^replica r2 [0-9.]*:\([0-9]*\).*/\1/p' "$DEMO_DIR/demo.log")
  # the JVM (bin/pgsplit execs java, so it is the demo's pid or its child)
  PGSPLIT_JVM_PID=$DEMO_PID
  if [[ "$(cat "/proc/$DEMO_PID/comm" 2>/dev/null)" != java ]]; then
    PGSPLIT_JVM_PID=$(pgrep -P "$DEMO_PID" java | head -1)
  fi
  export PGSPLIT_PORT PRIMARY_PORT R1_PORT R2_PORT PGSPLIT_JVM_PID DEMO_PID DEMO_DIR
  log "pgsplit on $PGSPLIT_PORT (JVM pid $PGSPLIT_JVM_PID), primary $PRIMARY_PORT, replicas $R1_PORT $R2_PORT"
}

demo_stop() {
  if [[ -n "${DEMO_PID:-}" ]] && kill -0 "$DEMO_PID" 2>/dev/null; then
    kill -TERM "$DEMO_PID" 2>/dev/null || true # (SIGINT is ignored by background jobs)
    local deadline=$((SECONDS + 30))
    while kill -0 "$DEMO_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    kill -KILL "$DEMO_PID" 2>/dev/null || true
  fi
  DEMO_PID=""
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
