"""Memory per tracked account at 100,000 and 1,000,000 accounts.

    python benchmarks/memory.py [--accounts 100000 1000000]

A tracked account is what three days of ordinary life leave in state: its
contact list, profile, sessions, counters (``spimguard simulate --scenario
quiet``, 1,000 users, run through the engine). Those per-account keys are then
copied under new account names until the store tracks N accounts, and the
store's own memory is read:

- memory backend: the process's resident memory growth (VmRSS) per account;
- Redis (the shared backend): ``used_memory`` growth per account, on a
  redis-server this script starts on a free port and stops (keys copied with
  DUMP/RESTORE, so each copy is a real Redis object). Redis expires keys in
  wall-clock time, and the template's three days pass in a minute, so keys of
  short windows (velocity, burst counters) that production would have expired
  are still there: this figure is an upper bound.

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

import msgspec
import redis

from spimguard import decode_event, load_config, open_engine
from spimguard.sim import network, scenarios, texts
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


def renamed(text: str, copy_number: int) -> str:
    return _USER.sub(lambda m: f"{m.group(0)}c{copy_number}", text)


def resident_bytes() -> int:
    """This process's resident memory (Linux), allocator overhead included."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def _copied(entry: tuple, number: int) -> tuple:  # type: ignore[type-arg]
    """A fresh copy of one memory-backend entry, its member names its own strings."""
    head, *rest = entry
    if isinstance(head, dict):
        if head and isinstance(next(iter(head)), str):
            # Interned, as MemoryState interns the members it is given.
            return ({sys.intern(renamed(m, number)): t for m, t in head.items()}, *rest)
        return (dict(head), *rest)
    return (bytes(memoryview(head)), *rest)


def memory_backend(targets: list[int]) -> Rows:
    engine = run_template("memory")
    state = engine.state
    tables = (state._counters, state._members, state._values)
    per_account = [{k: v for k, v in table.items() if _USER.search(k)} for table in tables]
    rows: Rows = [("memory backend: per-account keys in the template (1,000 accounts)",
                   f"{sum(map(len, per_account)):,}")]
    base = resident_bytes()
    made = TEMPLATE_USERS
    for target in targets:
        while made < target:
            number = made // TEMPLATE_USERS
            for table, entries in zip(tables, per_account, strict=True):
                for key, value in entries.items():
                    table[renamed(key, number)] = _copied(value, number)
            made += TEMPLATE_USERS
        grown = resident_bytes() - base
        rows.append((f"memory backend, {target:,} accounts: bytes per account (target ≤ 1024)",
                     f"{grown / (target - TEMPLATE_USERS):,.0f}"))
    return rows


def redis_backend(targets: list[int]) -> Rows:
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
            return _fill_redis(client, port, targets)
        finally:
            server.terminate()
            server.wait(10)


def _fill_redis(client: redis.Redis, port: int, targets: list[int]) -> Rows:
    namespace = "sg:"
    with tempfile.TemporaryDirectory() as records:  # the verdict log stays in SQLite
        engine = run_template("redis", redis_url=f"redis://127.0.0.1:{port}/0",
                              redis_namespace=namespace, data_dir=records)
        engine.close()
    keys = [k.decode() for k in client.scan_iter(match=f"{namespace}*", count=10_000)
            if _USER.search(k.decode())]
    dumps = {k: (client.dump(k), client.pttl(k)) for k in keys}
    expiry = {k: client.zscore(f"{namespace}expiry", k) for k in keys}
    rows: Rows = [("Redis: per-account keys in the template (1,000 accounts)", f"{len(keys):,}")]
    base = client.info("memory")["used_memory"]
    made = TEMPLATE_USERS
    for target in targets:
        while made < target:
            number = made // TEMPLATE_USERS
            pipe = client.pipeline(transaction=False)
            for key, (payload, ttl) in dumps.items():
                name = renamed(key, number)
                pipe.restore(name, max(ttl, 0), payload, replace=True)
                if expiry[key] is not None:
                    pipe.zadd(f"{namespace}expiry", {name: expiry[key]})
            pipe.execute()
            made += TEMPLATE_USERS
        grown = client.info("memory")["used_memory"] - base
        rows.append((f"Redis, {target:,} accounts: bytes per account (target ≤ 1024)",
                     f"{grown / (target - TEMPLATE_USERS):,.0f}"))
    return rows


def main(targets: list[int] | None = None, redis_targets: list[int] | None = None) -> Rows:
    # Redis first: the memory backend's millions of entries stay in this process.
    in_redis = redis_backend(redis_targets or [100_000])
    return memory_backend(targets or [100_000, 1_000_000]) + in_redis


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--redis-accounts", type=int, nargs="+", default=[100_000],
                        help="Redis holds ~13 KB an account today: 1M would need ~13 GB")
    args = parser.parse_args()
    show(main(args.accounts, args.redis_accounts))
