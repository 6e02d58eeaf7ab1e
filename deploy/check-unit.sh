#!/usr/bin/env bash
# check-unit.sh — check deploy/slotgate.service with systemd-analyze.
#
# Usage:
#   bash deploy/check-unit.sh [--binary PATH] [--max-score N] [--unit FILE]
#
# FILE defaults to deploy/slotgate.service.
#
# 1. `systemd-analyze verify`: the unit must load with no warning at all.
#    verify also insists that ExecStart's program exists, and
#    /usr/local/bin/slotgate usually does not on a build machine. So it
#    verifies a temporary copy of the unit whose ExecStart runs PATH (e.g.
#    .build/release/slotgate) or, without --binary, /bin/true; nothing else
#    in the copy differs.
# 2. `systemd-analyze security --offline=true`: the unit file's overall
#    exposure score (0 = locked down, 10 = unprotected) is printed and must
#    be at most N (default 2.0).
#
# Exits 1 if either check fails. Where systemd-analyze is missing, or too old
# for --offline (systemd < 250), the check is skipped: it says so and exits 0.
# Needs no running systemd and no root. Works from any cwd.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UNIT="$ROOT/deploy/slotgate.service"
BINARY=/bin/true
MAX_SCORE=2.0

log() { echo "check-unit: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  echo "usage: $0 [--binary PATH] [--max-score N] [--unit FILE]" >&2
  exit 2
}

parse_args() {
  while (($#)); do
    case "$1" in
      --binary) (($# >= 2)) || usage; BINARY=$2; shift ;;
      --binary=*) BINARY=${1#*=} ;;
      --max-score) (($# >= 2)) || usage; MAX_SCORE=$2; shift ;;
      --max-score=*) MAX_SCORE=${1#*=} ;;
      --unit) (($# >= 2)) || usage; UNIT=$2; shift ;;
      --unit=*) UNIT=${1#*=} ;;
      -h|--help) usage ;;
      *) log "unknown argument: $1"; usage ;;
    esac
    shift
  done
  BINARY=$(realpath -- "$BINARY") || die "--binary: no such file"
  [[ -x "$BINARY" ]] || die "--binary $BINARY is not executable"
  [[ -f "$UNIT" ]] || die "no unit file $UNIT"
  [[ "$MAX_SCORE" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--max-score must be a number, got '$MAX_SCORE'"
}

# verify DIR: verify a copy of the unit in DIR with ExecStart's program replaced.
verify() {
  local dir=$1 copy="$1/slotgate.service" output
  sed "s|^ExecStart=/usr/local/bin/slotgate |ExecStart=$BINARY |" "$UNIT" >"$copy"
  grep -q "^ExecStart=$BINARY " "$copy" || die "no 'ExecStart=/usr/local/bin/slotgate ' line in $UNIT"
  log "systemd-analyze verify (ExecStart program: $BINARY)"
  # --man=no: the unit names no man pages. Any output at all counts as a warning.
  if ! output=$(systemd-analyze verify --man=no "$copy" 2>&1) || [[ -n "$output" ]]; then
    printf '%s\n' "$output" >&2
    log "FAIL: systemd-analyze verify reported the problems above (in a copy of $UNIT; same line numbers)"
    return 1
  fi
  log "verify: OK, no warnings"
}

# security: print the exposure score of the unit file and compare it with MAX_SCORE.
security() {
  local output score
  output=$(systemd-analyze security --no-pager --offline=true "$UNIT" 2>&1) || true
  # The last line reads: "→ Overall exposure level for slotgate.service: 1.6 OK :-)"
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' <<<"$output" | tail -n 1)
  if [[ -z "$score" ]]; then
    printf '%s\n' "$output" >&2
    log "FAIL: no overall exposure level in systemd-analyze security's output"
    return 1
  fi
  if awk -v s="$score" -v max="$MAX_SCORE" 'BEGIN { exit !(s > max) }'; then
    # Show the items that cost points, so the fix is obvious.
    grep '✗' <<<"$output" >&2 || true
    log "FAIL: exposure score $score is above $MAX_SCORE"
    return 1
  fi
  log "security: exposure score $score (at most $MAX_SCORE): OK"
}

main() {
  parse_args "$@"
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    log "SKIPPED: systemd-analyze is not installed (Debian: apt-get install systemd);" \
      "$UNIT was not checked"
    return 0
  fi
  if ! systemd-analyze --help 2>&1 | grep -q -- '--offline'; then
    log "SKIPPED: $(systemd-analyze --version | head -n 1) has no 'security --offline'" \
      "(needs systemd >= 250); $UNIT was not checked"
    return 0
  fi
  local dir status=0
  dir=$(mktemp -d "${TMPDIR:-/tmp}/slotgate-check-unit.XXXXXX")
  # shellcheck disable=SC2064  # the dir is fixed now
  trap "rm -rf -- '$dir'" EXIT
  verify "$dir" || status=1
  security || status=1
  return "$status"
}

main "$@"; exit
