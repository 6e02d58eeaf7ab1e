#!/usr/bin/env bash
# install.sh — install Slotgate as a systemd service.
#
# Usage:
#   sudo bash deploy/install.sh [--binary PATH] [--prefix DIR] [--root DIR] [--dry-run]
#
#   --binary PATH  install this slotgate binary instead of building one with
#                  `swift build -c release --product slotgate`
#   --prefix DIR   the binary goes to DIR/bin/slotgate (default /usr/local); the
#                  installed unit's ExecStart follows it
#   --root DIR     install under DIR as if it were / (a DESTDIR, e.g. for an
#                  image or a package); creates no user and runs no systemctl
#   --dry-run      say what would be done, change nothing (no root needed)
#
# Installs, idempotently:
#   PREFIX/bin/slotgate                   the release binary (replaced atomically)
#   /etc/systemd/system/slotgate.service  deploy/slotgate.service
#   /etc/slotgate/proxy.conf              from proxy.conf.example, 0640 root:slotgate,
#                                         only if absent: an operator's config is
#                                         never overwritten
#   the system user and group "slotgate"  the unit's User=/Group=
# then runs `systemctl daemon-reload` (skipped, with a message, where systemd is
# not running, as in most containers) and prints how to enable and start it.
# A real install (--root /) needs root. Works from any cwd.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICE_USER=slotgate
DEFAULT_PREFIX=/usr/local
BINARY=""
PREFIX=$DEFAULT_PREFIX
DEST=/
DRY_RUN=0

log() { echo "install: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  echo "usage: $0 [--binary PATH] [--prefix DIR] [--root DIR] [--dry-run]" >&2
  exit 2
}

parse_args() {
  while (($#)); do
    case "$1" in
      --binary) (($# >= 2)) || usage; BINARY=$2; shift ;;
      --binary=*) BINARY=${1#*=} ;;
      --prefix) (($# >= 2)) || usage; PREFIX=$2; shift ;;
      --prefix=*) PREFIX=${1#*=} ;;
      --root) (($# >= 2)) || usage; DEST=$2; shift ;;
      --root=*) DEST=${1#*=} ;;
      --dry-run) DRY_RUN=1 ;;
      -h|--help) usage ;;
      *) log "unknown argument: $1"; usage ;;
    esac
    shift
  done
  [[ "$PREFIX" == /* ]] || die "--prefix must be an absolute path, got '$PREFIX'"
  PREFIX=$(realpath -m -- "$PREFIX")
  DEST=$(realpath -m -- "$DEST")
  if [[ -n "$BINARY" ]]; then
    [[ -f "$BINARY" && -x "$BINARY" ]] || die "--binary $BINARY is not an executable file"
    BINARY=$(realpath -- "$BINARY")
  fi
}

# The path PATH (absolute, as on the target) has in the tree being installed into.
target() { if [[ "$DEST" == / ]]; then echo "$1"; else echo "$DEST$1"; fi; }

# Run a command, or only print it with --dry-run.
run() {
  if ((DRY_RUN)); then
    echo "would run:$(printf ' %q' "$@")"
  else
    "$@"
  fi
}

require_root() {
  ((DRY_RUN)) || [[ "$DEST" != / ]] || ((EUID == 0)) ||
    die "a real install needs root (it writes $PREFIX/bin, /etc/systemd/system and" \
      "/etc/slotgate, and may create the user '$SERVICE_USER'); run it with sudo," \
      "or try --dry-run, or --root DIR"
}

build_binary() {
  if [[ -n "$BINARY" ]]; then
    log "using the binary $BINARY"
    return 0
  fi
  # Debian has no swift package; the toolchain lives in /opt/swift (see ensure-deps.sh).
  command -v swift >/dev/null 2>&1 || [[ ! -x /opt/swift/usr/bin/swift ]] || PATH="$PATH:/opt/swift/usr/bin"
  command -v swift >/dev/null 2>&1 || die "swift is not on PATH; build elsewhere and pass --binary PATH"
  if ((DRY_RUN)); then
    echo "would run: (cd $(printf '%q' "$ROOT") && swift build -c release --product slotgate)"
    BINARY="$ROOT/.build/release/slotgate"
    return 0
  fi
  log "building slotgate (release)..."
  (cd "$ROOT" && swift build -c release --product slotgate)
  BINARY="$(cd "$ROOT" && swift build -c release --show-bin-path)/slotgate"
  [[ -x "$BINARY" ]] || die "built binary not found at $BINARY"
}

# The binary links the Swift runtime dynamically: make sure this host can load it.
check_libraries() {
  [[ "$DEST" == / && -x "$BINARY" ]] || return 0
  local missing
  missing=$(ldd "$BINARY" 2>/dev/null | awk '/not found/ { print $1 }' | tr '\n' ' ')
  [[ -z "$missing" ]] ||
    die "$BINARY cannot load: $missing(install the Swift runtime, or build with --static-swift-stdlib)"
}

# The unit's system user and group, unless they exist already (only on a real install).
ensure_user() {
  if [[ "$DEST" != / ]]; then
    log "--root: not creating the user '$SERVICE_USER'; the target system needs it (or systemd's DynamicUser)"
    return 0
  fi
  if getent passwd "$SERVICE_USER" >/dev/null; then
    log "user '$SERVICE_USER' exists"
    return 0
  fi
  local group_opt=(--user-group)
  getent group "$SERVICE_USER" >/dev/null && group_opt=(--gid "$SERVICE_USER")
  run useradd --system "${group_opt[@]}" --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "Slotgate Redis Cluster proxy" "$SERVICE_USER"
}

# install_file SRC DEST MODE: copy SRC to DEST beside it, then rename over DEST, so that a
# running binary or a reading systemd never sees a half-written file. Unchanged files stay.
install_file() {
  local src=$1 dest=$2 mode=$3
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
    log "$dest is up to date"
    return 0
  fi
  run install -d -m 0755 "$(dirname "$dest")"
  run install -m "$mode" "$src" "$dest.new"
  run mv -f "$dest.new" "$dest"
  ((DRY_RUN)) || log "installed $dest"
  CHANGED=1
}

install_unit() {
  local unit
  unit=$(mktemp "${TMPDIR:-/tmp}/slotgate-unit.XXXXXX")
  # The unit names /usr/local/bin/slotgate; another --prefix moves ExecStart along.
  sed "s|^ExecStart=$DEFAULT_PREFIX/bin/slotgate |ExecStart=$PREFIX/bin/slotgate |" \
    "$ROOT/deploy/slotgate.service" >"$unit"
  install_file "$unit" "$(target /etc/systemd/system/slotgate.service)" 0644
  rm -f -- "$unit"
}

# /etc/slotgate/proxy.conf from the example, only when there is none yet.
install_config() {
  local conf
  conf=$(target /etc/slotgate/proxy.conf)
  if [[ -e "$conf" ]]; then
    log "kept the existing $conf (never overwritten; compare with $ROOT/proxy.conf.example)"
    return 0
  fi
  run install -d -m 0755 "$(dirname "$conf")"
  # It may hold requirepass and cluster-password: readable by root and the service only.
  local owner=()
  [[ "$DEST" == / ]] && owner=(-o root -g "$SERVICE_USER")
  run install -m 0640 "${owner[@]}" "$ROOT/proxy.conf.example" "$conf"
  ((DRY_RUN)) || log "installed $conf: set its 'cluster' seeds (and 'bind') before starting"
  [[ "$DEST" == / ]] || log "--root: on the target, run: chgrp $SERVICE_USER /etc/slotgate/proxy.conf"
}

reload_systemd() {
  if [[ "$DEST" != / ]]; then
    log "--root: not running systemctl"
  elif [[ ! -d /run/systemd/system ]]; then
    log "systemd is not running here (a container?): skipped systemctl daemon-reload"
  else
    run systemctl daemon-reload
    if ((CHANGED)) && systemctl is-active --quiet slotgate.service; then
      log "slotgate is running the old version: systemctl restart slotgate"
    fi
  fi
  cat <<EOF
Next steps:
  edit /etc/slotgate/proxy.conf          # cluster seeds, bind, port, passwords
  systemctl enable --now slotgate        # start it now and at boot
  systemctl status slotgate              # READY, clients and slot map version
  journalctl -u slotgate -f              # its log
EOF
}

main() {
  parse_args "$@"
  require_root
  ((DRY_RUN)) && log "dry run: nothing will be changed"
  [[ "$DEST" == / ]] || log "installing under $DEST"
  CHANGED=0
  build_binary
  check_libraries
  ensure_user
  install_file "$BINARY" "$(target "$PREFIX/bin/slotgate")" 0755
  install_unit
  install_config
  reload_systemd
}

main "$@"; exit
