#!/usr/bin/env bash
# chaos.sh — prove that clients of Slotgate do not notice the cluster changing behind it.
#
# Usage:
#   bash deploy/chaos.sh [--base-port N] [--proxy-port N] [--clients N] [--settle S]
#                        [--node-timeout MS] [--unsynced-crash]
#
#   --base-port N      cluster nodes on N..N+5 (bus +10000), the extra node of the
#                      scale-out phase on N+6 (default 7200)
#   --proxy-port N     port slotgate listens on (default 7977)
#   --clients N        synchronous workload clients (default 50)
#   --settle S         seconds of plain traffic before and after each phase (default 3)
#   --node-timeout MS  cluster-node-timeout of every node (default 3000)
#   --unsynced-crash   in master-crash, kill -9 the master straight away, without first
#                      pausing its writes until its replica has caught up (see below)
#
# Env: SLOTGATE_BIN = an already built slotgate binary (skips the build); otherwise
# `swift build -c release --product slotgate` builds one.
#
# Starts a fresh 3-master + 3-replica cluster (deploy/local-cluster.sh) and slotgate in
# front of it, then runs Tests/clients/chaos_workload.py in the background: N clients, each
# with its own plain single-node redis-py connection to slotgate, mixing SET/GET/INCR,
# MSET/MGET across slots, pipelines and MULTI/EXEC. Meanwhile it changes the cluster, one
# phase at a time, with --settle seconds of plain traffic (phases steady-1, steady-2, …)
# before each and after the last:
#
#   reshard             move 5461 slots from one master to another (redis-cli --cluster reshard)
#   scale-out-in        add a 7th node, move 1000 slots to it, move them back, del-node, stop it
#   manual-failover     CLUSTER FAILOVER on a replica
#   master-crash        kill -9 a master, wait for its replica's promotion, --settle more seconds.
#                       Redis replicates asynchronously, so a master killed under load can
#                       take writes it acknowledged with it, which no proxy can prevent and
#                       the verdict would count as lost. So first CLIENT PAUSE WRITE on it and
#                       wait until its replica's offset matches; writes sent meanwhile wait in
#                       the master and die with it (uncertain, not lost). --unsynced-crash
#                       skips this.
#   restart-as-replica  restart the killed node; it rejoins as a replica of the new master
#
# The workload records every operation under the phase that was current when it started,
# and at the end reads every key back. Prints its per-phase table (ops, failed ops, error
# texts, longest error window, p50/p99 latency) and its totals (lost writes, duplicated
# writes, transaction mismatches, stale reads), the timeline of the cluster changes, and a
# VERDICT line. Exit 0 only when the verdict passes:
#   0 lost, 0 duplicated, 0 transaction mismatches, 0 stale reads, every key verified
#   (and read the same straight from the cluster);
#   0 failed ops in the steady, reshard, scale-out-in and manual-failover phases;
#   in master-crash at most one failed op per client (the op in flight at the crash).
# restart-as-replica is reported, not judged.
#
# Everything listens on 127.0.0.1. Files go to a new ${TMPDIR:-/tmp}/slotgate-chaos.XXXXXX
# dir (slotgate.log, workload.out/.log, summary.json, redis-cli logs, the nodes' dirs), which
# is removed after a passing run and kept otherwise. On exit a trap stops what this script
# started, by PID only: the workload, slotgate, the extra node and the cluster
# (local-cluster.sh stop). Never reads stdin; every wait is bounded and names what it was
# waiting for when it gives up. About 1-1.5 minutes with the defaults, plus the build.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORKLOAD="$ROOT/Tests/clients/chaos_workload.py"
# shellcheck source=lib/cluster-node.sh
source "$ROOT/deploy/lib/cluster-node.sh"
# shellcheck source=lib/run-dir.sh
source "$ROOT/deploy/lib/run-dir.sh"

BASE_PORT=7200
PROXY_PORT=7977
CLIENTS=50
SETTLE_S=3
NODE_TIMEOUT_MS=3000
SYNCED_CRASH=1
THREADS=2
RESHARD_SLOTS=5461
SCALE_SLOTS=1000
RESHARD_PIPELINE=100

READY_TIMEOUT_S=30
CHECK_TIMEOUT_S=60
RESHARD_TIMEOUT_S=240
CLI_TIMEOUT_S=30
ROLE_TIMEOUT_S=30
PROMOTION_TIMEOUT_S=30
SYNC_TIMEOUT_S=10
REJOIN_TIMEOUT_S=60
WORKLOAD_EXIT_TIMEOUT_S=180
WORKLOAD_MAX_S=900
STOP_TIMEOUT_S=5

RUN_DIR=""   # set by slotgate_run_begin
PROXY_BIN=""
PROXY_PID=""
WORKLOAD_PID=""
EXTRA_PORT=""
STEADY_COUNT=0
CHECK_OUTPUT=""
EVENTS=()

log() { echo "chaos: $(date +%T) $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  echo "usage: $0 [--base-port N] [--proxy-port N] [--clients N] [--settle S] [--node-timeout MS]" \
    "[--unsynced-crash]" >&2
  exit 2
}

need_uint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive number, got '$2'"; }

parse_args() {
  while (($#)); do
    if [[ "$1" == --unsynced-crash ]]; then
      SYNCED_CRASH=0
      shift
      continue
    fi
    (($# >= 2)) || usage
    case "$1" in
      --base-port) need_uint "$1" "$2"; BASE_PORT=$2 ;;
      --proxy-port) need_uint "$1" "$2"; PROXY_PORT=$2 ;;
      --clients) need_uint "$1" "$2"; CLIENTS=$2 ;;
      --settle) need_uint "$1" "$2"; SETTLE_S=$2 ;;
      --node-timeout) need_uint "$1" "$2"; NODE_TIMEOUT_MS=$2 ;;
      *) usage ;;
    esac
    shift 2
  done
  ((BASE_PORT >= 1024 && BASE_PORT + 6 + 10000 <= 65535)) ||
    die "--base-port must be in 1024..$((65535 - 10000 - 6))"
  ((PROXY_PORT <= 65535)) || die "--proxy-port must be at most 65535"
  ((PROXY_PORT < BASE_PORT || PROXY_PORT > BASE_PORT + 6)) || die "--proxy-port collides with the node ports"
  EXTRA_PORT=$((BASE_PORT + 6))
}

# --- small helpers ------------------------------------------------------------------------

# True if a non-TIME-WAIT TCP socket uses PORT locally (listener or connection).
port_in_use() {
  ss -Htan "sport = :$1" 2>/dev/null | awk '$1 != "TIME-WAIT" { found = 1 } END { exit !found }'
}

# redis-cli against one local node or the proxy; bounded so a hung peer cannot block us.
rcli() {
  local port=$1; shift
  timeout 5 redis-cli -h 127.0.0.1 -p "$port" "$@" </dev/null 2>/dev/null | tr -d '\r'
}

# info_field PORT FIELD SECTION: one "field:value" of INFO SECTION.
info_field() { rcli "$1" info "$3" | sed -n "s/^$2://p"; }

# cluster_info_field PORT FIELD: one "field:value" of CLUSTER INFO.
cluster_info_field() { rcli "$1" cluster info | sed -n "s/^$2://p"; }

node_ports() { seq "$BASE_PORT" $((BASE_PORT + 5)); }

now() { echo "$EPOCHREALTIME"; }
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

event() {
  log "$*"
  EVENTS+=("$*")
}

# The first node of the cluster that answers PING: the entry point for redis-cli --cluster.
entry_port() {
  local port
  for port in $(node_ports); do
    [[ "$(rcli "$port" ping)" == PONG ]] && { echo "$port"; return 0; }
  done
  return 1
}

# --- reading the topology -----------------------------------------------------------------
#
# All from one node's CLUSTER NODES: "id addr@bus flags master-id ping pong epoch link slots…".

cluster_nodes() { rcli "$1" cluster nodes; }

# "id port slot-count" of every healthy master that serves slots, most slots first, as PORT sees it.
masters_by_slots() {
  cluster_nodes "$1" | awk '
    $3 ~ /master/ && $3 !~ /fail/ {
      n = 0
      for (i = 9; i <= NF; i++) {
        if ($i ~ /^\[/) continue          # [slot->-id] migrating / importing markers
        split($i, range, "-")
        n += (2 in range) ? range[2] - range[1] + 1 : 1
      }
      if (n > 0) { port = $2; sub(/@.*/, "", port); sub(/.*:/, "", port); print $1, port, n }
    }' | sort -k3,3nr -k2,2n
}

# "id port" of the connected, healthy replicas of MASTER_ID, as PORT sees them.
replicas_of() {
  cluster_nodes "$1" | awk -v master="$2" '
    $3 ~ /slave/ && $3 !~ /fail/ && $4 == master && $8 == "connected" {
      port = $2; sub(/@.*/, "", port); sub(/.*:/, "", port); print $1, port
    }' | sort -k2,2n
}

# Slots that node ID serves, as PORT sees it.
slot_count_of() {
  masters_by_slots "$1" | awk -v id="$2" '$1 == id { print $3; found = 1 } END { if (!found) print 0 }'
}

# True when PORT's CLUSTER NODES shows ID as a master without fail flags, with slots.
is_serving_master() {
  cluster_nodes "$1" | awk -v id="$2" '
    $1 == id && $3 ~ /master/ && $3 !~ /fail/ && NF >= 9 { found = 1 } END { exit !found }'
}

replica_link_up() {
  [[ "$(info_field "$1" role replication)" == slave &&
    "$(info_field "$1" master_link_status replication)" == up ]]
}

# "master-id master-port replica-id replica-port": the first master that serves slots
# (most slots first, so it holds keys) whose first connected replica has its replication
# link up, as PORT sees it. Exit 1 when there is none.
master_with_linked_replica() {
  local master master_port replica replica_port
  while read -r master master_port _; do
    read -r replica replica_port < <(replicas_of "$1" "$master" | sed -n 1p) || continue
    if replica_link_up "$replica_port"; then
      echo "$master $master_port $replica $replica_port"
      return 0
    fi
  done < <(masters_by_slots "$1")
  return 1
}

# True when `redis-cli --cluster check` through a live node finds nothing to complain
# about: all nodes agree, no open slots, all slots covered. Output kept in CHECK_OUTPUT.
cluster_clean() {
  local entry
  entry=$(entry_port) || { CHECK_OUTPUT="no node answers PING"; return 1; }
  CHECK_OUTPUT=$(timeout "$CLI_TIMEOUT_S" redis-cli --cluster check "127.0.0.1:$entry" </dev/null 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g') || true
  grep -q '\[OK\] All nodes agree about slots configuration' <<<"$CHECK_OUTPUT" &&
    grep -q '\[OK\] All 16384 slots covered' <<<"$CHECK_OUTPUT" &&
    ! grep -q '\[ERR\]\|\[WARNING\]' <<<"$CHECK_OUTPUT"
}

# True when every node that answers PING (the extra one included) says cluster_state:ok
# and knows EXPECTED nodes. A node that just started or joined stays "fail" for a while,
# and then refuses MIGRATE's RESTORE with CLUSTERDOWN.
all_nodes_agree() {
  local expected=$1 port
  for port in $(node_ports) "$EXTRA_PORT"; do
    [[ "$(rcli "$port" ping)" == PONG ]] || continue
    [[ "$(cluster_info_field "$port" cluster_state)" == ok &&
      "$(cluster_info_field "$port" cluster_known_nodes)" == "$expected" ]] || return 1
  done
}

# wait_cluster_clean [EXPECTED_NODES]: a clean redis-cli --cluster check, and every live
# node in state ok knowing EXPECTED_NODES (default 6) nodes.
wait_cluster_clean() {
  local expected=${1:-6} deadline=$((SECONDS + CHECK_TIMEOUT_S))
  until cluster_clean && all_nodes_agree "$expected"; do
    check_alive
    if ((SECONDS >= deadline)); then
      printf '%s\n' "$CHECK_OUTPUT" | tail -n 20 >&2
      die "redis-cli --cluster check not clean with $expected known nodes within ${CHECK_TIMEOUT_S}s"
    fi
    sleep 0.3
  done
}

# reshard LOGNAME ARGS...: redis-cli --cluster reshard through a live node, bounded.
reshard() {
  local name=$1 entry
  shift
  entry=$(entry_port) || die "no cluster node answers PING"
  timeout "$RESHARD_TIMEOUT_S" redis-cli --cluster reshard "127.0.0.1:$entry" "$@" \
    --cluster-yes --cluster-pipeline "$RESHARD_PIPELINE" </dev/null >>"$RUN_DIR/$name.log" 2>&1 ||
    die "redis-cli --cluster reshard $* failed or timed out after ${RESHARD_TIMEOUT_S}s (see $RUN_DIR/$name.log)"
}

# --- processes we start ---------------------------------------------------------------------

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
  local port
  for port in "$PROXY_PORT" "$EXTRA_PORT" $((EXTRA_PORT + 10000)); do
    if port_in_use "$port"; then
      die "port $port is in use (another chaos.sh, slotgate or redis?); try --base-port / --proxy-port"
    fi
  done
}

start_proxy() {
  cat >"$RUN_DIR/proxy.conf" <<CONF
port $PROXY_PORT
bind 127.0.0.1
cluster 127.0.0.1:$BASE_PORT 127.0.0.1:$((BASE_PORT + 1)) 127.0.0.1:$((BASE_PORT + 2))
threads $THREADS
CONF
  log "starting slotgate on 127.0.0.1:$PROXY_PORT (log: $RUN_DIR/slotgate.log)"
  "$PROXY_BIN" --config "$RUN_DIR/proxy.conf" </dev/null >"$RUN_DIR/slotgate.log" 2>&1 &
  PROXY_PID=$!
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until [[ "$(rcli "$PROXY_PORT" ping)" == PONG && "$(rcli "$PROXY_PORT" set chaos:probe 1)" == OK ]]; do
    kill -0 "$PROXY_PID" 2>/dev/null || { tail -n 20 "$RUN_DIR/slotgate.log" >&2; die "slotgate exited early"; }
    ((SECONDS < deadline)) || { tail -n 20 "$RUN_DIR/slotgate.log" >&2; die "slotgate not ready within ${READY_TIMEOUT_S}s"; }
    sleep 0.2
  done
}

start_workload() {
  local seeds=() port
  for port in $(node_ports); do seeds+=(--cluster-seed "127.0.0.1:$port"); done
  log "starting the workload: $CLIENTS clients (log: $RUN_DIR/workload.log)"
  python3 "$WORKLOAD" --port "$PROXY_PORT" --clients "$CLIENTS" \
    --phase-file "$RUN_DIR/phase" --stop-file "$RUN_DIR/stop" --ready-file "$RUN_DIR/ready" \
    --summary-json "$RUN_DIR/summary.json" --max-duration "$WORKLOAD_MAX_S" "${seeds[@]}" \
    </dev/null >"$RUN_DIR/workload.out" 2>"$RUN_DIR/workload.log" &
  WORKLOAD_PID=$!
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until [[ -e "$RUN_DIR/ready" ]]; do
    check_alive
    ((SECONDS < deadline)) || die "the workload's clients did not all complete an operation within ${READY_TIMEOUT_S}s"
    sleep 0.2
  done
}

# Die when slotgate or the workload is gone.
check_alive() {
  if [[ -n "$PROXY_PID" ]] && ! kill -0 "$PROXY_PID" 2>/dev/null; then
    tail -n 20 "$RUN_DIR/slotgate.log" >&2
    die "slotgate exited unexpectedly"
  fi
  if [[ -n "$WORKLOAD_PID" ]] && ! kill -0 "$WORKLOAD_PID" 2>/dev/null; then
    tail -n 20 "$RUN_DIR/workload.log" "$RUN_DIR/workload.out" >&2 || true
    die "the workload exited before it was told to stop"
  fi
}

extra_dir() { echo "$RUN_DIR/extra/$EXTRA_PORT"; }

# The 7th node: configured like local-cluster.sh's nodes (lib/cluster-node.sh), in its own dir.
start_extra_node() {
  local dir
  dir=$(extra_dir)
  slotgate_write_node_conf "$EXTRA_PORT" "$dir" "$NODE_TIMEOUT_MS"
  slotgate_start_node "$dir" || die "redis-server on port $EXTRA_PORT did not start"
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until [[ "$(rcli "$EXTRA_PORT" ping)" == PONG ]]; do
    ((SECONDS < deadline)) || die "extra node $EXTRA_PORT did not answer PING within ${READY_TIMEOUT_S}s"
    sleep 0.1
  done
}

# shellcheck disable=SC2317  # reached via traps
stop_extra_node() {
  local pid
  [[ -n "$RUN_DIR" && -n "$EXTRA_PORT" ]] || return 0
  pid=$(slotgate_node_pid "$(extra_dir)") || return 0
  slotgate_stop_process "$pid" "$STOP_TIMEOUT_S"
}

# shellcheck disable=SC2317  # reached via traps
stop_workload() {
  slotgate_stop_process "$WORKLOAD_PID" "$STOP_TIMEOUT_S"
  WORKLOAD_PID=""
}

# shellcheck disable=SC2317  # reached via traps
stop_proxy() {
  slotgate_stop_process "$PROXY_PID" "$STOP_TIMEOUT_S"
  PROXY_PID=""
}

# On exit (slotgate_run_begin's trap, which then stops the cluster and removes or keeps RUN_DIR).
# shellcheck disable=SC2317  # reached via traps
stop_processes() {
  stop_workload
  stop_proxy
  stop_extra_node
}

# --- phases ---------------------------------------------------------------------------------

# The workload re-reads this file every 20 ms; written atomically.
set_phase() {
  printf '%s\n' "$1" >"$RUN_DIR/phase.tmp"
  mv -f -- "$RUN_DIR/phase.tmp" "$RUN_DIR/phase"
  log "phase $1"
}

# --settle seconds of plain traffic in a phase of its own.
settle() {
  STEADY_COUNT=$((STEADY_COUNT + 1))
  set_phase "steady-$STEADY_COUNT"
  sleep "$SETTLE_S"
  check_alive
}

phase_reshard() {
  set_phase reshard
  local entry from to t0
  entry=$(entry_port) || die "no cluster node answers PING"
  # From the master with the most slots (5462 of a fresh cluster: one stays), to another one.
  read -r from from_port _ < <(masters_by_slots "$entry" | sed -n 1p)
  read -r to to_port _ < <(masters_by_slots "$entry" | sed -n 2p)
  [[ -n "$from" && -n "$to" ]] || die "could not find two masters with slots"
  t0=$(now)
  reshard reshard --cluster-from "$from" --cluster-to "$to" --cluster-slots "$RESHARD_SLOTS"
  wait_cluster_clean 6
  event "reshard: moved $RESHARD_SLOTS slots 127.0.0.1:$from_port -> :$to_port in $(seconds_since "$t0")s"
  check_alive
}

phase_scale_out_in() {
  set_phase scale-out-in
  local entry new_id t0 back_to back_port slots
  t0=$(now)
  start_extra_node
  entry=$(entry_port) || die "no cluster node answers PING"
  timeout "$CLI_TIMEOUT_S" redis-cli --cluster add-node "127.0.0.1:$EXTRA_PORT" "127.0.0.1:$entry" \
    </dev/null >>"$RUN_DIR/scale-out-in.log" 2>&1 || die "add-node failed (see $RUN_DIR/scale-out-in.log)"
  new_id=$(rcli "$EXTRA_PORT" cluster myid)
  [[ "$new_id" =~ ^[0-9a-f]{40}$ ]] || die "no node id from 127.0.0.1:$EXTRA_PORT"
  wait_cluster_clean 7
  reshard scale-out-in --cluster-from all --cluster-to "$new_id" --cluster-slots "$SCALE_SLOTS"
  wait_cluster_clean 7
  slots=$(slot_count_of "$entry" "$new_id")
  event "scale-out-in: node 127.0.0.1:$EXTRA_PORT added and given $slots slots in $(seconds_since "$t0")s"
  sleep "$SETTLE_S"
  check_alive
  t0=$(now)
  read -r back_to back_port _ < <(masters_by_slots "$entry" | awk -v id="$new_id" '$1 != id' | sed -n 1p)
  slots=$(slot_count_of "$entry" "$new_id")
  reshard scale-out-in --cluster-from "$new_id" --cluster-to "$back_to" --cluster-slots "$slots"
  wait_cluster_clean 7
  slots=$(slot_count_of "$entry" "$new_id")
  ((slots == 0)) || die "node $EXTRA_PORT still has $slots slots after moving them out"
  timeout "$CLI_TIMEOUT_S" redis-cli --cluster del-node "127.0.0.1:$entry" "$new_id" \
    </dev/null >>"$RUN_DIR/scale-out-in.log" 2>&1 || die "del-node failed (see $RUN_DIR/scale-out-in.log)"
  stop_extra_node
  wait_cluster_clean 6
  event "scale-out-in: slots moved back to :$back_port, node removed (del-node) and stopped in $(seconds_since "$t0")s"
  check_alive
}

phase_manual_failover() {
  set_phase manual-failover
  local entry master_port replica_port reply t0 deadline
  entry=$(entry_port) || die "no cluster node answers PING"
  read -r _ master_port _ replica_port < <(master_with_linked_replica "$entry") ||
    die "no replica with its link up to a master with slots"
  t0=$(now)
  reply=$(rcli "$replica_port" cluster failover)
  [[ "$reply" == OK ]] || die "CLUSTER FAILOVER on 127.0.0.1:$replica_port answered '$reply'"
  deadline=$((SECONDS + ROLE_TIMEOUT_S))
  until [[ "$(info_field "$replica_port" role replication)" == master &&
    "$(info_field "$master_port" role replication)" == slave ]]; do
    ((SECONDS < deadline)) || die "after CLUSTER FAILOVER, :$replica_port is not master and :$master_port" \
      "not replica within ${ROLE_TIMEOUT_S}s"
    sleep 0.1
  done
  event "manual-failover: replica :$replica_port took over from :$master_port in $(seconds_since "$t0")s"
  wait_cluster_clean 6
  check_alive
}

# Pause writes on the master at MASTER_PORT and wait until the replica at REPLICA_PORT has
# processed its whole replication stream, so that killing the master cannot lose writes it
# acknowledged. A paused master sends its replicas no PINGs either, so the offsets hold still.
sync_replica_before_crash() {
  local master_port=$1 replica_port=$2 reply offset replica_offset deadline
  reply=$(rcli "$master_port" client pause $(((SYNC_TIMEOUT_S + 10) * 1000)) write)
  [[ "$reply" == OK ]] || die "CLIENT PAUSE WRITE on :$master_port answered '$reply'"
  deadline=$((SECONDS + SYNC_TIMEOUT_S))
  while :; do
    offset=$(info_field "$master_port" master_repl_offset replication)
    replica_offset=$(info_field "$replica_port" slave_repl_offset replication)
    [[ -n "$offset" && "$offset" == "$replica_offset" ]] && break
    ((SECONDS < deadline)) || die "replica :$replica_port did not catch up with :$master_port" \
      "(offset ${replica_offset:-?} of ${offset:-?}) within ${SYNC_TIMEOUT_S}s"
    sleep 0.02
  done
  log "writes paused on :$master_port; replica :$replica_port caught up at offset $offset"
}

CRASHED_PORT=""
phase_master_crash() {
  set_phase master-crash
  local entry master master_port replica replica_port observer pid t_kill deadline
  entry=$(entry_port) || die "no cluster node answers PING"
  # A master that serves slots (so it holds keys) with a replica whose link is up.
  read -r master master_port replica replica_port < <(master_with_linked_replica "$entry") ||
    die "no master with slots and a replica whose link is up"
  observer=$(masters_by_slots "$entry" | awk -v m="$master" '$1 != m { print $2; exit }')
  [[ -n "$observer" ]] || die "no other master with slots to watch the promotion from"
  pid=$(slotgate_node_pid "$RUN_DIR/cluster/$master_port") || die "no live pid for 127.0.0.1:$master_port"
  local how="unsynced"
  if ((SYNCED_CRASH)); then
    sync_replica_before_crash "$master_port" "$replica_port"
    how="after pausing writes until the replica caught up"
  fi
  kill -KILL "$pid"
  t_kill=$(now)
  CRASHED_PORT=$master_port
  log "kill -9 127.0.0.1:$master_port (pid $pid); waiting for replica :$replica_port to be promoted"
  deadline=$((SECONDS + PROMOTION_TIMEOUT_S))
  until is_serving_master "$observer" "$replica"; do
    ((SECONDS < deadline)) || die "replica :$replica_port not promoted within ${PROMOTION_TIMEOUT_S}s" \
      "(as seen by :$observer)"
    sleep 0.1
  done
  event "master-crash: kill -9 of master :$master_port ($how) -> replica :$replica_port promoted" \
    "after $(seconds_since "$t_kill")s (seen by :$observer; node-timeout ${NODE_TIMEOUT_MS}ms)"
  sleep "$SETTLE_S"
  check_alive
}

phase_restart_as_replica() {
  set_phase restart-as-replica
  local dir="$RUN_DIR/cluster/$CRASHED_PORT" t0 deadline
  t0=$(now)
  slotgate_start_node "$dir" || die "redis-server $dir/redis.conf did not start"
  deadline=$((SECONDS + REJOIN_TIMEOUT_S))
  until replica_link_up "$CRASHED_PORT"; do
    ((SECONDS < deadline)) || die ":$CRASHED_PORT did not rejoin as a replica with its link up within ${REJOIN_TIMEOUT_S}s"
    sleep 0.2
  done
  event "restart-as-replica: :$CRASHED_PORT back as a replica, master_link_status up, after $(seconds_since "$t0")s"
  wait_cluster_clean 6
  check_alive
}

# --- end of run -----------------------------------------------------------------------------

stop_and_collect() {
  touch "$RUN_DIR/stop"
  log "stopping the workload; it reads every key back and verifies"
  local deadline=$((SECONDS + WORKLOAD_EXIT_TIMEOUT_S)) status=0
  while kill -0 "$WORKLOAD_PID" 2>/dev/null; do
    ((SECONDS < deadline)) || die "the workload did not finish within ${WORKLOAD_EXIT_TIMEOUT_S}s after the stop file"
    sleep 0.2
  done
  wait "$WORKLOAD_PID" || status=$?
  WORKLOAD_PID=""
  cat "$RUN_DIR/workload.out"
  [[ -s "$RUN_DIR/summary.json" ]] || {
    tail -n 20 "$RUN_DIR/workload.log" >&2
    die "the workload wrote no summary (exit status $status)"
  }
}

# "phase NAME FAILED" per phase, then "total NAME VALUE", from the workload's JSON summary.
summary_lines() {
  python3 - "$RUN_DIR/summary.json" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1], encoding="utf-8"))
for phase in summary["phases"]:
    print("phase", phase["name"], phase["failed"])
for name, value in summary["totals"].items():
    print("total", name, value)
print("total verified", 1 if summary["verified"] else 0)
PY
}

verdict() {
  local kind name value reasons=() crash_failed="n/a" restart_failed="n/a"
  while read -r kind name value; do
    if [[ $kind == phase ]]; then
      case "$name" in
        master-crash)
          crash_failed=$value
          ((value <= CLIENTS)) || reasons+=("master-crash: $value failed ops > $CLIENTS clients")
          ;;
        restart-as-replica) restart_failed=$value ;;
        *) ((value == 0)) || reasons+=("$name: $value failed ops") ;;
      esac
    else
      case "$name" in
        lost | duplicated | transaction_mismatches | stale_reads | direct_differences | keys_unreadable)
          ((value == 0)) || reasons+=("$name: $value") ;;
        verified) ((value == 1)) || reasons+=("the workload could not verify the run (see PROBLEM lines)") ;;
      esac
    fi
  done < <(summary_lines)
  echo
  echo "Cluster changes:"
  printf '  %s\n' "${EVENTS[@]}"
  echo
  if ((${#reasons[@]} == 0)); then
    echo "VERDICT: PASS — 0 lost, 0 duplicated, 0 transaction mismatches, 0 stale reads;" \
      "0 failed ops in steady, reshard, scale-out-in and manual-failover;" \
      "master-crash $crash_failed failed ops (limit $CLIENTS, one per client);" \
      "restart-as-replica $restart_failed failed ops (not judged)"
    return 0
  fi
  local joined
  joined=$(printf '%s; ' "${reasons[@]}")
  echo "VERDICT: FAIL — ${joined%; }"
  return 1
}

main() {
  parse_args "$@"
  cd "$ROOT"
  # shellcheck source=ensure-deps.sh
  source "$ROOT/deploy/ensure-deps.sh"
  check_ports_free
  build_release
  slotgate_run_begin chaos stop_processes
  log "files in $RUN_DIR"
  slotgate_run_start_cluster "$BASE_PORT" --node-timeout "$NODE_TIMEOUT_MS"
  start_proxy
  STEADY_COUNT=1
  set_phase steady-1
  start_workload
  sleep "$SETTLE_S"
  check_alive
  phase_reshard
  settle
  phase_scale_out_in
  settle
  phase_manual_failover
  settle
  phase_master_crash
  settle
  phase_restart_as_replica
  settle
  stop_and_collect
  verdict
}

main "$@"; exit
