#!/usr/bin/env python3
"""Drive Slotgate with real cluster-aware clients and check it looks like a one-node cluster.

Usage: python3 Tests/clients/cluster_client_workload.py PORT

Slotgate answers CLUSTER SLOTS as a single node at its own address owning all 16384
slots, so redis-py's RedisCluster (and `redis-cli -c`) should send every command to
Slotgate and never be redirected. This script runs a workload through RedisCluster
(single-key SET/GET over keys spread across the whole slot range, the client's own
mset_nonatomic/mget_nonatomic, a 500-command pipeline), verifies every reply, then
checks that the client knows exactly one node, 127.0.0.1:PORT, and that no MOVED or
ASK reply ever reached it. Finally it runs `redis-cli -c` for a few keys in
different slots. Prints one summary line and exits 0 on success; on failure prints
`FAIL: ...` and exits 1 (2 for bad usage or a missing redis-py).
"""

import os
import subprocess
import sys

# workload_support.py lives beside this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workload_support import WorkloadFailure, check, required_packages, run_workload

with required_packages("redis-py"):
    import redis
    import redis.exceptions
    from redis.cluster import NodesManager, RedisCluster, key_slot

SLOT_COUNT = 16384
OVERALL_TIMEOUT_SECONDS = 180


# --- Redirect accounting -----------------------------------------------------------------
#
# How "no MOVED/ASK was ever received" is proven. redis-py turns every error reply whose
# text starts with MOVED or ASK into a redis.exceptions.MovedError / AskError, whichever
# parser reads it (the pure-Python one, or hiredis's Reader, which calls the same
# parse_error), for plain commands and for pipelines alike. MovedError is a subclass of
# AskError and in this version inherits its __init__. So wrapping AskError.__init__
# counts every redirect the client receives, before the client silently retries it.
# A self-test below constructs one of each to prove the hook fires for both classes; and
# the same hooks, on a RedisCluster pointed at a real node with one slot deliberately
# mapped to the wrong master, count the MOVED of a plain GET and of each pipelined one.
#
# rc.reinitialize_counter alone is NOT enough: RedisCluster increments it on a MOVED but
# resets it to 0 each time it reaches reinitialize_steps (5) and re-reads the topology,
# and a ClusterPipeline keeps its own counter. It is still asserted as a cross-check,
# together with two NodesManager counters: initialize() (the full slots-cache refresh a
# MOVED every reinitialize_steps, a connection error or CLUSTERDOWN triggers) must run
# exactly once, at construction, and move_slot() (the cache patch a MOVED makes otherwise)
# never.
redirects_seen = []
nodes_manager_calls = {"initialize": 0, "move_slot": 0}


def install_redirect_hooks():
    original_ask_init = redis.exceptions.AskError.__init__

    def counting_ask_init(self, *args, **kwargs):
        redirects_seen.append(f"{type(self).__name__}: {args[0] if args else ''}")
        original_ask_init(self, *args, **kwargs)

    redis.exceptions.AskError.__init__ = counting_ask_init

    def counting(name):
        original = getattr(NodesManager, name)

        def wrapper(self, *args, **kwargs):
            nodes_manager_calls[name] += 1
            return original(self, *args, **kwargs)

        setattr(NodesManager, name, wrapper)

    counting("initialize")
    counting("move_slot")

    # Self-test: both redirect classes must pass through the hook.
    redis.exceptions.MovedError("1 127.0.0.1:1")
    redis.exceptions.AskError("2 127.0.0.1:2")
    check(
        len(redirects_seen) == 2
        and redirects_seen[0].startswith("MovedError")
        and redirects_seen[1].startswith("AskError"),
        f"redirect hook self-test failed: {redirects_seen}",
    )
    redirects_seen.clear()


# --- Keys ----------------------------------------------------------------------------------


def keys_spread_over_all_slots(prefix, count):
    """`count` keys in `count` distinct slots, one in each of `count` equal slices of 0..16383."""
    chosen = {}
    candidate = 0
    while len(chosen) < count:
        key = f"{prefix}:{candidate}"
        bucket = key_slot(key.encode()) * count // SLOT_COUNT
        chosen.setdefault(bucket, key)
        candidate += 1
        check(candidate < 1_000_000, "could not find keys for every slot slice")
    return [chosen[bucket] for bucket in range(count)]


# --- Workload through RedisCluster -----------------------------------------------------------


def run_cluster_client(port, token):
    try:
        rc = RedisCluster(
            host="127.0.0.1",
            port=port,
            protocol=2,  # Slotgate speaks RESP2 only for now (no HELLO 3).
            socket_timeout=15,
            socket_connect_timeout=15,
            decode_responses=True,
        )
    except TypeError as error:
        raise WorkloadFailure(f"this redis-py ({redis.__version__}) rejects protocol=2: {error}")
    check(
        rc.nodes_manager.connection_kwargs.get("protocol") == 2,
        f"protocol=2 did not reach the connections: {rc.nodes_manager.connection_kwargs.get('protocol')!r}",
    )
    counts = {}

    # 1. 1,000 SET/GET on keys in 1,000 distinct slots covering the whole slot range.
    keys = keys_spread_over_all_slots(f"ccw:{token}:k", 1000)
    slots = sorted(key_slot(key.encode()) for key in keys)
    check(len(set(slots)) == 1000 and slots[0] < 17 and slots[-1] > SLOT_COUNT - 18, "key choice does not span the slots")
    for key in keys:
        check(rc.set(key, f"v:{key}") is True, f"SET {key} did not return OK")
    for key in keys:
        value = rc.get(key)
        check(value == f"v:{key}", f"GET {key}: expected {'v:' + key!r}, got {value!r}")
    counts["set_get"] = len(keys)

    # 2. The cluster client's own multi-key helpers: one MSET/MGET per slot, pipelined.
    mapping = {key: f"m:{index}:{key}" for index, key in enumerate(keys[::3])}
    replies = rc.mset_nonatomic(mapping)
    check(len(replies) == len(mapping) and all(reply is True for reply in replies), f"mset_nonatomic replies: {replies[:5]}…")
    missing = f"ccw:{token}:never-set"
    wanted = list(mapping) + [missing] + keys[1::3]
    values = rc.mget_nonatomic(wanted)
    expected = list(mapping.values()) + [None] + [f"v:{key}" for key in keys[1::3]]
    check(len(values) == len(expected), f"mget_nonatomic returned {len(values)} values for {len(expected)} keys")
    for key, value, want in zip(wanted, values, expected):
        check(value == want, f"mget_nonatomic {key}: expected {want!r}, got {value!r}")
    current = {key: f"v:{key}" for key in keys}
    current.update(mapping)
    counts["mset_keys"] = len(mapping)
    counts["mget_keys"] = len(wanted)

    # 3. One pipeline of 500 commands over many slots: SET, GET of the key just set, INCR, GET
    #    of a key from step 1 (its value from step 1 or step 2).
    pipe = rc.pipeline()
    expected = []
    for index in range(125):
        key = f"ccw:{token}:p:{index}"
        counter = f"ccw:{token}:counter:{index % 10}"
        pipe.set(key, f"p{index}")
        pipe.get(key)
        pipe.incr(counter)
        pipe.get(keys[index * 7])
        expected += [True, f"p{index}", index // 10 + 1, current[keys[index * 7]]]
    replies = pipe.execute()
    check(len(expected) == 500, "pipeline size")
    check(len(replies) == 500, f"pipeline returned {len(replies)} replies for 500 commands")
    for position, (reply, want) in enumerate(zip(replies, expected)):
        check(reply == want, f"pipeline reply {position}: expected {want!r}, got {reply!r}")
    counts["pipeline"] = len(replies)

    # 4. The client's picture of the cluster: exactly one node, Slotgate itself, owning every slot.
    nodes = rc.get_nodes()
    names = sorted(node.name for node in nodes)
    check(names == [f"127.0.0.1:{port}"], f"client knows nodes {names}, expected only 127.0.0.1:{port}")
    check(nodes[0].server_type == "primary", f"the one node is a {nodes[0].server_type}, expected primary")
    owners = {nodes_for_slot[0].name for nodes_for_slot in rc.nodes_manager.slots_cache.values()}
    check(
        len(rc.nodes_manager.slots_cache) == SLOT_COUNT and owners == {f"127.0.0.1:{port}"},
        f"slots cache covers {len(rc.nodes_manager.slots_cache)} slots, owners {sorted(owners)}",
    )

    # 5. No redirect ever reached the client (see the comment at install_redirect_hooks).
    check(not redirects_seen, f"{len(redirects_seen)} MOVED/ASK replies reached the client, first: {redirects_seen[:3]}")
    check(rc.reinitialize_counter == 0, f"reinitialize_counter is {rc.reinitialize_counter}, expected 0")
    check(nodes_manager_calls["move_slot"] == 0, f"slots cache was patched {nodes_manager_calls['move_slot']} times")
    check(
        nodes_manager_calls["initialize"] == 1,
        f"topology was loaded {nodes_manager_calls['initialize']} times, expected once (at startup)",
    )

    rc.close()
    return counts


# --- redis-cli -c ---------------------------------------------------------------------------


def redis_cli(port, *arguments, script=None):
    """Runs `redis-cli -c` with `arguments` (one-shot mode), or with `script` fed to its stdin
    (REPL mode, one command per line); returns its stdout lines."""
    command = ["redis-cli", "-c", "-h", "127.0.0.1", "-p", str(port), *arguments]
    shown = " ".join(command) + (" <<< " + repr(script[:60]) if script is not None else "")
    try:
        result = subprocess.run(
            command,
            input=script if script is not None else "",
            capture_output=True,
            text=True,
            timeout=30,
        )
    except FileNotFoundError:
        raise WorkloadFailure("redis-cli not found on PATH; run deploy/ensure-deps.sh")
    except subprocess.TimeoutExpired:
        raise WorkloadFailure(f"{shown} timed out")
    output = result.stdout + result.stderr
    check(result.returncode == 0, f"{shown} exited {result.returncode}: {output!r}")
    # redis-cli -c follows MOVED/ASK itself and prints "-> Redirected to slot [N] located at
    # HOST:PORT" when it does, but only in REPL mode (config.interactive); a one-shot
    # `redis-cli -c GET k` follows a redirect silently. So the REPL session below is what
    # proves no redirect; checked against a real node, it prints that line for other slots.
    check("Redirected" not in output, f"{shown} was redirected: {output!r}")
    return result.stdout.splitlines()


def run_redis_cli(port, token):
    # One key in each third of the slot range, plus one in the middle, so that behind
    # Slotgate they live on different masters of a 3-master cluster.
    targets = [0, SLOT_COUNT // 3, SLOT_COUNT // 2, SLOT_COUNT - 1]
    keys = []
    for target in targets:
        candidate = 0
        while True:
            key = f"ccw:{token}:cli:{candidate}"
            if abs(key_slot(key.encode()) - target) < 400:
                break
            candidate += 1
        keys.append(key)
    check(len({key_slot(key.encode()) for key in keys}) == len(keys), "redis-cli keys share a slot")
    # One REPL session: every SET, then every GET, with no redirect announced.
    session = "".join(f"SET {key} cli-{key}\n" for key in keys) + "".join(f"GET {key}\n" for key in keys)
    lines = redis_cli(port, script=session)
    expected = ["OK"] * len(keys) + [f"cli-{key}" for key in keys]
    check(lines == expected, f"redis-cli -c session: expected {expected}, got {lines}")
    # One-shot mode too: each command its own connection.
    for key in keys:
        reply = redis_cli(port, "SET", key, f"cli-{key}")
        check(reply == ["OK"], f"redis-cli SET {key}: expected OK, got {reply!r}")
        reply = redis_cli(port, "GET", key)
        check(reply == [f"cli-{key}"], f"redis-cli GET {key}: expected {'cli-' + key!r}, got {reply!r}")
    # What redis-cli wrote is what RedisCluster reads, and the other way round.
    rc = RedisCluster(host="127.0.0.1", port=port, protocol=2, socket_timeout=15, decode_responses=True)
    try:
        for key in keys:
            value = rc.get(key)
            check(value == f"cli-{key}", f"RedisCluster GET {key} after redis-cli SET: got {value!r}")
        rc.set(keys[0], "from-redis-py")
    finally:
        rc.close()
    reply = redis_cli(port, "GET", keys[0])
    check(reply == ["from-redis-py"], f"redis-cli GET {keys[0]} after RedisCluster SET: got {reply!r}")
    reply = redis_cli(port, "CLUSTER", "KEYSLOT", keys[-1])
    check(reply == [str(key_slot(keys[-1].encode()))], f"redis-cli CLUSTER KEYSLOT {keys[-1]}: got {reply!r}")
    return len(keys)


def run(port):
    token = f"{os.getpid()}"
    try:
        install_redirect_hooks()
        counts = run_cluster_client(port, token)
        cli_keys = run_redis_cli(port, token)
        check(not redirects_seen, f"MOVED/ASK reached the second RedisCluster: {redirects_seen[:3]}")
    except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException) as error:
        raise WorkloadFailure(f"redis-py raised {type(error).__name__}: {error}")
    return (
        f"OK: redis-py {redis.__version__} RedisCluster via 127.0.0.1:{port}: "
        f"{counts['set_get']} SET/GET over {counts['set_get']} slots, "
        f"mset_nonatomic {counts['mset_keys']} keys, mget_nonatomic {counts['mget_keys']} keys, "
        f"pipeline {counts['pipeline']} commands; 1 node (127.0.0.1:{port}, all {SLOT_COUNT} slots); "
        f"0 MOVED/ASK, 1 topology load; redis-cli -c: {cli_keys} keys SET/GET in REPL and one-shot mode, no redirect"
    )


def main(argv):
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: cluster_client_workload.py PORT", file=sys.stderr)
        return 2
    port = int(argv[1])
    return run_workload(lambda: run(port), OVERALL_TIMEOUT_SECONDS)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
