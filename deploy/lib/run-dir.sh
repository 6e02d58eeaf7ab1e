# shellcheck shell=bash
# run-dir.sh — the run dir and the throw-away cluster of a one-shot deploy script that
# starts its own cluster and slotgate (bench.sh, chaos.sh), and their removal on exit.
#
# Usage (sourced; only defines functions, changes no shell option):
#   source "$ROOT/deploy/lib/run-dir.sh"
#   slotgate_run_begin NAME STOP
#       trap EXIT (INT exits 130, TERM 143) to: run STOP, the caller's function that stops
#       the processes it started (by PID); stop the cluster below if one was started; remove
#       RUN_DIR when the exit status is 0, else log that its files are kept; exit with that
#       status. Then set RUN_DIR to a new ${TMPDIR:-/tmp}/slotgate-NAME.XXXXXX dir.
#   slotgate_run_start_cluster BASE_PORT [ARG...]
#       deploy/local-cluster.sh start --base-port BASE_PORT --dir $RUN_DIR/cluster ARG...
#       (its output to stderr)
#
# RUN_DIR is the caller's global ("" until slotgate_run_begin); messages go through the
# caller's log function.

SLOTGATE_LOCAL_CLUSTER="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/local-cluster.sh"
SLOTGATE_RUN_CLUSTER_PORT=""

slotgate_run_begin() {
  local name=$1 stop=$2
  # shellcheck disable=SC2064  # the STOP function's name is fixed now
  trap "slotgate_run_cleanup $stop" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/slotgate-$name.XXXXXX")
}

slotgate_run_start_cluster() {
  local base_port=$1
  shift
  # Recorded first, so that a start that fails half-way is still stopped on exit.
  SLOTGATE_RUN_CLUSTER_PORT=$base_port
  "$SLOTGATE_LOCAL_CLUSTER" start --base-port "$base_port" --dir "$RUN_DIR/cluster" "$@" >&2
}

# slotgate_run_cleanup STOP: the EXIT trap of slotgate_run_begin.
# shellcheck disable=SC2317  # reached via the EXIT trap
slotgate_run_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  "$1"
  if [[ -n "$SLOTGATE_RUN_CLUSTER_PORT" ]]; then
    "$SLOTGATE_LOCAL_CLUSTER" stop --base-port "$SLOTGATE_RUN_CLUSTER_PORT" --dir "$RUN_DIR/cluster" >&2 || true
  fi
  if [[ -n "${RUN_DIR:-}" ]]; then
    if ((status == 0)); then rm -rf -- "$RUN_DIR"; else log "files kept in $RUN_DIR"; fi
  fi
  exit "$status"
}
