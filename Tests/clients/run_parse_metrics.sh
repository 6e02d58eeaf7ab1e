#!/usr/bin/env bash
# Usage: bash Tests/clients/run_parse_metrics.sh URL [PASSWORD] — installs the Python package
# prometheus_client with deploy/ensure-deps.sh's slotgate_ensure_python_package when python3
# cannot import it, then runs parse_metrics.py beside it.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Sourcing checks (and installs when missing) the packages every test needs, and defines
# slotgate_ensure_python_package.
# shellcheck source=../../deploy/ensure-deps.sh
source "$here/../../deploy/ensure-deps.sh" || exit 1
slotgate_ensure_python_package prometheus_client prometheus-client || exit 1
exec python3 "$here/parse_metrics.py" "$@"
