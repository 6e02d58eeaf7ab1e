"""What the client workload scripts beside this file share, written once.

The workloads are standalone scripts that the Swift integration tests (through their run_*.sh
wrappers) and deploy/chaos.sh run, and they keep one contract with their callers: exit 0 with a
summary line `OK: ...` on stdout; exit 1 with `FAIL: ...` on stderr when a check fails, a
library raises or the run hangs; exit 2 for bad usage or a missing Python package. The pieces of
that contract were copied from script to script and had started to differ; they live here so
that a fix reaches every script and a new workload gets them right by importing them:
job_queue_workload.py and transaction_queue_workload.py use all of it, cluster_client_workload.py
the failure, main() and import parts, chaos_workload.py (which reports a table, not one line)
only the import part.

Each script puts its own directory on sys.path and imports this module before its third-party
packages, so this module needs nothing but the standard library: it must load (and report a
missing package with exit 2) where redis-py or a job queue library is not installed.
"""

import contextlib
import os
import signal
import sys


class WorkloadFailure(Exception):
    """A check failed; the message says which and what was seen."""


def check(condition, message):
    if not condition:
        raise WorkloadFailure(message)


@contextlib.contextmanager
def required_packages(names):
    """Wraps a script's third-party imports: an ImportError is an environment problem, not a
    test result, so it exits 2 with the hint to install the packages (`names`, as shown)."""
    try:
        yield
    except ImportError as error:  # pragma: no cover - environment problem, not a test result
        print(f"FAIL: cannot import {names} ({error}); run deploy/ensure-deps.sh", file=sys.stderr)
        sys.exit(2)


def port_and_protocol(argv, script, default_protocol):
    """`PORT [2|3]` from `argv` as (port, protocol), or None after printing the usage line (the
    caller then exits 2)."""
    if len(argv) not in (2, 3) or not argv[1].isdigit() or argv[2:] not in ([], ["2"], ["3"]):
        print(f"usage: {script} PORT [2|3]", file=sys.stderr)
        return None
    return int(argv[1]), int(argv[2]) if len(argv) == 3 else default_protocol


def run_workload(work, hard_timeout_seconds, before_hard_exit=None):
    """Runs `work()`, which returns the summary line, and turns its outcome into the exit status:
    0 after printing the summary; 1 after printing `FAIL: ...` for a failed check or any library
    or Redis error (with its text).

    A SIGALRM after `hard_timeout_seconds` is the last resort if something hangs outside the
    workload's own bounded waits: it prints FAIL and ends the process with os._exit(1), because a
    worker or client library blocked in a socket read, or swallowing exceptions, might never let
    a raised exception through. `before_hard_exit()` runs first, to stop what the workload started
    outside this process (a forked scheduler, say)."""

    def hard_timeout(signum, frame):
        print(f"FAIL: workload did not finish within {hard_timeout_seconds} s", file=sys.stderr, flush=True)
        if before_hard_exit is not None:
            before_hard_exit()
        os._exit(1)

    signal.signal(signal.SIGALRM, hard_timeout)
    signal.alarm(hard_timeout_seconds)
    try:
        summary = work()
    except WorkloadFailure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - any library or Redis error fails the run, with its text
        print(f"FAIL: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
    print(summary)
    return 0


def preflight(client, port, target=""):
    """One PING through `client` (made with short timeouts, and closed here), so that an
    unreachable endpoint fails fast rather than in a library's reconnect loop. `target` names
    what should listen at 127.0.0.1:PORT in the failure message ("Slotgate at ")."""
    from redis.exceptions import RedisError  # the caller has imported redis-py already

    try:
        check(client.ping() is True, f"PING to 127.0.0.1:{port} did not return PONG")
    except RedisError as error:
        raise WorkloadFailure(f"cannot reach {target}127.0.0.1:{port}: {type(error).__name__}: {error}")
    finally:
        client.close()


def check_protocol(label, client, protocol, configured_as, connections):
    """The redis-py client `client` is configured for the run's `protocol`, and each of its live
    `connections` speaks it. `configured_as` holds the values its pool's protocol= may have:
    None means nothing was asked, which is redis-py's default (RESP3 in redis-py 8). Returns how
    many live connections were checked, so that the caller can insist on at least one."""
    configured = client.connection_pool.connection_kwargs.get("protocol")
    check(configured in configured_as, f"{label}: connection pool protocol is {configured!r}")
    for connection in connections:
        spoken = getattr(connection, "protocol", None)
        check(str(spoken) == str(protocol), f"{label}: live connection uses protocol {spoken!r}")
    return len(connections)


def pooled_connections(client):
    """The idle connections of a redis-py client's pool (after a run, the ones it used)."""
    return list(getattr(client.connection_pool, "_available_connections", []))
