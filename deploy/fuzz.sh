#!/usr/bin/env bash
# fuzz.sh — build Slotgate's libFuzzer targets and run each for a bounded time.
#
# Usage:
#   bash deploy/fuzz.sh [--seconds N] [--targets LIST] [--work-dir DIR] [--update-corpus]
#
#   --seconds N       how long each target runs (default 600)
#   --targets LIST    comma list of targets to run (default: all), from:
#                       FuzzRequestDecoder  client requests (RESP multibulk and inline)
#                       FuzzInlineCommand   inline command lines (quoting, escapes)
#                       FuzzReplyFramer     node replies (RESP2 through hiredis, RESP3)
#                       FuzzConfiguration   configuration files
#   --work-dir DIR    where each target's corpus, crash inputs and log go (default: a new
#                     directory under ${TMPDIR:-/tmp}); DIR/TARGET/{corpus,crashes,fuzz.log}
#   --update-corpus   afterwards, add the inputs that found new coverage to the seed corpus in
#                     Tests/FuzzCorpus/TARGET (libFuzzer -merge=1); without it the repository's
#                     corpus is only read, never written
#   -h, --help        print this text
#
# The targets are declared in Package.swift only when SLOTGATE_FUZZ is set, and built with
#   SLOTGATE_FUZZ=1 swift build --scratch-path .build-fuzz -c debug \
#     -Xswiftc -sanitize=fuzzer,address --product TARGET
# (incremental, so a second run rebuilds nothing). Debug, because a target (FuzzInlineCommand) reaches an internal
# parser with @testable import, which only debug builds allow. Each target starts from a copy
# of its seed corpus, Tests/FuzzCorpus/TARGET. Prints per target the executions, executions per second,
# coverage (cov: edges, ft: features, from libFuzzer's last status line) and crash inputs found.
# Exits 1 if any target crashed (or failed to build or start).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALL_TARGETS=(FuzzRequestDecoder FuzzInlineCommand FuzzReplyFramer FuzzConfiguration)
SECONDS_PER_TARGET=600
TARGETS=("${ALL_TARGETS[@]}")
WORK_DIR=""
UPDATE_CORPUS=0

log() { echo "fuzz: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
  exit 2
}

parse_args() {
  while (($#)); do
    case "$1" in
      --seconds) (($# >= 2)) || usage; SECONDS_PER_TARGET=$2; shift ;;
      --seconds=*) SECONDS_PER_TARGET=${1#*=} ;;
      --targets) (($# >= 2)) || usage; IFS=, read -r -a TARGETS <<<"$2"; shift ;;
      --targets=*) IFS=, read -r -a TARGETS <<<"${1#*=}" ;;
      --work-dir) (($# >= 2)) || usage; WORK_DIR=$2; shift ;;
      --work-dir=*) WORK_DIR=${1#*=} ;;
      --update-corpus) UPDATE_CORPUS=1 ;;
      -h|--help) usage ;;
      *) log "unknown argument: $1"; usage ;;
    esac
    shift
  done
  [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]] || die "--seconds must be a positive whole number, got '$SECONDS_PER_TARGET'"
  local target
  for target in "${TARGETS[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $target "* ]] || die "unknown target '$target' (known: ${ALL_TARGETS[*]})"
  done
  if [[ -z "$WORK_DIR" ]]; then
    WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/slotgate-fuzz.XXXXXX")
  fi
  mkdir -p "$WORK_DIR"
  WORK_DIR=$(cd "$WORK_DIR" && pwd)
}

# The longest input libFuzzer generates for TARGET: room for a few pipelined requests or
# replies, or a whole configuration file, and no more, so that executions stay fast.
max_len() {
  case "$1" in
    FuzzInlineCommand) echo 1024 ;;
    *) echo 4096 ;;
  esac
}

# build TARGET: build (or bring up to date) one fuzz target; its log goes to the work dir.
build() {
  local target=$1 build_log="$WORK_DIR/$1/build.log"
  log "building $target (log: $build_log)"
  if ! (cd "$ROOT" && SLOTGATE_FUZZ=1 swift build --scratch-path "$ROOT/.build-fuzz" -c debug \
    -Xswiftc -sanitize=fuzzer,address --product "$target") >"$build_log" 2>&1; then
    grep -E 'error:' "$build_log" | grep -v 'Cannot export local symbol' | tail -n 20 >&2 || true
    return 1
  fi
}

# run TARGET: fuzz it for SECONDS_PER_TARGET from a copy of its seed corpus; print its figures.
# Returns 1 if it crashed.
run() {
  local target=$1 dir="$WORK_DIR/$1" binary status=0
  binary="$ROOT/.build-fuzz/debug/$target"
  mkdir -p "$dir/corpus" "$dir/crashes"
  cp -n "$ROOT/Tests/FuzzCorpus/$target/"* "$dir/corpus/"
  log "running $target for ${SECONDS_PER_TARGET}s (log: $dir/fuzz.log)"
  # libFuzzer writes crash inputs to the artifact prefix and new inputs to the first corpus dir.
  (cd "$dir" && "$binary" -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$target")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/crashes/" \
    "$dir/corpus") >"$dir/fuzz.log" 2>&1 || status=$?
  report "$target" "$dir" "$status"
  if ((UPDATE_CORPUS)); then
    log "merging new inputs of $target into Tests/FuzzCorpus/$target"
    "$binary" -merge=1 -max_len="$(max_len "$target")" "$ROOT/Tests/FuzzCorpus/$target" "$dir/corpus" >>"$dir/merge.log" 2>&1
  fi
  ((status == 0)) && [[ -z "$(ls -A "$dir/crashes")" ]]
}

# report TARGET DIR STATUS: one summary line from libFuzzer's log in DIR, then any crash inputs.
report() {
  local target=$1 dir=$2 status=$3 execs rate cov ft crashes
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz.log" | tail -n 1)
  cov=$(grep -o ' cov: [0-9]*' "$dir/fuzz.log" | tail -n 1 | grep -o '[0-9]*' || true)
  ft=$(grep -o ' ft: [0-9]*' "$dir/fuzz.log" | tail -n 1 | grep -o '[0-9]*' || true)
  crashes=$(find "$dir/crashes" -type f | wc -l)
  printf '%-20s execs=%s exec/s=%s cov=%s ft=%s crashes=%s exit=%s\n' \
    "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes" "$status"
  if ((crashes > 0)); then
    find "$dir/crashes" -type f -printf '  crash input: %p\n'
  fi
  if ((status != 0)); then
    grep -m 1 -E '^(==[0-9]+==ERROR|Fatal error|.*Precondition failed|SUMMARY)' "$dir/fuzz.log" | sed 's/^/  /' || true
  fi
}

main() {
  parse_args "$@"
  # shellcheck source=ensure-deps.sh
  source "$ROOT/deploy/ensure-deps.sh"
  slotgate_require_swift
  local target failed=0
  for target in "${TARGETS[@]}"; do
    mkdir -p "$WORK_DIR/$target"
    build "$target" || die "building $target failed"
  done
  log "work dir: $WORK_DIR"
  for target in "${TARGETS[@]}"; do
    run "$target" || failed=1
  done
  if ((failed)); then
    log "FAIL: at least one target crashed; crash inputs are listed above"
    exit 1
  fi
  log "no crashes"
}

main "$@"
