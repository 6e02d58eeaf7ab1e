#!/usr/bin/env bash
# run.sh — build Slotgate and run it in the foreground in front of a local
# 6-node Redis Cluster (README "command 1").
#
# Usage:
#   bash deploy/run.sh [extra slotgate args...]      # e.g. --log-level debug
#   KEEP_CLUSTER=1 bash deploy/run.sh                # leave the cluster running
#
# Steps: installs missing system packages, `swift build -c release --product
# slotgate`, starts the cluster on 127.0.0.1:7000-7005 (deploy/local-cluster.sh),
# then runs slotgate on 127.0.0.1:7777 until it exits or Ctrl-C / SIGTERM.
# On exit the cluster is stopped unless KEEP_CLUSTER=1. Works from any cwd.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL_CLUSTER="$ROOT/deploy/local-cluster.sh"
PROXY_PORT=7777
CLUSTER_BASE=7000
PROXY_STOP_TIMEOUT_S=5
PROXY_PID=""

log() { echo "run: $*" >&2; }

# True if a non-TIME-WAIT TCP socket uses PORT locally (listener or connection).
port_in_use() {
  ss -Htan "sport = :$1" 2>/dev/null | awk '$1 != "TIME-WAIT" { found = 1 } END { exit !found }'
}

build_release() {
  log "building slotgate (release)..."
  swift build -c release --product slotgate
  local bin
  bin="$(swift build -c release --show-bin-path)/slotgate"
  [[ -x "$bin" ]] || { log "error: built binary not found at $bin"; exit 1; }
  PROXY_BIN=$bin
}

# SIGTERM the proxy we started, SIGKILL it if it lingers past the timeout.
# shellcheck disable=SC2317  # reached via traps
stop_proxy() {
  slotgate_stop_process "$PROXY_PID" "$PROXY_STOP_TIMEOUT_S"
  PROXY_PID=""
}

# shellcheck disable=SC2317  # reached via traps
cleanup() {
  trap - EXIT INT TERM
  stop_proxy
  if [[ "${KEEP_CLUSTER:-0}" == 1 ]]; then
    log "KEEP_CLUSTER=1: cluster left running; stop it with: $LOCAL_CLUSTER stop"
  else
    "$LOCAL_CLUSTER" stop --base-port "$CLUSTER_BASE" >&2 || true
  fi
}

# shellcheck disable=SC2317  # reached via traps
on_signal() {
  log "got SIG$1, shutting down"
  stop_proxy
  [[ "$1" == INT ]] && exit 130
  exit 143
}

main() {
  cd "$ROOT"
  # shellcheck source=ensure-deps.sh
  source "$ROOT/deploy/ensure-deps.sh"
  slotgate_require_swift
  if port_in_use "$PROXY_PORT"; then
    log "error: port $PROXY_PORT is already in use (is another run.sh or slotgate running?)"
    exit 1
  fi
  build_release
  trap cleanup EXIT
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  "$LOCAL_CLUSTER" start --base-port "$CLUSTER_BASE"
  echo "Slotgate on 127.0.0.1:$PROXY_PORT in front of 127.0.0.1:$CLUSTER_BASE-$((CLUSTER_BASE + 5))" \
    "— try: redis-cli -p $PROXY_PORT set user:42 alice"
  # Run in the background and wait, so that our INT/TERM traps fire at once.
  "$PROXY_BIN" --port "$PROXY_PORT" \
    --cluster "127.0.0.1:$CLUSTER_BASE" \
    --cluster "127.0.0.1:$((CLUSTER_BASE + 1))" \
    --cluster "127.0.0.1:$((CLUSTER_BASE + 2))" "$@" &
  PROXY_PID=$!
  local status=0
  wait "$PROXY_PID" || status=$?
  PROXY_PID=""
  log "slotgate exited with status $status"
  exit "$status"
}

main "$@"; exit
