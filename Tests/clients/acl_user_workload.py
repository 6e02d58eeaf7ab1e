"""redis-py signed in as an ACL user through Slotgate, in RESP2 and in RESP3.

Usage: python3 acl_user_workload.py PORT USER PASSWORD KEY_PREFIX

The user may write keys starting with KEY_PREFIX and nothing else, whoever checks its rules
(Slotgate under acl-mode proxy, the nodes under acl-mode passthrough). For each protocol it signs
in with username= and password= (RESP3: HELLO 3 AUTH), writes a key of its own, sees ACL WHOAMI
name it, is refused a key outside its prefix (NoPermissionError), and is refused with a wrong
password (AuthenticationError, one attempt: no retries). Prints one "OK: ..." line and exits 0,
or prints "FAIL: ..." and exits 1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workload_support import check, required_packages, run_workload  # noqa: E402

with required_packages("redis"):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry


def signed_in_checks(port, user, password, prefix):
    for protocol in (2, 3):
        client = redis.Redis(port=port, protocol=protocol, username=user, password=password, decode_responses=True)
        check(client.set(f"{prefix}py", protocol), f"RESP{protocol}: SET {prefix}py")
        check(client.acl_whoami() == user, f"RESP{protocol}: ACL WHOAMI says {client.acl_whoami()!r}")
        try:
            client.set("elsewhere", 1)
            check(False, f"RESP{protocol}: a key outside {prefix}* was written")
        except redis.exceptions.NoPermissionError:
            pass
        client.close()
        wrong = redis.Redis(port=port, protocol=protocol, username=user, password="not-" + password, retry=Retry(NoBackoff(), 0))
        try:
            wrong.ping()
            check(False, f"RESP{protocol}: a wrong password was accepted")
        except redis.exceptions.AuthenticationError:
            pass
        wrong.close()
    return f"OK: redis-py signed in as {user} in RESP2 and RESP3"


def main(argv):
    if len(argv) != 5 or not argv[1].isdigit():
        print("usage: acl_user_workload.py PORT USER PASSWORD KEY_PREFIX", file=sys.stderr)
        return 2
    port, user, password, prefix = int(argv[1]), argv[2], argv[3], argv[4]
    return run_workload(lambda: signed_in_checks(port, user, password, prefix), hard_timeout_seconds=60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
