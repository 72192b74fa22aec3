"""A part of the sweep is a small share of the state (issue 18's tail, session 33).

A part runs at the end of a batch, inside its commit: the batch waits for it, and every
check queued behind that batch. A whole sweep of the mixed load's state (2,000 users,
2 days) cost 80-300 ms of CPU; at 50 parts a lap a part took 4-16 ms on SQLite, a third
to a half of them over issue 18's p99 of 10 ms (``benchmarks/engine.py``'s
``batch_tail``). So a part may sweep at most a hundredth of what is held: what it
deletes and what SQLite's held copy loads again after it grow with that share. Counted
in keys, not timed."""

from __future__ import annotations

from pathlib import Path

import pytest

from spimguard.db import connect
from spimguard.state import StateBackend
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Put
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0
KEYS = 4_000
SHARE = 100  # a part sweeps at most 1 / SHARE of the keys held


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_part_of_the_sweep_takes_at_most_a_hundredth(backend: str, tmp_path: Path) -> None:
    state: StateBackend = (MemoryState() if backend == "memory"
                           else SQLiteState(connect(tmp_path / "s.db")))
    state.write([Put(f"k{n:05d}", n, ttl=10) for n in range(KEYS)], T0)
    state.commit()
    dropped = state.sweep_part(T0 + 100, 0)  # every key expired: a part drops its share
    state.commit()
    assert 0 < dropped <= KEYS // SHARE, f"a part dropped {dropped} of {KEYS}"
    state.close()
