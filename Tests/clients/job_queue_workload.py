#!/usr/bin/env python3
"""Run a real job queue (Python bullmq) through Slotgate and prove every job runs exactly once.

Usage: python3 Tests/clients/job_queue_workload.py PORT

Slotgate exists because a job queue (Bull over an ioredis cluster) ran jobs more than once.
This script points the Python port of BullMQ at Slotgate (127.0.0.1:PORT) and:

- empties the queue "jobs" under the prefix "{myprefix}" (the hash tag puts every key of
  the queue in one slot, as bullmq's Lua scripts need);
- starts two Worker instances (each with its own two connections: commands, and BZPOPMIN
  on the queue's marker key), concurrency 8 each;
- then enqueues 500 jobs: 400 plain ones (in addBulk batches: MULTI + EVALSHA… + EXEC),
  50 delayed by 200-1000 ms, and 50 that fail on their first attempt and succeed on their
  second (attempts=2, fixed backoff of 100 ms);
- runs until every job is completed or 120 s pass, then lingers until each worker's
  stalled-job check (every 5 s) has run, so a job handed out again would be seen;
- records every call of the processor (job id, attempt, worker, time);
- checks: every job completed (by the workers' events and by the queue's own state in
  Redis); plain and delayed jobs processed exactly once, fail-once jobs exactly twice
  (attempts 0 then 1); no delayed job processed before its delay; no worker error and no
  failure other than the planned ones; nothing left waiting, active, delayed or failed.

Prints one summary line and exits 0 on success; on failure prints `FAIL: ...` and exits 1
(2 for bad usage or a missing bullmq / redis-py).
"""

import asyncio
import os
import random
import sys
import time
from collections import Counter, defaultdict

# workload_support.py lives beside this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workload_support import WorkloadFailure, check, check_protocol, port_and_protocol, preflight, required_packages, run_workload

with required_packages("bullmq / redis-py"):
    import redis
    import bullmq
    from bullmq import Queue, Worker

QUEUE_NAME = "jobs"
PREFIX = "{myprefix}"
PLAIN_JOBS = 400
DELAYED_JOBS = 50
FAIL_ONCE_JOBS = 50
TOTAL_JOBS = PLAIN_JOBS + DELAYED_JOBS + FAIL_ONCE_JOBS
BACKOFF_MS = 100
WORKER_CONCURRENCY = 8
LOCK_DURATION_MS = 10000
STALLED_INTERVAL_MS = 5000
PROCESSING_TIMEOUT_SECONDS = 120
CLOSE_TIMEOUT_SECONDS = 30
HARD_TIMEOUT_SECONDS = 240  # last resort, if something hangs outside the bounded waits
PLANNED_FAILURE = "planned failure on the first attempt"


# The protocol the run uses: 2 asks redis-py for RESP2 (protocol=2); 3 leaves redis-py's
# default settings alone, which in redis-py 8 means RESP3 (HELLO 3 on connect).
PROTOCOL = 2
PROTOCOL_NAME = "RESP2"


def connection_options(port):
    # bullmq passes a dict straight to redis.asyncio.Redis(**options) (with
    # decode_responses=True and single_connection_client=True added).
    options = {
        "host": "127.0.0.1",
        "port": port,
        "socket_timeout": 30,
        "socket_connect_timeout": 15,
    }
    if PROTOCOL == 2:
        options["protocol"] = 2
    return options


def check_bullmq_protocol(label, client):
    """The redis.asyncio client behind a bullmq connection is configured for the run's protocol
    (protocol=2, or nothing: redis-py's default) and, once it has connected, its live connection
    (a single-connection client: no pool of live connections) speaks it."""
    connection = getattr(client, "connection", None)
    live = [connection] if connection is not None else []
    return check_protocol(label, client, PROTOCOL, (2 if PROTOCOL == 2 else None,), live)


class Ledger:
    """Everything the workers did, as seen from the processor and the worker events."""

    def __init__(self):
        self.calls = []  # (job id, attemptsMade, attemptsStarted, worker label, time ms)
        self.completed = Counter()  # job id -> 'completed' events
        self.failed = []  # (job id, reason)
        self.errors = []  # worker 'error' events
        self.all_done = asyncio.Event()
        self.active_now = set()
        self.overlaps = []  # job ids seen active twice at once
        self.stalled = []  # 'stalled' events: (worker label, job id)
        self.stalled_checks = Counter()  # worker label -> stalled-job checks run


def make_processor(ledger, label):
    async def process(job, token):
        now = int(time.time() * 1000)
        ledger.calls.append((job.id, job.attemptsMade, job.attemptsStarted, label, now))
        if job.id in ledger.active_now:
            ledger.overlaps.append(job.id)
        ledger.active_now.add(job.id)
        try:
            await asyncio.sleep(random.uniform(0.001, 0.015))
            if job.data.get("kind") == "fail-once" and job.attemptsMade == 0:
                raise RuntimeError(PLANNED_FAILURE)
            return {"job": job.data["n"], "by": label}
        finally:
            ledger.active_now.discard(job.id)

    return process


def attach_events(ledger, worker, label):
    def on_completed(job, result):
        ledger.completed[job.id] += 1
        if len(ledger.completed) >= TOTAL_JOBS:
            ledger.all_done.set()

    def on_failed(job, error):
        ledger.failed.append((job.id, str(error)))

    def on_error(error, *rest):
        ledger.errors.append(f"{label}: {type(error).__name__}: {error}")

    def on_stalled(job_id, *rest):
        ledger.stalled.append((label, job_id))

    worker.on("completed", on_completed)
    worker.on("failed", on_failed)
    worker.on("error", on_error)
    worker.on("stalled", on_stalled)


def count_stalled_checks(ledger, worker, label):
    """Counts the worker's periodic stalled-job checks (the moveStalledJobsToWait script), to
    prove they ran during the test. Observation only: the call goes through unchanged."""
    backend = worker.backend
    original = backend.moveStalledJobsToWait

    async def counted(*args, **kwargs):
        result = await original(*args, **kwargs)
        ledger.stalled_checks[label] += 1
        return result

    backend.moveStalledJobsToWait = counted


async def enqueue(queue):
    """Adds the 500 jobs; returns {job id: (kind, delay ms, job timestamp ms)}."""
    plan = {}
    # Plain jobs: addBulk, 50 per call (one MULTI/EXEC each).
    for batch in range(PLAIN_JOBS // 50):
        specs = [
            {"name": "plain", "data": {"kind": "plain", "n": batch * 50 + i}, "opts": {"removeOnComplete": False}}
            for i in range(50)
        ]
        jobs = await queue.addBulk(specs)
        check(len(jobs) == 50, f"addBulk returned {len(jobs)} jobs for 50")
        for job in jobs:
            check(job.id is not None, "addBulk returned a job without an id")
            plan[job.id] = ("plain", 0, job.timestamp)
    # Delayed jobs: one add each, delays spread over 200-1000 ms.
    for i in range(DELAYED_JOBS):
        delay = 200 + (800 * i) // (DELAYED_JOBS - 1)
        job = await queue.add("delayed", {"kind": "delayed", "n": PLAIN_JOBS + i}, {"delay": delay, "removeOnComplete": False})
        plan[job.id] = ("delayed", delay, job.timestamp)
    # Fail-once jobs: attempts=2, fixed backoff.
    for i in range(FAIL_ONCE_JOBS):
        job = await queue.add(
            "fail-once",
            {"kind": "fail-once", "n": PLAIN_JOBS + DELAYED_JOBS + i},
            {"attempts": 2, "backoff": {"type": "fixed", "delay": BACKOFF_MS}, "removeOnComplete": False},
        )
        plan[job.id] = ("fail-once", 0, job.timestamp)
    check(len(plan) == TOTAL_JOBS, f"{len(plan)} distinct job ids for {TOTAL_JOBS} jobs added")
    return plan


async def quiesce(worker):
    """Stops `worker` fetching jobs and waits until every job it already holds is finished.

    Worker.close() (and pause()) wait only for the tasks the worker holds when called. While
    jobs are still waiting (the timeout path), a fetch among those tasks can hand out one more
    job, which then runs on connections close() has closed: redis-py reconnects, or retries an
    interrupted moveToFinished that did run (bullmq then reports "Missing lock"). So: pause,
    then wait on the worker's task set, re-read each time, until it stays empty.
    """
    await worker.pause()
    await settle(worker)


async def settle(worker):
    """Waits until every task in the worker's task set is done, re-reading the set each time
    (the worker's loop replaces it), and the set stays so for one more loop turn or two."""
    deadline = time.monotonic() + CLOSE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        pending = [task for task in worker.processing if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=max(0.0, deadline - time.monotonic()))
            continue
        await asyncio.sleep(0.05)
        if all(task.done() for task in worker.processing):
            return
    raise WorkloadFailure(f"worker still busy after {CLOSE_TIMEOUT_SECONDS} s")


async def close_all(workers, queue):
    problems = []
    results = await asyncio.gather(
        *(asyncio.wait_for(quiesce(worker), CLOSE_TIMEOUT_SECONDS + 5) for _, worker in workers),
        return_exceptions=True,
    )
    for (label, _), result in zip(workers, results):
        if isinstance(result, BaseException):
            problems.append(f"pausing {label}: {type(result).__name__}: {result}")
    for label, worker in workers:
        try:
            await asyncio.wait_for(worker.close(), CLOSE_TIMEOUT_SECONDS)
            # A fetch that ended while the worker was paused keeps its job until the worker's
            # loop runs again, which close() lets it do: that job runs now, reconnecting.
            # Let it finish, then close the connections again.
            await settle(worker)
            await worker.client.aclose()
            await worker.bclient.aclose()
        except Exception as error:  # noqa: BLE001 - reported, not swallowed
            problems.append(f"closing {label}: {type(error).__name__}: {error}")
    if queue is not None:
        try:
            await asyncio.wait_for(queue.close(), CLOSE_TIMEOUT_SECONDS)
        except Exception as error:  # noqa: BLE001
            problems.append(f"closing the queue: {type(error).__name__}: {error}")
    return problems


async def run(port):
    # Fail fast if the proxy is unreachable: bullmq's own connections retry connection errors
    # 20 times with backoff.
    client = redis.Redis(host="127.0.0.1", port=port, protocol=PROTOCOL, socket_timeout=10, socket_connect_timeout=10)
    preflight(client, port, target="Slotgate at ")
    opts = {"connection": connection_options(port), "prefix": PREFIX}
    queue = Queue(QUEUE_NAME, opts)
    workers = []
    ledger = Ledger()
    started = time.monotonic()
    try:
        # Start from an empty queue (left-overs of an earlier run against the same cluster).
        await queue.obliterate(force=True)
        counts = await queue.getJobCounts()
        check(all(value == 0 for value in counts.values()), f"queue not empty after obliterate: {counts}")
        protocol_checked = check_bullmq_protocol("queue", queue.client)

        for index in (1, 2):
            label = f"worker{index}"
            worker = Worker(
                QUEUE_NAME,
                make_processor(ledger, label),
                {
                    "connection": connection_options(port),
                    "prefix": PREFIX,
                    "concurrency": WORKER_CONCURRENCY,
                    "drainDelay": 1,
                    "lockDuration": LOCK_DURATION_MS,
                    "stalledInterval": STALLED_INTERVAL_MS,
                    "name": label,
                },
            )
            attach_events(ledger, worker, label)
            count_stalled_checks(ledger, worker, label)
            workers.append((label, worker))
        workers_started = time.monotonic()

        # The workers start first and wait (BZPOPMIN on the queue's marker key) while the jobs
        # arrive, as a producer and its consumers do.
        await asyncio.sleep(0.5)
        enqueue_started = time.monotonic()
        plan = await enqueue(queue)

        try:
            await asyncio.wait_for(ledger.all_done.wait(), PROCESSING_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            pass
        processing_seconds = time.monotonic() - enqueue_started
        completed_in_time, calls_in_time, errors_in_time = set(ledger.completed), len(ledger.calls), list(ledger.errors)
        # Linger until each worker's stalled-job check has run at least once: a job handed out
        # again (a lost lock, a job seen as stalled) would show up as a second processing call.
        if ledger.all_done.is_set():
            linger_until = workers_started + STALLED_INTERVAL_MS / 1000 + 1.5
            while time.monotonic() < linger_until or min(ledger.stalled_checks[label] for label, _ in workers) < 1:
                check(time.monotonic() < linger_until + 10, f"stalled-job checks did not run: {dict(ledger.stalled_checks)}")
                await asyncio.sleep(0.2)

        for label, worker in workers:
            protocol_checked += check_bullmq_protocol(f"{label} commands", worker.client)
            protocol_checked += check_bullmq_protocol(f"{label} blocking", worker.bclient)
        check(protocol_checked >= 4, f"only {protocol_checked} live connections could be checked for RESP{PROTOCOL}")

        stalled_checks = Counter(ledger.stalled_checks)
        close_problems = await close_all(workers, None)
        workers = []

        # --- Verdict -------------------------------------------------------------------------
        missing = [job_id for job_id in plan if job_id not in completed_in_time]
        check(
            not missing,
            f"{len(missing)} of {TOTAL_JOBS} jobs not completed within {PROCESSING_TIMEOUT_SECONDS} s "
            f"(first: {[(job_id, plan[job_id][0]) for job_id in missing[:5]]}); "
            f"{calls_in_time} processing calls by then, {len(errors_in_time)} worker errors "
            f"(first: {errors_in_time[:2]}); counts after closing the workers {await queue.getJobCounts()}",
        )
        check(not ledger.errors, f"{len(ledger.errors)} worker errors, first: {ledger.errors[:3]}")
        check(not close_problems, f"closing workers: {close_problems}")
        unknown = sorted({call[0] for call in ledger.calls} - set(plan))
        check(not unknown, f"processed jobs that were never added: {unknown[:5]}")

        calls_by_job = defaultdict(list)
        for job_id, attempts_made, attempts_started, label, at in ledger.calls:
            calls_by_job[job_id].append((attempts_made, attempts_started, label, at))
        duplicates = []
        for job_id, (kind, delay, added_at) in plan.items():  # added_at: the job's own timestamp
            calls = calls_by_job.get(job_id, [])
            expected_attempts = [0, 1] if kind == "fail-once" else [0]
            if len(calls) != len(expected_attempts):
                duplicates.append(f"{job_id} ({kind}) processed {len(calls)} times, expected {len(expected_attempts)}: {calls}")
                continue
            attempts = [call[0] for call in calls]
            check(attempts == expected_attempts, f"job {job_id} ({kind}) attempts {attempts}, expected {expected_attempts}: {calls}")
            if kind == "delayed":
                # bullmq stamps the job with the client's clock when adding it; the job may not
                # run before that time plus its delay (a few ms of slack for rounding).
                check(calls[0][3] >= added_at + delay - 5, f"delayed job {job_id} ran {added_at + delay - calls[0][3]} ms early")
            if kind == "fail-once":
                check(
                    calls[1][3] >= calls[0][3] + BACKOFF_MS - 5,
                    f"job {job_id} retried {calls[1][3] - calls[0][3]} ms after its failure, backoff is {BACKOFF_MS} ms",
                )
        check(not duplicates, f"{len(duplicates)} jobs not processed the expected number of times: {duplicates[:5]}")
        check(not ledger.overlaps, f"jobs processed twice at the same time: {ledger.overlaps[:5]}")
        check(not ledger.stalled, f"{len(ledger.stalled)} jobs reported stalled: {ledger.stalled[:5]}")
        extra_events = {job_id: count for job_id, count in ledger.completed.items() if count != 1}
        check(not extra_events, f"'completed' emitted more than once for: {dict(list(extra_events.items())[:5])}")
        planned_failures = sorted(job_id for job_id, reason in ledger.failed if reason == PLANNED_FAILURE)
        other_failures = [(job_id, reason) for job_id, reason in ledger.failed if reason != PLANNED_FAILURE]
        check(not other_failures, f"{len(other_failures)} unplanned job failures, first: {other_failures[:3]}")
        fail_once_ids = sorted(job_id for job_id, entry in plan.items() if entry[0] == "fail-once")
        check(planned_failures == fail_once_ids, f"planned failures for {len(planned_failures)} jobs, expected the {len(fail_once_ids)} fail-once jobs")

        # What the queue itself holds in Redis (through Slotgate) agrees.
        counts = await queue.getJobCounts()
        expected_counts = {state: 0 for state in counts}
        expected_counts["completed"] = TOTAL_JOBS
        check(counts == expected_counts, f"queue counts {counts}, expected {expected_counts}")
        completed_ids = set()
        page = 0
        while True:
            jobs = await queue.getJobs(["completed"], page * 200, page * 200 + 199)
            if not jobs:
                break
            for job in jobs:
                kind = plan.get(job.id, ("?",))[0]
                check(
                    job.attemptsMade == (2 if kind == "fail-once" else 1),
                    f"job {job.id} ({kind}) stored attemptsMade={job.attemptsMade}",
                )
                check(
                    isinstance(job.returnvalue, dict) and job.returnvalue.get("job") == job.data["n"],
                    f"job {job.id} stored return value {job.returnvalue!r}",
                )
                completed_ids.add(job.id)
            page += 1
        check(completed_ids == set(plan), f"{len(completed_ids)} jobs stored as completed, {len(set(plan) - completed_ids)} missing")

        await queue.obliterate(force=True)
        elapsed = time.monotonic() - started
        retried = sum(1 for job_id in fail_once_ids if len(calls_by_job[job_id]) == 2)
        per_worker = Counter(call[3] for call in ledger.calls)
        return (
            f"OK: bullmq {bullmq_version()} (redis-py {redis.__version__}, {PROTOCOL_NAME}) via 127.0.0.1:{port}: "
            f"jobs processed: {len(plan)}, all completed ({len(ledger.calls)} processing calls: "
            f"{', '.join(f'{label} {count}' for label, count in sorted(per_worker.items()))}), "
            f"duplicates: 0, lost: 0, retried: {retried} (failed once, ran exactly twice), "
            f"delayed: {DELAYED_JOBS} (ran once, none early), plain: {PLAIN_JOBS} (ran once); "
            f"2 workers x concurrency {WORKER_CONCURRENCY}, {sum(stalled_checks.values())} stalled-job checks, 0 stalled; "
            f"all done {processing_seconds:.1f} s after the first add, elapsed {elapsed:.1f} s"
        )
    finally:
        problems = await close_all(workers, queue)
        if problems:
            print(f"warning: {problems}", file=sys.stderr)


def bullmq_version():
    try:
        from importlib.metadata import version

        return version("bullmq")
    except Exception:  # noqa: BLE001
        return getattr(bullmq, "__version__", "?")


def main(argv):
    global PROTOCOL, PROTOCOL_NAME
    arguments = port_and_protocol(argv, "job_queue_workload.py", default_protocol=2)
    if arguments is None:
        return 2
    port, PROTOCOL = arguments
    PROTOCOL_NAME = "RESP2" if PROTOCOL == 2 else "RESP3, redis-py default settings"
    return run_workload(lambda: asyncio.run(run(port)), HARD_TIMEOUT_SECONDS)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
