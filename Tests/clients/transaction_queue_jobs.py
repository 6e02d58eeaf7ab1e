"""Job functions for transaction_queue_workload.py (RQ and arq import them by module name).

Every call appends one line to the ledger file named by the environment variable
TRANSACTION_QUEUE_LEDGER: `TAG TRY TIME` (TRY is arq's job_try, 1 for RQ; TIME is the Unix
time in seconds). The workload reads the ledger to prove each job ran exactly once (or, for
the retried arq job, exactly twice) and that the scheduled job did not run early.
"""

import os
import time

LEDGER_ENV = "TRANSACTION_QUEUE_LEDGER"
PLANNED_FAILURE = "planned failure of the failing job"


def record(tag, attempt=1):
    """One line per execution, written with a single append (O_APPEND) so lines never mix."""
    line = f"{tag} {attempt} {time.time():.6f}\n".encode()
    fd = os.open(os.environ[LEDGER_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


# --- RQ (synchronous functions, run by the worker in-process) ---------------------------------


def square(n, tag):
    record(tag)
    return n * n


def fail(tag):
    record(tag)
    raise ValueError(f"{PLANNED_FAILURE} ({tag})")


def scheduled(n, tag):
    record(tag)
    return {"scheduled": n, "square": n * n}


# --- arq (coroutines taking the worker's ctx first) -------------------------------------------


async def arq_square(ctx, n, tag):
    record(tag, ctx["job_try"])
    return n * n


async def arq_retry_once(ctx, n, tag):
    """Asks arq to retry it on its first try (arq.Retry), succeeds on the second."""
    from arq import Retry

    record(tag, ctx["job_try"])
    if ctx["job_try"] == 1:
        raise Retry(defer=0.2)
    return {"retried": n, "square": n * n, "try": ctx["job_try"]}
