"""Memory per tracked account at 100,000 and 1,000,000 accounts.

    python benchmarks/memory.py [--accounts 100000 1000000]

A tracked account is what three days of ordinary life leave in state: its
contact list, the people it writes with, the takeover detector's record (profile,
sessions, live networks, delivered counts and the owner's correspondents in one
value, ``tk:<account>``: ``detectors/takeover/record.py``), counters (``spimguard
simulate --scenario quiet``, 1,000 users, run through the engine). Those per-account keys are then
copied under new account names until the store tracks N accounts, and the
store's own memory is read:

- memory backend: the process's resident memory growth (VmRSS) per account;
- Redis (the shared backend): ``used_memory`` growth per account, on a
  redis-server this script starts on a free port and stops (keys copied with
  DUMP/RESTORE, so each copy is a real Redis object).

Only what is still alive in event time when the log ends is an account's cost:
the template's store is swept at its last event's time, and the Redis keys
copied are those the swept memory store still holds (the same log leaves the
same keys in every backend). Redis's own wall-clock EXPIRE, only a safety net an
hour past each event-time TTL, would otherwise keep the three days' ten-minute
burst counters, which the template lives through in a few minutes: ~9 KB an
account that production frees within the hour. The rows by kind say where the
bytes go: Redis's MEMORY USAGE of each key, and for the memory backend
``sys.getsizeof`` of each key's containers (an estimate: shared objects, such as
interned member names, are not counted).

State shared by all accounts (bulk clusters, domain reputation) is not copied:
it grows with traffic, not with accounts. Target: at most 1 KiB per account.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import msgspec
import redis

from spimguard import decode_event, load_config, open_engine
from spimguard.sim import network, scenarios, texts
from spimguard.state import sided
from spimguard.state.memory import _Packed
from table import Rows, free_port, show

TEMPLATE_USERS = 1000
_USER = re.compile(r"user\d+")


def template_events() -> list[bytes]:
    rng = random.Random(5)
    plan = scenarios.plan(network.build(TEMPLATE_USERS, rng), texts.load(), "quiet", 3, rng)
    return [msgspec.json.encode({**p.body, "id": f"e{n}", "ts": p.ts})
            for n, p in enumerate(plan.events)]


def run_template(backend: str, **storage: str):  # type: ignore[no-untyped-def]
    # Shared state needs the key every node pseudonymises evidence with (any fixed one).
    records = {"evidence_key": "memory-benchmark"} if backend == "redis" else {}
    cfg = load_config(environ={}, storage={"backend": backend, **storage}, records=records,
                      official_clients=list(network.OFFICIAL_CLIENTS))
    engine = open_engine(cfg)
    events = [decode_event(line, cfg.limits) for line in template_events()]
    for start in range(0, len(events), 500):
        engine.process_batch(events[start:start + 500])
    return engine


def _kind(key: str) -> str:
    """A key's kind: its name without the account and what follows it."""
    return _USER.split(key, 1)[0].rstrip(":") or key


def live_keys(engine) -> list[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    """The per-account keys of a memory store swept at the log's last event, with their
    entries (counter, member set or value)."""
    state = engine.state
    state.sweep(engine.clock)
    return [(key, entry) for table in _tables(state)
            for key, entry in table.items() if _USER.search(key)]


def _tables(state) -> tuple[dict[str, Any], ...]:  # type: ignore[no-untyped-def]
    return state._counters, state._members, state._values, state._hashed, state._sided


def _deep_size(entry: Any, seen: set[int] | None = None) -> int:
    """Bytes of an entry's own containers, each object once (not shared objects such as
    interned names: the memory backend holds each account id once)."""
    seen = set() if seen is None else seen
    if id(entry) in seen or isinstance(entry, str | int) or entry is None:
        return 0
    seen.add(id(entry))
    size = sys.getsizeof(entry)
    if isinstance(entry, tuple):
        return size + sum(_deep_size(x, seen) for x in entry)
    if isinstance(entry, dict):
        return size + sum(_deep_size(v, seen) for v in entry.values())
    slots = [s for kind in type(entry).__mro__ for s in getattr(kind, "__slots__", ())]
    return size + sum(_deep_size(getattr(entry, s), seen) for s in slots)


def by_kind(sizes: list[tuple[str, int]], store: str) -> Rows:
    """Bytes per account by key kind, largest first."""
    total: dict[str, list[int]] = {}
    for key, size in sizes:
        count = total.setdefault(_kind(key), [0, 0])
        count[0] += 1
        count[1] += size
    return [(f"{store}: {kind} ({n / TEMPLATE_USERS:.2f} keys an account), bytes an account",
             f"{size / TEMPLATE_USERS:,.0f}")
            for kind, (n, size) in sorted(total.items(), key=lambda kv: -kv[1][1])]


def renamed(text: str, copy_number: int) -> str:
    return _USER.sub(lambda m: f"{m.group(0)}c{copy_number}", text)


def resident_bytes() -> int:
    """This process's resident memory (Linux), allocator overhead included."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def _copied(entry: Any, number: int) -> Any:
    """A fresh copy of one memory-backend entry, its member names its own strings."""
    if isinstance(entry, bytes):  # a hashed set (a contact list): no names to rename
        return bytes(memoryview(entry))
    if isinstance(entry, sided.Record):  # an account's ties
        return sided.Record(tuple(sys.intern(renamed(m, number)) for m in entry.names),
                            bytes(memoryview(entry.times)))
    if not isinstance(entry, tuple):  # a small member set holding its expiry, TTL and cap
        return type(entry)(_renamed_set(entry, number), entry.expiry, entry.ttl, entry.cap)
    head, *rest = entry
    if isinstance(head, dict):
        if head and isinstance(next(iter(head)), str):
            # Interned, as MemoryState interns the members it is given.
            return ({sys.intern(renamed(m, number)): t for m, t in head.items()}, *rest)
        return (dict(head), *rest)
    if isinstance(head, bytes | memoryview):
        return (bytes(memoryview(head)), *rest)
    return (_renamed_set(head, number), *rest)


def _renamed_set(members: Any, number: int) -> Any:
    """A packed member set's copy, its (interned) names renamed."""
    times = members.times if isinstance(members.times, float) else bytes(
        memoryview(members.times))
    return _Packed(tuple(sys.intern(renamed(m, number)) for m in members.names), times)


def memory_backend(engine, live: list[tuple[str, Any]],  # type: ignore[no-untyped-def]
                   targets: list[int]) -> Rows:
    state = engine.state
    rows: Rows = [("memory backend: per-account keys in the template (1,000 accounts)",
                   f"{len(live):,}")]
    rows += by_kind([(key, _deep_size(entry)) for key, entry in live], "memory backend")
    tables = {id(table): table for table in _tables(state)}
    homes = [(next(t for t in tables.values() if key in t), key, entry) for key, entry in live]
    base = resident_bytes()
    made = TEMPLATE_USERS
    for target in targets:
        while made < target:
            number = made // TEMPLATE_USERS
            for table, key, entry in homes:
                table[renamed(key, number)] = _copied(entry, number)
            made += TEMPLATE_USERS
        grown = resident_bytes() - base
        rows.append((f"memory backend, {target:,} accounts: bytes per account (target ≤ 1024)",
                     f"{grown / (target - TEMPLATE_USERS):,.0f}"))
    return rows


def redis_backend(targets: list[int], live: set[str]) -> Rows:
    binary = shutil.which("redis-server")
    if not binary:
        return [("Redis", "redis-server not installed: skipped")]
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", folder],
                                  stdout=subprocess.DEVNULL)
        try:
            client = redis.Redis(port=port)
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            return _fill_redis(client, port, targets, live)
        finally:
            server.terminate()
            server.wait(10)


def _fill_redis(client: redis.Redis, port: int, targets: list[int], live: set[str]) -> Rows:
    namespace = "sg:"
    with tempfile.TemporaryDirectory() as records:  # the verdict log stays in SQLite
        engine = run_template("redis", redis_url=f"redis://127.0.0.1:{port}/0",
                              redis_namespace=namespace, data_dir=records)
        engine.close()
    keys = [k.decode() for k in client.scan_iter(match=f"{namespace}*", count=10_000)
            if k.decode().removeprefix(namespace) in live]
    dumps = {k: (client.dump(k), client.pttl(k)) for k in keys}
    rows: Rows = [("Redis: per-account keys in the template (1,000 accounts)", f"{len(keys):,}")]
    rows += by_kind([(k.removeprefix(namespace), client.memory_usage(k) or 0) for k in keys],
                    "Redis")
    base = client.info("memory")["used_memory"]
    made = TEMPLATE_USERS
    for target in targets:
        while made < target:
            number = made // TEMPLATE_USERS
            pipe = client.pipeline(transaction=False)
            for key, (payload, ttl) in dumps.items():
                name = renamed(key, number)
                pipe.restore(name, max(ttl, 0), payload, replace=True)
            pipe.execute()
            made += TEMPLATE_USERS
        grown = client.info("memory")["used_memory"] - base
        rows.append((f"Redis, {target:,} accounts: bytes per account (target ≤ 1024)",
                     f"{grown / (target - TEMPLATE_USERS):,.0f}"))
    return rows


def main(targets: list[int] | None = None, redis_targets: list[int] | None = None) -> Rows:
    engine = run_template("memory")
    live = live_keys(engine)
    # Redis first: the memory backend's millions of entries stay in this process.
    in_redis = redis_backend(redis_targets or [100_000], {key for key, _ in live})
    return memory_backend(engine, live, targets or [100_000, 1_000_000]) + in_redis


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--redis-accounts", type=int, nargs="+", default=[100_000],
                        help="each account copied is a few KB in Redis")
    args = parser.parse_args()
    show(main(args.accounts, args.redis_accounts))
