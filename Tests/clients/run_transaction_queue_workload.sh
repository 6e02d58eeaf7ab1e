#!/usr/bin/env bash
# Usage: bash Tests/clients/run_transaction_queue_workload.sh PORT [2|3] — runs transaction_queue_workload.py beside it.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/transaction_queue_workload.py" "$@"
