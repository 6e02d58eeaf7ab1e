#!/usr/bin/env python3
"""Chaos workload: clients of Slotgate must not notice the cluster changing behind it.

Usage:
  python3 Tests/clients/chaos_workload.py --port PORT --phase-file FILE --stop-file FILE
      [--clients N] [--ready-file FILE] [--summary-json FILE] [--max-duration S]
      [--cluster-seed HOST:PORT ...] [--seed N]

deploy/chaos.sh runs it in the background while it reshards the cluster behind Slotgate,
adds and removes a node, fails a master over, crashes one and restarts it as a replica.
Each of the N client threads owns one plain single-node redis.Redis connection to Slotgate
(RESP2; no cluster client and no client-side retries, so every error is seen) and is
synchronous: one command, pipeline or transaction outstanding at a time. Each one mixes:

  SET         a unique value on one of its string keys  chaos:{c<client>:<n>}:s
  GET         one of those keys, checked against what the client knows it wrote
  INCR        one of its counters                       chaos:{c<client>:<n>}:n
  MSET/MGET   several of its string keys, in different slots (Slotgate splits them)
  pipeline    10 mixed SET/GET/INCR, not transactional
  MULTI/EXEC  INCR of two counters with the same hash tag, chaos:{t<client>}:a and :b

Each operation is recorded under the phase named in --phase-file when it started (the
shell rewrites that file), with its latency and, if it failed, its error text. A pipeline
or a transaction is one operation; it failed if any of its replies is an error.

Book-keeping: a write is "acknowledged" when its reply is the expected one, and
"uncertain" when it got an error reply or its connection failed: it may or may not have
run. For every counter the client counts acknowledged and uncertain increments; for every
string key it keeps the last acknowledged value and the values written after it with an
uncertain outcome.

What it checks:
  during the run  every GET/MGET returns the key's last acknowledged value or a later
                  uncertain one, and every INCR reply lies in the range the acknowledged
                  and uncertain increments allow; anything else is a "stale read" (once a
                  counter has lost an increment every later INCR of it reads stale too,
                  so the first stale read of each key is what the report shows);
  at the end      (after --stop-file appears) every key is read back through Slotgate:
                    lost         a counter below its acknowledged increments, or a string
                                 that is neither its last acknowledged value nor a later
                                 uncertain one;
                    duplicated   a counter above acknowledged + uncertain increments;
                    transaction  a pair :a / :b whose values differ (they only ever move
                                 together, in one MULTI/EXEC).
                  With --cluster-seed the same keys are also read straight from the
                  cluster with redis-py's RedisCluster, and any key whose value differs
                  from what Slotgate returned is reported.

Output: a per-phase table on stdout (ops, failed ops, error replies, distinct error texts,
longest error window, p50/p99 latency), the top error texts per phase, the totals, and
all of it as JSON in --summary-json. Exit status 0 when the run was verified (the verdict
is the caller's to draw from the figures), 1 when it could not be (a client thread
crashed or hung, keys could not be read back, the max duration was reached), 2 on bad
usage or a missing redis-py.
"""

import argparse
import collections
import json
import math
import os
import random
import re
import sys
import threading
import time

# workload_support.py lives beside this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workload_support import required_packages

with required_packages("redis-py"):
    import redis
    from redis.backoff import NoBackoff
    from redis.cluster import ClusterNode, RedisCluster
    from redis.retry import Retry

SOCKET_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 5
WATCH_INTERVAL_S = 0.02
STRING_KEYS_PER_CLIENT = 32
COUNTERS_PER_CLIENT = 16
PIPELINE_LENGTH = 10
MULTI_KEY_COUNT = 4
# Errors less than this far apart belong to one error window (see longest_error_window).
ERROR_GAP_S = 1.0
JOIN_TIMEOUT_S = SOCKET_TIMEOUT_S + 15
READBACK_CHUNK = 200
READBACK_ATTEMPTS = 5
EXAMPLES_SHOWN = 10
RUN_STARTED = time.monotonic()
ERROR_TEXT_MAX = 220
# Error texts are counted by kind, so the parts that name one key, slot or delay are
# generalized: "MOVED 9191 127.0.0.1:7200" counts as "MOVED <slot> 127.0.0.1:7200".
ERROR_TEXT_GENERALIZATIONS = (
    (r"chaos:\{[^}]*\}:[a-z]", "<key>"),
    (r"\b(MOVED|ASK) \d+", r"\1 <slot>"),
    (r"\b\d+ ms\b", "<n> ms"),
)

OP_WEIGHTS = {
    "set": 18,
    "get": 18,
    "incr": 16,
    "mset": 8,
    "mget": 8,
    "pipeline": 16,
    "transaction": 16,
}


# --- keys and connections -----------------------------------------------------------------


def string_key(client, n):
    return f"chaos:{{c{client}:{n}}}:s"


def counter_key(client, n):
    return f"chaos:{{c{client}:{n}}}:n"


def pair_keys(client):
    return f"chaos:{{t{client}}}:a", f"chaos:{{t{client}}}:b"


def connect(port):
    """A plain single-node RESP2 client that never retries: every failure reaches us."""
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        protocol=2,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
    )


def describe_error(error):
    """The error as the client saw it: redis-py strips a known error code, so put it back."""
    if isinstance(error, redis.ResponseError):
        # In a transaction redis-py prefixes the reply with "Command # 1 (INCR key) of
        # pipeline caused error: "; strip that to show the reply itself.
        message = re.sub(r"^Command # \d+ \(.*?\) of pipeline caused error: ", "", str(error))
        code = getattr(error, "status_code", None)
        text = f"-{code} {message}" if code else f"-{message}"
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    for pattern, replacement in ERROR_TEXT_GENERALIZATIONS:
        text = re.sub(pattern, replacement, text)
    return text[:ERROR_TEXT_MAX]


# --- phase and stop signal ----------------------------------------------------------------


class RunControl:
    """The current phase name and the stop flag, shared by all client threads.

    A watcher thread re-reads the phase file and looks for the stop file every 20 ms, so
    client threads only read an attribute per operation.
    """

    def __init__(self, phase_file, stop_file, max_duration):
        self.phase_file = phase_file
        self.stop_file = stop_file
        self.max_duration = max_duration
        self.started = time.monotonic()
        self.phase = self._read_phase() or "startup"
        self.stop = threading.Event()
        self.timed_out = False
        self.phase_order = [self.phase]

    def _read_phase(self):
        try:
            with open(self.phase_file, encoding="utf-8") as file:
                return file.read().strip()
        except OSError:
            return ""

    def watch(self):
        while not self.stop.is_set():
            phase = self._read_phase()
            if phase and phase != self.phase:
                self.phase = phase
                self.phase_order.append(phase)
                print(f"chaos_workload: phase {phase}", file=sys.stderr, flush=True)
            if os.path.exists(self.stop_file):
                self.stop.set()
            elif time.monotonic() - self.started > self.max_duration:
                self.timed_out = True
                self.stop.set()
            time.sleep(WATCH_INTERVAL_S)


# --- book-keeping ---------------------------------------------------------------------------


class StringState:
    """What one string key may hold: its last acknowledged value, or a later uncertain one."""

    __slots__ = ("acked", "acked_phase", "uncertain")

    def __init__(self):
        self.acked = None  # never acknowledged: the key may still be missing
        self.acked_phase = None
        self.uncertain = set()

    def acknowledge(self, value, phase):
        self.acked, self.acked_phase = value, phase
        self.uncertain.clear()

    def allows(self, value):
        return value == self.acked or value in self.uncertain


class CounterState:
    """Acknowledged and uncertain increments of one counter."""

    __slots__ = ("acked", "uncertain")

    def __init__(self):
        self.acked = 0
        self.uncertain = 0

    def allows(self, value):
        """Could the counter hold VALUE before the next increment?"""
        return self.acked <= value <= self.acked + self.uncertain


class Ledger:
    """Everything one client wrote, and the stale reads it saw."""

    def __init__(self, client):
        self.strings = {string_key(client, n): StringState() for n in range(STRING_KEYS_PER_CLIENT)}
        self.counters = {counter_key(client, n): CounterState() for n in range(COUNTERS_PER_CLIENT)}
        self.pair = pair_keys(client)
        for key in self.pair:
            self.counters[key] = CounterState()
        self.stale_count = collections.Counter()  # phase -> stale reads
        self.first_stale = {}  # key -> its first stale read

    def stale(self, phase, key, got, expected):
        self.stale_count[phase] += 1
        if key not in self.first_stale:
            self.first_stale[key] = {"phase": phase, "key": key, "got": show(got), "expected": expected,
                                     "at_s": round(time.monotonic() - RUN_STARTED, 3)}


def show(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# --- commands: what to send, and how to book its reply ------------------------------------
#
# settle(ledger, reply, phase) books one reply (a value, or the exception that stands for
# it) and returns the error text when the command failed, else None.


class SetCommand:
    def __init__(self, key, value):
        self.key, self.value = key, value
        self.args = ("SET", key, value)

    def settle(self, ledger, reply, phase):
        state = ledger.strings[self.key]
        if reply is True:
            state.acknowledge(self.value, phase)
            return None
        state.uncertain.add(self.value)
        return describe_error(reply) if isinstance(reply, Exception) else f"unexpected SET reply {reply!r}"


class GetCommand:
    def __init__(self, key):
        self.key = key
        self.args = ("GET", key)

    def settle(self, ledger, reply, phase):
        if isinstance(reply, Exception):
            return describe_error(reply)
        state = ledger.strings[self.key]
        if not state.allows(reply):
            ledger.stale(phase, self.key, reply, describe_string_state(state))
        return None


class IncrCommand:
    def __init__(self, key):
        self.key = key
        self.args = ("INCR", key)

    def settle(self, ledger, reply, phase):
        state = ledger.counters[self.key]
        if isinstance(reply, Exception) or not isinstance(reply, int):
            state.uncertain += 1
            return describe_error(reply) if isinstance(reply, Exception) else f"unexpected INCR reply {reply!r}"
        if not state.allows(reply - 1):
            ledger.stale(phase, self.key, reply, f"{state.acked + 1}..{state.acked + state.uncertain + 1}")
        state.acked += 1
        return None


class MsetCommand:
    def __init__(self, values):
        self.values = values
        self.args = ("MSET", *[item for pair in values.items() for item in pair])

    def settle(self, ledger, reply, phase):
        if reply is True:
            for key, value in self.values.items():
                ledger.strings[key].acknowledge(value, phase)
            return None
        for key, value in self.values.items():
            ledger.strings[key].uncertain.add(value)
        return describe_error(reply) if isinstance(reply, Exception) else f"unexpected MSET reply {reply!r}"


class MgetCommand:
    def __init__(self, keys):
        self.keys = keys
        self.args = ("MGET", *keys)

    def settle(self, ledger, reply, phase):
        if isinstance(reply, Exception):
            return describe_error(reply)
        if not isinstance(reply, list) or len(reply) != len(self.keys):
            return f"unexpected MGET reply {reply!r}"[:ERROR_TEXT_MAX]
        for key, value in zip(self.keys, reply):
            state = ledger.strings[key]
            if not state.allows(value):
                ledger.stale(phase, key, value, describe_string_state(state))
        return None


def describe_string_state(state):
    return {"acked": show(state.acked), "uncertain": sorted(show(v) for v in state.uncertain)}


# --- per-phase statistics -------------------------------------------------------------------


class PhaseStats:
    """Operations of one phase: counts, latencies, failed ops' time spans and error texts."""

    def __init__(self):
        self.ops = 0
        self.failed = 0
        self.error_replies = 0
        self.latencies_ms = []
        self.failure_spans = []
        self.error_texts = collections.Counter()
        self.failed_kinds = collections.Counter()
        self.first_start = None
        self.last_end = None

    def record(self, kind, start, end, errors):
        self.ops += 1
        self.record_span(start, end)
        self.latencies_ms.append((end - start) * 1000)
        if errors:
            self.failed += 1
            self.error_replies += len(errors)
            self.failure_spans.append((start, end))
            self.error_texts.update(errors)
            self.failed_kinds[kind] += 1

    def merge(self, other):
        self.ops += other.ops
        self.failed += other.failed
        self.error_replies += other.error_replies
        self.latencies_ms += other.latencies_ms
        self.failure_spans += other.failure_spans
        self.error_texts.update(other.error_texts)
        self.failed_kinds.update(other.failed_kinds)
        if other.first_start is not None:
            self.record_span(other.first_start, other.last_end)

    def record_span(self, start, end):
        self.first_start = start if self.first_start is None else min(self.first_start, start)
        self.last_end = end if self.last_end is None else max(self.last_end, end)

    def seconds(self):
        return 0.0 if self.first_start is None else self.last_end - self.first_start


def longest_error_window(spans, gap=ERROR_GAP_S):
    """Longest time during which failed operations kept coming, in seconds.

    A window starts when a failed operation was sent and goes on while the next failed
    operation (of any client) was sent less than GAP seconds after the window's last
    failed operation completed; it ends when that last one completed. A lone failure is a
    window as long as its own latency; no failure is 0.
    """
    longest = 0.0
    window_start = window_end = None
    for start, end in sorted(spans):
        if window_end is not None and start <= window_end + gap:
            window_end = max(window_end, end)
        else:
            window_start, window_end = start, end
        longest = max(longest, window_end - window_start)
    return longest


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list; 0 when empty."""
    if not sorted_values:
        return 0.0
    rank = min(len(sorted_values), max(1, math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


# --- the client threads ----------------------------------------------------------------------


class ChaosClient(threading.Thread):
    """One synchronous client with its own connection, keys and ledger."""

    def __init__(self, client, port, control, on_first_op, seed):
        super().__init__(name=f"client-{client}", daemon=True)
        self.client = client
        self.port = port
        self.control = control
        self.on_first_op = on_first_op
        self.rng = random.Random(seed * 100_003 + client)
        self.ledger = Ledger(client)
        self.stats = collections.defaultdict(PhaseStats)
        self.sequence = 0
        self.crash = None
        self.kinds = list(OP_WEIGHTS)
        self.weights = [OP_WEIGHTS[kind] for kind in self.kinds]
        self.redis = connect(port)

    def run(self):
        try:
            first = True
            while not self.control.stop.is_set():
                kind = self.rng.choices(self.kinds, self.weights)[0]
                phase = self.control.phase
                start = time.monotonic()
                errors = getattr(self, f"op_{kind}")(phase)
                self.stats[phase].record(kind, start, time.monotonic(), errors)
                if first:
                    first = False
                    self.on_first_op()
        except Exception as error:  # a bug here, not a proxy failure: reported as a crash
            self.crash = f"{type(error).__name__}: {error}"
            if first:
                self.on_first_op()

    # Random keys and values of this client.

    def next_value(self):
        self.sequence += 1
        return f"{self.client}:{self.sequence}".encode()

    def some_string_key(self):
        return string_key(self.client, self.rng.randrange(STRING_KEYS_PER_CLIENT))

    def distinct_string_keys(self, count):
        return [string_key(self.client, n) for n in self.rng.sample(range(STRING_KEYS_PER_CLIENT), count)]

    def some_counter_key(self):
        return counter_key(self.client, self.rng.randrange(COUNTERS_PER_CLIENT))

    def mixed_command(self):
        choice = self.rng.randrange(3)
        if choice == 0:
            return SetCommand(self.some_string_key(), self.next_value())
        if choice == 1:
            return GetCommand(self.some_string_key())
        return IncrCommand(self.some_counter_key())

    # Sending and booking.

    def run_single(self, command, phase):
        try:
            reply = self.redis.execute_command(*command.args)
        except redis.RedisError as error:
            reply = error
        error = command.settle(self.ledger, reply, phase)
        return [error] if error else []

    def run_batch(self, commands, phase, transaction):
        """A pipeline (or MULTI/EXEC): each reply booked in order; a failed send fails all."""
        try:
            with self.redis.pipeline(transaction=transaction) as pipe:
                for command in commands:
                    pipe.execute_command(*command.args)
                replies = pipe.execute(raise_on_error=False)
            if len(replies) != len(commands):
                raise redis.RedisError(f"{len(replies)} replies for {len(commands)} commands")
        except redis.RedisError as error:
            replies = [error] * len(commands)
            errors = [describe_error(error)]
            for command, reply in zip(commands, replies):
                command.settle(self.ledger, reply, phase)
            return errors
        errors = []
        for command, reply in zip(commands, replies):
            error = command.settle(self.ledger, reply, phase)
            if error:
                errors.append(error)
        return errors

    # The operations: each returns the error texts it met (empty: success).

    def op_set(self, phase):
        return self.run_single(SetCommand(self.some_string_key(), self.next_value()), phase)

    def op_get(self, phase):
        return self.run_single(GetCommand(self.some_string_key()), phase)

    def op_incr(self, phase):
        return self.run_single(IncrCommand(self.some_counter_key()), phase)

    def op_mset(self, phase):
        keys = self.distinct_string_keys(MULTI_KEY_COUNT)
        return self.run_single(MsetCommand({key: self.next_value() for key in keys}), phase)

    def op_mget(self, phase):
        return self.run_single(MgetCommand(self.distinct_string_keys(MULTI_KEY_COUNT + 2)), phase)

    def op_pipeline(self, phase):
        return self.run_batch([self.mixed_command() for _ in range(PIPELINE_LENGTH)], phase, transaction=False)

    def op_transaction(self, phase):
        return self.run_batch([IncrCommand(key) for key in self.ledger.pair], phase, transaction=True)


# --- reading back and verifying ----------------------------------------------------------------


def chunks(items, size):
    for index in range(0, len(items), size):
        yield items[index : index + size]


def read_through_proxy(port, keys):
    """{key: value} read with GET pipelines through Slotgate; chunks are retried a few times."""
    client = connect(port)
    values, unreadable, last_error = {}, [], None
    for chunk in chunks(keys, READBACK_CHUNK):
        for _ in range(READBACK_ATTEMPTS):
            try:
                with client.pipeline(transaction=False) as pipe:
                    for key in chunk:
                        pipe.get(key)
                    values.update(zip(chunk, pipe.execute()))
                break
            except redis.RedisError as error:
                last_error = describe_error(error)
                time.sleep(1)
        else:
            unreadable += chunk
    return values, unreadable, last_error


def read_from_cluster(seeds, keys):
    """{key: value} read straight from the cluster with RedisCluster, or an error text."""
    try:
        nodes = [ClusterNode(host, int(port)) for host, port in (seed.rsplit(":", 1) for seed in seeds)]
        cluster = RedisCluster(startup_nodes=nodes, protocol=2, socket_timeout=SOCKET_TIMEOUT_S)
        try:
            values = {}
            for chunk in chunks(keys, READBACK_CHUNK):
                values.update(zip(chunk, cluster.mget_nonatomic(chunk)))
            return values, None
        finally:
            cluster.close()
    except (redis.RedisError, ValueError) as error:
        return None, describe_error(error)


def verify(ledgers, values):
    """Lost writes, duplicated writes and transaction mismatches, from the values read back."""
    lost, duplicated, mismatches = [], [], []
    for ledger in ledgers:
        for key, state in ledger.strings.items():
            got = values[key]
            if not state.allows(got):
                lost.append({"key": key, "got": show(got), "expected": describe_string_state(state),
                             "acked_in_phase": state.acked_phase, "first_stale_read": ledger.first_stale.get(key)})
        for key, state in ledger.counters.items():
            got = int(values[key] or 0)
            entry = {"key": key, "got": got, "acked": state.acked, "uncertain": state.uncertain,
                     "first_stale_read": ledger.first_stale.get(key)}
            if got < state.acked:
                lost.append(entry)
            elif got > state.acked + state.uncertain:
                duplicated.append(entry)
        a, b = (int(values[key] or 0) for key in ledger.pair)
        if a != b:
            mismatches.append({"keys": list(ledger.pair), "a": a, "b": b})
    return lost, duplicated, mismatches


# --- report --------------------------------------------------------------------------------------


def phase_summaries(clients, phase_order):
    """One summary dict per phase, in the order the phases ran."""
    merged = collections.defaultdict(PhaseStats)
    for client in clients:
        for phase, stats in client.stats.items():
            merged[phase].merge(stats)
    names = [name for name in dict.fromkeys(phase_order) if name in merged]
    names += [name for name in merged if name not in names]
    summaries = []
    for name in names:
        stats = merged[name]
        latencies = sorted(stats.latencies_ms)
        summaries.append({
            "name": name,
            "seconds": round(stats.seconds(), 1),
            "ops": stats.ops,
            "failed": stats.failed,
            "error_replies": stats.error_replies,
            "distinct_errors": len(stats.error_texts),
            "top_errors": stats.error_texts.most_common(3),
            "failed_by_kind": dict(stats.failed_kinds),
            "longest_error_window_s": round(longest_error_window(stats.failure_spans), 3),
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(latencies[-1], 2) if latencies else 0.0,
        })
    return summaries


def print_report(summary):
    columns = ("phase", "secs", "ops", "failed", "err-replies", "distinct-errs", "err-window-s", "p50-ms", "p99-ms",
               "max-ms")
    row = "{:<19} {:>5} {:>7} {:>7} {:>11} {:>13} {:>12} {:>7} {:>7} {:>8}"
    print(row.format(*columns))
    for phase in summary["phases"]:
        print(row.format(phase["name"], f"{phase['seconds']:.1f}", phase["ops"], phase["failed"], phase["error_replies"],
                         phase["distinct_errors"],
                         f"{phase['longest_error_window_s']:.3f}", f"{phase['p50_ms']:.2f}", f"{phase['p99_ms']:.2f}",
                         f"{phase['max_ms']:.1f}"))
    print()
    print("secs = from the phase's first operation sent to its last one completed;")
    print("failed = operations with at least one error (a pipeline or a transaction is one operation);")
    print("err-replies = error replies and failed sends seen (each command of a pipeline counts);")
    print(f"err-window-s = longest stretch in which failed operations followed each other less than "
          f"{ERROR_GAP_S:g} s apart, from the first one's send to the last one's completion.")
    failing = [phase for phase in summary["phases"] if phase["failed"]]
    if failing:
        print()
        print("Top error texts per phase (count x text), failed ops by kind:")
        for phase in failing:
            kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(phase["failed_by_kind"].items()))
            print(f"  {phase['name']}: ({kinds})")
            for text, count in phase["top_errors"]:
                print(f"    {count:>6} x {text}")
    print()
    totals = summary["totals"]
    print(f"Totals: {totals['ops']} ops, {totals['failed']} failed; keys verified {totals['keys_verified']}, "
          f"unreadable {totals['keys_unreadable']}; lost {totals['lost']}, duplicated {totals['duplicated']}, "
          f"transaction mismatches {totals['transaction_mismatches']}, stale reads {totals['stale_reads']} "
          f"(on {totals['keys_with_stale_reads']} keys; by phase {summary['stale_reads_by_phase']}); "
          f"direct cross-check: {summary['direct_check']}")
    for name in ("lost", "duplicated", "transaction_mismatches", "first_stale_read_per_key"):
        examples = summary["examples"][name]
        if examples:
            print(f"  {name} (first {len(examples)}):")
            for example in examples:
                print(f"    {json.dumps(example)}")
    for problem in summary["problems"]:
        print(f"PROBLEM: {problem}")


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Slotgate chaos workload (see the module docstring).")
    parser.add_argument("--port", type=int, required=True, help="Slotgate's port on 127.0.0.1")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--phase-file", required=True, help="holds the current phase name")
    parser.add_argument("--stop-file", required=True, help="stop when this file appears")
    parser.add_argument("--ready-file", help="created once every client has finished one operation")
    parser.add_argument("--summary-json", help="where to write the JSON summary")
    parser.add_argument("--max-duration", type=float, default=600.0, help="stop after this many seconds anyway")
    parser.add_argument("--cluster-seed", action="append", default=[], help="HOST:PORT of a node, for the cross-check")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.max_duration <= 0:
        parser.error("--clients and --max-duration must be positive")
    return args


def start_clients(args, control):
    ready_lock = threading.Lock()
    started = [0]

    def on_first_op():
        with ready_lock:
            started[0] += 1
            if started[0] == args.clients and args.ready_file:
                with open(args.ready_file, "w", encoding="utf-8") as file:
                    file.write("ready\n")

    clients = [ChaosClient(n, args.port, control, on_first_op, args.seed) for n in range(args.clients)]
    for client in clients:
        client.start()
    return clients


def main(argv):
    args = parse_args(argv)
    control = RunControl(args.phase_file, args.stop_file, args.max_duration)
    watcher = threading.Thread(target=control.watch, name="watcher", daemon=True)
    watcher.start()
    clients = start_clients(args, control)
    control.stop.wait()
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    for client in clients:
        client.join(timeout=max(0.0, deadline - time.monotonic()))
    problems = []
    if control.timed_out:
        problems.append(f"stopped by --max-duration {args.max_duration:g} s, not by the stop file")
    hung = [client.name for client in clients if client.is_alive()]
    if hung:
        problems.append(f"{len(hung)} client(s) still in an operation {JOIN_TIMEOUT_S} s after stop: {hung[:5]}")
    crashed = [f"{client.name}: {client.crash}" for client in clients if client.crash]
    if crashed:
        problems.append(f"{len(crashed)} client thread(s) crashed: {crashed[:3]}")

    finished = [client for client in clients if not client.is_alive()]
    ledgers = [client.ledger for client in finished]
    keys = [key for ledger in ledgers for key in (*ledger.strings, *ledger.counters)]
    values, unreadable, readback_error = read_through_proxy(args.port, keys)
    if unreadable:
        problems.append(f"{len(unreadable)} key(s) unreadable through Slotgate; last error: {readback_error}")
        ledgers = [ledger for ledger in ledgers if all(key in values for key in (*ledger.strings, *ledger.counters))]
    lost, duplicated, mismatches = verify(ledgers, values)
    stale_by_phase = collections.Counter()
    for client in clients:
        stale_by_phase.update(client.ledger.stale_count)
    first_stale_reads = sorted((read for client in clients for read in client.ledger.first_stale.values()),
                               key=lambda read: read["at_s"])

    direct_check = "skipped (no --cluster-seed)"
    direct_differences = 0
    if args.cluster_seed:
        direct, direct_error = read_from_cluster(args.cluster_seed, [key for key in keys if key in values])
        if direct is None:
            direct_check = f"failed: {direct_error}"
            problems.append(f"direct cross-check failed: {direct_error}")
        else:
            differing = [key for key, value in direct.items() if values[key] != value]
            direct_differences = len(differing)
            direct_check = f"{len(direct)} keys read with RedisCluster, {direct_differences} differ from Slotgate"
            if differing:
                problems.append(f"keys whose value differs between Slotgate and the cluster: {differing[:5]}")

    phases = phase_summaries(clients, control.phase_order)
    summary = {
        "clients": args.clients,
        "phases": phases,
        "totals": {
            "ops": sum(phase["ops"] for phase in phases),
            "failed": sum(phase["failed"] for phase in phases),
            "keys_verified": sum(len(ledger.strings) + len(ledger.counters) for ledger in ledgers),
            "keys_unreadable": len(unreadable),
            "lost": len(lost),
            "duplicated": len(duplicated),
            "transaction_mismatches": len(mismatches),
            "stale_reads": sum(stale_by_phase.values()),
            "keys_with_stale_reads": len(first_stale_reads),
            "direct_differences": direct_differences,
        },
        "stale_reads_by_phase": dict(stale_by_phase),
        "direct_check": direct_check,
        "examples": {
            "lost": lost[:EXAMPLES_SHOWN],
            "duplicated": duplicated[:EXAMPLES_SHOWN],
            "transaction_mismatches": mismatches[:EXAMPLES_SHOWN],
            "first_stale_read_per_key": first_stale_reads[:EXAMPLES_SHOWN],
        },
        "problems": problems,
        "verified": not problems,
    }
    print_report(summary)
    if args.summary_json:
        with open(args.summary_json, "w", encoding="utf-8") as file:
            json.dump(summary, file, indent=2)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
