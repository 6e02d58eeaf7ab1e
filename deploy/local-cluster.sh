#!/usr/bin/env bash
# local-cluster.sh — run a throw-away 6-node Redis Cluster (3 masters, 3 replicas)
# on 127.0.0.1 for development, the Swift integration tests and benchmarks.
#
# Usage:
#   deploy/local-cluster.sh start|stop|status [--base-port N] [--dir DIR] [--node-timeout MS]
#                          [--tls CERT_DIR]
#
#   --base-port N      nodes listen on N..N+5, cluster bus on N+10000..N+10005
#                      (default 7000)
#   --dir DIR          working dir, one sub-dir per node (default
#                      ${TMPDIR:-/tmp}/slotgate-cluster-N)
#   --node-timeout MS  cluster-node-timeout of every node (default 5000)
#   --tls CERT_DIR     the nodes speak only TLS on their ports, the cluster bus and
#                      replication too (Redis's tls-port, tls-cluster, tls-replication),
#                      with CERT_DIR/ca.crt, server.crt and server.key (also the client
#                      certificate this script's redis-cli shows). Give it to stop and
#                      status as well.
#
#   start   idempotent: if the 6 nodes of DIR already run and the cluster is
#           healthy, does nothing. Otherwise stops this DIR's own nodes, wipes
#           their sub-dirs, starts 6 fresh nodes, creates the cluster and waits
#           until all nodes agree on it. On failure stops what it started and
#           exits 1.
#   stop    SIGTERM (then SIGKILL after ~5 s) to the PIDs in DIR's pidfiles
#           only, then removes the node sub-dirs (and DIR when left empty).
#           Exit 0 also when nothing runs.
#   status  one line per node: port, pid, alive, role, cluster_state.
#           Exit 0 when all 6 nodes are alive with cluster_state ok, else 1.
#
# Never reads stdin, never prompts. Several clusters can run at once with
# different base ports and dirs. Env: CLUSTER_READY_TIMEOUT (seconds to wait
# for the cluster to converge after creation, default 30).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/cluster-node.sh
source "$SCRIPT_DIR/lib/cluster-node.sh"
NODE_COUNT=6
PING_TIMEOUT_S=10
READY_TIMEOUT_S=${CLUSTER_READY_TIMEOUT:-30}
STOP_TIMEOUT_S=5
MARKER=.slotgate-cluster

BASE_PORT=7000
CLUSTER_DIR=""
NODE_TIMEOUT_MS=5000
COMMAND=""
TLS_DIR=""
# redis-cli's TLS options, when the nodes speak TLS.
TLS_ARGS=()

log() { echo "local-cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  echo "usage: $0 start|stop|status [--base-port N] [--dir DIR] [--node-timeout MS] [--tls CERT_DIR]" >&2
  exit 2
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

parse_args() {
  while (($#)); do
    case "$1" in
      start|stop|status) COMMAND=$1 ;;
      --base-port) (($# >= 2)) || usage; BASE_PORT=$2; shift ;;
      --base-port=*) BASE_PORT=${1#*=} ;;
      --dir) (($# >= 2)) || usage; CLUSTER_DIR=$2; shift ;;
      --dir=*) CLUSTER_DIR=${1#*=} ;;
      --node-timeout) (($# >= 2)) || usage; NODE_TIMEOUT_MS=$2; shift ;;
      --node-timeout=*) NODE_TIMEOUT_MS=${1#*=} ;;
      --tls) (($# >= 2)) || usage; TLS_DIR=$2; shift ;;
      --tls=*) TLS_DIR=${1#*=} ;;
      -h|--help) usage ;;
      *) log "unknown argument: $1"; usage ;;
    esac
    shift
  done
  [[ -n "$COMMAND" ]] || usage
  is_uint "$BASE_PORT" || die "--base-port must be a number, got '$BASE_PORT'"
  # The cluster bus port of the last node is BASE+5+10000 and must be valid.
  ((BASE_PORT >= 1024 && BASE_PORT + NODE_COUNT - 1 + 10000 <= 65535)) ||
    die "--base-port must be in 1024..$((65535 - 10000 - NODE_COUNT + 1))"
  if ! is_uint "$NODE_TIMEOUT_MS" || ((NODE_TIMEOUT_MS == 0)); then
    die "--node-timeout must be a positive number of milliseconds"
  fi
  CLUSTER_DIR=${CLUSTER_DIR:-${TMPDIR:-/tmp}/slotgate-cluster-$BASE_PORT}
  # Absolute, symlink-free path: redis chdirs into it and /proc/PID/cwd shows it so.
  CLUSTER_DIR=$(realpath -m -- "$CLUSTER_DIR")
  [[ "$CLUSTER_DIR" != / ]] || die "--dir must not be /"
  if [[ -n "$TLS_DIR" ]]; then
    TLS_DIR=$(realpath -m -- "$TLS_DIR")
    local file
    for file in ca.crt server.crt server.key; do
      [[ -r "$TLS_DIR/$file" ]] || die "--tls: $TLS_DIR/$file is missing"
    done
    TLS_ARGS=(--tls --cacert "$TLS_DIR/ca.crt" --cert "$TLS_DIR/server.crt" --key "$TLS_DIR/server.key")
  fi
}

ports() { seq "$BASE_PORT" $((BASE_PORT + NODE_COUNT - 1)); }
node_dir() { echo "$CLUSTER_DIR/$1"; }

# redis-cli against one local node; bounded so a hung node cannot block us.
rcli() {
  local port=$1; shift
  timeout 3 redis-cli -h 127.0.0.1 -p "$port" ${TLS_ARGS[@]+"${TLS_ARGS[@]}"} "$@" </dev/null 2>/dev/null | tr -d '\r'
}

# PID of a node's live redis-server (checked against its dir, so a recycled PID
# is never mistaken for ours); exit 1 when there is none.
node_pid() { slotgate_node_pid "$(node_dir "$1")"; }

# Value of one "field:value" line of an INFO-style reply:
# info_field PORT FIELD COMMAND...
info_field() {
  local port=$1 field=$2
  shift 2
  rcli "$port" "$@" | sed -n "s/^$field://p"
}

# True if a TCP socket other than a TIME-WAIT one uses 127.0.0.1:PORT or *:PORT
# locally: a listener, or the local end of a connection (an ephemeral port),
# either of which makes redis fail to bind it.
port_in_use() {
  ss -Htan "sport = :$1" 2>/dev/null | awk '$1 != "TIME-WAIT" { found = 1 } END { exit !found }'
}

# ephemeral_hint PORT...: if any PORT lies in the kernel's ephemeral port range
# (where outgoing connections take their local ports), say how to avoid it.
ephemeral_hint() {
  local lo hi p
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || return 0
  for p in "$@"; do
    if ((p >= lo && p <= hi)); then
      log "hint: port $p is in the ephemeral range $lo-$hi, where it can be taken by any" \
        "outgoing connection; prefer a --base-port whose ports and bus ports (+10000)" \
        "avoid it (e.g. 10000..22700)"
      return 0
    fi
  done
}

check_ports_free() {
  local port p
  for port in $(ports); do
    for p in "$port" $((port + 10000)); do
      if port_in_use "$p"; then
        log "error: port $p is already in use (another cluster, a redis, or a connection's local port)"
        ephemeral_hint "$p"
        exit 1
      fi
    done
  done
}

# Send SIGTERM to this dir's live nodes, wait, then SIGKILL the stragglers.
STOPPED_COUNT=0
stop_nodes() {
  local port pid pids=() deadline
  for port in $(ports); do
    pid=$(node_pid "$port") && pids+=("$pid")
  done
  STOPPED_COUNT=${#pids[@]}
  ((STOPPED_COUNT)) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    any_alive "${pids[@]}" || return 0
    sleep 0.1
  done
  log "nodes still alive after ${STOP_TIMEOUT_S}s, sending SIGKILL"
  kill -KILL "${pids[@]}" 2>/dev/null || true
  sleep 0.2
}

any_alive() {
  local pid
  for pid in "$@"; do
    kill -0 "$pid" 2>/dev/null && return 0
  done
  return 1
}

# Remove only what this script creates; DIR itself only if that leaves it empty.
wipe_dir() {
  local port
  for port in $(ports); do
    rm -rf -- "$(node_dir "$port")"
  done
  rm -f -- "$CLUSTER_DIR/$MARKER" "$CLUSTER_DIR/cluster-create.log"
  rmdir -- "$CLUSTER_DIR" 2>/dev/null || true
}

# Each node's redis.conf and redis-server come from lib/cluster-node.sh (shared
# with chaos.sh's extra node); the server daemonizes with none of our descriptors.
start_nodes() {
  local port dir
  for port in $(ports); do
    dir=$(node_dir "$port")
    slotgate_write_node_conf "$port" "$dir" "$NODE_TIMEOUT_MS" "$TLS_DIR"
    slotgate_start_node "$dir" || fail "redis-server on port $port did not start"
  done
}

wait_for_ping() {
  local port deadline=$((SECONDS + PING_TIMEOUT_S))
  for port in $(ports); do
    until [[ "$(rcli "$port" ping)" == PONG ]]; do
      ((SECONDS < deadline)) || fail "node $port did not answer PING within ${PING_TIMEOUT_S}s"
      sleep 0.1
    done
  done
}

create_cluster() {
  local addrs=() port
  for port in $(ports); do addrs+=("127.0.0.1:$port"); done
  timeout 60 redis-cli ${TLS_ARGS[@]+"${TLS_ARGS[@]}"} --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
    </dev/null >"$CLUSTER_DIR/cluster-create.log" 2>&1 ||
    fail "redis-cli --cluster create failed (see $CLUSTER_DIR/cluster-create.log)"
}

# One node's view of the topology, independent of which node is asked:
# "addr role master-id slots..." per node, sorted. Empty if any node looks
# unhealthy from there (failing, handshaking, disconnected).
topology_view() {
  rcli "$1" cluster nodes | awk '
    {
      addr = $2; sub(/@.*/, "", addr)
      flags = $3
      if (flags ~ /fail|handshake|noaddr/ || $8 != "connected") { bad = 1 }
      role = (flags ~ /master/) ? "master" : "replica"
      line = addr " " role " " $4
      for (i = 9; i <= NF; i++) line = line " " $i
      print line
    }
    END { if (bad) print "UNHEALTHY" }' | sort
}

# Healthy = every node: cluster_state ok, all slots ok, 6 known nodes, the same
# topology view with 3 masters; every replica's link to its master up.
cluster_healthy() {
  local port first="" view info masters=0
  for port in $(ports); do
    info=$(rcli "$port" cluster info)
    grep -qx 'cluster_state:ok' <<<"$info" || return 1
    grep -qx 'cluster_slots_ok:16384' <<<"$info" || return 1
    grep -qx "cluster_known_nodes:$NODE_COUNT" <<<"$info" || return 1
    view=$(topology_view "$port")
    [[ -n "$view" && "$view" != *UNHEALTHY* ]] || return 1
    if [[ -z "$first" ]]; then first=$view; elif [[ "$view" != "$first" ]]; then return 1; fi
    case "$(info_field "$port" role info replication)" in
      master) masters=$((masters + 1)) ;;
      slave) [[ "$(info_field "$port" master_link_status info replication)" == up ]] || return 1 ;;
      *) return 1 ;;
    esac
  done
  ((masters == NODE_COUNT / 2))
}

wait_for_healthy() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until cluster_healthy; do
    if ((SECONDS >= deadline)); then
      cmd_status >&2 || true
      fail "cluster not healthy within ${READY_TIMEOUT_S}s"
    fi
    sleep 0.2
  done
}

all_nodes_alive() {
  local port
  for port in $(ports); do
    node_pid "$port" >/dev/null || return 1
  done
}

# Failure during start: show what the nodes said, stop them, exit 1.
fail() {
  log "error: $*"
  local port f
  for port in $(ports); do
    f="$(node_dir "$port")/redis.log"
    [[ -s "$f" ]] || continue
    log "--- $f (last lines)"
    grep -v 'overcommit' "$f" | tail -n 3 >&2 || true
  done
  if [[ -s "$CLUSTER_DIR/cluster-create.log" ]]; then
    log "--- $CLUSTER_DIR/cluster-create.log (last lines)"
    tail -n 15 "$CLUSTER_DIR/cluster-create.log" >&2
  fi
  if grep -qs 'Address already in use' "$CLUSTER_DIR"/*/redis.log; then
    # shellcheck disable=SC2046  # one port per word
    ephemeral_hint $(ports) $(ports | awk '{ print $1 + 10000 }')
  fi
  stop_nodes
  log "stopped the nodes of $CLUSTER_DIR (logs kept there; 'stop' removes them)"
  exit 1
}

summary() {
  echo "local-cluster: $1 on 127.0.0.1:$BASE_PORT-$((BASE_PORT + NODE_COUNT - 1))" \
    "(3 masters + 3 replicas, bus +10000), dir $CLUSTER_DIR"
}

cmd_start() {
  # shellcheck source=ensure-deps.sh
  source "$SCRIPT_DIR/ensure-deps.sh"
  if all_nodes_alive && cluster_healthy; then
    summary "already running"
    return 0
  fi
  stop_nodes
  wipe_dir
  check_ports_free
  mkdir -p "$CLUSTER_DIR"
  touch "$CLUSTER_DIR/$MARKER"
  local t0=$SECONDS
  start_nodes
  wait_for_ping
  create_cluster
  wait_for_healthy
  summary "ready in $((SECONDS - t0))s"
}

cmd_stop() {
  if [[ ! -d "$CLUSTER_DIR" ]]; then
    echo "local-cluster: nothing to stop ($CLUSTER_DIR does not exist)"
    return 0
  fi
  stop_nodes
  wipe_dir
  echo "local-cluster: stopped $STOPPED_COUNT running node(s), cleaned up $CLUSTER_DIR"
}

cmd_status() {
  local port pid alive role state healthy=0
  printf '%-6s %-8s %-6s %-8s %s\n' port pid alive role cluster_state
  for port in $(ports); do
    role=- state=- alive=no
    if pid=$(node_pid "$port"); then
      alive=yes
      role=$(info_field "$port" role info replication)
      state=$(info_field "$port" cluster_state cluster info)
      [[ "$state" == ok ]] || healthy=1
    else
      pid=- healthy=1
    fi
    printf '%-6s %-8s %-6s %-8s %s\n' "$port" "$pid" "$alive" "${role:--}" "${state:--}"
  done
  echo "dir: $CLUSTER_DIR"
  return "$healthy"
}

main() {
  parse_args "$@"
  case "$COMMAND" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
  esac
}

main "$@"; exit
