#!/usr/bin/env bash
# redis-suite.sh — Redis's own TCL test suite, in its external-server mode, against Slotgate in
# front of a fresh 3-master + 3-replica cluster (or, with --standalone, against one plain
# redis-server, to have the figure Slotgate is measured against). It takes minutes; CI does not
# run it.
#
# Usage:
#   bash deploy/redis-suite.sh [--units LIST] [--standalone] [--threads N] [--base-port N]
#                              [--proxy-port N] [--suite-dir DIR] [--unit-timeout S]
#
#   --units LIST       comma list of units, as runtest names them without "unit/" (default:
#                      type/list,type/set,type/zset,type/hash,type/string,type/incr,multi,
#                      pubsub,scripting,type/stream)
#   --standalone       run the units against a standalone redis-server on --proxy-port instead
#   --threads N        slotgate's event loops (default 1). The suite expects one server's order
#                      between its connections: a command sent on one connection right after
#                      another's reaches one Redis after it. Two clients on different event loops
#                      reach the node in either order, so with more loops the blocking tests race.
#   --base-port N      cluster nodes on N..N+5, bus ports +10000 (default 7400)
#   --proxy-port N     port of slotgate, or of the standalone server (default 7499)
#   --suite-dir DIR    where the suite lives or is unpacked (default ${TMPDIR:-/tmp}/redis-suite)
#   --unit-timeout S   limit on each unit's run in seconds (default 600)
#   -h, --help         print this text
#
# The suite: the source of the installed redis-server's Debian package holds runtest and
# tests/. When DIR/tests/test_helper.tcl is missing, that source is downloaded with
# `apt-get source --download-only`, through a deb-src list and package lists kept in a
# directory of this script's own (the system's apt sources are not changed), and its
# upstream tarball is unpacked into DIR. tclsh (Debian's tcl) is installed if missing.
#
# Each unit runs (with TERM=dumb, so runtest writes plain [ok]/[err] markers) as
#   ./runtest --host 127.0.0.1 --port PORT --cluster-mode --singledb --ignore-encoding
#             --ignore-digest --durable --single unit/NAME --tags "-needs:repl -needs:debug ..."
# denying the tags of tests that need a server of their own (replication, DEBUG, SAVE,
# restarts, latency monitor, a local process, maxmemory). Between units a script left running
# by a failed test is killed and the data is flushed.
#
# Output: progress on stderr; on stdout one line per unit ("unit/type/list: 120 passed,
# 2 failed, 0 not run"), the name of each failed test, and a closing "N passed, N failed,
# N not run" line (not run: SKIPPED_THROUGH_PROXY below). A unit
# that aborts (runtest's [exception]) or times out counts as one failure more, and says so.
# Files (runtest output per unit, slotgate's log) go to a new ${TMPDIR:-/tmp}/slotgate-suite.XXXXXX
# dir, kept when a test failed. Stops only what it started, by PID. Env: SLOTGATE_BIN = an
# already built slotgate binary (skips the release build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/run-dir.sh
source "$ROOT/deploy/lib/run-dir.sh"

UNITS="type/list,type/set,type/zset,type/hash,type/string,type/incr,multi,pubsub,scripting,type/stream"
STANDALONE=0
BASE_PORT=7400
PROXY_PORT=7499
SUITE_DIR="${TMPDIR:-/tmp}/redis-suite"
UNIT_TIMEOUT_S=600
THREADS=1
DENIED_TAGS="-needs:repl -needs:debug -needs:save -needs:reset -needs:pfdebug -needs:latency -needs:local-process -needs:config-maxmemory"
READY_TIMEOUT_S=30
# Tests no cluster proxy can pass, which, failing, leave a script running that makes every later
# test of the unit fail: they wait for `-BUSY` from the one server while another master runs the
# script (README, "Redis's own test suite"). Through Slotgate they are not run, and are counted
# as not passed.
SKIPPED_THROUGH_PROXY=("/script timeout\$" "/^Timedout ")
SERVER_PID=""

log() { echo "redis-suite: $(date +%T) $*" >&2; }
die() { log "error: $*"; exit 1; }
usage_text() { awk 'NR > 1 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

parse_args() {
  while (($#)); do
    case "$1" in
      --units) UNITS=${2:?--units needs a list}; shift 2 ;;
      --standalone) STANDALONE=1; shift ;;
      --threads) THREADS=${2:?--threads needs a number}; shift 2 ;;
      --base-port) BASE_PORT=${2:?--base-port needs a port}; shift 2 ;;
      --proxy-port) PROXY_PORT=${2:?--proxy-port needs a port}; shift 2 ;;
      --suite-dir) SUITE_DIR=${2:?--suite-dir needs a dir}; shift 2 ;;
      --unit-timeout) UNIT_TIMEOUT_S=${2:?--unit-timeout needs seconds}; shift 2 ;;
      -h|--help) usage_text; exit 0 ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
  done
}

# Unpacks the installed redis-server's upstream source into SUITE_DIR unless it is there.
fetch_suite() {
  [[ -f "$SUITE_DIR/tests/test_helper.tcl" ]] && return 0
  local version apt_dir
  version=$(dpkg-query -W -f '${Version}' redis-server) || die "redis-server is not installed"
  apt_dir="$RUN_DIR/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/download"
  echo "deb-src http://deb.debian.org/debian bookworm main" >"$apt_dir/sources.list"
  echo "deb-src http://deb.debian.org/debian-security bookworm-security main" >>"$apt_dir/sources.list"
  local apt_options=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists")
  log "downloading the source of redis $version (Debian) for its test suite"
  apt-get "${apt_options[@]}" update >&2
  # The installed version, or the newest source when that one has left the archive.
  (cd "$apt_dir/download" && { apt-get "${apt_options[@]}" source --download-only "redis=$version" >&2 ||
    apt-get "${apt_options[@]}" source --download-only redis >&2; })
  local tarball
  tarball=$(find "$apt_dir/download" -name 'redis_*.orig.tar.gz' | head -n 1)
  [[ -n "$tarball" ]] || die "no upstream tarball in the downloaded source"
  mkdir -p "$SUITE_DIR"
  tar -xzf "$tarball" -C "$SUITE_DIR" --strip-components=1
  [[ -f "$SUITE_DIR/tests/test_helper.tcl" ]] || die "the source has no tests/test_helper.tcl"
}

ensure_tools() {
  # shellcheck source=ensure-deps.sh
  source "$ROOT/deploy/ensure-deps.sh"
  command -v tclsh >/dev/null 2>&1 || slotgate_apt_install tcl
  command -v tclsh >/dev/null 2>&1 || die "tclsh is missing and could not be installed"
}

wait_until_serving() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until [[ "$(redis-cli -p "$PROXY_PORT" set redis-suite:probe 1 2>/dev/null)" == OK ]]; do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$RUN_DIR/server.log" >&2; die "the server under test exited"; }
    ((SECONDS < deadline)) || die "the server under test did not serve within ${READY_TIMEOUT_S}s"
    sleep 0.2
  done
}

start_server_under_test() {
  if ((STANDALONE)); then
    log "starting a standalone redis-server on 127.0.0.1:$PROXY_PORT"
    redis-server --port "$PROXY_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$RUN_DIR" \
      </dev/null >"$RUN_DIR/server.log" 2>&1 &
  else
    slotgate_run_start_cluster "$BASE_PORT"
    local binary=${SLOTGATE_BIN:-}
    if [[ -z "$binary" ]]; then
      log "building slotgate (release)"
      (cd "$ROOT" && swift build -c release --product slotgate >&2)
      binary="$ROOT/.build/release/slotgate"
    fi
    printf 'port %s\nadmin-port 0\nthreads %s\ncluster 127.0.0.1:%s 127.0.0.1:%s\n' "$PROXY_PORT" "$THREADS" "$BASE_PORT" \
      "$((BASE_PORT + 1))" >"$RUN_DIR/proxy.conf"
    log "starting slotgate on 127.0.0.1:$PROXY_PORT"
    "$binary" --config "$RUN_DIR/proxy.conf" </dev/null >"$RUN_DIR/server.log" 2>&1 &
  fi
  SERVER_PID=$!
  wait_until_serving
}

stop_server_under_test() {
  slotgate_stop_process "$SERVER_PID"
  SERVER_PID=""
}

# Runs one unit; prints its line and failed tests; adds to the totals.
run_unit() {
  local unit=$1 output="$RUN_DIR/unit-${1//\//-}.log" status=0 skip_options=() pattern
  if ((!STANDALONE)); then
    for pattern in "${SKIPPED_THROUGH_PROXY[@]}"; do skip_options+=(--skiptest "$pattern"); done
  fi
  # A unit whose test failed half-way may leave a script running; it would fail every unit after.
  redis-cli -p "$PROXY_PORT" script kill >/dev/null 2>&1 || true
  redis-cli -p "$PROXY_PORT" function kill >/dev/null 2>&1 || true
  redis-cli -p "$PROXY_PORT" flushall >/dev/null
  log "unit/$unit"
  (cd "$SUITE_DIR" && TERM=dumb timeout "$UNIT_TIMEOUT_S" ./runtest --host 127.0.0.1 --port "$PROXY_PORT" --cluster-mode --singledb \
    --ignore-encoding --ignore-digest --durable --single "unit/$unit" --tags "$DENIED_TAGS" "${skip_options[@]}" \
    </dev/null >"$output" 2>&1) || status=$?
  local passed failed skipped aborted=""
  passed=$(grep -c '^\[ok\]:' "$output" || true)
  failed=$(grep -c '^\[err\]:' "$output" || true)
  skipped=$(grep -c '^\[skip\]:' "$output" || true)
  if grep -q '^\[exception\]:' "$output"; then
    aborted=" (aborted: $(grep -m 1 '^\[exception\]:' "$output" | cut -c 1-160))"
    failed=$((failed + 1))
  elif ((status == 124)); then
    aborted=" (timed out after ${UNIT_TIMEOUT_S}s)"
    failed=$((failed + 1))
  fi
  echo "unit/$unit: $passed passed, $failed failed, $skipped not run$aborted"
  grep '^\[err\]:' "$output" | sed 's/^/  /' || true
  TOTAL_PASSED=$((TOTAL_PASSED + passed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
}

main() {
  parse_args "$@"
  slotgate_run_begin suite stop_server_under_test
  ensure_tools
  fetch_suite
  start_server_under_test
  TOTAL_PASSED=0
  TOTAL_FAILED=0
  TOTAL_SKIPPED=0
  local unit
  for unit in ${UNITS//,/ }; do
    run_unit "$unit"
  done
  echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED not run"
  ((TOTAL_FAILED == 0))
}

main "$@"; exit
