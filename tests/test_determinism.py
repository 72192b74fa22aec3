"""Same log, same verdicts: in another process, with another hash seed, in other batches.

Replaying a recorded log must give the live run's verdicts, so nothing a verdict
depends on may come from Python's per-process string hashing (set order), the
wall clock, or how events were cut into batches. Each run here is a fresh
process judging the simulator's mixed day through the embedded SQLite backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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

rng = random.Random(17)
plan = scenarios.plan(network.build(120, rng), texts.load(), "mixed", 2, rng)
config = load(environ={}, official_clients=list(network.OFFICIAL_CLIENTS))
run(plan, Recording(open_engine(config, sys.argv[1])), batch_size=int(sys.argv[2]), seed=17)
print(hashlib.sha256(msgspec.json.encode(Recording.results)).hexdigest(),
      len(Recording.results))
"""


def replay(tmp: Path, hash_seed: str, batch: int) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", RUN, str(tmp / f"data-{hash_seed}"),
                           str(batch)], env=env, capture_output=True, text=True, timeout=900,
                          check=True)
    return done.stdout.strip()


def test_two_processes_with_different_hash_seeds_give_identical_verdicts(tmp_path: Path) -> None:
    first = replay(tmp_path, "1", 500)
    second = replay(tmp_path, "2", 97)
    assert first == second
    assert int(first.split()[1]) > 1000
