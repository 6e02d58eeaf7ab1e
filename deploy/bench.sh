#!/usr/bin/env bash
# bench.sh — throughput, CPU cost, latency and memory of Slotgate, against talking to the
# Redis Cluster directly and, optionally, against another proxy that is already running
# (a "peer", e.g. predixy), all in one run, on one cluster, on one machine, interleaved.
#
# Usage:
#   bash deploy/bench.sh [--rounds R] [--cases LIST] [--requests N] [--threads LIST]
#                        [--peer NAME:PORT [--peer-pid PID]] [--idle-clients N]
#                        [--settle all|last|off] [--tx-seconds S] [--base-port N]
#                        [--proxy-port N] [--cluster-running] [--baseline PATH]
#
#   --rounds R         rounds (default 3). Each round runs every case against every target,
#                      one after the other; the order of the targets alternates between
#                      rounds (direct first in odd rounds, last in even ones). The tables
#                      give the median over the rounds, then the raw per-round values.
#   --cases LIST       comma list of the case names below to run (default: all), e.g.
#                      --cases get32p1,mset-cross-p16 to rerun one or two quickly
#   --requests N       -n of every redis-benchmark run, overriding the per-case defaults
#                      (multi-exec runs for --tx-seconds instead)
#   --threads LIST     slotgate --threads (default 1: the usual peer is a one-thread proxy).
#                      A comma list, e.g. 1,2, runs one slotgate per value, on --proxy-port,
#                      --proxy-port+1, ..., each reported in its own columns (slotgate-t1, ...)
#   --peer NAME:PORT   also measure a proxy already listening on 127.0.0.1:PORT in front of
#                      this cluster, reported as NAME (e.g. --peer predixy:7790). bench.sh
#                      never builds, starts or stops it; it checks that a key set through it
#                      can be read from the cluster. Without --peer its columns are absent.
#   --peer-pid PID     the peer's PID, for its CPU time and RSS (/proc/PID). Default: the
#                      process listening on PORT, found with `ss -Htlnp` (and logged)
#   --idle-clients N   idle-connection memory test with N clients (default 10000; 0 skips it)
#   --settle MODE      when to take the RSS 10 s after each case: in the last round only
#                      (default), in all rounds, or off
#   --tx-seconds S     length of each multi-exec run in seconds (default 5)
#   --base-port N      cluster nodes on N..N+5, bus ports +10000 (default 7100)
#   --proxy-port N     port of the (first) slotgate (default 7877)
#   --baseline PATH    also start the slotgate binary at PATH (e.g. one built before a change)
#                      beside the first, as target "slotgate-before" (same --threads as the
#                      first, the next free proxy port), so a change is measured before and
#                      after in one run; the tables gain slotgate/slotgate-before columns
#   --pin              give the proxies (every slotgate and the peer) the last CPU to
#                      themselves, and the cluster's nodes, redis-benchmark and the Python
#                      clients the others (taskset). On a small machine shared with the load,
#                      the proxies' CPU time otherwise follows where the scheduler puts them as
#                      much as the code: a same-binary (A/A) run then moves by 5-10%
#   --cluster-running  use the cluster already running on --base-port (e.g. started with
#                      deploy/local-cluster.sh start --base-port N --dir DIR) instead of
#                      starting a fresh one, and leave it running. A peer has to be started
#                      after its cluster, so peer runs need this. Its data is FLUSHALLed!
#   -h, --help         print this text
#
# With a peer (here predixy, whose config has Bind 127.0.0.1:7391 and the Servers
# 127.0.0.1:7300-7302):
#   deploy/local-cluster.sh start --base-port 7300 --dir /tmp/bench-cluster
#   predixy predixy.conf &                      # after the cluster is up
#   bash deploy/bench.sh --cluster-running --base-port 7300 --peer predixy:7391
#   kill <predixy's PID>; deploy/local-cluster.sh stop --base-port 7300 --dir /tmp/bench-cluster
#
# Cases (redis-benchmark -c 50 -r 100000 --csv; default -n at -P 1 / -P 16):
#   set32p1  set32p16       SET, 32 B values (-t set -d 32)              100000 / 1000000
#   get32p1  get32p16       GET of 32 B values (-t get)                  100000 / 1000000
#   incrp1   incrp16        INCR (-t incr), no value size                100000 / 1000000
#   lpush32p1 lpush32p16    LPUSH list:__rand_int__ VALUE, 32 B          100000 / 1000000
#   set4kp1  set4kp16       SET, 4 KB values (-d 4096)                    50000 /  200000
#   get4kp1  get4kp16       GET of 4 KB values                            50000 /  200000
#   lpush4kp1 lpush4kp16    LPUSH, 4 KB values                            50000 /  200000
#   mset-slot-p1 mset-slot-p16    MSET {t}:k:__rand_int__ v ... (10 keys, one slot), 32 B
#                                                                         30000 /  100000
#   mset-cross-p1 mset-cross-p16  MSET k1:__rand_int__ v ... k10:__rand_int__ v (10 keys,
#                                 each its own random number, so across slots), 32 B
#                                                                         30000 /  100000
#   mget-cross-p1 mget-cross-p16  MGET k1:__rand_int__ ... k10:__rand_int__   30000 / 100000
#   multi-exec              50 connections, each looping MULTI / INCR counter:{x} / EXEC
#                           for --tx-seconds (see "Transactions" below)
#
# Targets: "direct" is redis-benchmark --cluster straight at the nodes (its keys carry
# redis-benchmark's per-node hash tag: key:{06S}:N), except for the one-slot cases
# (mset-slot-*, multi-exec), whose direct baseline is the same load sent to the one master
# that owns the slot, without --cluster; mset-cross-* and mget-cross-* are cross-slot, which
# redis-benchmark --cluster cannot send, so their direct column is n/a. "slotgate" is the
# proxy this script starts (admin-port 0, maxclients raised for the idle test, --threads as
# given); the peer is the proxy given with --peer. Proxies get the same commands without tags.
#
# Per case and target: requests/s (redis-benchmark's rps; an MSET or MGET of 10 keys is one
# request, a committed transaction is one request); requests per proxy CPU-second (the
# requests of the run divided by the utime+stime the proxy process, all threads, spent during
# it, from /proc/PID/stat; n/a for direct); p99 latency in ms (the p99_latency_ms column of
# the CSV); the proxy's RSS (VmRSS of /proc/PID/status) right before and right after the run,
# and 10 s after it (--settle; sampled in the background while the other targets run, and no
# run starts against a proxy before its sample is taken). The RSS table checks that RSS 10 s
# after every case is at most 2x the proxy's idle RSS (slotgate: right after its start; the
# peer, which bench.sh cannot restart: right before round 1).
#
# Keys: the cluster is flushed (FLUSHALL on every master) at the start. Before a GET case
# every key it can read (key:N for the proxies, key:{TAG}:N for direct, N < 100000) is set to
# a value of the case's size, by a raw-socket client straight to the masters; before MGET
# the 10 x 100000 keys k1:N..k10:N get 32 B values. After each LPUSH run the cluster is
# flushed again (the lists are garbage). Before each run bench.sh waits (bounded) until every
# replica has caught up with its master, so no run pays for the previous one's replication.
#
# Transactions (multi-exec): redis-benchmark sends one command per request and cannot send a
# MULTI/INCR/EXEC sequence, so a small Python client (written into the run dir) opens 50
# connections and on each loops: write MULTI, INCR counter:{x}, EXEC in one write, read the
# three replies (+OK, +QUEUED, *1 :N), repeat, for --tx-seconds; it counts committed
# transactions per second, their p99 round trip, and failures (any other reply), and checks
# that counter:{x} on its master grew by exactly the committed count. One process, raw RESP,
# selectors, no redis-py, so the client costs little; the same client drives every target,
# direct being the master that owns counter:{x}.
#
# Idle clients (--idle-clients N): for each slotgate, a fresh one is started, its RSS taken,
# then N connections are opened and each sends PING and reads +PONG, RSS is taken with all N
# held open, then they are closed and RSS is taken once the proxy has closed its ends (+1 s);
# that slotgate is then stopped and started afresh for the cases. The peer, which bench.sh
# cannot restart, is measured the same way after the last round, so that its idle RSS (the
# base of its 2x check) is taken before it ever held N connections. KB per idle client =
# (RSS with clients - RSS before) / N. The open-files limit is raised (soft to hard) first;
# bench.sh fails when it is too low.
#
# Env: SLOTGATE_BIN = an already built slotgate binary (skips the build); otherwise
# `swift build -c release --product slotgate` builds one. BENCH_RUN_TIMEOUT caps each
# redis-benchmark run (default 120 s).
#
# Output: progress on stderr; on stdout the machine line (cores, arch, kernel, load, redis
# version, date), then markdown tables (medians; RSS; idle clients; raw per-round values)
# and notes. Files go to a new ${TMPDIR:-/tmp}/slotgate-bench.XXXXXX dir (slotgate logs,
# redis-benchmark.log, the Python client), removed after a run with no failed measurement,
# else kept. On exit a trap stops what this script started, by PID only: its slotgates, its
# background RSS samplers and, unless --cluster-running, its cluster. Never reads stdin.
# Refuses to start when a port it would listen on is busy. Every wait is bounded.
#
# Timing: on 2 cores about 5-6 minutes per round with a peer (3.5 without), the last round
# longer by the 10 s RSS samples; the default 3 rounds took 17 minutes with a peer, plus the
# build. Each fill (with the wait for the replicas) takes about 5-10 s, 10-25 s for 4 KB.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/run-dir.sh
source "$ROOT/deploy/lib/run-dir.sh"

# --- options and constants -------------------------------------------------------------------

ROUNDS=3
CASES_ARG=""
REQUESTS=""
THREADS_ARG=1
PEER_ARG=""
PEER_PID_ARG=""
IDLE_CLIENTS=10000
SETTLE=last
TX_SECONDS=5
BASE_PORT=7100
PROXY_PORT=7877
CLUSTER_RUNNING=0

CLIENTS=50
KEYSPACE=100000
SMALL_SIZE=32
LARGE_SIZE=4096
MULTI_KEYS=10
SLOT_TAG=t              # the hash tag of mset-slot-*
TX_KEY='counter:{x}'    # the key of multi-exec
RUN_TIMEOUT_S=${BENCH_RUN_TIMEOUT:-120}
READY_TIMEOUT_S=30
STOP_TIMEOUT_S=5
SYNC_TIMEOUT_S=60
FILL_TIMEOUT_S=600
SETTLE_S=10

ALL_CASES=(
  set32p1 set32p16 get32p1 get32p16 incrp1 incrp16 lpush32p1 lpush32p16
  set4kp1 set4kp16 get4kp1 get4kp16 lpush4kp1 lpush4kp16
  mset-slot-p1 mset-slot-p16 mset-cross-p1 mset-cross-p16 mget-cross-p1 mget-cross-p16
  multi-exec
)

# --- state -----------------------------------------------------------------------------------

RUN_DIR=""          # set by slotgate_run_begin
MACHINE_LINE=""
PROXY_BIN=""
PY=""               # the Python client, in RUN_DIR
CLK_TCK=$(getconf CLK_TCK)
CASES=()
THREADS=()
SG_LABELS=()        # one per --threads value
declare -A SG_THREADS=() SG_PORT=() SG_PID=() SG_BIN=()
BASELINE_BIN=""      # --baseline
BASELINE_LABEL=slotgate-before
PEER_LABEL=""
PEER_PORT=""
TARGETS=()          # direct, the slotgates, the peer
PROXIES=()          # the targets with a PID
declare -A TARGET_PORT=() TARGET_PID=()
MASTER_PORTS=()
PIN=0              # --pin: proxies on the last CPU (PROXY_CPU), everything else on the others
PROXY_CPU=$(($(nproc) - 1))
LOAD_CPUS="0-$((PROXY_CPU > 0 ? PROXY_CPU - 1 : 0))"
PROXY_PREFIX=()     # taskset in front of each slotgate (--pin)
LOAD_PREFIX=()      # taskset in front of redis-benchmark and the Python clients (--pin)
DIRECT_TAGS=()      # redis-benchmark --cluster's hash tag of each master
SLOT_OWNER=""       # port of the master owning {t}
TX_OWNER=""         # port of the master owning counter:{x}
KEYS_FILLED=""      # value size of the key:N / key:{TAG}:N fill in place; "" for none
MULTI_FILLED=0      # 1 when k1:N..k10:N are filled
SYNC_FULL_START=0
FAILURES=0
NOTES=()
declare -A NOTE_KEYS=()
RUN_ROUND=0         # the round being run, for notes
VALUE_SMALL=""
VALUE_LARGE=""
declare -A IDLE_RSS=()        # proxy -> KB, the base of the 2x check
declare -A IDLE_TEST=()       # proxy -> "rss0 rss1 rss2 ok failed first_error"
declare -A SAMPLER_PID=() SAMPLER_FILE=() SAMPLER_KEY=()
# "case|target" -> space-separated values, one per round (RSS10: per sampled round)
declare -A RES_RPS=() RES_CPU=() RES_P99=() RES_RSS0=() RES_RSS1=() RES_RSS10=()

log() { echo "bench: $(date +%T) $*" >&2; }
die() { log "error: $*"; exit 1; }

usage_text() { awk 'NR > 1 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

need_uint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive number, got '$2'"; }

parse_args() {
  while (($#)); do
    case "$1" in
      -h|--help) usage_text; exit 0 ;;
      --cluster-running) CLUSTER_RUNNING=1; shift; continue ;;
      --pin) PIN=1; shift; continue ;;
    esac
    (($# >= 2)) || die "$1 needs a value (see --help)"
    case "$1" in
      --rounds) need_uint "$1" "$2"; ROUNDS=$2 ;;
      --cases) CASES_ARG=$2 ;;
      --requests) need_uint "$1" "$2"; REQUESTS=$2 ;;
      --threads) THREADS_ARG=$2 ;;
      --peer) PEER_ARG=$2 ;;
      --peer-pid) need_uint "$1" "$2"; PEER_PID_ARG=$2 ;;
      --idle-clients) [[ "$2" =~ ^[0-9]+$ ]] || die "--idle-clients needs a number, got '$2'"
        IDLE_CLIENTS=$((10#$2)) ;;
      --settle) [[ "$2" =~ ^(all|last|off)$ ]] || die "--settle takes all, last or off, got '$2'"
        SETTLE=$2 ;;
      --tx-seconds) need_uint "$1" "$2"; TX_SECONDS=$2 ;;
      --base-port) need_uint "$1" "$2"; BASE_PORT=$2 ;;
      --proxy-port) need_uint "$1" "$2"; PROXY_PORT=$2 ;;
      --baseline) BASELINE_BIN=$2 ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
    shift 2
  done
  ((BASE_PORT >= 1024 && BASE_PORT + 5 + 10000 <= 65535)) ||
    die "--base-port must be in 1024..$((65535 - 10000 - 5))"
  parse_cases
  parse_threads
  parse_baseline
  parse_peer
  [[ -n "$PEER_ARG" || -z "$PEER_PID_ARG" ]] || die "--peer-pid needs --peer"
}

parse_cases() {
  local name known
  if [[ -z "$CASES_ARG" ]]; then CASES=("${ALL_CASES[@]}"); return; fi
  IFS=, read -r -a CASES <<<"$CASES_ARG"
  ((${#CASES[@]})) || die "--cases is empty"
  for name in "${CASES[@]}"; do
    for known in "${ALL_CASES[@]}"; do [[ "$name" == "$known" ]] && continue 2; done
    die "unknown case '$name'; the cases are: ${ALL_CASES[*]}"
  done
}

parse_threads() {
  local t i label
  local -A seen=()
  IFS=, read -r -a THREADS <<<"$THREADS_ARG"
  ((${#THREADS[@]})) || die "--threads is empty"
  for ((i = 0; i < ${#THREADS[@]}; i++)); do
    t=${THREADS[i]}
    need_uint --threads "$t"
    [[ -z "${seen[$t]:-}" ]] || die "--threads lists $t twice"
    seen[$t]=1
    label=slotgate
    ((${#THREADS[@]} == 1)) || label=slotgate-t$t
    SG_LABELS+=("$label")
    SG_THREADS[$label]=$t
    SG_PORT[$label]=$((PROXY_PORT + i))
    ((SG_PORT[$label] <= 65535)) || die "--proxy-port too high"
    if ((SG_PORT[$label] >= BASE_PORT && SG_PORT[$label] <= BASE_PORT + 5)); then
      die "slotgate port ${SG_PORT[$label]} collides with the node ports"
    fi
  done
}

# --baseline: a second slotgate, from another binary, beside the first --threads value's.
parse_baseline() {
  [[ -n "$BASELINE_BIN" ]] || return 0
  [[ -x "$BASELINE_BIN" ]] || die "--baseline $BASELINE_BIN is not an executable file"
  local first=${SG_LABELS[0]}
  SG_LABELS+=("$BASELINE_LABEL")
  SG_THREADS[$BASELINE_LABEL]=${SG_THREADS[$first]}
  SG_PORT[$BASELINE_LABEL]=$((PROXY_PORT + ${#SG_LABELS[@]} - 1))
  SG_BIN[$BASELINE_LABEL]=$BASELINE_BIN
  ((SG_PORT[$BASELINE_LABEL] <= 65535)) || die "--proxy-port too high"
  if ((SG_PORT[$BASELINE_LABEL] >= BASE_PORT && SG_PORT[$BASELINE_LABEL] <= BASE_PORT + 5)); then
    die "slotgate port ${SG_PORT[$BASELINE_LABEL]} collides with the node ports"
  fi
}

parse_peer() {
  [[ -n "$PEER_ARG" ]] || return 0
  [[ "$PEER_ARG" =~ ^([A-Za-z0-9_.-]+):([1-9][0-9]*)$ ]] ||
    die "--peer takes NAME:PORT (e.g. predixy:7790), got '$PEER_ARG'"
  PEER_LABEL=${BASH_REMATCH[1]}
  PEER_PORT=${BASH_REMATCH[2]}
  [[ "$PEER_LABEL" != direct && "$PEER_LABEL" != slotgate* ]] ||
    die "--peer NAME must not be direct or start with slotgate"
}

# --- small helpers ---------------------------------------------------------------------------

# True if a non-TIME-WAIT TCP socket uses PORT locally (listener or connection).
port_in_use() {
  ss -Htan "sport = :$1" 2>/dev/null | awk '$1 != "TIME-WAIT" { found = 1 } END { exit !found }'
}

# redis-cli against one local port; bounded so a hung server cannot block us.
rcli() {
  local port=$1; shift
  timeout 10 redis-cli -h 127.0.0.1 -p "$port" "$@" </dev/null 2>/dev/null | tr -d '\r'
}

# VmRSS of PID in KB; empty when the process is gone.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# utime + stime of PID (all its threads), in clock ticks; 0 when the process is gone.
cpu_ticks() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  read -r -a fields <<<"${stat##*) }"   # fields[0] is the state, field 3 of stat(5)
  echo $((fields[11] + fields[12]))
}

is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; }

# A string of N 'x' characters.
x_string() { local s; printf -v s '%*s' "$1" ''; echo "${s// /x}"; }

# --- cases -----------------------------------------------------------------------------------

# case_info NAME: sets CASE_KIND (set get incr lpush mset-slot mset-cross mget-cross
# multi-exec), CASE_SIZE (value bytes, "" for none), CASE_P (pipeline), CASE_N (requests, or
# seconds for multi-exec) and CASE_WHAT (a label).
case_info() {
  local name=$1
  CASE_SIZE="" CASE_P=1
  case "$name" in
    multi-exec)
      CASE_KIND=multi-exec CASE_N=$TX_SECONDS
      CASE_WHAT="MULTI / INCR / EXEC, ${TX_SECONDS} s"
      return ;;
    incrp*) CASE_KIND=incr CASE_P=${name#incrp} ;;
    set*|get*|lpush*)
      [[ "$name" =~ ^([a-z]+)(32|4k)p([0-9]+)$ ]] || die "bad case name $name"
      CASE_KIND=${BASH_REMATCH[1]} CASE_P=${BASH_REMATCH[3]}
      if [[ ${BASH_REMATCH[2]} == 32 ]]; then CASE_SIZE=$SMALL_SIZE; else CASE_SIZE=$LARGE_SIZE; fi ;;
    mset-slot-p*|mset-cross-p*|mget-cross-p*)
      CASE_KIND=${name%-p*} CASE_P=${name##*-p} CASE_SIZE=$SMALL_SIZE ;;
    *) die "bad case name $name" ;;
  esac
  if [[ -n "$REQUESTS" ]]; then CASE_N=$REQUESTS
  elif [[ $CASE_KIND == mset-* || $CASE_KIND == mget-* ]]; then
    if ((CASE_P == 1)); then CASE_N=30000; else CASE_N=100000; fi
  elif [[ "$CASE_SIZE" == "$LARGE_SIZE" ]]; then
    if ((CASE_P == 1)); then CASE_N=50000; else CASE_N=200000; fi
  else
    if ((CASE_P == 1)); then CASE_N=100000; else CASE_N=1000000; fi
  fi
  local size_label=""
  if [[ "$CASE_SIZE" == "$LARGE_SIZE" ]]; then size_label=" 4 KB"; elif [[ -n "$CASE_SIZE" ]]; then size_label=" ${CASE_SIZE} B"; fi
  case "$CASE_KIND" in
    set|get|lpush) CASE_WHAT="${CASE_KIND^^}${size_label}" ;;
    incr) CASE_WHAT="INCR" ;;
    mset-slot) CASE_WHAT="MSET 10 keys, one slot" ;;
    mset-cross) CASE_WHAT="MSET 10 keys, across slots" ;;
    mget-cross) CASE_WHAT="MGET 10 keys, across slots" ;;
  esac
  CASE_WHAT+=", -P $CASE_P"
}

# The command words of a custom-command case for TARGET (direct or a proxy), in CMD.
custom_command() {
  local kind=$1 target=$2 value=$3 i
  CMD=()
  case "$kind" in
    lpush)
      if [[ $target == direct ]]; then CMD=(LPUSH 'list:{tag}:__rand_int__' "$value")
      else CMD=(LPUSH 'list:__rand_int__' "$value"); fi ;;
    mset-slot)
      CMD=(MSET)
      for ((i = 0; i < MULTI_KEYS; i++)); do CMD+=("{$SLOT_TAG}:k:__rand_int__" "$value"); done ;;
    mset-cross)
      CMD=(MSET)
      for ((i = 1; i <= MULTI_KEYS; i++)); do CMD+=("k$i:__rand_int__" "$value"); done ;;
    mget-cross)
      CMD=(MGET)
      for ((i = 1; i <= MULTI_KEYS; i++)); do CMD+=("k$i:__rand_int__"); done ;;
  esac
}

# bench_args CASE TARGET: redis-benchmark's arguments in ARGS; returns 1 when the case has
# no such run for TARGET (direct for the cross-slot cases).
bench_args() {
  local name=$1 target=$2 value
  case_info "$name"
  value=$VALUE_SMALL
  [[ "$CASE_SIZE" != "$LARGE_SIZE" ]] || value=$VALUE_LARGE
  ARGS=(-h 127.0.0.1)
  if [[ $target == direct ]]; then
    case "$CASE_KIND" in
      mset-cross|mget-cross) return 1 ;;
      mset-slot) ARGS+=(-p "$SLOT_OWNER") ;;
      *) ARGS+=(--cluster -p "$BASE_PORT") ;;
    esac
  else
    ARGS+=(-p "${TARGET_PORT[$target]}")
  fi
  ARGS+=(-c "$CLIENTS" -r "$KEYSPACE" -n "$CASE_N" -P "$CASE_P" --csv)
  case "$CASE_KIND" in
    set|get) ARGS+=(-t "$CASE_KIND" -d "$CASE_SIZE") ;;
    incr) ARGS+=(-t incr) ;;
    *) custom_command "$CASE_KIND" "$target" "$value"; ARGS+=("${CMD[@]}") ;;
  esac
}

# --- the cluster -----------------------------------------------------------------------------

check_cluster_running() {
  local info
  info=$(rcli "$BASE_PORT" cluster info) || true
  grep -qx 'cluster_state:ok' <<<"$info" ||
    die "--cluster-running: no healthy cluster answers on 127.0.0.1:$BASE_PORT (cluster_state not ok)"
}

# Masters' ports, from CLUSTER NODES of the first node.
find_masters() {
  mapfile -t MASTER_PORTS < <(rcli "$BASE_PORT" cluster nodes |
    awk '$3 ~ /master/ && $3 !~ /fail/ && NF >= 9 { a = $2; sub(/@.*/, "", a); sub(/.*:/, "", a); print a }' | sort -n)
  ((${#MASTER_PORTS[@]})) || die "no masters found on 127.0.0.1:$BASE_PORT"
}

# owner_of KEY: the port of the master serving KEY's slot.
owner_of() {
  local slot
  slot=$(rcli "$BASE_PORT" cluster keyslot "$1")
  [[ "$slot" =~ ^[0-9]+$ ]] || die "CLUSTER KEYSLOT $1 failed"
  rcli "$BASE_PORT" cluster nodes | awk -v slot="$slot" '
    $3 ~ /master/ {
      for (i = 9; i <= NF; i++) {
        if ($i ~ /^\[/) continue
        n = split($i, r, "-"); lo = r[1]; hi = (n == 2) ? r[2] : r[1]
        if (slot >= lo && slot <= hi) { a = $2; sub(/@.*/, "", a); sub(/.*:/, "", a); print a; exit }
      }
    }'
}

flush_cluster() {
  local m
  for m in "${MASTER_PORTS[@]}"; do
    [[ "$(rcli "$m" flushall)" == OK ]] || die "FLUSHALL on 127.0.0.1:$m failed"
  done
  KEYS_FILLED="" MULTI_FILLED=0
  wait_replicas_synced
}

# True when every replica of every master has the master's replication offset.
replicas_synced() {
  local m info off
  for m in "${MASTER_PORTS[@]}"; do
    info=$(rcli "$m" info replication)
    off=$(sed -n 's/^master_repl_offset://p' <<<"$info")
    [[ -n "$off" ]] || return 1
    awk -F'[=,]' -v off="$off" '
      /^slave[0-9]+:/ { for (i = 1; i < NF; i++) if ($i == "offset" && $(i + 1) != off) bad = 1 }
      END { exit bad }' <<<"$info" || return 1
  done
}

wait_replicas_synced() {
  local deadline=$((SECONDS + SYNC_TIMEOUT_S))
  until replicas_synced; do
    if ((SECONDS >= deadline)); then
      log "warning: replicas still behind their masters after ${SYNC_TIMEOUT_S}s; going on"
      return 0
    fi
    sleep 0.1
  done
}

sync_full_total() {
  local m n total=0
  for m in "${MASTER_PORTS[@]}"; do
    n=$(rcli "$m" info stats | sed -n 's/^sync_full://p')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

# The hash tag redis-benchmark --cluster puts in its keys on each master (key:{06S}:N); it
# is fixed per node, so the keys direct GETs read can be filled in advance. A short run does
# not always reach every master (seen once: one of three got no key), so up to three tries.
find_direct_tags() {
  local m attempt
  for attempt in 1 2 3; do
    timeout 30 redis-benchmark --cluster -h 127.0.0.1 -p "$BASE_PORT" -t set -d 1 -r 1 \
      -n 500 -c "$CLIENTS" --csv </dev/null >/dev/null 2>>"$RUN_DIR/redis-benchmark.log" ||
      die "redis-benchmark --cluster against 127.0.0.1:$BASE_PORT failed (see $RUN_DIR/redis-benchmark.log)"
    mapfile -t DIRECT_TAGS < <(for m in "${MASTER_PORTS[@]}"; do
      rcli "$m" --scan --pattern 'key:{*' | sed -n 's/^key:\({[^:]*\)}:[0-9]*$/\1}/p'
    done | sort -u)
    ((${#DIRECT_TAGS[@]} == ${#MASTER_PORTS[@]})) && return 0
    log "try $attempt: redis-benchmark's hash tags found on ${#DIRECT_TAGS[@]} of ${#MASTER_PORTS[@]} masters"
  done
  die "expected one redis-benchmark hash tag per master, found: ${DIRECT_TAGS[*]:-none}"
}

# fill_keys SIZE: flush, then set every key a GET case can read to SIZE bytes.
fill_keys() {
  local size=$1 patterns=('key:%012d') tag
  for tag in "${DIRECT_TAGS[@]}"; do patterns+=("key:${tag//%/%%}:%012d"); done
  flush_cluster
  log "filling ${#patterns[@]} x $KEYSPACE keys with $size B values"
  timeout "$FILL_TIMEOUT_S" python3 "$PY" fill "$BASE_PORT" "$size" "$KEYSPACE" "${patterns[@]}" \
    </dev/null >/dev/null || die "filling the keys failed"
  KEYS_FILLED=$size
  wait_replicas_synced
}

fill_multi_keys() {
  local patterns=() i
  for ((i = 1; i <= MULTI_KEYS; i++)); do patterns+=("k$i:%012d"); done
  log "filling $MULTI_KEYS x $KEYSPACE keys (k1:N..k$MULTI_KEYS:N) with $SMALL_SIZE B values"
  timeout "$FILL_TIMEOUT_S" python3 "$PY" fill "$BASE_PORT" "$SMALL_SIZE" "$KEYSPACE" "${patterns[@]}" \
    </dev/null >/dev/null || die "filling the MGET keys failed"
  MULTI_FILLED=1
  wait_replicas_synced
}

# Bring the keys into the state CASE needs (see "Keys" in the header).
prepare_case() {
  case_info "$1"
  case "$CASE_KIND" in
    get) [[ "$KEYS_FILLED" == "$CASE_SIZE" ]] || fill_keys "$CASE_SIZE" ;;
    set) [[ "$KEYS_FILLED" == "$CASE_SIZE" ]] || KEYS_FILLED="" ;;   # values of mixed sizes now
    mget-cross) ((MULTI_FILLED)) || fill_multi_keys ;;
  esac
}

# --- processes: slotgate, the peer -----------------------------------------------------------

build_release() {
  if [[ -n "${SLOTGATE_BIN:-}" ]]; then
    [[ -x "$SLOTGATE_BIN" ]] || die "SLOTGATE_BIN=$SLOTGATE_BIN is not an executable file"
    PROXY_BIN=$SLOTGATE_BIN
    log "using SLOTGATE_BIN=$PROXY_BIN"
    return
  fi
  slotgate_require_swift
  log "building slotgate (release)..."
  swift build -c release --product slotgate >&2
  PROXY_BIN="$(swift build -c release --show-bin-path)/slotgate"
  [[ -x "$PROXY_BIN" ]] || die "built binary not found at $PROXY_BIN"
}

check_ports_free() {
  local label
  for label in "${SG_LABELS[@]}"; do
    if port_in_use "${SG_PORT[$label]}"; then
      die "port ${SG_PORT[$label]} is in use (another bench.sh or slotgate?); try --proxy-port"
    fi
  done
}

# Raise the open-files limit (soft to hard), which slotgate inherits; fail when the idle
# test cannot fit in it.
raise_fd_limit() {
  local hard need=$((IDLE_CLIENTS + 256)) soft
  hard=$(ulimit -Hn)
  ulimit -n "$hard" 2>/dev/null || log "warning: could not raise ulimit -n to $hard"
  soft=$(ulimit -n)
  if ((IDLE_CLIENTS > 0)) && [[ "$soft" != unlimited ]] && ((soft < need)); then
    die "--idle-clients $IDLE_CLIENTS needs about $need open files, but ulimit -n is at most $soft" \
      "(hard limit $hard); raise the hard limit or pass a smaller --idle-clients"
  fi
}

proxy_says() {
  local port=$1 want=$2
  shift 2
  [[ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$port" "$@" </dev/null 2>/dev/null | tr -d '\r')" == "$want" ]]
}

slotgate_failed() {
  tail -n 20 "$RUN_DIR/$1.log" >&2 || true
  die "$2"
}

# pin_processes: with --pin, the last CPU for the proxies (PROXY_CPU), the others (LOAD_CPUS)
# for the cluster's nodes and the load; the slotgates and the load are started under taskset.
pin_processes() {
  ((PIN)) || return 0
  local port pid
  ((PROXY_CPU >= 1)) || die "--pin needs at least 2 CPUs, this machine has $(nproc)"
  PROXY_PREFIX=(taskset -c "$PROXY_CPU")
  LOAD_PREFIX=(taskset -c "$LOAD_CPUS")
  for ((port = BASE_PORT; port < BASE_PORT + 6; port++)); do
    pid=$(redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }')
    [[ -n "$pid" ]] || die "could not read the PID of the node on port $port"
    taskset -a -p -c "$LOAD_CPUS" "$pid" >/dev/null || die "could not pin the node on port $port (PID $pid)"
  done
  log "pinned: proxies on CPU $PROXY_CPU; nodes, redis-benchmark and the Python clients on CPUs $LOAD_CPUS"
}

# start_slotgate LABEL: write its config, start it in the background, wait until it serves.
start_slotgate() {
  local label=$1 port=${SG_PORT[$1]} conf="$RUN_DIR/$1.conf" maxclients=10000
  ((IDLE_CLIENTS + 1000 <= maxclients)) || maxclients=$((IDLE_CLIENTS + 1000))
  if port_in_use "$port"; then die "port $port is in use (another bench.sh or slotgate?); try --proxy-port"; fi
  cat >"$conf" <<CONF
port $port
bind 127.0.0.1
cluster 127.0.0.1:$BASE_PORT 127.0.0.1:$((BASE_PORT + 1)) 127.0.0.1:$((BASE_PORT + 2))
threads ${SG_THREADS[$label]}
# No admin port: several slotgates run side by side (the default 7778 would clash).
admin-port 0
# Room for the idle-clients test (the default is 10000).
maxclients $maxclients
CONF
  log "starting $label (--threads ${SG_THREADS[$label]}) on 127.0.0.1:$port (log: $RUN_DIR/$label.log)"
  "${PROXY_PREFIX[@]}" "${SG_BIN[$label]:-$PROXY_BIN}" --config "$conf" </dev/null >>"$RUN_DIR/$label.log" 2>&1 &
  SG_PID[$label]=$!
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until proxy_says "$port" PONG ping && proxy_says "$port" OK set bench:probe 1; do
    kill -0 "${SG_PID[$label]}" 2>/dev/null || slotgate_failed "$label" "$label exited early"
    ((SECONDS < deadline)) || slotgate_failed "$label" "$label not ready within ${READY_TIMEOUT_S}s"
    sleep 0.2
  done
  kill -0 "${SG_PID[$label]}" 2>/dev/null || slotgate_failed "$label" "$label exited early"
}

stop_slotgate() {
  slotgate_stop_process "${SG_PID[$1]:-}" "$STOP_TIMEOUT_S"
  SG_PID[$1]=""
}

# Stop what this script started: the RSS samplers and the slotgates (the EXIT trap).
# shellcheck disable=SC2317  # reached via the trap
stop_all() {
  local t label
  for t in "${!SAMPLER_PID[@]}"; do
    [[ -z "${SAMPLER_PID[$t]}" ]] || kill "${SAMPLER_PID[$t]}" 2>/dev/null || true
  done
  for label in "${SG_LABELS[@]}"; do stop_slotgate "$label"; done
}

# The peer's PID: --peer-pid, else the process listening on its port.
resolve_peer() {
  [[ -n "$PEER_LABEL" ]] || return 0
  local pid=$PEER_PID_ARG listeners
  listeners=$(ss -Htlnp "sport = :$PEER_PORT" 2>/dev/null || true)
  [[ -n "$listeners" ]] || die "nothing listens on port $PEER_PORT (--peer $PEER_ARG); start the peer first"
  if [[ -z "$pid" ]]; then
    pid=$(grep -o 'pid=[0-9]*' <<<"$listeners" | head -n 1 | cut -d= -f2)
    [[ -n "$pid" ]] || die "could not find the PID listening on port $PEER_PORT; pass --peer-pid"
    log "peer $PEER_LABEL: PID $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) listens on :$PEER_PORT" \
      "(found with ss -Htlnp; pass --peer-pid to override)"
  elif ! grep -q "pid=$pid," <<<"$listeners"; then
    log "warning: --peer-pid $pid is not among the processes listening on :$PEER_PORT: $listeners"
  fi
  [[ -r "/proc/$pid/stat" ]] || die "peer PID $pid: no such process"
  TARGET_PID[$PEER_LABEL]=$pid
  TARGET_PORT[$PEER_LABEL]=$PEER_PORT
}

# Make sure the peer fronts this cluster: a key set through it must be readable directly.
check_peer_cluster() {
  [[ -n "$PEER_LABEL" ]] || return 0
  local probe="bench:peer-probe:$$:$RANDOM"
  proxy_says "$PEER_PORT" OK set "$probe" 1 || die "peer $PEER_LABEL on :$PEER_PORT did not answer SET"
  [[ "$(timeout 5 redis-cli -c -h 127.0.0.1 -p "$BASE_PORT" get "$probe" </dev/null 2>/dev/null)" == 1 ]] ||
    die "peer $PEER_LABEL on :$PEER_PORT is not in front of the cluster on :$BASE_PORT"
}

setup_targets() {
  local label
  TARGETS=(direct "${SG_LABELS[@]}")
  PROXIES=("${SG_LABELS[@]}")
  for label in "${SG_LABELS[@]}"; do
    TARGET_PORT[$label]=${SG_PORT[$label]}
    TARGET_PID[$label]=${SG_PID[$label]}
  done
  if [[ -n "$PEER_LABEL" ]]; then TARGETS+=("$PEER_LABEL"); PROXIES+=("$PEER_LABEL"); fi
}

# --- memory ----------------------------------------------------------------------------------

idle_test() {
  local label=$1 port=$2 pid=$3 out
  log "idle clients: $IDLE_CLIENTS connections to $label (:$port)"
  out=$(timeout 300 python3 "$PY" idle "$port" "$pid" "$IDLE_CLIENTS" </dev/null) ||
    die "idle-clients test against $label failed"
  IDLE_TEST[$label]=$out
  log "idle clients $label: $out (rss before, with, after KB; ok; failed; first error)"
}

# Each slotgate freshly started, measured, stopped (before the rounds).
run_slotgate_idle_tests() {
  local label
  ((IDLE_CLIENTS > 0)) || return 0
  for label in "${SG_LABELS[@]}"; do
    start_slotgate "$label"
    sleep 1
    idle_test "$label" "${SG_PORT[$label]}" "${SG_PID[$label]}"
    stop_slotgate "$label"
  done
}

# The peer as it is (after the rounds).
run_peer_idle_test() {
  ((IDLE_CLIENTS > 0)) && [[ -n "$PEER_LABEL" ]] || return 0
  idle_test "$PEER_LABEL" "$PEER_PORT" "${TARGET_PID[$PEER_LABEL]}"
}

settle_words() {
  case "$SETTLE" in
    all) echo "in every round" ;;
    last) echo "in the last round" ;;
    *) echo "never (--settle off)" ;;
  esac
}

settle_this_round() {
  case "$SETTLE" in
    all) return 0 ;;
    last) (($1 == ROUNDS)) ;;
    *) return 1 ;;
  esac
}

# Take the pending +10 s RSS sample of PROXY, waiting for it when it is not due yet.
collect_settle() {
  local t=$1 v
  [[ -n "${SAMPLER_PID[$t]:-}" ]] || return 0
  wait "${SAMPLER_PID[$t]}" 2>/dev/null || true
  v=$(cat "${SAMPLER_FILE[$t]}" 2>/dev/null || true)
  record RES_RSS10 "${SAMPLER_KEY[$t]}" "${v:-FAIL}"
  SAMPLER_PID[$t]=""
}

start_settle_sampler() {
  local t=$1 key=$2 pid=$3 file
  file="$RUN_DIR/settle.${t//[^A-Za-z0-9_.-]/_}"
  rm -f -- "$file"
  (
    # Killed (stop_all), it takes its sleep with it.
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep "$SETTLE_S" &
    sleeper=$!
    wait "$sleeper"
    rss_kb "$pid" >"$file"
  ) </dev/null &
  SAMPLER_PID[$t]=$! SAMPLER_FILE[$t]=$file SAMPLER_KEY[$t]=$key
}

# --- runs ------------------------------------------------------------------------------------

# record ARRAY KEY VALUE: append VALUE to ARRAY[KEY].
record() {
  local -n record_into=$1
  record_into[$2]="${record_into[$2]:-}${record_into[$2]:+ }$3"
}

# bench_once CASE TARGET: one redis-benchmark run. Sets RUN_RPS and RUN_P99 ("" on failure).
bench_once() {
  local name=$1 target=$2 out rc=0
  RUN_RPS="" RUN_P99=""
  echo "--- $(date +%T) $name $target: redis-benchmark ${ARGS[*]}" | cut -c1-300 >>"$RUN_DIR/redis-benchmark.log"
  out=$(timeout "$RUN_TIMEOUT_S" "${LOAD_PREFIX[@]}" redis-benchmark "${ARGS[@]}" </dev/null \
    2>>"$RUN_DIR/redis-benchmark.log") || rc=$?
  printf '%s\n' "exit status $rc" "$out" | cut -c1-300 >>"$RUN_DIR/redis-benchmark.log"
  ((rc == 0)) || return 0
  # CSV: a header line "test","rps",...,"p99_latency_ms",..., then one line per test (cluster
  # mode adds a preamble). A custom command's test name is the command itself, so columns
  # are counted from the end of the line.
  read -r RUN_RPS RUN_P99 < <(awk -F, '
    /^"test",/ { for (i = 1; i <= NF; i++) { h = $i; gsub(/"/, "", h); back[h] = NF - i }; next }
    /^"/ && ("rps" in back) { r = $(NF - back["rps"]); p = ("p99_latency_ms" in back) ? $(NF - back["p99_latency_ms"]) : "n/a" }
    END { gsub(/"/, "", r); gsub(/"/, "", p); if (r != "") print r, p }' <<<"$out") || true
}

# tx_once TARGET PORT: one multi-exec run. Sets RUN_RPS, RUN_P99, RUN_COUNT.
tx_once() {
  local target=$1 port=$2 out tps p99 committed failed delta err
  RUN_RPS="" RUN_P99="" RUN_COUNT=0
  out=$(timeout $((TX_SECONDS + 60)) "${LOAD_PREFIX[@]}" python3 "$PY" tx "$port" "$CLIENTS" "$TX_SECONDS" "$TX_KEY" \
    "$TX_OWNER" </dev/null 2>>"$RUN_DIR/multi-exec.log") || {
    echo "--- $target: the client failed" >>"$RUN_DIR/multi-exec.log"
    return 0
  }
  echo "--- $(date +%T) $target: $out" >>"$RUN_DIR/multi-exec.log"
  read -r tps p99 committed failed delta _ err <<<"$out"
  RUN_P99=$p99 RUN_COUNT=$committed
  if ((failed == 0 && delta == committed)); then
    RUN_RPS=$tps
  elif ((committed == 0)); then
    RUN_RPS=unsupported
    local also=""
    ((delta == 0)) || also="; it still ran the INCRs sent after the refused MULTI (the counter grew by $delta)"
    add_note "multi-exec $target unsupported" \
      "multi-exec on $target: every transaction failed (${err//_/ })$also"
  elif ((failed > 0)); then
    RUN_RPS=ERR
    add_note "multi-exec $target $RUN_ROUND" \
      "multi-exec on $target, round $RUN_ROUND: $failed of $((committed + failed)) transactions failed (${err//_/ })"
  else
    RUN_RPS=MISMATCH
    add_note "multi-exec $target $RUN_ROUND" \
      "multi-exec on $target, round $RUN_ROUND: $committed transactions committed but the counter grew by $delta"
  fi
}

# add_note KEY TEXT...: a note for the report, once per KEY.
add_note() {
  local key=$1
  shift
  [[ -z "${NOTE_KEYS[$key]:-}" ]] || return 0
  NOTE_KEYS[$key]=1
  NOTES+=("$*")
}

# measure CASE TARGET ROUND: one run (retried once when it gives no result), with the
# proxy's CPU time and RSS around it.
measure() {
  local name=$1 target=$2 round=$3 pid="" port key="$1|$2" attempt t0 t1 r0 r1 cpu
  RUN_ROUND=$round
  case_info "$name"
  if [[ $target != direct ]]; then
    pid=${TARGET_PID[$target]}
    port=${TARGET_PORT[$target]}
    collect_settle "$target"
  elif [[ $CASE_KIND == multi-exec ]]; then
    port=$TX_OWNER
  fi
  if [[ $CASE_KIND != multi-exec ]] && ! bench_args "$name" "$target"; then
    record RES_RPS "$key" n/a; record RES_CPU "$key" n/a; record RES_P99 "$key" n/a
    return 0
  fi
  for attempt in 1 2; do
    wait_replicas_synced
    if [[ -n "$pid" ]]; then r0=$(rss_kb "$pid"); t0=$(cpu_ticks "$pid"); fi
    if [[ $CASE_KIND == multi-exec ]]; then
      tx_once "$target" "$port"
    else
      bench_once "$name" "$target"
      RUN_COUNT=$CASE_N
    fi
    if [[ -n "$pid" ]]; then
      t1=$(cpu_ticks "$pid"); r1=$(rss_kb "$pid")
      if [[ -z "$r1" ]]; then
        [[ $target == "$PEER_LABEL" ]] || slotgate_failed "$target" "$target died during $name"
        die "peer $target (PID $pid) died during $name"
      fi
    fi
    [[ -z "$RUN_RPS" && $attempt == 1 ]] || break
    log "$name $target gave no result (see the logs in $RUN_DIR), retrying once"
  done
  if [[ -z "$RUN_RPS" ]]; then RUN_RPS=FAIL RUN_P99=FAIL; fi
  [[ "$RUN_RPS" == unsupported ]] || is_number "$RUN_RPS" || FAILURES=$((FAILURES + 1))
  cpu=n/a
  if [[ -n "$pid" ]]; then
    if ! is_number "$RUN_RPS"; then cpu=$RUN_RPS
    elif ((t1 > t0)); then cpu=$(awk -v n="$RUN_COUNT" -v t=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", n / (t / hz) }')
    else cpu=inf
    fi
    record RES_RSS0 "$key" "$r0"
    record RES_RSS1 "$key" "$r1"
    if settle_this_round "$round"; then start_settle_sampler "$target" "$key" "$pid"; fi
  fi
  record RES_RPS "$key" "$RUN_RPS"
  record RES_CPU "$key" "$cpu"
  record RES_P99 "$key" "$RUN_P99"
  log "round $round/$ROUNDS $name $target: $RUN_RPS rps, $cpu req/CPU-s, p99 $RUN_P99 ms${pid:+, RSS $r0 -> $r1 KB}"
}

run_round() {
  local round=$1 name target targets=("${TARGETS[@]}") i
  # Alternate the order so no target always gets the warmer (or busier) machine.
  if ((round % 2 == 0)); then
    targets=()
    for ((i = ${#TARGETS[@]} - 1; i >= 0; i--)); do targets+=("${TARGETS[i]}"); done
  fi
  log "round $round/$ROUNDS, targets in order: ${targets[*]}"
  for name in "${CASES[@]}"; do
    prepare_case "$name"
    for target in "${targets[@]}"; do
      measure "$name" "$target" "$round"
      # The lists are garbage; 4 KB ones would pile up to gigabytes.
      [[ "$CASE_KIND" != lpush ]] || flush_cluster
    done
  done
}

# --- report ----------------------------------------------------------------------------------

# Median of the numeric arguments; when there is none, the first argument (FAIL, n/a, ...).
median() {
  printf '%s\n' "$@" | awk '
    /^[0-9]+([.][0-9]+)?$/ { v[++n] = $1; next }
    first == "" { first = $1 }
    END {
      if (n == 0) { print (first == "" ? "n/a" : first); exit }
      # insertion sort: a handful of values
      for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
      if (n % 2) print v[(n + 1) / 2]; else print (v[n / 2] + v[n / 2 + 1]) / 2
    }'
}

# med ARRAY KEY [DECIMALS]: the formatted median of ARRAY[KEY].
med() {
  local -n med_of=$1
  local m
  # shellcheck disable=SC2086  # per-round values are space-separated
  m=$(median ${med_of[$2]:-})
  if is_number "$m"; then printf "%.${3:-0}f\n" "$m"; else echo "$m"; fi
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "n/a"
    else printf "%.2f\n", a / b }'
}

mb() { if is_number "${1:-}"; then awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; else echo "${1:-n/a}"; fi; }

machine_line() {
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "Machine: $(nproc) cores ($(uname -m)), Linux $(uname -r), load average at start $load;" \
    "redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'); $(date -u '+%Y-%m-%d %H:%M UTC')."
  if ((PIN)); then
    echo "Pinned (--pin): the proxies on CPU $PROXY_CPU; the nodes, redis-benchmark and the Python clients on CPUs $LOAD_CPUS."
  fi
}

print_setup() {
  local label sgs="" cluster="started by bench.sh"
  ((CLUSTER_RUNNING == 0)) || cluster="already running (--cluster-running)"
  for label in "${SG_LABELS[@]}"; do
    sgs+="${sgs:+; }$label = --threads ${SG_THREADS[$label]} on :${SG_PORT[$label]} (PID ${SG_PID[$label]})"
  done
  echo "Cluster: ${#MASTER_PORTS[@]} masters (ports ${MASTER_PORTS[*]}) with their replicas," \
    "base port $BASE_PORT, $cluster."
  echo "Slotgate: $PROXY_BIN (version $("$PROXY_BIN" --version 2>/dev/null | head -n 1)); $sgs."
  if [[ -n "$BASELINE_BIN" ]]; then
    echo "Baseline: $BASELINE_LABEL = $BASELINE_BIN (version $("$BASELINE_BIN" --version 2>/dev/null | head -n 1))."
  fi
  if [[ -n "$PEER_LABEL" ]]; then
    echo "Peer: $PEER_LABEL on :$PEER_PORT, PID ${TARGET_PID[$PEER_LABEL]}" \
      "($(tr '\0' ' ' <"/proc/${TARGET_PID[$PEER_LABEL]}/cmdline" 2>/dev/null | cut -c1-120)), already running."
  fi
  echo "Load: redis-benchmark -c $CLIENTS -r $KEYSPACE --csv, -n per case below; multi-exec:" \
    "$CLIENTS connections of a Python client, MULTI/INCR/EXEC for ${TX_SECONDS} s." \
    "$ROUNDS round(s), target order alternating; medians over rounds."
  echo "Direct = redis-benchmark --cluster; for mset-slot and multi-exec the master owning the slot" \
    "(:$SLOT_OWNER for {$SLOT_TAG}, :$TX_OWNER for $TX_KEY); n/a = cannot be sent without a proxy (cross-slot)."
}

print_main_table() {
  local name label head sep row d dp s sc sp n
  head="| case | what | -n | direct rps | direct p99 ms |"
  sep="| --- | --- | ---: | ---: | ---: |"
  for label in "${PROXIES[@]}"; do
    head+=" $label rps | $label req/CPU-s | $label p99 ms |"
    sep+=" ---: | ---: | ---: |"
  done
  if [[ -n "$BASELINE_BIN" ]]; then
    head+=" ${SG_LABELS[0]}/$BASELINE_LABEL rps | ${SG_LABELS[0]}/$BASELINE_LABEL req/CPU-s |"; sep+=" ---: | ---: |"
  fi
  for label in "${SG_LABELS[@]}"; do
    head+=" $label/direct rps |"; sep+=" ---: |"
    if [[ -n "$PEER_LABEL" ]]; then
      head+=" $label/$PEER_LABEL rps | $label/$PEER_LABEL req/CPU-s |"; sep+=" ---: | ---: |"
    fi
  done
  echo "$head"
  echo "$sep"
  for name in "${CASES[@]}"; do
    case_info "$name"
    n=$CASE_N
    [[ $CASE_KIND != multi-exec ]] || n="${TX_SECONDS} s"
    d=$(med RES_RPS "$name|direct")
    dp=$(med RES_P99 "$name|direct" 3)
    row="| $name | $CASE_WHAT | $n | $d | $dp |"
    for label in "${PROXIES[@]}"; do
      row+=" $(med RES_RPS "$name|$label") | $(med RES_CPU "$name|$label") | $(med RES_P99 "$name|$label" 3) |"
    done
    if [[ -n "$BASELINE_BIN" ]]; then
      label=${SG_LABELS[0]}
      row+=" $(ratio "$(med RES_RPS "$name|$label")" "$(med RES_RPS "$name|$BASELINE_LABEL")") |"
      row+=" $(ratio "$(med RES_CPU "$name|$label")" "$(med RES_CPU "$name|$BASELINE_LABEL")") |"
    fi
    for label in "${SG_LABELS[@]}"; do
      s=$(med RES_RPS "$name|$label")
      row+=" $(ratio "$s" "$d") |"
      if [[ -n "$PEER_LABEL" ]]; then
        sc=$(med RES_CPU "$name|$label")
        sp=$(med RES_RPS "$name|$PEER_LABEL")
        row+=" $(ratio "$s" "$sp") | $(ratio "$sc" "$(med RES_CPU "$name|$PEER_LABEL")") |"
      fi
    done
    echo "$row"
  done
}

# Largest value of the space-separated list (numbers only); "" when none.
max_of() { printf '%s\n' "$@" | awk '/^[0-9]+$/ && ($1 > m || m == "") { m = $1 } END { print m }'; }

print_rss_table() {
  local name label head sep row worst worst_case v r
  echo "RSS in MB (VmRSS). Idle:$(for label in "${PROXIES[@]}"; do
    printf ' %s %s MB (%s);' "$label" "$(mb "${IDLE_RSS[$label]:-}")" \
      "$([[ $label == "$PEER_LABEL" ]] && echo "before round 1" || echo "after its start")"; done)" \
    "before/after = medians over rounds; +10 s = the largest sample, taken $(settle_words)."
  echo
  head="| case |"; sep="| --- |"
  for label in "${PROXIES[@]}"; do
    head+=" $label before | $label after | $label +10 s |"; sep+=" ---: | ---: | ---: |"
  done
  echo "$head"
  echo "$sep"
  for name in "${CASES[@]}"; do
    row="| $name |"
    for label in "${PROXIES[@]}"; do
      # shellcheck disable=SC2086
      v=$(max_of ${RES_RSS10["$name|$label"]:-})
      row+=" $(mb "$(med RES_RSS0 "$name|$label")") | $(mb "$(med RES_RSS1 "$name|$label")") | $(mb "${v:-n/a}") |"
    done
    echo "$row"
  done
  [[ "$SETTLE" != off ]] || return 0
  echo
  for label in "${PROXIES[@]}"; do
    worst="" worst_case=""
    for name in "${CASES[@]}"; do
      # shellcheck disable=SC2086
      v=$(max_of ${RES_RSS10["$name|$label"]:-})
      [[ -n "$v" ]] || continue
      if [[ -z "$worst" ]] || ((v > worst)); then worst=$v worst_case=$name; fi
    done
    if [[ -z "$worst" || -z "${IDLE_RSS[$label]:-}" ]]; then
      echo "- $label: no +10 s samples"
      continue
    fi
    r=$(ratio "$worst" "${IDLE_RSS[$label]}")
    if awk -v r="$r" 'BEGIN { exit !(r <= 2) }'; then v=yes; else v=NO; fi
    echo "- $label: RSS 10 s after every case <= 2x idle: $v (largest $(mb "$worst") MB = ${r}x idle, after $worst_case)"
  done
}

print_idle_table() {
  local label rss0 rss1 rss2 ok failed err per
  ((IDLE_CLIENTS > 0)) || return 0
  echo "Idle clients: $IDLE_CLIENTS connections, each sent PING and read +PONG, held open," \
    "then closed. Slotgate freshly started for it; the peer after the last round."
  echo
  echo "| proxy | RSS before MB | RSS with $IDLE_CLIENTS clients MB | RSS after they left MB | KB per idle client | clients ok | failed |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
  for label in "${PROXIES[@]}"; do
    [[ -n "${IDLE_TEST[$label]:-}" ]] || continue
    read -r rss0 rss1 rss2 ok failed err <<<"${IDLE_TEST[$label]}"
    per=$(awk -v a="$rss0" -v b="$rss1" -v n="$IDLE_CLIENTS" 'BEGIN { printf "%.2f", (b - a) / n }')
    if [[ "$err" == - ]]; then err=""; else err=" (${err//_/ })"; fi
    echo "| $label | $(mb "$rss0") | $(mb "$rss1") | $(mb "$rss2") | $per | $ok | $failed$err |"
  done
}

# joined VALUES: the space-separated per-round values, comma-separated; "-" when none.
joined() { if [[ -n "${1:-}" ]]; then echo "${1// /, }"; else echo -; fi; }

print_raw() {
  local name target key
  echo "Raw values per round, rounds 1..$ROUNDS in order (RSS in KB; +10 s only in the rounds sampled):"
  echo
  echo "| case | target | rps | req/CPU-s | p99 ms | RSS before | RSS after | RSS +10 s |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  for name in "${CASES[@]}"; do
    for target in "${TARGETS[@]}"; do
      key="$name|$target"
      echo "| $name | $target | $(joined "${RES_RPS[$key]:-}") | $(joined "${RES_CPU[$key]:-}")" \
        "| $(joined "${RES_P99[$key]:-}") | $(joined "${RES_RSS0[$key]:-}") | $(joined "${RES_RSS1[$key]:-}")" \
        "| $(joined "${RES_RSS10[$key]:-}") |"
    done
  done
}

print_report() {
  local title="Slotgate vs direct Redis Cluster" note
  [[ -z "$PEER_LABEL" ]] || title+=" vs $PEER_LABEL"
  echo "## $title (redis-benchmark)"
  echo
  echo "$MACHINE_LINE"
  echo
  print_setup
  echo
  print_main_table
  echo
  print_rss_table
  echo
  if ((IDLE_CLIENTS > 0)); then print_idle_table; echo; fi
  print_raw
  local full
  full=$(sync_full_total)
  if ((full > SYNC_FULL_START)); then
    add_note resync "replicas did $((full - SYNC_FULL_START)) full resync(s) during the run (replication buffer overrun?); numbers around them are disturbed"
  fi
  if ((${#NOTES[@]})); then
    echo
    echo "Notes:"
    for note in "${NOTES[@]}"; do echo "- $note"; done
  fi
}

# --- the Python client -----------------------------------------------------------------------

write_client() {
  cat >"$1" <<'PY'
"""bench.sh's own clients: raw RESP over sockets (no redis-py), so the client costs little.

  fill SEED_PORT SIZE COUNT PATTERN...  SET PATTERN % i (i < COUNT) to SIZE 'x' bytes on the
                                        master owning each key (CLUSTER SLOTS of SEED_PORT)
  tx PORT CLIENTS SECONDS KEY CHECK_PORT
                                        CLIENTS connections, each looping MULTI / INCR KEY /
                                        EXEC (one write per transaction) for SECONDS; KEY is
                                        read on CHECK_PORT (its master) before and after.
                                        Prints: tps p99_ms committed failed counter_delta
                                        elapsed_s first_error
  idle PORT PID N                       RSS of PID; N connections held open, each having sent
                                        PING and read +PONG; RSS; all closed; RSS. Prints:
                                        rss0 rss1 rss2 ok failed first_error (KB)
"""
import binascii
import os
import resource
import selectors
import socket
import sys
import time


def die(msg):
    print(f"bench client: error: {msg}", file=sys.stderr)
    sys.exit(1)


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        die(f"need {need} open files but the hard limit (ulimit -Hn) is {hard}")
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def parse(buf, pos):
    """One RESP2 reply from buf[pos:]: (value, next_pos), or None if incomplete.
    An error reply comes back as an Exception instance."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None
    kind, line = buf[pos:pos + 1], bytes(buf[pos + 1:end])
    pos = end + 2
    if kind == b"+":
        return line.decode(), pos
    if kind == b"-":
        return Exception(line.decode(errors="replace")), pos
    if kind == b":":
        return int(line), pos
    if kind == b"$":
        n = int(line)
        if n < 0:
            return None, pos
        if len(buf) < pos + n + 2:
            return None
        return bytes(buf[pos:pos + n]), pos + n + 2
    if kind == b"*":
        n = int(line)
        if n < 0:
            return None, pos
        items = []
        for _ in range(n):
            r = parse(buf, pos)
            if r is None:
                return None
            item, pos = r
            items.append(item)
        return items, pos
    raise ValueError(f"unexpected RESP type {kind!r}")


class Conn:
    def __init__(self, port, timeout=120):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def replies(self, n):
        out = []
        while len(out) < n:
            r = parse(self.buf, self.pos)
            if r is None:
                data = self.sock.recv(1 << 20)
                if not data:
                    die("connection closed by the server")
                del self.buf[:self.pos]
                self.pos = 0
                self.buf += data
                continue
            value, self.pos = r
            out.append(value)
        return out

    def call(self, *args):
        self.sock.sendall(command(*args))
        return self.replies(1)[0]


def keyslot(key):
    s = key.find(b"{")
    if s >= 0:
        e = key.find(b"}", s + 1)
        if e > s + 1:
            key = key[s + 1:e]
    return binascii.crc_hqx(key, 0) % 16384


def cmd_fill(seed_port, size, count, *patterns):
    size, count = int(size), int(count)
    slots = Conn(int(seed_port)).call("CLUSTER", "SLOTS")
    if isinstance(slots, Exception):
        die(f"CLUSTER SLOTS: {slots}")
    owner = [None] * 16384
    for entry in slots:
        for s in range(entry[0], entry[1] + 1):
            owner[s] = entry[2][1]
    if None in owner:
        die("not every slot is served")
    head = b"*3\r\n$3\r\nSET\r\n"
    tail = b"$%d\r\n%s\r\n" % (size, b"x" * size)
    conns, pending = {}, {}
    batch = max(16, min(4096, (4 << 20) // (size + 64)))
    total = 0

    def flush(port):
        cmds = pending.pop(port, None)
        if not cmds:
            return 0
        c = conns.get(port) or conns.setdefault(port, Conn(port))
        c.sock.sendall(b"".join(cmds))
        for r in c.replies(len(cmds)):
            if r != "OK":
                die(f"SET on port {port}: {r}")
        return len(cmds)

    for pattern in patterns:
        for i in range(count):
            key = (pattern % i).encode()
            port = owner[keyslot(key)]
            lst = pending.setdefault(port, [])
            lst.append(head + b"$%d\r\n%s\r\n" % (len(key), key) + tail)
            if len(lst) >= batch:
                total += flush(port)
    for port in list(pending):
        total += flush(port)
    print(total)


def counter_value(port, key):
    v = Conn(port).call("GET", key)
    if isinstance(v, Exception):
        die(f"GET {key} on port {port}: {v}")
    return int(v or 0)


def cmd_tx(port, clients, seconds, key, check_port):
    port, clients, seconds, check_port = int(port), int(clients), float(seconds), int(check_port)
    raise_fd_limit(clients + 64)
    request = command("MULTI") + command("INCR", key) + command("EXEC")
    before = counter_value(check_port, key)
    sel = selectors.DefaultSelector()
    conns = []
    for _ in range(clients):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        st = {"sock": s, "buf": bytearray(), "sent": 0.0}
        conns.append(st)
        sel.register(s, selectors.EVENT_READ, st)
    latencies = []
    committed = failed = 0
    first_error = ""
    start = time.perf_counter()
    deadline = start + seconds
    for st in conns:
        st["sent"] = time.perf_counter()
        st["sock"].sendall(request)  # ~60 bytes: the send buffer is empty
    busy = clients
    while busy:
        if time.perf_counter() > deadline + 10:
            die(f"{busy} transactions still unanswered 10 s after the end")
        for sk, _ in sel.select(timeout=1.0):
            st = sk.data
            data = st["sock"].recv(65536)
            if not data:
                die("connection closed by the server")
            buf = st["buf"]
            buf += data
            pos, replies = 0, []
            while len(replies) < 3:
                r = parse(buf, pos)
                if r is None:
                    break
                v, pos = r
                replies.append(v)
            if len(replies) < 3:
                continue
            if pos != len(buf):
                die(f"more replies than requests: {bytes(buf[pos:pos + 80])!r}")
            buf.clear()
            now = time.perf_counter()
            latencies.append(now - st["sent"])
            m, q, e = replies
            if m == "OK" and q == "QUEUED" and isinstance(e, list) and len(e) == 1 and isinstance(e[0], int):
                committed += 1
            else:
                failed += 1
                if not first_error:
                    bad = next((x for x in replies if isinstance(x, Exception)), None)
                    first_error = str(bad) if bad else f"unexpected replies {replies!r}"
            busy -= 1
            if now < deadline:
                st["sent"] = now
                st["sock"].sendall(request)
                busy += 1
    elapsed = time.perf_counter() - start
    for st in conns:
        st["sock"].close()
    delta = counter_value(check_port, key) - before
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0.0
    err = "_".join(first_error.split()) or "-"
    print(f"{committed / elapsed:.2f} {p99:.3f} {committed} {failed} {delta} {elapsed:.3f} {err}")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    die(f"no VmRSS for PID {pid}")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def cmd_idle(port, pid, n):
    port, pid, n = int(port), int(pid), int(n)
    raise_fd_limit(n + 64)
    fds0, rss0 = fd_count(pid), rss_kb(pid)
    sel = selectors.DefaultSelector()
    ping = command("PING")
    ok = failed = opened = waiting = 0
    first_error = ""
    socks = []
    deadline = time.monotonic() + 120
    batch = 256  # connections in their handshake at once (stays under the listen backlog)

    def fail(st, why):
        nonlocal failed, waiting, first_error
        failed += 1
        waiting -= 1
        first_error = first_error or why
        sel.unregister(st["sock"])

    while opened < n or waiting:
        if time.monotonic() > deadline:
            die(f"{waiting} clients still waiting after 120 s ({ok} ok, {failed} failed)")
        while opened < n and waiting < batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            opened += 1
            socks.append(s)
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, 115):  # EINPROGRESS
                failed += 1
                first_error = first_error or os.strerror(err)
                continue
            st = {"sock": s, "state": "connect", "buf": b""}
            sel.register(s, selectors.EVENT_WRITE, st)
            waiting += 1
        for sk, _ in sel.select(timeout=1.0):
            st = sk.data
            s = st["sock"]
            if st["state"] == "connect":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(st, os.strerror(err))
                    continue
                try:
                    s.send(ping)
                except OSError as e:
                    fail(st, str(e))
                    continue
                st["state"] = "pong"
                sel.modify(s, selectors.EVENT_READ, st)
                continue
            try:
                data = s.recv(4096)
            except OSError as e:
                fail(st, str(e))
                continue
            if not data:
                fail(st, "closed by the server")
                continue
            st["buf"] += data
            if not st["buf"].endswith(b"\r\n"):
                continue
            sel.unregister(s)
            waiting -= 1
            if st["buf"] == b"+PONG\r\n":
                ok += 1
            else:
                failed += 1
                first_error = first_error or st["buf"].decode(errors="replace").strip()
    time.sleep(1.0)
    rss1 = rss_kb(pid)
    for s in socks:
        s.close()
    # Wait (bounded) until the server has closed its ends, then a moment more.
    end = time.monotonic() + 15
    while fd_count(pid) > fds0 + 2 and time.monotonic() < end:
        time.sleep(0.1)
    time.sleep(1.0)
    rss2 = rss_kb(pid)
    err = "_".join(first_error.split()) or "-"
    print(f"{rss0} {rss1} {rss2} {ok} {failed} {err}")


def main():
    cmds = {"fill": cmd_fill, "tx": cmd_tx, "idle": cmd_idle}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        die("usage: fill|tx|idle ARG...")
    cmds[sys.argv[1]](*sys.argv[2:])


main()
PY
}

# --- main ------------------------------------------------------------------------------------

main() {
  parse_args "$@"
  cd "$ROOT"
  # shellcheck source=ensure-deps.sh
  source "$ROOT/deploy/ensure-deps.sh"
  MACHINE_LINE=$(machine_line)
  raise_fd_limit
  check_ports_free
  resolve_peer
  build_release
  VALUE_SMALL=$(x_string "$SMALL_SIZE")
  VALUE_LARGE=$(x_string "$LARGE_SIZE")
  slotgate_run_begin bench stop_all
  PY="$RUN_DIR/bench_client.py"
  write_client "$PY"
  if ((CLUSTER_RUNNING)); then
    check_cluster_running
    log "using the cluster already running on 127.0.0.1:$BASE_PORT (its data will be flushed)"
  else
    slotgate_run_start_cluster "$BASE_PORT"
  fi
  find_masters
  SLOT_OWNER=$(owner_of "$SLOT_TAG")
  TX_OWNER=$(owner_of "$TX_KEY")
  [[ -n "$SLOT_OWNER" && -n "$TX_OWNER" ]] || die "could not find the masters owning {$SLOT_TAG} and $TX_KEY"
  SYNC_FULL_START=$(sync_full_total)
  check_peer_cluster
  flush_cluster
  find_direct_tags
  flush_cluster
  run_slotgate_idle_tests
  pin_processes
  local label
  for label in "${SG_LABELS[@]}"; do start_slotgate "$label"; done
  sleep 1
  for label in "${SG_LABELS[@]}"; do IDLE_RSS[$label]=$(rss_kb "${SG_PID[$label]}"); done
  setup_targets
  if ((PIN)) && [[ -n "$PEER_LABEL" ]]; then
    taskset -a -p -c "$PROXY_CPU" "${TARGET_PID[$PEER_LABEL]}" >/dev/null || die "could not pin the peer (PID ${TARGET_PID[$PEER_LABEL]})"
  fi
  [[ -z "$PEER_LABEL" ]] || IDLE_RSS[$PEER_LABEL]=$(rss_kb "${TARGET_PID[$PEER_LABEL]}")
  log "targets: ${TARGETS[*]}; cases: ${CASES[*]}; $ROUNDS round(s); files in $RUN_DIR"
  local round t
  for ((round = 1; round <= ROUNDS; round++)); do run_round "$round"; done
  for t in "${PROXIES[@]}"; do collect_settle "$t"; done
  run_peer_idle_test
  print_report
  if ((FAILURES)); then
    log "$FAILURES measurement(s) failed (FAIL/ERR/MISMATCH above)"
    exit 1
  fi
}

main "$@"; exit
