#!/usr/bin/env python3
"""Run the job queues RQ and arq through Slotgate and prove every job runs exactly once.

Usage: python3 Tests/clients/transaction_queue_workload.py PORT [RESP]

RESP is 2 or 3 (redis-py's `protocol=`; default 3, which is also redis-py 8's own default:
HELLO 3 on connect). Both queues wrap keys of different hash slots in MULTI/EXEC, often after
WATCH (RQ: `rq:job:<id>` with `rq:queue:<name>` and its registries; arq: `arq:job:<id>` with
`arq:queue:...`, `arq:in-progress:<id>`, `arq:result:<id>`) and use no hash tags of their
own (the RQ queue name below has one), so through a cluster proxy they need its cross-slot
transactions. The script points both at
127.0.0.1:PORT and:

RQ (the synchronous queue; the job functions live in transaction_queue_jobs.py beside this
script, which is put on sys.path):
- deletes every `rq:*` key first (SCAN, then one single-key DEL per key), and uses a queue
  named after a fresh run id, in a hash tag: `{txq-<run id>}`. The worker takes jobs with
  `BLMOVE rq:queue:<name> rq:queue:<name>:intermediate` outside any transaction, which a
  cluster refuses (-CROSSSLOT) unless both keys share a slot, as the tag makes them do; every
  transaction still spans several slots (`rq:job:<id>`, `rq:worker:<name>`, `rq:results:<id>`,
  `rq:execution:...` have no tag). TRANSACTION_QUEUE_PLAIN_NAMES=1 in the environment drops
  the tag (`txq-<run id>`), to see what a proxy does with that BLMOVE;
- enqueues 100 jobs of `square(n)`, one job that raises (it must land in the
  FailedJobRegistry with its exception), and one job scheduled 2 s ahead (`enqueue_in`);
- runs one SimpleWorker in this process, with the scheduler (which RQ forks into a process of
  its own), not in burst mode but until it has been idle for 4 s, so the scheduled job is
  picked up and a job handed out twice would run again before the worker stops;
- checks through RQ's API: every job finished with its result (the failing one failed, is in
  the FailedJobRegistry, and its stored exception is the planned one); every job ran exactly
  once (each run appends a line to a ledger file); the scheduled job did not run before its
  time (RQ keeps that time in whole seconds, so not before the whole second it was due);
  nothing left queued, started or scheduled; no error logged by RQ but the planned failure.

arq (the asyncio queue):
- deletes every `arq:*` key first the same way, and uses a queue named after the run id;
- enqueues 50 jobs of `arq_square(n)` and one job that raises arq.Retry on its first try and
  succeeds on its second;
- runs one arq Worker in this process, burst mode, 10 jobs at a time. With RESP 3 the worker
  makes its own connection from RedisSettings(host='127.0.0.1', port=PORT) (arq passes no
  protocol, so redis-py 8's default, RESP3, applies); RedisSettings has no protocol field, so
  with RESP 2 the worker is handed an ArqRedis pool made with protocol=2 and the same options;
- checks: every job complete with its result (job.status(), job.result()); each plain job ran
  exactly once (try 1), the retried one exactly twice (tries 1 then 2) and its stored result is
  that of try 2; the worker's own counts agree; nothing left in the queue.

Each connection used is checked to speak the protocol asked for. Every wait is bounded (the
whole run takes about 10 s, 100 s at most: a hard timeout then fails it).

Prints one summary line `OK: ...` and exits 0 on success; on failure prints `FAIL: ...` and
exits 1 (2 for bad usage or a missing rq / arq / redis-py).
"""

import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import timedelta

# workload_support.py and the job functions (transaction_queue_jobs.py) live beside this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workload_support import WorkloadFailure, check, check_protocol, pooled_connections, port_and_protocol, preflight, required_packages, run_workload

with required_packages("rq / arq / redis-py"):
    import redis
    import rq
    import arq
    from rq import Queue, SimpleWorker
    from rq.job import Job as RQJob, JobStatus as RQJobStatus
    from arq.connections import ArqRedis, RedisSettings
    from arq.jobs import Job as ArqJob, JobStatus as ArqJobStatus
    from arq.worker import Worker as ArqWorker, func as arq_func

    import transaction_queue_jobs as jobs

RQ_JOBS = 100
RQ_SCHEDULE_DELAY_SECONDS = 2
RQ_MAX_IDLE_SECONDS = 4  # the RQ worker stops once idle this long (after the scheduled job)
RQ_WORKER_DEADLINE_SECONDS = 40
ARQ_JOBS = 50
ARQ_MAX_JOBS = 10
ARQ_WORKER_DEADLINE_SECONDS = 30
RESULT_TTL_SECONDS = 600
HARD_TIMEOUT_SECONDS = 100  # last resort, if something hangs outside the bounded waits

PROTOCOL = 3
PLAIN_NAMES = os.environ.get("TRANSACTION_QUEUE_PLAIN_NAMES") == "1"  # RQ queue name without hash tag
RQ_WORKER = None  # the running RQ worker, so that the hard timeout can stop its scheduler process


class LogCapture(logging.Handler):
    """Keeps the warnings and errors RQ and arq log, instead of printing them."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        self.records.append((record.name, record.levelname, text))

    def errors(self, logger):
        """The errors and critical messages of `logger` and its children: (logger, level, text)."""
        return [entry for entry in self.records if entry[0].startswith(logger) and entry[1] in ("ERROR", "CRITICAL")]


def planned_runs(path, plan, prefix, label):
    """{tag: [(attempt, unix time), ...]} of one queue's jobs (tags starting with `prefix`) from
    the ledger the job functions append to; every one of them must be a tag of `plan`
    ({job id: (kind, n, tag)})."""
    runs = defaultdict(list)
    with open(path, encoding="utf-8") as ledger:
        for line in ledger:
            tag, attempt, at = line.split()
            if tag.startswith(prefix):
                runs[tag].append((int(attempt), float(at)))
    unknown = sorted(set(runs) - {tag for _, _, tag in plan.values()})
    check(not unknown, f"{label} ran jobs that were never enqueued: {unknown[:5]}")
    return runs


def connection_options(port):
    """What every connection of the run uses, redis-py's and arq's alike."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "protocol": PROTOCOL,
        "socket_timeout": 30,
        "socket_connect_timeout": 10,
    }


def sync_client(port):
    return redis.Redis(**connection_options(port))


def check_live_protocol(label, client, unasked_is_default=False):
    """The client's pool is configured for the run's protocol and its live connections, of which
    there must be at least one, speak it. unasked_is_default: with RESP 3 the pool may also have
    no protocol= at all (arq's own RedisSettings path passes none), which is redis-py's default,
    RESP3 in redis-py 8."""
    configured_as = (PROTOCOL, None) if unasked_is_default and PROTOCOL == 3 else (PROTOCOL,)
    checked = check_protocol(label, client, PROTOCOL, configured_as, pooled_connections(client))
    check(checked >= 1, f"no live {label} connection to check the protocol of")


def delete_matching(client, pattern):
    """SCAN for `pattern`, then one single-key DEL per key (no multi-key command, as a cluster
    proxy may refuse one whose keys are in different slots). Returns how many were deleted."""
    deleted = 0
    for _ in range(3):  # a second pass catches keys a SCAN in progress may have missed
        keys = list(client.scan_iter(match=pattern, count=500))
        if not keys:
            break
        for key in keys:
            deleted += client.delete(key)
    left = list(client.scan_iter(match=pattern, count=500))
    check(not left, f"{len(left)} keys matching {pattern} left after deleting them, e.g. {left[:3]}")
    return deleted


# --- RQ -----------------------------------------------------------------------------------------


def run_rq(port, run_id, ledger_path, capture):
    client = sync_client(port)
    deleted = delete_matching(client, "rq:*")
    queue_name = f"txq-{run_id}" if PLAIN_NAMES else f"{{txq-{run_id}}}"
    queue = Queue(queue_name, connection=client)
    check(queue.count == 0, f"RQ queue {queue_name} not empty at start: {queue.count}")

    plan = {}  # job id -> (kind, n, tag)
    for n in range(RQ_JOBS):
        tag = f"rq-square-{n}"
        job = queue.enqueue(jobs.square, n, tag, result_ttl=RESULT_TTL_SECONDS, failure_ttl=RESULT_TTL_SECONDS)
        plan[job.id] = ("square", n, tag)
    failing = queue.enqueue(jobs.fail, "rq-fail", result_ttl=RESULT_TTL_SECONDS, failure_ttl=RESULT_TTL_SECONDS)
    plan[failing.id] = ("fail", None, "rq-fail")
    scheduled_at = time.time()
    due = scheduled_at + RQ_SCHEDULE_DELAY_SECONDS
    scheduled = queue.enqueue_in(
        timedelta(seconds=RQ_SCHEDULE_DELAY_SECONDS),
        jobs.scheduled,
        7,
        "rq-scheduled",
        result_ttl=RESULT_TTL_SECONDS,
        failure_ttl=RESULT_TTL_SECONDS,
    )
    plan[scheduled.id] = ("scheduled", 7, "rq-scheduled")
    check(len(plan) == RQ_JOBS + 2, f"{len(plan)} distinct RQ job ids for {RQ_JOBS + 2} jobs")
    check(queue.count == RQ_JOBS + 1, f"RQ queue holds {queue.count} jobs, expected {RQ_JOBS + 1}")
    check(
        scheduled.id in queue.scheduled_job_registry.get_job_ids(),
        "the scheduled RQ job is not in the ScheduledJobRegistry",
    )
    # RQ keeps the scheduled time in whole seconds (its ScheduledJobRegistry score).
    due_second = queue.scheduled_job_registry.get_scheduled_time(scheduled).timestamp()

    global RQ_WORKER
    worker = RQ_WORKER = SimpleWorker([queue], connection=client, name=f"txq-worker-{run_id}")
    worker_started = time.monotonic()
    # The worker cannot be interrupted from outside (it runs in this thread, and its blocking
    # pop lasts at most the idle time left): the alarm below is the last-resort bound.
    worker.work(burst=False, with_scheduler=True, max_idle_time=RQ_MAX_IDLE_SECONDS, logging_level="WARNING")
    worker_seconds = time.monotonic() - worker_started
    check(
        worker_seconds < RQ_WORKER_DEADLINE_SECONDS,
        f"the RQ worker took {worker_seconds:.1f} s (more than {RQ_WORKER_DEADLINE_SECONDS} s); "
        f"RQ logged: {capture.errors('rq')[-5:]}",
    )
    scheduler_process = getattr(worker.scheduler, "_process", None) if worker.scheduler else None
    check(scheduler_process is not None, "the RQ worker started no scheduler process (lock not acquired?)")
    check(not scheduler_process.is_alive(), "the RQ scheduler process is still alive after the worker stopped")

    # --- Verdict --------------------------------------------------------------------------
    rq_runs = planned_runs(ledger_path, plan, "rq-", "RQ")
    not_once = {tag: len(rq_runs.get(tag, [])) for _, _, tag in plan.values() if len(rq_runs.get(tag, [])) != 1}
    check(not not_once, f"{len(not_once)} RQ jobs did not run exactly once (tag: runs): {dict(sorted(not_once.items())[:8])}")

    for job_id, (kind, n, tag) in plan.items():
        job = RQJob.fetch(job_id, connection=client)
        status = job.get_status(refresh=True)
        if kind == "fail":
            check(status == RQJobStatus.FAILED, f"RQ job {job_id} ({tag}) status {status}, expected failed")
            result = job.latest_result()
            check(result is not None and result.type == result.Type.FAILED, f"RQ job {job_id} ({tag}) latest result {result!r}")
            check(
                jobs.PLANNED_FAILURE in (result.exc_string or ""),
                f"RQ failing job stored exception {result.exc_string!r}",
            )
        else:
            check(status == RQJobStatus.FINISHED, f"RQ job {job_id} ({tag}) status {status}, expected finished")
            expected = n * n if kind == "square" else {"scheduled": n, "square": n * n}
            value = job.return_value()
            check(value == expected, f"RQ job {job_id} ({tag}) result {value!r}, expected {expected!r}")
        results = job.results()
        check(len(results) == 1, f"RQ job {job_id} ({tag}) has {len(results)} stored results, expected 1")

    scheduled_ran = rq_runs["rq-scheduled"][0][1]
    check(
        scheduled_ran >= due_second,
        f"the scheduled RQ job ran {due_second - scheduled_ran:.3f} s before its scheduled second",
    )
    check(
        scheduled_ran >= due - 1,
        f"the scheduled RQ job ran {due - scheduled_ran:.3f} s before enqueue time + {RQ_SCHEDULE_DELAY_SECONDS} s",
    )
    latest_other = max(calls[0][1] for tag, calls in rq_runs.items() if tag != "rq-scheduled")

    failed_ids = queue.failed_job_registry.get_job_ids()
    check(failed_ids == [failing.id], f"RQ FailedJobRegistry holds {failed_ids}, expected [{failing.id}]")
    finished_ids = set(queue.finished_job_registry.get_job_ids())
    expected_finished = {job_id for job_id, entry in plan.items() if entry[0] != "fail"}
    check(finished_ids == expected_finished, f"RQ FinishedJobRegistry holds {len(finished_ids)} jobs, expected {len(expected_finished)}")
    check(queue.count == 0, f"RQ queue still holds {queue.count} jobs")
    started = queue.started_job_registry.get_job_ids()
    check(not started, f"RQ StartedJobRegistry still holds {started[:5]}")
    still_scheduled = queue.scheduled_job_registry.get_job_ids()
    check(not still_scheduled, f"RQ ScheduledJobRegistry still holds {still_scheduled}")

    unexpected = [entry for entry in capture.errors("rq") if "rq-fail" not in entry[2] and failing.id not in entry[2]]
    check(not unexpected, f"RQ logged {len(unexpected)} unexpected errors, first: {unexpected[:3]}")
    check_live_protocol("RQ", client)

    # Leave nothing behind.
    delete_matching(client, "rq:*")
    client.close()
    return (
        f"RQ {rq.__version__} (queue {queue_name}): {RQ_JOBS} jobs ran once with their results, 1 failed job in the "
        f"FailedJobRegistry (all done {max(0.0, latest_other - scheduled_at):.2f} s after the last enqueue), "
        f"1 scheduled job ran once {scheduled_ran - scheduled_at:.2f} s after enqueue_in({RQ_SCHEDULE_DELAY_SECONDS} s), "
        f"worker {worker_seconds:.1f} s, {deleted} old keys deleted"
    )


# --- arq ----------------------------------------------------------------------------------------


def arq_pool(port, queue_name):
    """An ArqRedis pool with the run's protocol (the producer's, and the worker's with RESP 2):
    the options arq's create_pool uses, plus protocol= and a socket timeout."""
    return ArqRedis(**connection_options(port), encoding="utf8", default_queue_name=queue_name)


async def run_arq(port, run_id, ledger_path, capture):
    queue_name = f"arq:queue:txq-{run_id}"
    cleaner = sync_client(port)
    try:
        deleted = delete_matching(cleaner, "arq:*")
    finally:
        cleaner.close()

    producer = arq_pool(port, queue_name)
    worker = None
    try:
        plan = {}  # job id -> (kind, n, tag)
        for n in range(ARQ_JOBS):
            tag = f"arq-square-{n}"
            job = await producer.enqueue_job("arq_square", n, tag, _job_id=f"{run_id}-square-{n}", _queue_name=queue_name)
            check(job is not None, f"arq refused job {tag} (a job with its id exists already)")
            plan[job.job_id] = ("square", n, tag)
        job = await producer.enqueue_job("arq_retry_once", 9, "arq-retry", _job_id=f"{run_id}-retry", _queue_name=queue_name)
        check(job is not None, "arq refused the retried job (a job with its id exists already)")
        plan[job.job_id] = ("retry", 9, "arq-retry")
        queued = await producer.zcard(queue_name)
        check(queued == ARQ_JOBS + 1, f"arq queue holds {queued} jobs, expected {ARQ_JOBS + 1}")

        if PROTOCOL == 3:
            connection = {"redis_settings": RedisSettings(host="127.0.0.1", port=port, conn_timeout=10)}
        else:
            connection = {"redis_pool": arq_pool(port, queue_name)}
        worker = ArqWorker(
            functions=[arq_func(jobs.arq_square), arq_func(jobs.arq_retry_once)],
            queue_name=queue_name,
            burst=True,
            handle_signals=False,
            max_jobs=ARQ_MAX_JOBS,
            poll_delay=0.1,
            max_tries=3,
            keep_result=RESULT_TTL_SECONDS,
            job_timeout=20,
            **connection,
        )
        worker_started = time.monotonic()
        try:
            await asyncio.wait_for(worker.main(), ARQ_WORKER_DEADLINE_SECONDS)
        except asyncio.TimeoutError:
            raise WorkloadFailure(
                f"the arq worker did not finish within {ARQ_WORKER_DEADLINE_SECONDS} s "
                f"(complete {worker.jobs_complete}, retried {worker.jobs_retried}, failed {worker.jobs_failed})"
            )
        worker_seconds = time.monotonic() - worker_started
        check_live_protocol("arq worker", worker.pool, unasked_is_default=True)
        counts = (worker.jobs_complete, worker.jobs_retried, worker.jobs_failed)
        await asyncio.wait_for(worker.close(), 15)
        worker = None

        # --- Verdict ----------------------------------------------------------------------
        check(counts == (ARQ_JOBS + 1, 1, 0), f"arq worker counts (complete, retried, failed) {counts}, expected ({ARQ_JOBS + 1}, 1, 0)")
        arq_runs = planned_runs(ledger_path, plan, "arq-", "arq")
        wrong = {}
        for job_id, (kind, n, tag) in plan.items():
            tries = [attempt for attempt, _ in arq_runs.get(tag, [])]
            expected_tries = [1, 2] if kind == "retry" else [1]
            if tries != expected_tries:
                wrong[tag] = tries
        check(not wrong, f"{len(wrong)} arq jobs did not run the expected tries (tag: tries): {dict(sorted(wrong.items())[:8])}")
        retry_calls = arq_runs["arq-retry"]
        check(retry_calls[1][1] >= retry_calls[0][1] + 0.2 - 0.01, f"arq retried after {retry_calls[1][1] - retry_calls[0][1]:.3f} s, defer is 0.2 s")

        for job_id, (kind, n, tag) in plan.items():
            job = ArqJob(job_id, producer, _queue_name=queue_name)
            status = await job.status()
            check(status == ArqJobStatus.complete, f"arq job {job_id} status {status}, expected complete")
            value = await job.result(timeout=5, poll_delay=0.1)
            expected = n * n if kind == "square" else {"retried": n, "square": n * n, "try": 2}
            check(value == expected, f"arq job {job_id} result {value!r}, expected {expected!r}")
            info = await job.result_info()
            expected_try = 2 if kind == "retry" else 1
            check(info is not None and info.success and info.job_try == expected_try, f"arq job {job_id} result info {info!r}")
        left = await producer.zcard(queue_name)
        check(left == 0, f"arq queue still holds {left} jobs")
        unexpected = capture.errors("arq")
        check(not unexpected, f"arq logged {len(unexpected)} errors, first: {unexpected[:3]}")
        check_live_protocol("arq producer", producer, unasked_is_default=True)

        # Leave nothing behind.
        for job_id in plan:
            await producer.delete(f"arq:job:{job_id}")
            await producer.delete(f"arq:result:{job_id}")
            await producer.delete(f"arq:retry:{job_id}")
            await producer.delete(f"arq:in-progress:{job_id}")
        await producer.delete(queue_name)
        arq_version = getattr(arq, "VERSION", None) or getattr(getattr(arq, "version", None), "VERSION", "?")
        how = "RedisSettings, redis-py default" if PROTOCOL == 3 else "ArqRedis pool with protocol=2"
        return (
            f"arq {arq_version} ({how}): {ARQ_JOBS} jobs ran once with their results, 1 job retried "
            f"(arq.Retry) ran exactly twice (tries 1, 2), worker {worker_seconds:.1f} s, {deleted} old keys deleted"
        )
    finally:
        if worker is not None:
            try:
                await asyncio.wait_for(worker.close(), 15)
            except Exception as error:  # noqa: BLE001
                print(f"warning: closing the arq worker: {type(error).__name__}: {error}", file=sys.stderr)
        await producer.aclose()


# --- Main ---------------------------------------------------------------------------------------


def run(port):
    started = time.monotonic()
    preflight(sync_client(port), port)
    run_id = uuid.uuid4().hex[:10]
    capture = LogCapture()
    for name in ("rq", "arq"):
        logger = logging.getLogger(name)
        logger.addHandler(capture)
        logger.setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="txq-") as directory:
        ledger_path = os.path.join(directory, "ledger")
        open(ledger_path, "w").close()
        os.environ[jobs.LEDGER_ENV] = ledger_path
        rq_summary = run_rq(port, run_id, ledger_path, capture)
        arq_summary = asyncio.run(run_arq(port, run_id, ledger_path, capture))
    return (
        f"OK: RQ and arq (redis-py {redis.__version__}, RESP{PROTOCOL}) via 127.0.0.1:{port}, run {run_id}: "
        f"{rq_summary}; {arq_summary}; duplicates: 0, lost: 0; elapsed {time.monotonic() - started:.1f} s"
    )


def stop_rq_scheduler():
    """RQ forks its scheduler into a process of its own: the hard timeout must not leave it behind."""
    process = getattr(getattr(RQ_WORKER, "scheduler", None), "_process", None)
    if process is not None and process.pid and process.is_alive():
        os.kill(process.pid, signal.SIGKILL)


def main(argv):
    global PROTOCOL
    arguments = port_and_protocol(argv, "transaction_queue_workload.py", default_protocol=3)
    if arguments is None:
        return 2
    port, PROTOCOL = arguments
    return run_workload(lambda: run(port), HARD_TIMEOUT_SECONDS, before_hard_exit=stop_rq_scheduler)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
