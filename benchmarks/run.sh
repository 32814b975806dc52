#!/usr/bin/env bash
# pgsplit benchmark harness: PostgreSQL direct vs PgBouncer vs pgsplit, measured with pgbench.
# Run `benchmarks/run.sh --help` for usage; see benchmarks/README.md for how to read the results.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

usage() {
  cat <<'EOF'
Usage: benchmarks/run.sh [--quick | --smoke] [options]

Starts a PostgreSQL primary + 2 streaming replicas, PgBouncer and pgsplit (all on
127.0.0.1, free ports, data under benchmarks/work/), initialises pgbench, runs
every case against direct / pgbouncer / pgsplit interleaved (A B C A B C ...),
writes benchmarks/results/<UTC date>-<quick|full>[-label].md (+ .png chart, + latest.md)
and stops everything it started on exit or Ctrl-C.

Profiles:
  (default)            full run: scale 10, 3 rounds x 30 s, clients 1,16,64,500,
                       workloads select-only,tpcb-like,read-heavy, modes
                       simple,extended,prepared, plus the memory-at-scale case
  --quick              scale 1, 1 round x 5 s, clients 16,500, no memory case
  --smoke              CI smoke (<= 2 min): scale 1, 1 round x 2 s, 2 clients,
                       mode extended, 200 idle clients; results go to
                       benchmarks/work/smoke-results/; exits non-zero when a
                       direct/pgbouncer case fails (pgsplit too with --require-pgsplit)

Options (override the profile):
  --scale N            pgbench scale factor (full: 10, quick/smoke: 1)
  --rounds N           rounds per case (full: 3, quick/smoke: 1)
  --duration S         seconds per pgbench run (full: 30, quick: 5, smoke: 2)
  --warmup S           unrecorded pgbench -S run per target and mode before measuring (default 10, smoke 0)
  --pool-size N        server pool size of PgBouncer and pgsplit (default 20)
  --splitting on|off   pgsplit's read/write splitting (default on: reads to the two replicas). With
                       off, pgsplit sends everything to the primary like PgBouncer, which separates
                       the proxy's own cost from the cost of spreading reads over co-located replicas
  --label L            appended to the report's name: <date>-<profile>-L.md (default: none,
                       or "nosplit" with --splitting off)
  --clients LIST       comma-separated client counts, e.g. 1,16,64,500
  --workloads LIST     subset of select-only,tpcb-like,read-heavy
  --modes LIST         subset of simple,extended,prepared
  --targets LIST       subset of direct,pgbouncer,pgsplit,pgsplit-session,pgsplit-eventual (default:
                       direct,pgbouncer,pgsplit). pgsplit-session and pgsplit-eventual are the same pgsplit
                       process, with pgbench connecting with PGOPTIONS='-c pgsplit.consistency=session|eventual'
  --consistency LEVEL  pgsplit's routing.consistency: causal (default), session or eventual
  --jobs N             pgbench worker threads (-j, default 2; capped at clients)
  --memory             run the memory-at-scale case (default in full run)
  --no-memory          skip it
  --idle-clients N     idle connections for the memory case (default 10000)
  --memory-clients N   pgbench -S clients run beside the idle ones (default 500, smoke 2)
  --memory-warmup N    before measuring, N clients log in and leave again, so the proxy's login
                       path is JIT-compiled like the rest (default 1000, smoke 50; 0: none)
  --memory-settle S    also record RSS after the idle clients sat S seconds with nothing else
                       running (default 0: not recorded); shows heap a JVM gives back after the
                       connection burst (e.g. with -XX:G1PeriodicGCInterval)
  --require-pgsplit    fail (exit 1) when pgsplit cannot be started or a pgsplit case fails
  --jar PATH           pgsplit jar (default: <repo>/target/pgsplit.jar)
  --base-jar PATH      also run a second pgsplit from PATH as target pgsplit-base, interleaved with the
                       others (before/after comparisons of two builds in one run; same flags and config)
  --no-build           do not run `mvn package` when the jar is missing
  --pgsplit-cmd CMD    command that starts pgsplit; {config} is replaced by the
                       config path (default: PGSPLIT_JAR=<jar> bin/pgsplit run --config {config},
                       i.e. with the JVM flags users get, plus $PGSPLIT_JAVA_OPTS)
  --results-dir DIR    where to write the report (default benchmarks/results)
  --keep-logs          keep pgbench per-transaction logs under benchmarks/work/
  -h, --help           this help

Environment:
  PGSPLIT_JAVA_OPTS    extra JVM options for pgsplit (e.g. "-Xmx512m"), appended by bin/pgsplit after
                       its own; the JVM's whole command line is recorded in the report
  PG_BINDIR            PostgreSQL server binaries (default: `pg_config --bindir`)
EOF
}

# ----------------------------------------------------------------------------- options
PROFILE=full
WARMUP="" SCALE="" ROUNDS="" DURATION="" CLIENTS="" WORKLOADS="" MODES="" MEMORY="" IDLE_CLIENTS="" MEM_PGBENCH_CLIENTS="" MEM_SETTLE=0 MEM_WARMUP=""
POOL_SIZE=20 TARGETS="direct,pgbouncer,pgsplit" JOBS=2 SPLITTING=on LABEL="" CONSISTENCY=causal
REQUIRE_PGSPLIT=0 BUILD=1 JAR="$REPO_DIR/target/pgsplit.jar" BASE_JAR="" PGSPLIT_CMD="" RESULTS_DIR="" KEEP_LOGS=0

need_arg() { [[ $# -ge 2 && -n "$2" ]] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) PROFILE=quick ;;
    --smoke) PROFILE=smoke ;;
    --full) PROFILE=full ;;
    --scale) need_arg "$@"; SCALE=$2; shift ;;
    --rounds) need_arg "$@"; ROUNDS=$2; shift ;;
    --duration) need_arg "$@"; DURATION=$2; shift ;;
    --warmup) need_arg "$@"; WARMUP=$2; shift ;;
    --pool-size) need_arg "$@"; POOL_SIZE=$2; shift ;;
    --clients) need_arg "$@"; CLIENTS=$2; shift ;;
    --workloads) need_arg "$@"; WORKLOADS=$2; shift ;;
    --modes) need_arg "$@"; MODES=$2; shift ;;
    --targets) need_arg "$@"; TARGETS=$2; shift ;;
    --jobs) need_arg "$@"; JOBS=$2; shift ;;
    --splitting) need_arg "$@"; SPLITTING=$2; shift ;;
    --consistency) need_arg "$@"; CONSISTENCY=$2; shift ;;
    --label) need_arg "$@"; LABEL=$2; shift ;;
    --memory) MEMORY=1 ;;
    --no-memory) MEMORY=0 ;;
    --idle-clients) need_arg "$@"; IDLE_CLIENTS=$2; MEMORY=${MEMORY:-1}; shift ;;
    --memory-clients) need_arg "$@"; MEM_PGBENCH_CLIENTS=$2; shift ;;
    --memory-settle) need_arg "$@"; MEM_SETTLE=$2; shift ;;
    --memory-warmup) need_arg "$@"; MEM_WARMUP=$2; shift ;;
    --require-pgsplit) REQUIRE_PGSPLIT=1 ;;
    --jar) need_arg "$@"; JAR=$(realpath -m "$2"); shift ;;
    --base-jar) need_arg "$@"; BASE_JAR=$(realpath -m "$2"); shift ;;
    --no-build) BUILD=0 ;;
    --pgsplit-cmd) need_arg "$@"; PGSPLIT_CMD=$2; shift ;;
    --results-dir) need_arg "$@"; RESULTS_DIR=$(realpath -m "$2"); shift ;;
    --keep-logs) KEEP_LOGS=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

WORK="$BENCH_DIR/work"
case $PROFILE in
  full)  : "${SCALE:=10}" "${ROUNDS:=3}" "${DURATION:=30}" "${CLIENTS:=1,16,64,500}" "${MODES:=simple,extended,prepared}" "${MEMORY:=1}" ;;
  quick) : "${SCALE:=1}" "${ROUNDS:=1}" "${DURATION:=5}" "${CLIENTS:=16,500}" "${MODES:=simple,extended,prepared}" "${MEMORY:=0}" ;;
  smoke) : "${SCALE:=1}" "${ROUNDS:=1}" "${DURATION:=2}" "${CLIENTS:=2}" "${MODES:=extended}" "${MEMORY:=1}" "${IDLE_CLIENTS:=200}" \
           "${RESULTS_DIR:=$WORK/smoke-results}" "${MEM_PGBENCH_CLIENTS:=2}" "${MEM_WARMUP:=50}" ;;
esac
: "${WARMUP:=$([[ $PROFILE == smoke ]] && echo 0 || echo 10)}"
: "${WORKLOADS:=select-only,tpcb-like,read-heavy}" "${IDLE_CLIENTS:=10000}" "${MEM_PGBENCH_CLIENTS:=500}" "${RESULTS_DIR:=$BENCH_DIR/results}"
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
IFS=, read -r -a WORKLOAD_LIST <<<"$WORKLOADS"
IFS=, read -r -a MODE_LIST <<<"$MODES"
if [[ -n $BASE_JAR && ",$TARGETS," != *",pgsplit-base,"* ]]; then
  TARGETS=${TARGETS/pgsplit/pgsplit-base,pgsplit}   # base right before pgsplit: A B C A B C ...
  [[ ",$TARGETS," == *",pgsplit-base,"* ]] || TARGETS+=",pgsplit-base"
fi
IFS=, read -r -a TARGET_LIST <<<"$TARGETS"
for w in "${WORKLOAD_LIST[@]}"; do [[ $w =~ ^(select-only|tpcb-like|read-heavy)$ ]] || { echo "run.sh: unknown workload $w" >&2; exit 2; }; done
for m in "${MODE_LIST[@]}"; do [[ $m =~ ^(simple|extended|prepared)$ ]] || { echo "run.sh: unknown mode $m" >&2; exit 2; }; done
[[ $SPLITTING =~ ^(on|off)$ ]] || { echo "run.sh: --splitting takes on or off, not '$SPLITTING'" >&2; exit 2; }
[[ $SPLITTING == off && -z $LABEL ]] && LABEL=nosplit
[[ -z $LABEL || $LABEL =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "run.sh: --label may hold letters, digits, '.', '_' and '-' only" >&2; exit 2; }
for t in "${TARGET_LIST[@]}"; do [[ $t =~ ^(direct|pgbouncer|pgsplit|pgsplit-base|pgsplit-session|pgsplit-eventual)$ ]] || { echo "run.sh: unknown target $t" >&2; exit 2; }; done
[[ $CONSISTENCY =~ ^(causal|session|eventual)$ ]] || { echo "run.sh: --consistency takes causal, session or eventual, not '$CONSISTENCY'" >&2; exit 2; }
for n in "$SCALE" "$ROUNDS" "$DURATION" "$POOL_SIZE" "$JOBS" "$IDLE_CLIENTS" "$MEM_PGBENCH_CLIENTS" "${CLIENT_LIST[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: not a positive integer: $n" >&2; exit 2; }
done
[[ $MEM_SETTLE =~ ^[0-9]+$ ]] || { echo "run.sh: --memory-settle: not a number of seconds: $MEM_SETTLE" >&2; exit 2; }
: "${MEM_WARMUP:=1000}"
[[ $MEM_WARMUP =~ ^[0-9]+$ ]] || { echo "run.sh: --memory-warmup: not a number of clients: $MEM_WARMUP" >&2; exit 2; }
has_target() { [[ ",$TARGETS," == *",$1,"* ]]; }
# pgsplit-session and pgsplit-eventual are clients of the pgsplit process with another consistency
uses_pgsplit() { has_target pgsplit || has_target pgsplit-session || has_target pgsplit-eventual; }

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir)}
CLK_TCK=$(getconf CLK_TCK)
export PGPASSWORD=bench PGCONNECT_TIMEOUT=10
RUN_DATE=$(date -u +%Y-%m-%d)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
OUT="$WORK/run"            # per-run scratch: records, logs, configs

# ----------------------------------------------------------------------------- helpers
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }
as_pg() { runuser -u postgres -- "$@"; }
oneline() { tr '\t\r\n' '   ' | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-300; }

# psql as the superuser "postgres" (trust on 127.0.0.1 for that role only)
psql_su() { local port=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
# psql as "bench" (SCRAM) -- used for readiness checks through the proxies
psql_bench() { local port=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U bench -d bench "$@"; }

USED_PORTS=" "
free_port() {  # first port >= $1 that nothing listens on and that we did not hand out yet
  local p=$1
  while [[ -n "$(ss -Htln "sport = :$p" 2>/dev/null)" || "$USED_PORTS" == *" $p "* ]]; do p=$((p + 1)); done
  USED_PORTS+="$p "
  echo "$p"
}

# wait until cmd succeeds, polling every 0.2 s; returns 1 after timeout seconds
wait_for() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

cpu_ticks() {  # utime+stime (all threads) of a process, in clock ticks
  [[ -n "${1:-}" && -r /proc/$1/stat ]] || { echo ""; return; }
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
machine_ticks() {  # busy clock ticks of the whole machine (user, nice, system, irq, softirq), all CPUs
  awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat
}
status_kb() {  # status_kb PID VmRSS|VmHWM
  [[ -n "${1:-}" && -r /proc/$1/status ]] || { echo ""; return; }
  awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"
}

# ----------------------------------------------------------------------------- cleanup
PG_DIRS=() PGB_PID="" PGSPLIT_PID="" IDLE_PID="" CLEANED=0
cleanup() {
  [[ $CLEANED == 1 ]] && return
  CLEANED=1
  set +e
  [[ -n "$IDLE_PID" ]] && kill "$IDLE_PID" 2>/dev/null
  for pid in "$PGSPLIT_PID" "$BASE_PID" "$PGB_PID"; do
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null
  done
  for pid in "$IDLE_PID" "$PGSPLIT_PID" "$BASE_PID" "$PGB_PID"; do
    [[ -z "$pid" ]] && continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  local d
  for d in "${PG_DIRS[@]}"; do
    [[ -f "$d/postmaster.pid" ]] && as_pg "$PG_BINDIR/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
  done
  [[ ${#PG_DIRS[@]} -gt 0 ]] && log "stopped everything this run started"
}
trap cleanup EXIT
trap 'log "interrupted"; cleanup; exit 130' INT
trap 'log "terminated"; cleanup; exit 143' TERM

# ----------------------------------------------------------------------------- postgres
stop_stale_clusters() {  # a previous run that was SIGKILLed may have left its own servers behind
  local d
  for d in "$WORK"/pg/*/; do
    [[ -f "$d/postmaster.pid" ]] || continue
    log "stopping stale server from a previous run in $d"
    as_pg "$PG_BINDIR/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
  done
  if [[ -f "$WORK/pgbouncer/pgbouncer.pid" ]]; then
    local pid; pid=$(cat "$WORK/pgbouncer/pgbouncer.pid" 2>/dev/null || true)
    if [[ -n "$pid" ]] && grep -q pgbouncer "/proc/$pid/comm" 2>/dev/null; then kill "$pid" || true; fi
  fi
}

start_postgres() {  # start_postgres DATADIR
  PG_DIRS=("$1" "${PG_DIRS[@]}")   # stop replicas before the primary
  as_pg "$PG_BINDIR/pg_ctl" -D "$1" -l "$1/server.log" -w -t 120 start >/dev/null \
    || { tail -5 "$1/server.log" >&2; die "could not start PostgreSQL in $1"; }
}

setup_cluster() {
  PRIMARY_PORT=$(free_port 25432); R1_PORT=$(free_port $((PRIMARY_PORT + 1))); R2_PORT=$(free_port $((R1_PORT + 1)))
  local p="$WORK/pg/primary"
  log "initdb primary (port $PRIMARY_PORT)"
  as_pg "$PG_BINDIR/initdb" -D "$p" -U postgres --auth=trust -E UTF8 --no-locale >"$OUT/initdb.log" 2>&1 \
    || { tail -5 "$OUT/initdb.log" >&2; die "initdb failed"; }
  cat >"$p/pg_hba.conf" <<EOF
# benchmark cluster: loopback only
host  all          postgres  127.0.0.1/32  trust
host  replication  postgres  127.0.0.1/32  trust
host  all          all       127.0.0.1/32  scram-sha-256
EOF
  cat >>"$p/postgresql.conf" <<EOF

# ---- pgsplit benchmark settings (benchmarks/run.sh) ----
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = ''
max_connections = 700
shared_buffers = 128MB
password_encryption = 'scram-sha-256'
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 10
wal_keep_size = 1GB
max_wal_size = 4GB
checkpoint_timeout = 30min
hot_standby = on
hot_standby_feedback = on
cluster_name = 'primary'
EOF
  start_postgres "$p"
  wait_for 30 "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PRIMARY_PORT" || die "primary not ready"

  local name port
  for name in r1 r2; do
    [[ $name == r1 ]] && port=$R1_PORT || port=$R2_PORT
    log "pg_basebackup -R replica $name (port $port)"
    as_pg "$PG_BINDIR/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$WORK/pg/$name" -R -X stream -c fast \
      >"$OUT/basebackup-$name.log" 2>&1 || { tail -5 "$OUT/basebackup-$name.log" >&2; die "pg_basebackup failed"; }
    printf "port = %s\ncluster_name = '%s'\n" "$port" "$name" >>"$WORK/pg/$name/postgresql.conf"
    start_postgres "$WORK/pg/$name"
    wait_for 30 "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" || die "replica $name not ready"
  done

  psql_su "$PRIMARY_PORT" -c "CREATE ROLE bench LOGIN PASSWORD 'bench'" -c "CREATE DATABASE bench OWNER bench"
  log "pgbench -i -s $SCALE"
  pgbench -i -q -s "$SCALE" -h 127.0.0.1 -p "$PRIMARY_PORT" -U bench bench >"$OUT/pgbench-init.log" 2>&1 \
    || { tail -5 "$OUT/pgbench-init.log" >&2; die "pgbench -i failed"; }
  wait_replicas || die "replicas did not catch up"
}

replicas_at() { [[ $(psql_su "$PRIMARY_PORT" -c "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= '$1'") == 2 ]]; }
wait_replicas() {  # wait until both replicas replayed everything the primary has written so far
  local lsn; lsn=$(psql_su "$PRIMARY_PORT" -c "SELECT pg_current_wal_lsn()")
  wait_for 300 replicas_at "$lsn"
}

# what pgbench itself does before a run without -n; done directly on the primary so that
# every target starts from the same state and the proxies see only the benchmark traffic
reset_tables() {
  psql_bench "$PRIMARY_PORT" -c "VACUUM pgbench_branches" -c "VACUUM pgbench_tellers" -c "TRUNCATE pgbench_history" >/dev/null
  wait_replicas || die "replicas did not catch up"
}

# ----------------------------------------------------------------------------- pgbouncer
PGB_STATUS="not started" PGSPLIT_STATUS="not started" BASE_STATUS="not started" BASE_PID="" BASE_PORT=""
start_pgbouncer() {
  if ! command -v pgbouncer >/dev/null; then
    log "installing pgbouncer (apt-get)"
    { apt-get install -y pgbouncer || { apt-get update && apt-get install -y pgbouncer; }; } >"$OUT/apt-pgbouncer.log" 2>&1 \
      || { PGB_STATUS="pgbouncer not installed: $(tail -1 "$OUT/apt-pgbouncer.log" | oneline)"; return 1; }
  fi
  PGB_PORT=$(free_port 26432)
  local d="$WORK/pgbouncer" secret
  mkdir -p "$d"
  # SCRAM secret copied from pg_authid: PgBouncer authenticates clients with it and
  # re-uses the client's SCRAM keys to log in to the server.
  secret=$(psql_su "$PRIMARY_PORT" -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'bench'")
  printf '"bench" "%s"\n' "$secret" >"$d/userlist.txt"
  cat >"$d/pgbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=$PRIMARY_PORT dbname=bench

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
listen_backlog = 4096
auth_type = scram-sha-256
auth_file = $d/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = $((IDLE_CLIENTS > 10000 ? IDLE_CLIENTS + 600 : 10600))
max_db_connections = 0
ignore_startup_parameters = extra_float_digits
logfile = $d/pgbouncer.log
pidfile = $d/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
  rm -f "$d/pgbouncer.pid"
  chown -R postgres: "$d"; chmod 600 "$d/userlist.txt"
  # runuser resets the soft open-files limit (1024): raise it again so PgBouncer can take 10,000 clients
  if ! as_pg sh -c "ulimit -n $(ulimit -Hn); exec pgbouncer -d -q '$d/pgbouncer.ini'" >"$OUT/pgbouncer-start.log" 2>&1; then
    PGB_STATUS="pgbouncer failed to start: $(tail -1 "$d/pgbouncer.log" 2>/dev/null | oneline)"; return 1
  fi
  wait_for 10 test -s "$d/pgbouncer.pid" || { PGB_STATUS="pgbouncer wrote no pidfile"; return 1; }
  PGB_PID=$(cat "$d/pgbouncer.pid")
  if ! wait_for 30 psql_bench "$PGB_PORT" -c "SELECT 1"; then
    PGB_STATUS="pgbouncer not accepting connections within 30 s: $(psql_bench "$PGB_PORT" -c 'SELECT 1' 2>&1 | oneline)"; return 1
  fi
  PGB_STATUS=ok
  PGB_VERSION=$(pgbouncer --version | head -1)
  log "pgbouncer ready (pid $PGB_PID, port $PGB_PORT, pool_size $POOL_SIZE, transaction mode)"
}

# ----------------------------------------------------------------------------- pgsplit
# Contract (adjust here if the CLI changes): `bin/pgsplit run --config <yaml>`, the launcher users run,
# so the JVM flags it sets (collector, heap sizing) are the ones measured; PGSPLIT_JAR points it at --jar.
write_pgsplit_config() {
  cat >"$1" <<EOF
# generated by benchmarks/run.sh
listen: { host: 127.0.0.1, port: $PGSPLIT_PORT, max_client_conn: $((IDLE_CLIENTS > 10000 ? IDLE_CLIENTS + 600 : 10600)) }
databases:
  bench:
    primary: "127.0.0.1:$PRIMARY_PORT"
    replicas:
      - { name: r1, host: 127.0.0.1, port: $R1_PORT }
      - { name: r2, host: 127.0.0.1, port: $R2_PORT }
users:
  bench: { password: bench, auth: scram-sha-256 }
pool: { pool_mode: transaction, pool_size: $POOL_SIZE }
routing: { splitting: $([[ $SPLITTING == on ]] && echo true || echo false), consistency: $CONSISTENCY }
EOF
}

start_pgsplit() {
  PGSPLIT_PORT=$(free_port 27432)
  local d="$WORK/${PGSPLIT_INSTANCE:-pgsplit}" cmd
  mkdir -p "$d"
  write_pgsplit_config "$d/pgsplit.yaml"
  if [[ -z "$PGSPLIT_CMD" ]]; then
    if [[ ! -f "$JAR" && $BUILD == 1 && -f "$REPO_DIR/pom.xml" ]]; then
      log "pgsplit jar missing: mvn -q -B package -DskipTests"
      (cd "$REPO_DIR" && mvn -q -B package -DskipTests) >"$OUT/mvn.log" 2>&1 || log "maven build failed (see $OUT/mvn.log)"
    fi
    [[ -f "$JAR" ]] || { PGSPLIT_STATUS="jar not found: $JAR"; return 1; }
    PGSPLIT_VERSION="$(basename "$JAR") sha256:$(sha256sum "$JAR" | cut -c1-12), built $(date -u -r "$JAR" +%Y-%m-%dT%H:%MZ)"
    # bin/pgsplit reads PGSPLIT_JAR and PGSPLIT_JAVA_OPTS from the environment and execs java
    export PGSPLIT_JAR=$JAR
    cmd="$REPO_DIR/bin/pgsplit run --config {config}"
  else
    cmd=$PGSPLIT_CMD
    PGSPLIT_VERSION="custom command"
  fi
  PGSPLIT_VERSION+=", repo $(git -C "$REPO_DIR" describe --always --dirty 2>/dev/null || echo '?')"
  PGSPLIT_START_CMD=${cmd//\{config\}/$d/pgsplit.yaml}
  log "starting pgsplit: $PGSPLIT_START_CMD"
  # word splitting of the command string is intended
  (cd "$REPO_DIR" && exec $PGSPLIT_START_CMD) >"$d/pgsplit.log" 2>&1 &
  PGSPLIT_PID=$!
  local deadline=$((SECONDS + 30))
  until psql_bench "$PGSPLIT_PORT" -c "SELECT 1" >/dev/null 2>&1; do
    if ! kill -0 "$PGSPLIT_PID" 2>/dev/null; then
      local rc=0; wait "$PGSPLIT_PID" || rc=$?
      PGSPLIT_PID=""
      PGSPLIT_STATUS="pgsplit exited (rc $rc) before accepting connections: $(grep -v '^\s*$' "$d/pgsplit.log" | tail -1 | oneline)"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      PGSPLIT_STATUS="pgsplit not accepting connections within 30 s: $(psql_bench "$PGSPLIT_PORT" -c 'SELECT 1' 2>&1 | oneline)"
      kill "$PGSPLIT_PID" 2>/dev/null || true; wait "$PGSPLIT_PID" 2>/dev/null || true; PGSPLIT_PID=""
      return 1
    fi
    sleep 0.2
  done
  # if the command was a launcher script, measure the java process it started
  if [[ "$(cat "/proc/$PGSPLIT_PID/comm" 2>/dev/null)" != java ]]; then
    local child; child=$(pgrep -P "$PGSPLIT_PID" java | head -1 || true)
    [[ -n "$child" ]] && PGSPLIT_MEASURE_PID=$child
  fi
  # the JVM's real command line (flags from bin/pgsplit and PGSPLIT_JAVA_OPTS included) for the report
  PGSPLIT_JVM_CMD=$(tr '\0' ' ' <"/proc/${PGSPLIT_MEASURE_PID:-$PGSPLIT_PID}/cmdline" 2>/dev/null | sed 's/ $//' || true)
  PGSPLIT_STATUS=ok
  log "pgsplit ready (pid $PGSPLIT_PID, port $PGSPLIT_PORT, pool_size $POOL_SIZE, transaction mode, splitting $SPLITTING)"
}

# The --base-jar build as target pgsplit-base: start_pgsplit with the other jar, its own port and
# directory, its results moved to BASE_*.
start_pgsplit_base() {
  local saved_jar=$JAR rc=0
  JAR=$BASE_JAR PGSPLIT_INSTANCE=pgsplit-base
  start_pgsplit || rc=$?
  BASE_PORT=$PGSPLIT_PORT BASE_PID=$PGSPLIT_PID BASE_MEASURE_PID=${PGSPLIT_MEASURE_PID:-} BASE_STATUS=$PGSPLIT_STATUS
  BASE_VERSION=${PGSPLIT_VERSION:-n/a}
  JAR=$saved_jar PGSPLIT_INSTANCE=pgsplit
  PGSPLIT_PORT="" PGSPLIT_PID="" PGSPLIT_MEASURE_PID="" PGSPLIT_STATUS="not started" PGSPLIT_VERSION=""
  return $rc
}

# ----------------------------------------------------------------------------- pgbench runs
RUNS_TSV="$OUT/runs.tsv" MEM_TSV="$OUT/memory.tsv" CMDS="$OUT/commands.txt" META="$OUT/meta.tsv"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

target_port() { case $1 in direct) echo "$PRIMARY_PORT" ;; pgbouncer) echo "$PGB_PORT" ;; pgsplit|pgsplit-session|pgsplit-eventual) echo "$PGSPLIT_PORT" ;; pgsplit-base) echo "$BASE_PORT" ;; esac; }
target_pid() { case $1 in direct) echo "" ;; pgbouncer) echo "$PGB_PID" ;; pgsplit|pgsplit-session|pgsplit-eventual) echo "${PGSPLIT_MEASURE_PID:-$PGSPLIT_PID}" ;; pgsplit-base) echo "${BASE_MEASURE_PID:-$BASE_PID}" ;; esac; }
# the start-up options pgbench sends (pgsplit.consistency for the pgsplit-session / pgsplit-eventual targets)
target_options() { case $1 in pgsplit-session) echo "-c pgsplit.consistency=session" ;; pgsplit-eventual) echo "-c pgsplit.consistency=eventual" ;; esac; }

# Account lookups by index (pg_stat_user_tables.idx_scan of pgbench_accounts) on the primary and on both
# replicas, and pgbench_history rows: "primary replicas history". Every pgbench script looks an account up once
# per read transaction and twice per write (UPDATE, then SELECT), so the reads served by replicas are
# replicas / (replicas + primary - 2 * new history rows). Backends publish their counters once idle, up to a
# second later (more on a loaded machine): stable_lookups reads until two readings 0.5 s apart agree.
stable_lookups() {
  local a b i
  a=$(account_lookups)
  for ((i = 0; i < 20; i++)); do
    sleep 0.5; b=$(account_lookups)
    [[ "$a" == "$b" ]] && break
    a=$b
  done
  echo "$a"
}

account_lookups() {
  local q="SELECT coalesce((SELECT idx_scan FROM pg_stat_user_tables WHERE relname = 'pgbench_accounts'), 0)"
  local p r1 r2 h
  p=$(psql -X -q -At -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d bench -c "$q" 2>/dev/null || echo 0)
  r1=$(psql -X -q -At -h 127.0.0.1 -p "$R1_PORT" -U postgres -d bench -c "$q" 2>/dev/null || echo 0)
  r2=$(psql -X -q -At -h 127.0.0.1 -p "$R2_PORT" -U postgres -d bench -c "$q" 2>/dev/null || echo 0)
  h=$(psql -X -q -At -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d bench -c "SELECT count(*) FROM pgbench_history" 2>/dev/null || echo 0)
  echo "$p $((r1 + r2)) $h"
}
target_down() {  # prints the reason a target cannot be used, or nothing
  case $1 in
    direct) ;;
    pgbouncer) [[ $PGB_STATUS == ok ]] && { kill -0 "$PGB_PID" 2>/dev/null || echo "pgbouncer process is gone"; } || echo "$PGB_STATUS" ;;
    pgsplit|pgsplit-session|pgsplit-eventual) [[ $PGSPLIT_STATUS == ok ]] && { kill -0 "$PGSPLIT_PID" 2>/dev/null || echo "pgsplit process is gone: $(tail -1 "$WORK/pgsplit/pgsplit.log" | oneline)"; } || echo "$PGSPLIT_STATUS" ;;
    pgsplit-base) [[ $BASE_STATUS == ok ]] && { kill -0 "$BASE_PID" 2>/dev/null || echo "pgsplit-base process is gone: $(tail -1 "$WORK/pgsplit-base/pgsplit.log" | oneline)"; } || echo "$BASE_STATUS" ;;
  esac
}

workload_args() {
  case $1 in
    select-only) echo "-b select-only" ;;
    tpcb-like) echo "-b tpcb-like" ;;
    read-heavy) echo "-D scale=$SCALE -f $BENCH_DIR/read-heavy.sql@9 -f $BENCH_DIR/read-heavy-write.sql@1" ;;
  esac
}

# run_pgbench TARGET WORKLOAD MODE CLIENTS TAG  -> sets R_* globals
run_pgbench() {
  local target=$1 workload=$2 mode=$3 clients=$4 tag=$5
  local port pid jobs logdir rc=0 c0 c1 m0 m1 down
  R_STATUS=FAILED R_TPS="" R_LAT="" R_P99="" R_FAILED="" R_ABORTED="" R_TXNS="" R_CPU="" R_RSS="" R_HWM="" R_ERR="" R_MCPU="" R_SHARE=""
  down=$(target_down "$target")
  if [[ -n "$down" ]]; then R_ERR=$down; return; fi
  port=$(target_port "$target"); pid=$(target_pid "$target")
  jobs=$((clients < JOBS ? clients : JOBS))
  logdir="$OUT/txlog/$tag"; rm -rf "$logdir"; mkdir -p "$logdir"
  # shellcheck disable=SC2207
  local args=(-h 127.0.0.1 -p "$port" -U bench -n -M "$mode" -c "$clients" -j "$jobs" -T "$DURATION"
              $(workload_args "$workload") --log --log-prefix="$logdir/tx" bench)
  local opts; opts=$(target_options "$target")
  printf '%s: %spgbench %s\n' "$tag" "${opts:+PGOPTIONS='$opts' }" "${args[*]}" >>"$CMDS"
  local before="" after=""
  [[ $tag == warmup-* ]] || before=$(stable_lookups)
  c0=$(cpu_ticks "$pid"); m0=$(machine_ticks)
  PGOPTIONS="$(target_options "$target")" timeout -k 10 $((DURATION * 3 + 120)) pgbench "${args[@]}" >"$logdir/stdout" 2>"$logdir/stderr" || rc=$?
  m1=$(machine_ticks); c1=$(cpu_ticks "$pid")
  if [[ -n "$before" ]]; then
    after=$(stable_lookups)
    R_SHARE=$(awk -v b="$before" -v a="$after" 'BEGIN {split(b, x, " "); split(a, y, " "); p = y[1] - x[1]; r = y[2] - x[2];
      h = y[3] - x[3]; if (h < 0) h = y[3]; reads = r + p - 2 * h; if (reads > 0 && reads > h) printf "%.1f", 100 * r / reads}')
  fi
  local o="$logdir/stdout"
  R_TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$o" | head -1)
  R_LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$o" | head -1)
  R_TXNS=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$o" | head -1)
  R_FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$o" | head -1)
  R_ABORTED=$(grep -c 'aborted in command\|aborted while establishing' "$logdir/stderr" || true)
  # p99 from the per-transaction logs: column 3 is the latency in us ("failed"/"skipped" otherwise)
  R_P99=$(cat "$logdir"/tx.* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ {print $3}' | sort -n -S 64M |
          awk '{v[NR] = $1} END {if (NR) {i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1; printf "%.3f", v[i] / 1000}}')
  if [[ -n "$c0" && -n "$c1" ]]; then R_CPU=$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN {printf "%.3f", (b - a) / t}'); fi
  # everything the machine did meanwhile: PostgreSQL, pgbench and the proxy (a proxy changes what the servers spend too)
  R_MCPU=$(awk -v a="$m0" -v b="$m1" -v t="$CLK_TCK" 'BEGIN {printf "%.3f", (b - a) / t}')
  R_RSS=$(status_kb "$pid" VmRSS); R_HWM=$(status_kb "$pid" VmHWM)
  if [[ $rc == 0 && -n "$R_TPS" && "${R_TXNS:-0}" != 0 ]]; then
    R_STATUS=ok
  elif [[ $rc == 0 ]]; then
    R_ERR="no transactions completed in ${DURATION}s (connection setup too slow?)"
  elif [[ $rc == 124 || $rc == 137 ]]; then
    R_ERR="pgbench timed out after $((DURATION * 3 + 120)) s"
  else
    R_ERR=$( { grep -m1 -E 'ERROR|FATAL|error|failed|aborted' "$logdir/stderr" || tail -1 "$logdir/stderr" || true; } | oneline)
    [[ -n "$R_ERR" ]] || R_ERR="pgbench exited with status $rc"
  fi
  [[ $KEEP_LOGS == 1 ]] || rm -f "$logdir"/tx.*
}

fmt_run() {  # one-line summary of the R_* globals
  if [[ $R_STATUS == ok ]]; then
    printf 'tps=%.1f lat=%sms p99=%sms failed=%s' "$R_TPS" "$R_LAT" "${R_P99:-?}" "${R_FAILED:-0}"
    [[ -n "$R_CPU" && -n "$R_TXNS" && "$R_TXNS" != 0 ]] && awk -v c="$R_CPU" -v n="$R_TXNS" 'BEGIN {printf " cpu/1k=%.3fs", c * 1000 / n}'
    [[ -n "$R_RSS" ]] && awk -v r="$R_RSS" 'BEGIN {printf " rss=%.1fMB", r / 1024}'
    [[ -n "$R_SHARE" ]] && printf ' reads-on-replicas=%s%%' "$R_SHARE"
  else
    printf 'FAILED: %s' "$R_ERR"
  fi
}

warm_up() {  # unrecorded runs so the JIT of pgsplit (and caches everywhere) are warm before measuring
  local t m saved=$DURATION
  ((WARMUP > 0)) || return 0
  DURATION=$WARMUP
  for t in "${TARGET_LIST[@]}"; do
    [[ -n "$(target_down "$t")" ]] && continue
    for m in "${MODE_LIST[@]}"; do
      run_pgbench "$t" select-only "$m" 16 "warmup-$t-$m"
      log "warm-up $t $m: $(fmt_run)"
    done
  done
  DURATION=$saved
}

run_cases() {
  local total=$(( ${#WORKLOAD_LIST[@]} * ${#MODE_LIST[@]} * ${#CLIENT_LIST[@]} * ROUNDS * ${#TARGET_LIST[@]} )) n=0
  local w m c r t tag
  printf 'workload\tmode\tclients\ttarget\tround\tstatus\ttps\tlat_ms\tp99_ms\tfailed\taborted\ttxns\tcpu_s\trss_kb\thwm_kb\terror\tmachine_cpu_s\treplica_share\n' >"$RUNS_TSV"
  log "running $total pgbench runs of ${DURATION}s (targets: $TARGETS)"
  for w in "${WORKLOAD_LIST[@]}"; do
    for m in "${MODE_LIST[@]}"; do
      for c in "${CLIENT_LIST[@]}"; do
        for ((r = 1; r <= ROUNDS; r++)); do
          for t in "${TARGET_LIST[@]}"; do       # interleaved: A B C A B C ...
            n=$((n + 1))
            tag="$w-$m-c$c-r$r-$t"
            [[ $w != select-only && -z "$(target_down "$t")" ]] && reset_tables
            run_pgbench "$t" "$w" "$m" "$c" "$tag"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$m" "$c" "$t" "$r" "$R_STATUS" \
              "$R_TPS" "$R_LAT" "$R_P99" "$R_FAILED" "$R_ABORTED" "$R_TXNS" "$R_CPU" "$R_RSS" "$R_HWM" "$R_ERR" "$R_MCPU" "$R_SHARE" >>"$RUNS_TSV"
            log "$(printf '[%3d/%d] %-11s %-8s c=%-3s round %d/%d %-9s ' "$n" "$total" "$w" "$m" "$c" "$r" "$ROUNDS" "$t")$(fmt_run)"
          done
        done
      done
    done
  done
}

# ----------------------------------------------------------------------------- memory at scale
# no client connection to the proxy on port $1 left open on its side (established, or closed by the
# client but not yet by the proxy)
no_clients_on() { [[ -z "$(ss -Htn state established state close-wait "( sport = :$1 )" 2>/dev/null)" ]]; }
memory_case() {  # memory_case TARGET: N idle clients, RSS before/after, then pgbench -c 500 beside them
  local t=$1 down pid port rss0 rss1 ready est fail line
  local row_prefix="$t	$IDLE_CLIENTS"
  down=$(target_down "$t")
  if [[ -n "$down" ]]; then
    printf '%s\t\t\t\t\t\tFAILED\t\t\t\t\t\t%s\n' "$row_prefix" "$down" >>"$MEM_TSV"
    log "memory $t: FAILED: $down"; return
  fi
  pid=$(target_pid "$t"); port=$(target_port "$t")
  if ((MEM_WARMUP > 0)); then
    # Like the pgbench warm-up: code first run during the measurement (for pgsplit, the JIT compiling
    # the login path) is a cost of the process, not of each idle client.
    log "memory $t: warm-up: $MEM_WARMUP clients log in and leave (unrecorded)"
    python3 "$BENCH_DIR/idle_clients.py" --port "$port" --count "$MEM_WARMUP" >"$OUT/idle-warmup-$t.out" 2>"$OUT/idle-warmup-$t.err" &
    IDLE_PID=$!
    wait_for 300 grep -q '^READY' "$OUT/idle-warmup-$t.out" || log "memory $t: warm-up clients not ready: $(tail -1 "$OUT/idle-warmup-$t.err" | oneline)"
    kill "$IDLE_PID" 2>/dev/null || true; wait "$IDLE_PID" 2>/dev/null || true; IDLE_PID=""
    # until the proxy has seen them all go
    wait_for 30 no_clients_on "$port" || log "memory $t: warm-up clients still connected after 30 s"
  fi
  rss0=$(status_kb "$pid" VmRSS)
  log "memory $t: opening $IDLE_CLIENTS idle connections (RSS before: ${rss0} kB)"
  python3 "$BENCH_DIR/idle_clients.py" --port "$port" --count "$IDLE_CLIENTS" >"$OUT/idle-$t.out" 2>"$OUT/idle-$t.err" &
  IDLE_PID=$!
  local deadline=$((SECONDS + 600))
  until grep -q '^READY' "$OUT/idle-$t.out"; do
    if ! kill -0 "$IDLE_PID" 2>/dev/null || ((SECONDS > deadline)); then break; fi
    sleep 0.5
  done
  line=$(grep '^READY' "$OUT/idle-$t.out" || true)
  if [[ -z "$line" ]]; then
    kill "$IDLE_PID" 2>/dev/null || true; wait "$IDLE_PID" 2>/dev/null || true; IDLE_PID=""
    local err; err=$(tail -1 "$OUT/idle-$t.err" | oneline)
    printf '%s\t\t\t%s\t\t\tFAILED\t\t\t\t\t\tidle_clients.py: %s\n' "$row_prefix" "$rss0" "$err" >>"$MEM_TSV"
    log "memory $t: FAILED: idle_clients.py: $err"; return
  fi
  read -r _ est fail <<<"$line"
  rss1=$(status_kb "$pid" VmRSS)
  local per; per=$(awk -v a="$rss0" -v b="$rss1" -v n="$est" 'BEGIN {if (n > 0 && a != "" && b != "") printf "%.2f", (b - a) / n}')
  log "memory $t: $est idle connected ($fail failed), RSS ${rss0} -> ${rss1} kB = ${per} kB/client"
  local rss_s="" per_s=""
  if ((MEM_SETTLE > 0)); then
    sleep "$MEM_SETTLE"
    rss_s=$(status_kb "$pid" VmRSS)
    per_s=$(awk -v a="$rss0" -v b="$rss_s" -v n="$est" 'BEGIN {if (n > 0 && a != "" && b != "") printf "%.2f", (b - a) / n}')
    log "memory $t: after ${MEM_SETTLE}s idle: RSS ${rss_s} kB = ${per_s} kB/client"
  fi
  log "memory $t: pgbench -S -c $MEM_PGBENCH_CLIENTS beside the idle clients"
  run_pgbench "$t" select-only simple "$MEM_PGBENCH_CLIENTS" "memory-$t"
  local rss2 hwm; rss2=$(status_kb "$pid" VmRSS); hwm=$(status_kb "$pid" VmHWM)
  # the idle clients must still be connected: nothing is written to stdout before CLOSED
  kill "$IDLE_PID" 2>/dev/null || true; wait "$IDLE_PID" 2>/dev/null || true; IDLE_PID=""
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$row_prefix" "$est" "$fail" "$rss0" "$rss1" "$per" \
    "$R_STATUS" "$R_TPS" "$R_P99" "${R_FAILED:-}" "$rss2" "$hwm" "$R_ERR" "$rss_s" "$per_s" >>"$MEM_TSV"
  log "memory $t: pgbench beside idle clients: $(fmt_run)"
}

restart_pgsplit() {  # a fresh JVM, so the memory case measures from an idle router, not from a heap the cases grew
  [[ -n "$PGSPLIT_PID" ]] || return 0
  log "memory pgsplit: restarting pgsplit (after the cases its heap is grown: idle clients would fit in it for free)"
  kill -TERM "$PGSPLIT_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$PGSPLIT_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PGSPLIT_PID" 2>/dev/null || true
  wait "$PGSPLIT_PID" 2>/dev/null || true
  PGSPLIT_PID="" PGSPLIT_MEASURE_PID=""
  start_pgsplit || log "pgsplit restart failed: $PGSPLIT_STATUS"
}

run_memory() {
  printf 'target\tidle\testablished\tconnect_failed\trss_before_kb\trss_idle_kb\tkb_per_client\tstatus\ttps\tp99_ms\tfailed\trss_after_kb\thwm_kb\terror\trss_settled_kb\tkb_per_client_settled\n' >"$MEM_TSV"
  local t
  for t in pgbouncer pgsplit; do
    has_target "$t" || continue
    if [[ $t == pgsplit && -s "$RUNS_TSV" && $PGSPLIT_STATUS == ok ]]; then restart_pgsplit; fi
    memory_case "$t"
  done
}

# ----------------------------------------------------------------------------- main
main() {
  command -v pgbench >/dev/null || die "pgbench not found"
  [[ -x "$PG_BINDIR/initdb" ]] || die "initdb not found in $PG_BINDIR (set PG_BINDIR)"
  id postgres >/dev/null 2>&1 || die "OS user 'postgres' is required"
  [[ $(id -u) == 0 ]] || die "run as root (PostgreSQL/PgBouncer are started as the postgres user via runuser)"
  # many sockets for the idle-client case; inherited by pgbouncer, pgsplit and the helper
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

  mkdir -p "$WORK"
  stop_stale_clusters
  rm -rf "$WORK/pg" "$WORK/pgbouncer" "$WORK/pgsplit" "$WORK/pgsplit-base" "$OUT"
  mkdir -p "$WORK/pg" "$OUT"
  chown postgres: "$WORK/pg"
  : >"$META"; : >"$CMDS"
  log "profile $PROFILE: scale $SCALE, $ROUNDS round(s) x ${DURATION}s, clients $CLIENTS, workloads $WORKLOADS, modes $MODES, pool $POOL_SIZE, ulimit -n $(ulimit -n)"

  setup_cluster
  if has_target pgbouncer; then start_pgbouncer || log "pgbouncer unavailable: $PGB_STATUS"; fi
  if has_target pgsplit-base; then start_pgsplit_base || log "pgsplit-base unavailable, its cases are marked FAILED: $BASE_STATUS"; fi
  if uses_pgsplit; then
    start_pgsplit || log "pgsplit unavailable, its cases are marked FAILED: $PGSPLIT_STATUS"
    if [[ $PGSPLIT_STATUS != ok && $REQUIRE_PGSPLIT == 1 ]]; then die "--require-pgsplit: $PGSPLIT_STATUS"; fi
  fi

  meta profile "$PROFILE"; meta date "$STARTED_AT"
  meta machine "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(free -h | awk '/^Mem:/ {print $2}') RAM, kernel $(uname -r)"
  meta postgresql "$("$PG_BINDIR/postgres" --version)"
  meta pgbench "$(pgbench --version)"
  meta pgbouncer "${PGB_VERSION:-$PGB_STATUS}"
  meta pgsplit "${PGSPLIT_VERSION:-n/a} (status: $PGSPLIT_STATUS)"
  [[ -n $BASE_JAR ]] && meta pgsplit_base "${BASE_VERSION:-n/a} (status: $BASE_STATUS)"
  meta pgsplit_cmd "${PGSPLIT_START_CMD:-n/a}${PGSPLIT_JAVA_OPTS:+ (PGSPLIT_JAVA_OPTS=$PGSPLIT_JAVA_OPTS)}"
  meta pgsplit_jvm "${PGSPLIT_JVM_CMD:-n/a}"
  meta java "$(java -version 2>&1 | head -1)"
  meta settings "scale $SCALE, $ROUNDS round(s) x ${DURATION}s, pgbench -j $JOBS, pool_size $POOL_SIZE, pgsplit splitting $SPLITTING, consistency $CONSISTENCY, PostgreSQL max_connections 700, fsync off, synchronous_commit on"
  meta ports "primary $PRIMARY_PORT, replicas $R1_PORT/$R2_PORT, pgbouncer ${PGB_PORT:-n/a}, pgsplit ${PGSPLIT_PORT:-n/a}"
  meta warmup "${WARMUP}s of pgbench -S -c 16 per target and mode before measuring (unrecorded)"
  meta rounds "$ROUNDS"; meta duration "$DURATION"; meta idle_clients "$IDLE_CLIENTS"; meta mem_pgbench_clients "$MEM_PGBENCH_CLIENTS"; meta mem_settle "$MEM_SETTLE"; meta mem_warmup "$MEM_WARMUP"; meta targets "$TARGETS"

  warm_up
  run_cases
  if [[ $MEMORY == 1 ]]; then run_memory; fi
  meta finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  cleanup

  mkdir -p "$RESULTS_DIR"
  local name="$RUN_DATE-$PROFILE${LABEL:+-$LABEL}" md
  md="$RESULTS_DIR/$name.md"
  python3 "$BENCH_DIR/report.py" --out "$OUT" --md "$md" --png "$RESULTS_DIR/$name.png"
  if [[ $PROFILE != smoke && -z $LABEL ]]; then cp "$md" "$RESULTS_DIR/latest.md"; fi  # labelled runs are side studies
  log "results: $md"

  # smoke / --require-pgsplit verdict
  local bad
  bad=$(awk -F'\t' -v req="$REQUIRE_PGSPLIT" -v smoke="$([[ $PROFILE == smoke ]] && echo 1 || echo 0)" \
        'NR > 1 && $6 != "ok" && ((smoke && $4 != "pgsplit") || ($4 == "pgsplit" && req)) {n++} END {print n + 0}' "$RUNS_TSV")
  if [[ -f "$MEM_TSV" ]]; then
    bad=$((bad + $(awk -F'\t' -v req="$REQUIRE_PGSPLIT" -v smoke="$([[ $PROFILE == smoke ]] && echo 1 || echo 0)" \
        'NR > 1 && $8 != "ok" && ((smoke && $1 != "pgsplit") || ($1 == "pgsplit" && req)) {n++} END {print n + 0}' "$MEM_TSV")))
  fi
  if ((bad > 0)); then log "$bad required case(s) FAILED"; exit 1; fi
}

main
