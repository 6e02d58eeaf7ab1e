"""The same client workload through Slotgate with redis-py in RESP2 and in RESP3.

Usage: python3 protocol_workload.py PORT

redis-py 8 speaks RESP3 by default (HELLO 3 on connect); older code asks for protocol=2. Both
run the same checks, at the same time, on the same keys: strings and counters, a map (HGETALL),
a set (SMEMBERS), doubles (ZRANGE WITHSCORES, ZSCORE), a split MGET with missing keys, a pipeline
of 5,000 commands, a transaction, BLPOP woken by another client, pub/sub, a script and INFO.
Prints one "OK: ..." line and exits 0, or prints "FAIL: ..." and exits 1.
"""
import subprocess
import sys
import threading
import time

import redis


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def workload(port, protocol, errors):
    tag = f"p{protocol}"
    try:
        kwargs = {"port": port} if protocol == 3 else {"port": port, "protocol": 2}
        r = redis.Redis(**kwargs)
        hello = r.execute_command("HELLO")
        proto = hello.get(b"proto", hello.get("proto")) if isinstance(hello, dict) else dict(zip(hello[::2], hello[1::2]))[b"proto"]
        check(proto == protocol, f"{tag}: HELLO says proto {proto}")
        check(r.set(f"{{{tag}}}s", "v") and r.get(f"{{{tag}}}s") == b"v", f"{tag}: SET/GET")
        r.delete(f"{tag}:n", f"{tag}:h", f"{tag}:set", f"{tag}:z", f"{{{tag}}}a")
        check(r.incr(f"{tag}:n") == 1, f"{tag}: INCR")
        r.hset(f"{tag}:h", mapping={"a": 1, "b": 2})
        check(r.hgetall(f"{tag}:h") == {b"a": b"1", b"b": b"2"}, f"{tag}: HGETALL")
        r.sadd(f"{tag}:set", "x", "y")
        check(r.smembers(f"{tag}:set") == {b"x", b"y"}, f"{tag}: SMEMBERS")
        r.zadd(f"{tag}:z", {"m1": 1.5, "m2": 2.25})
        check(r.zrange(f"{tag}:z", 0, -1, withscores=True) == [(b"m1", 1.5), (b"m2", 2.25)], f"{tag}: ZRANGE WITHSCORES")
        check(r.zscore(f"{tag}:z", "m2") == 2.25, f"{tag}: ZSCORE")
        keys = [f"{tag}:k{i}" for i in range(100)]
        r.mset({k: k for k in keys})
        got = r.mget(keys[0], f"{tag}:missing", *keys[1:])
        check(got == [keys[0].encode(), None] + [k.encode() for k in keys[1:]], f"{tag}: split MGET")
        p = r.pipeline(transaction=False)
        for i in range(2500):
            p.set(f"{tag}:p{i}", i)
        for i in range(2500):
            p.get(f"{tag}:p{i}")
        results = p.execute()
        check(results[2500:] == [str(i).encode() for i in range(2500)], f"{tag}: pipeline of 5,000")
        with r.pipeline() as t:
            t.set(f"{{{tag}}}a", 1)
            t.incr(f"{{{tag}}}a")
            check(t.execute() == [True, 2], f"{tag}: MULTI/EXEC")
        def push():
            time.sleep(0.3)
            redis.Redis(**kwargs).lpush(f"{tag}:list", "item")
        threading.Thread(target=push).start()
        check(r.blpop([f"{tag}:list"], 0) == (f"{tag}:list".encode(), b"item"), f"{tag}: BLPOP woken")
        ps = r.pubsub()
        ps.subscribe(f"{tag}:news")
        check(ps.get_message(timeout=2)["type"] == "subscribe", f"{tag}: SUBSCRIBE confirmed")
        redis.Redis(**kwargs).publish(f"{tag}:news", "hello")
        message = ps.get_message(timeout=2)
        check(message and message["data"] == b"hello", f"{tag}: pub/sub message, got {message}")
        ps.close()
        sha = r.script_load("return redis.call('GET', KEYS[1])")
        check(r.evalsha(sha, 1, f"{{{tag}}}s") == b"v", f"{tag}: EVALSHA")
        check("db0" in r.info("keyspace"), f"{tag}: INFO keyspace")
        # The same keys from both protocols at once: a shared counter and a shared hash.
        for i in range(200):
            r.incr("shared:counter")
            r.hincrby("shared:hash", "n", 1)
    except Exception as error:  # reported, not raised: the other protocol's thread goes on
        errors.append(f"{tag}: {type(error).__name__}: {error}")


def main():
    if len(sys.argv) != 2:
        print("usage: protocol_workload.py PORT")
        return 2
    port = int(sys.argv[1])
    errors = []
    threads = [threading.Thread(target=workload, args=(port, protocol, errors)) for protocol in (2, 3)]
    redis.Redis(port=port, protocol=2).delete("shared:counter", "shared:hash")
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    shared = redis.Redis(port=port, protocol=2)
    if shared.get("shared:counter") != b"400" or shared.hget("shared:hash", "n") != b"400":
        errors.append(f"shared keys: counter {shared.get('shared:counter')!r}, hash {shared.hget('shared:hash', 'n')!r}")
    # redis-cli -3 too.
    # redis-cli -3 prints a map one "field value" line per pair.
    output = subprocess.run(["redis-cli", "-3", "-p", str(port), "HGETALL", "p3:h"], capture_output=True, text=True, timeout=30).stdout
    if sorted(output.splitlines()) != ["a 1", "b 2"]:
        errors.append(f"redis-cli -3 HGETALL: {output!r}")
    if errors:
        print("FAIL: " + "; ".join(errors))
        return 1
    print(f"OK: redis-py {redis.__version__} RESP2 and RESP3 clients at once: strings, map, set, doubles, split MGET, "
          "5,000-command pipeline, MULTI/EXEC, BLPOP, pub/sub, EVALSHA, INFO, 400 INCR/HINCRBY on shared keys; "
          "redis-cli -3 HGETALL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
