"""Same log, same verdicts: in another process, with another hash seed, in other batches.

Replaying a recorded log must give the live run's verdicts, so nothing a verdict
depends on may come from Python's per-process string hashing (set order), the
wall clock (Redis's own expiry, ``time.time()``), which member a capped set drops
when several were touched at once, or how events were cut into batches. Each run
here is a fresh process judging the simulator's mixed day, on each state backend
(the embedded SQLite, the in-process memory one, and a shared Redis under a
namespace of the run's own); and the three backends judge it alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Protocol

import pytest

RUN = """
import hashlib, random, sys
import msgspec
from spimguard.config import load
from spimguard.engine import open_engine
from spimguard.sim import network, scenarios, texts
from spimguard.sim.runner import EngineSink, run

class Recording(EngineSink):
    results = []
    def send(self, events):
        answers = super().send(events)
        Recording.results.extend(answers)
        return answers

folder, batch, backend, url, namespace = sys.argv[1:6]
storage = {"backend": backend, "redis_url": url, "redis_namespace": namespace}
rng = random.Random(17)
plan = scenarios.plan(network.build(120, rng), texts.load(), "mixed", 2, rng)
config = load(environ={}, official_clients=list(network.OFFICIAL_CLIENTS), storage=storage,
              records={"evidence_key": "determinism"})
run(plan, Recording(open_engine(config, folder)), batch_size=int(batch), seed=17)
print(hashlib.sha256(msgspec.json.encode(Recording.results)).hexdigest(),
      len(Recording.results))
"""


def replay(tmp: Path, hash_seed: str, batch: int, backend: str, url: str = "") -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    namespace = f"spimguard-test-{uuid.uuid4().hex}:"
    try:
        done = subprocess.run([sys.executable, "-c", RUN,
                               str(tmp / f"data-{backend}-{hash_seed}-{batch}"),
                               str(batch), backend, url or "redis://127.0.0.1:6379/0",
                               namespace], env=env, capture_output=True, text=True,
                              timeout=900, check=False)
    finally:
        if backend == "redis":
            import redis

            client = redis.Redis.from_url(url)
            keys = list(client.scan_iter(match=namespace + "*"))
            if keys:
                client.delete(*keys)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


class Replayed(Protocol):
    def __call__(self, hash_seed: str, batch: int, backend: str, url: str = "") -> str: ...


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    """``replay`` once for each (hash seed, batch, backend) in the module: a replay is a
    fresh process judging a whole simulated day (6-18 s, a Redis one 50-120 s, at a load of
    15 on 2 cores), and the test of the three backends compares the batch-of-500 runs the other
    tests made (each backend's under a hash seed of its own, as before) instead of making
    three more."""
    made: dict[tuple[str, int, str], str] = {}
    folder = tmp_path_factory.mktemp("replays")

    def run(hash_seed: str, batch: int, backend: str, url: str = "") -> str:
        if (hash_seed, batch, backend) not in made:
            made[hash_seed, batch, backend] = replay(folder, hash_seed, batch, backend, url)
        return made[hash_seed, batch, backend]

    return run


# Each backend's run in batches of 500 under a hash seed of its own; those in batches of
# 97 under others.
SEEDS = {"memory": "5", "sqlite": "1", "redis": "3"}


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
def test_two_processes_with_different_hash_seeds_give_identical_verdicts(
        replayed: Replayed, backend: str) -> None:
    first = replayed(SEEDS[backend], 500, backend)
    second = replayed("2", 97, backend)
    assert first == second
    assert int(first.split()[1]) > 1000


def test_identical_verdicts_on_a_shared_redis(replayed: Replayed, redis_url: str) -> None:
    first = replayed(SEEDS["redis"], 500, "redis", redis_url)
    second = replayed("4", 97, "redis", redis_url)
    assert first == second
    assert int(first.split()[1]) > 1000


def test_every_backend_gives_the_same_verdicts(replayed: Replayed, redis_url: str) -> None:
    """Memory, SQLite and a shared Redis judge the same log to the same bytes: a query
    means one thing whatever keeps the state (``state/ops.py``), including members past
    their TTL that only a later touch (Redis) or a sweep (memory, SQLite) removes, and
    members touched at one time, whose order decides what a cap drops."""
    verdicts = {backend: replayed(seed, 500, backend, redis_url)
                for backend, seed in SEEDS.items()}
    assert len(set(verdicts.values())) == 1, verdicts
    assert int(verdicts["memory"].split()[1]) > 1000


def test_redis_keeps_a_key_while_the_replay_runs_behind_event_time(
        redis_url: str, redis_namespace: str) -> None:
    """Redis's own expiry counts wall-clock seconds: a key with a one-second TTL in event
    time must still be there for an event half a second later, however long the node
    took to get there (here 1.5 s of wall clock)."""
    import time

    from spimguard.state.ops import Count, Get, Incr, Put
    from spimguard.state.redis import RedisState

    state = RedisState(redis_url, redis_namespace)
    try:
        state.write([Incr("rate", 1.0, 1.0, 1.0), Put("seen", "yes", 1.0)], 1_000.0)
        time.sleep(1.5)
        assert state.read([Count("rate", 1.0, 1.0), Get("seen")], 1_000.5) == [1.0, "yes"]
        assert state.read([Count("rate", 1.0, 1.0), Get("seen")], 1_002.0) == [0.0, None]
    finally:
        state.close()
