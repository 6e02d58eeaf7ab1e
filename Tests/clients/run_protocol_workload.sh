#!/usr/bin/env bash
# Runs protocol_workload.py (RESP2 and RESP3 redis-py clients through Slotgate) against PORT.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/protocol_workload.py" "$@"
