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
  # shellcheck source=ensure-deps.sh
  source "$ROOT/deploy/ensure-deps.sh"
  slotgate_require_swift
  swift build --build-tests
  exec swift test "$@"
}

main "$@"
