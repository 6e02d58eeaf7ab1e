#!/usr/bin/env bash
# Usage: bash Tests/clients/run_job_queue_workload.sh PORT — runs job_queue_workload.py beside it.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/job_queue_workload.py" "$@"
