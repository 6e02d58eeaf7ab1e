#!/usr/bin/env bash
# Runs acl_user_workload.py (redis-py signed in as an ACL user, RESP2 and RESP3) against PORT.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/acl_user_workload.py" "$@"
