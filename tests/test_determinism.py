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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from conftest import detector_failures_in

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


# Each backend's run in batches of 500 under a hash seed of its own (the three-backend
# test compares these); those in batches of 97 under others.
SEEDS = {"memory": "5", "sqlite": "1", "redis": "3"}
OTHERS = {"memory": "2", "sqlite": "2", "redis": "4"}
REPLAYS = [(seed, 500, backend) for backend, seed in SEEDS.items()] + [
    (seed, 97, backend) for backend, seed in OTHERS.items()]


@dataclass
class Replay:
    """A replay running in a fresh process: its output goes to files, not pipes, so six
    running at once never block on a full pipe nobody reads yet."""

    process: subprocess.Popen[bytes]
    output: Path
    namespace: str


def start(folder: Path, hash_seed: str, batch: int, backend: str, url: str) -> Replay:
    name = f"{backend}-{hash_seed}-{batch}"
    output = folder / f"{name}.out"
    with output.open("wb") as out, (folder / f"{name}.err").open("wb") as err:
        namespace = f"spimguard-test-{uuid.uuid4().hex}:"
        process = subprocess.Popen([sys.executable, "-c", RUN, str(folder / f"data-{name}"),
                                    str(batch), backend, url, namespace],
                                   env={**os.environ, "PYTHONHASHSEED": hash_seed},
                                   stdout=out, stderr=err)
    return Replay(process, output, namespace)


def forget(url: str, namespace: str) -> None:
    """A Redis replay's keys, removed."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=namespace + "*"))
    if keys:
        client.delete(*keys)


def output_of(replay: Replay, backend: str, redis_url: str) -> str:
    """What a replay printed, once it has ended well: exit 0 and no detector failure in its
    log (``no_detector_failures``' rule, read as ``no_detector_failure_in`` reads a
    server's), or two replays equally short of a broken detector would pass."""
    code = replay.process.wait(timeout=900)
    if backend == "redis":
        forget(redis_url, replay.namespace)
    errors = replay.output.with_suffix(".err").read_text(errors="replace")
    assert code == 0, errors[-3000:]
    failures = detector_failures_in(errors)
    if failures:
        pytest.fail(f"a replay logged a detector failure: {failures[:5]}", pytrace=False)
    return replay.output.read_text().strip()


class Replayed(Protocol):
    def __call__(self, hash_seed: str, batch: int, backend: str) -> str: ...


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Replayed]:
    """Every replay of the module (``REPLAYS``), each once, all started at once: a replay
    is a fresh process judging a whole simulated day, a Redis one mostly waiting on its
    round trips (10 s of CPU in 66 s at a load of 7 on 2 cores), so the six overlap
    instead of queueing one behind another. A test waits for the ones it reads."""
    folder = tmp_path_factory.mktemp("replays")
    running = {(seed, batch, backend): start(folder, seed, batch, backend, redis_url)
               for seed, batch, backend in REPLAYS}
    done: dict[tuple[str, int, str], str] = {}

    def finished(hash_seed: str, batch: int, backend: str) -> str:
        key = (hash_seed, batch, backend)
        if key not in done:
            done[key] = output_of(running[key], backend, redis_url)
        return done[key]

    yield finished
    for (_, _, backend), replay in running.items():
        if replay.process.poll() is None:
            replay.process.kill()
            replay.process.wait()
        if backend == "redis":
            forget(redis_url, replay.namespace)


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
def test_two_processes_with_different_hash_seeds_give_identical_verdicts(
        replayed: Replayed, backend: str) -> None:
    first = replayed(SEEDS[backend], 500, backend)
    second = replayed(OTHERS[backend], 97, backend)
    assert first == second
    assert int(first.split()[1]) > 1000


def test_identical_verdicts_on_a_shared_redis(replayed: Replayed) -> None:
    first = replayed(SEEDS["redis"], 500, "redis")
    second = replayed(OTHERS["redis"], 97, "redis")
    assert first == second
    assert int(first.split()[1]) > 1000


def test_every_backend_gives_the_same_verdicts(replayed: Replayed) -> None:
    """Memory, SQLite and a shared Redis judge the same log to the same bytes: a query
    means one thing whatever keeps the state (``state/ops.py``), including members past
    their TTL that only a later touch (Redis) or a sweep (memory, SQLite) removes, and
    members touched at one time, whose order decides what a cap drops."""
    verdicts = {backend: replayed(seed, 500, backend)
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
