#!/usr/bin/env bash
# test.sh — build and run Slotgate's test suite (README "command 2").
#
# Usage:
#   bash deploy/test.sh [extra `swift test` args...]   # e.g. --filter RespParser
#
# Installs missing system packages, then from the repo root runs
# `swift build --build-tests` and `swift test`, and exits with swift test's
# status. The integration tests start their own Redis Clusters through
# deploy/local-cluster.sh. Works from any cwd.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

main() {
  cd "$ROOT"
  "$ROOT/deploy/check-unit.sh" # the systemd unit: verify + security score (skipped without systemd-analyze)
  # shellcheck source=ensure-deps.sh
  source "$ROOT/deploy/ensure-deps.sh"
  slotgate_require_swift
  swift build --build-tests
  local started status=0
  started=$(mktemp)
  swift test "$@" || status=$?
  stop_leftover_test_clusters "$started"
  rm -f "$started"
  return "$status"
}

# The tests stop their clusters themselves; a test process that crashed cannot. Any test
# cluster dir made during this run (newer than the marker) is stopped here, by its own pidfiles.
stop_leftover_test_clusters() {
  local marker=$1 dir base
  for dir in "${TMPDIR:-/tmp}"/slotgate-test-*; do
    [[ -d "$dir" && "$dir" -nt "$marker" ]] || continue
    base=${dir##*-}
    [[ "$base" =~ ^[0-9]+$ ]] || continue
    echo "test: stopping leftover test cluster $dir" >&2
    "$ROOT/deploy/local-cluster.sh" stop --base-port "$base" --dir "$dir" >&2 || true
  done
}

main "$@"; exit
