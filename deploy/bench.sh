#!/usr/bin/env bash
# bench.sh — throughput of Slotgate vs. talking to the Redis Cluster directly,
# measured with redis-benchmark (SET and GET, pipeline 1 and 16, 50 clients).
#
# Usage:
#   bash deploy/bench.sh [--requests N] [--rounds R] [--base-port N]
#                        [--proxy-port N] [--threads N]
#
#   --requests N    requests per run for both pipeline depths (default:
#                   100000 at -P 1, 1000000 at -P 16)
#   --rounds R      rounds; each round runs every case direct and via slotgate,
#                   alternating which goes first (default 3)
#   --base-port N   ports of the benchmark's own cluster, N..N+5 (default 7100)
#   --proxy-port N  port slotgate listens on (default 7877)
#   --threads N     slotgate --threads (default 2)
#
# Builds the release binary, starts a fresh cluster and slotgate (in the
# background) with their files in a new ${TMPDIR:-/tmp}/slotgate-bench.XXXXXX
# dir, prints a markdown table of median requests/sec plus the raw per-round
# numbers on stdout (progress on stderr), then stops slotgate (by its PID) and
# the cluster. The run dir (slotgate.log, redis-benchmark.log) is removed after
# a successful run and kept otherwise. Refuses to start when the ports are busy
# (e.g. another bench.sh is running).
#
# Timing: with the defaults the direct runs take ~5 s per round on 2 cores, so
# 3 rounds finish in about 1 minute plus the build, if slotgate is within ~3x of
# direct. Each redis-benchmark run is capped at BENCH_RUN_TIMEOUT (120 s).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/run-dir.sh
source "$ROOT/deploy/lib/run-dir.sh"

REQUESTS=""
ROUNDS=3
BASE_PORT=7100
PROXY_PORT=7877
THREADS=2
CLIENTS=50
KEYSPACE=100000
TESTS=(SET GET)
PIPELINES=(1 16)
RUN_TIMEOUT_S=${BENCH_RUN_TIMEOUT:-120}
READY_TIMEOUT_S=30
STOP_TIMEOUT_S=5

RUN_DIR=""   # set by slotgate_run_begin
PROXY_PID=""
declare -A RESULTS=()   # "TEST P MODE" -> space-separated rps, one per round

log() { echo "bench: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  echo "usage: $0 [--requests N] [--rounds R] [--base-port N] [--proxy-port N] [--threads N]" >&2
  exit 2
}

need_uint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive number, got '$2'"; }

parse_args() {
  while (($#)); do
    (($# >= 2)) || usage
    case "$1" in
      --requests) need_uint "$1" "$2"; REQUESTS=$2 ;;
      --rounds) need_uint "$1" "$2"; ROUNDS=$2 ;;
      --base-port) need_uint "$1" "$2"; BASE_PORT=$2 ;;
      --proxy-port) need_uint "$1" "$2"; PROXY_PORT=$2 ;;
      --threads) need_uint "$1" "$2"; THREADS=$2 ;;
      *) usage ;;
    esac
    shift 2
  done
}

requests_for() {
  if [[ -n "$REQUESTS" ]]; then echo "$REQUESTS"
  elif (($1 == 1)); then echo 100000
  else echo 1000000
  fi
}

# True if a non-TIME-WAIT TCP socket uses PORT locally (listener or connection).
port_in_use() {
  ss -Htan "sport = :$1" 2>/dev/null | awk '$1 != "TIME-WAIT" { found = 1 } END { exit !found }'
}

check_proxy_port_free() {
  if port_in_use "$PROXY_PORT"; then
    die "port $PROXY_PORT is in use (another bench.sh or slotgate?); try --proxy-port"
  fi
}

build_release() {
  log "building slotgate (release)..."
  swift build -c release --product slotgate >&2
  PROXY_BIN="$(swift build -c release --show-bin-path)/slotgate"
  [[ -x "$PROXY_BIN" ]] || die "built binary not found at $PROXY_BIN"
}

start_proxy() {
  check_proxy_port_free
  log "starting slotgate on 127.0.0.1:$PROXY_PORT (log: $RUN_DIR/slotgate.log)"
  "$PROXY_BIN" --port "$PROXY_PORT" --cluster "127.0.0.1:$BASE_PORT" \
    --threads "$THREADS" </dev/null >"$RUN_DIR/slotgate.log" 2>&1 &
  PROXY_PID=$!
}

# proxy_says REPLY COMMAND...: true if slotgate answers COMMAND with REPLY.
proxy_says() {
  local want=$1 got
  shift
  got=$(timeout 2 redis-cli -h 127.0.0.1 -p "$PROXY_PORT" "$@" </dev/null 2>/dev/null | tr -d '\r')
  [[ "$got" == "$want" ]]
}

proxy_failed() {
  tail -n 20 "$RUN_DIR/slotgate.log" >&2 || true
  die "$1"
}

wait_for_proxy() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until proxy_says PONG ping && proxy_says OK set bench:probe 1; do
    kill -0 "$PROXY_PID" 2>/dev/null || proxy_failed "slotgate exited early"
    ((SECONDS < deadline)) || proxy_failed "slotgate not ready within ${READY_TIMEOUT_S}s"
    sleep 0.2
  done
  # Make sure it is our process that answered.
  kill -0 "$PROXY_PID" 2>/dev/null || proxy_failed "slotgate exited early"
}

# SIGTERM our slotgate, SIGKILL it if it is still there after the timeout.
# shellcheck disable=SC2317  # reached via traps
stop_proxy() {
  slotgate_stop_process "$PROXY_PID" "$STOP_TIMEOUT_S"
  PROXY_PID=""
}

# Print the requests/sec of one redis-benchmark run, or nothing on failure.
# bench_once MODE TEST PIPELINE
bench_once() {
  local mode=$1 test=$2 p=$3 target out rc=0
  if [[ $mode == direct ]]; then
    target=(--cluster -h 127.0.0.1 -p "$BASE_PORT")
  else
    target=(-h 127.0.0.1 -p "$PROXY_PORT")
  fi
  out=$(timeout "$RUN_TIMEOUT_S" redis-benchmark "${target[@]}" -t "$test" -c "$CLIENTS" \
    -P "$p" -n "$(requests_for "$p")" -r "$KEYSPACE" --csv </dev/null \
    2>>"$RUN_DIR/redis-benchmark.log") || rc=$?
  printf '%s\n' "--- $mode $test -P $p: exit status $rc" "$out" >>"$RUN_DIR/redis-benchmark.log"
  # CSV: a header line, then "SET","123.45","avg",... (cluster mode adds a preamble).
  awk -F, -v name="\"$test\"" '$1 == name { gsub(/"/, "", $2); print $2; exit }' <<<"$out"
}

# Requests/sec of one case, retried once when a run gives no result; else FAIL.
bench_case() {
  local rps
  rps=$(bench_once "$@")
  if [[ -z "$rps" ]]; then
    log "$1 $2 -P $3 gave no result (see $RUN_DIR/redis-benchmark.log), retrying once"
    rps=$(bench_once "$@")
  fi
  echo "${rps:-FAIL}"
}

record() {
  local key="$1 $2 $3" value=$4
  RESULTS[$key]="${RESULTS[$key]:-}${RESULTS[$key]:+ }$value"
}

run_round() {
  local round=$1 test p mode modes rps
  # Alternate who goes first so neither side always gets the warmer machine.
  if ((round % 2)); then modes=(direct slotgate); else modes=(slotgate direct); fi
  for test in "${TESTS[@]}"; do
    for p in "${PIPELINES[@]}"; do
      for mode in "${modes[@]}"; do
        rps=$(bench_case "$mode" "$test" "$p")
        log "round $round/$ROUNDS $test -P $p $mode: $rps rps"
        record "$test" "$p" "$mode" "$rps"
      done
    done
  done
}

# Median of the numeric arguments (FAIL values ignored); "FAIL" if none.
median() {
  printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "FAIL"; exit }
      if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]
      else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "n/a"
    else printf "%.2f\n", a / b }'
}

print_report() {
  local test p d s key
  echo "## Slotgate vs direct Redis Cluster (redis-benchmark)"
  echo
  echo "Machine: $(nproc) cores ($(uname -m)), redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p');" \
    "cluster of 3 masters + 3 replicas on 127.0.0.1:$BASE_PORT-$((BASE_PORT + 5));" \
    "slotgate --threads $THREADS on :$PROXY_PORT; redis-benchmark -c $CLIENTS -r $KEYSPACE," \
    "-n $(requests_for 1) at -P 1 and $(requests_for 16) at -P 16; $ROUNDS round(s);" \
    "direct = redis-benchmark --cluster."
  echo
  echo "| test | pipeline | direct median rps | slotgate median rps | ratio slotgate/direct |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for test in "${TESTS[@]}"; do
    for p in "${PIPELINES[@]}"; do
      # shellcheck disable=SC2086  # per-round values are space-separated
      d=$(median ${RESULTS["$test $p direct"]})
      # shellcheck disable=SC2086
      s=$(median ${RESULTS["$test $p slotgate"]})
      echo "| $test | $p | $d | $s | $(ratio "$s" "$d") |"
    done
  done
  echo
  echo "Raw requests/sec, rounds 1..$ROUNDS:"
  echo
  echo "| test | pipeline | direct | slotgate |"
  echo "| --- | ---: | --- | --- |"
  for test in "${TESTS[@]}"; do
    for p in "${PIPELINES[@]}"; do
      key="$test $p"
      echo "| $test | $p | ${RESULTS["$key direct"]// /, } | ${RESULTS["$key slotgate"]// /, } |"
    done
  done
}

main() {
  parse_args "$@"
  cd "$ROOT"
  # shellcheck source=ensure-deps.sh
  source "$ROOT/deploy/ensure-deps.sh"
  slotgate_require_swift
  check_proxy_port_free
  build_release
  slotgate_run_begin bench stop_proxy
  slotgate_run_start_cluster "$BASE_PORT"
  start_proxy
  wait_for_proxy
  log "slotgate ready (pid $PROXY_PID); running $ROUNDS round(s); files in $RUN_DIR"
  local round
  for ((round = 1; round <= ROUNDS; round++)); do
    run_round "$round"
  done
  print_report
}

main "$@"; exit
