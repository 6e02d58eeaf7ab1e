#!/usr/bin/env bash
# Usage: bash Tests/clients/run_cluster_client_workload.sh PORT — runs cluster_client_workload.py beside it.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/cluster_client_workload.py" "$@"
