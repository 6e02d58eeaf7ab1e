#!/usr/bin/env bash
# ensure-deps.sh — make sure the system packages Slotgate needs are installed.
#
# Usage:
#   bash deploy/ensure-deps.sh          # check (and install if needed), then exit
#   source deploy/ensure-deps.sh        # same, and also puts swift on PATH in the
#                                       # calling shell (this is how the other
#                                       # deploy scripts use it)
#
# Packages: libhiredis-dev redis-server redis-tools pkg-config python3
# python3-pip (Debian 12).
# When all of them are already installed no apt command runs at all, so this
# is cheap to call from every script. Otherwise it runs `apt-get update` once
# and installs only the missing ones (needs root, as on the dev/CI machines).
# Also the Python package redis (redis-py, from PyPI), which the cluster-client
# integration test drives: pip runs only when `python3 -c 'import redis'` fails.
# Likewise the Python package bullmq, which the job-queue integration test drives:
# pip runs only when `python3 -c 'import bullmq'` fails.
# Likewise the Python packages rq and arq, which the transaction job-queue test
# drives (MULTI/EXEC over keys of several slots): pip runs only when the import fails
# (arq with --no-deps, so that its redis<6 pin does not downgrade redis-py).
# If the swift toolchain is not on PATH but exists in /opt/swift/usr/bin, that
# directory is appended to PATH. Also defines slotgate_require_swift for the
# scripts that build (Debian 12 has no swift package, so it is not installed).

SLOTGATE_DEB_PACKAGES=(libhiredis-dev redis-server redis-tools pkg-config python3 python3-pip)
SLOTGATE_SWIFT_BIN_DIR=/opt/swift/usr/bin

# Print the packages from SLOTGATE_DEB_PACKAGES that dpkg does not report as installed.
# (A removed package whose config files remain is known to dpkg but not installed,
# hence the Status check rather than dpkg's exit code alone.)
slotgate_missing_packages() {
  local pkg info
  for pkg in "${SLOTGATE_DEB_PACKAGES[@]}"; do
    if ! info=$(dpkg -s "$pkg" 2>/dev/null) || [[ "$info" != *"Status: install ok installed"* ]]; then
      echo "$pkg"
    fi
  done
}

# Install the given Debian packages (apt-get update once, then install).
slotgate_apt_install() {
  echo "ensure-deps: installing missing packages: $*" >&2
  # Wait a bounded time for a concurrent apt/dpkg run instead of failing at once.
  local lock_opt=(-o DPkg::Lock::Timeout=180)
  apt-get "${lock_opt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${lock_opt[@]}" install -y -qq \
    --no-install-recommends "$@" </dev/null
}

# Install a Python package with pip unless python3 can already import it:
#   slotgate_ensure_python_package MODULE [PACKAGE [PIP_OPTION...]]   (PACKAGE defaults to MODULE)
# The live tests drive real clients with them: redis-py, bullmq for the job queue, and
# rq and arq for the transaction job queues.
# A python3 marked externally managed (PEP 668, as Debian 12's own is) refuses a
# plain `pip install`; only then is it retried with --break-system-packages.
slotgate_ensure_python_package() {
  local module=$1 package=${2:-$1}
  local extra=("${@:3}")
  python3 -c "import $module" >/dev/null 2>&1 && return 0
  echo "ensure-deps: installing the Python package $package with pip${extra[*]:+ (${extra[*]})}" >&2
  local pip_cmd=(python3 -m pip install --quiet --disable-pip-version-check "${extra[@]}") output
  if ! output=$("${pip_cmd[@]}" "$package" 2>&1 </dev/null); then
    if [[ "$output" != *externally-managed-environment* ]] ||
      ! output=$("${pip_cmd[@]}" --break-system-packages "$package" 2>&1 </dev/null); then
      echo "ensure-deps: pip install $package failed: $output" >&2
      return 1
    fi
  fi
  if ! python3 -c "import $module" >/dev/null 2>&1; then
    echo "ensure-deps: python3 still cannot import $module after pip install" >&2
    return 1
  fi
}

# Stop a process this script started: SIGTERM, then SIGKILL if it is still there
# after TIMEOUT seconds (default 5); reaps it when it is our child.
#   slotgate_stop_process PID [TIMEOUT]
slotgate_stop_process() {
  local pid=$1 timeout=${2:-5}
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + timeout))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Append the bundled swift toolchain to PATH when swift is not found already.
slotgate_ensure_swift_path() {
  if ! command -v swift >/dev/null 2>&1 && [[ -x "$SLOTGATE_SWIFT_BIN_DIR/swift" ]]; then
    export PATH="$PATH:$SLOTGATE_SWIFT_BIN_DIR"
  fi
}

# Fail with a clear message when no swift toolchain can be found.
slotgate_require_swift() {
  command -v swift >/dev/null 2>&1 && return 0
  echo "error: 'swift' not found on PATH nor in $SLOTGATE_SWIFT_BIN_DIR;" \
    "install a Swift 6 toolchain there" >&2
  return 1
}

slotgate_ensure_deps() {
  local missing
  missing=$(slotgate_missing_packages)
  if [[ -n "$missing" ]]; then
    # shellcheck disable=SC2086  # one package name per word
    slotgate_apt_install $missing || {
      echo "ensure-deps: apt-get install failed for: $missing" >&2
      return 1
    }
    missing=$(slotgate_missing_packages)
    if [[ -n "$missing" ]]; then
      echo "ensure-deps: still missing after install: $missing" >&2
      return 1
    fi
  fi
  slotgate_ensure_python_package redis || return 1
  slotgate_ensure_python_package bullmq || return 1
  slotgate_ensure_python_package rq || return 1
  # arq (0.28) declares redis<6, and pip would downgrade the redis-py 8 that bullmq
  # (redis>=6.2) and the RESP3 tests need: install it without its dependencies. Its
  # only other one, click, comes with rq; arq runs on redis-py 8 (its asyncio API).
  slotgate_ensure_python_package click || return 1
  slotgate_ensure_python_package arq arq --no-deps || return 1
  slotgate_ensure_swift_path
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  # Run as a script: strict mode applies to this process only.
  set -euo pipefail
  slotgate_ensure_deps
else
  # Sourced: do not change the caller's shell options; report failure to it.
  slotgate_ensure_deps || return 1
fi
