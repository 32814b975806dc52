#!/usr/bin/env bash
# Where the machine's CPU goes per transaction: PostgreSQL (every postgres process), the proxy, pgbench.
#
#   benchmarks/cpu-breakdown.sh [--mode M] [--clients N] [--seconds S] PORT [PROXY_PID]
#
# Runs `pgbench -S -M M -c N -j 2 -T S` against 127.0.0.1:PORT (user and database from PGUSER /
# PGDATABASE / PGPASSWORD, as for psql) and prints TPS and microseconds of CPU per transaction:
# the whole machine (/proc/stat), all postgres processes, the proxy (PROXY_PID, all threads) and
# pgbench itself. Run it on a quiet machine against servers and proxies that are already up (for
# example while `benchmarks/run.sh --keep-logs` is paused, or a setup of your own).
#
# Why: on one machine the proxy is not the only thing a proxy changes. Through pgsplit with splitting
# on, PostgreSQL's own CPU per transaction rises, because reads are spread over replica instances
# that share the same cores (see results/ANALYSIS.md, "Third pass").
set -euo pipefail

MODE=extended CLIENTS=16 SECONDS_=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --mode) MODE=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "cpu-breakdown.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { echo "usage: cpu-breakdown.sh [--mode M] [--clients N] [--seconds S] PORT [PROXY_PID]" >&2; exit 2; }
PORT=$1 PROXY_PID=${2:-}
[[ -z $PROXY_PID || -d /proc/$PROXY_PID ]] || { echo "cpu-breakdown.sh: no process $PROXY_PID" >&2; exit 2; }

ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks() {  # backends that exit during the run are missed: use a proxy's pool, not direct
  local sum=0 p
  for p in $(pgrep -x postgres); do sum=$((sum + $(ticks_of "$p"))); done
  echo "$sum"
}
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

pg0=$(postgres_ticks); px0=$([[ -n $PROXY_PID ]] && ticks_of "$PROXY_PID" || echo 0); m0=$(machine_ticks)
out=$({ /usr/bin/time -f "PGBENCH_CPU %U %S" pgbench -S -M "$MODE" -c "$CLIENTS" -j 2 -T "$SECONDS_" \
        -h 127.0.0.1 -p "$PORT"; } 2>&1) || { echo "$out" >&2; exit 1; }
m1=$(machine_ticks); px1=$([[ -n $PROXY_PID ]] && ticks_of "$PROXY_PID" || echo 0); pg1=$(postgres_ticks)

n=$(grep -oP 'processed: \K[0-9]+' <<<"$out")
tps=$(grep -oP 'tps = \K[0-9.]+' <<<"$out")
read -r bu bs < <(grep -oP 'PGBENCH_CPU \K.*' <<<"$out")
hz=$(getconf CLK_TCK)
awk -v n="$n" -v tps="$tps" -v hz="$hz" -v m=$((m1 - m0)) -v pg=$((pg1 - pg0)) -v px=$((px1 - px0)) \
    -v b="$bu $bs" -v port="$PORT" -v mode="$MODE" -v c="$CLIENTS" 'BEGIN {
  split(b, t, " "); us = 1e6 / hz / n
  printf "port %s, -M %s -c %s: %.0f TPS; CPU us per transaction: machine %.1f = postgres %.1f + proxy %.1f + pgbench %.1f + other %.1f\n",
    port, mode, c, tps, m * us, pg * us, px * us, (t[1] + t[2]) * 1e6 / n, m * us - pg * us - px * us - (t[1] + t[2]) * 1e6 / n
}'
