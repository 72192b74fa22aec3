"""A step of the differential runs that drive backends beside plain sets (``test_review35b``,
``test_review35c``): the same writes to each backend and their plain-set twins to the
reference, and now and then a sweep of all at that time; and the stores committed, and now
and then reopened."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from spimguard.db import connect
from spimguard.state import StateBackend
from spimguard.state.ops import Write
from spimguard.state.redis import RedisState
from spimguard.state.sqlite import SQLiteState


def written(rng: random.Random, states: Sequence[StateBackend], plain: StateBackend,
            writes: list[Write], expected: list[Write], now: float) -> bool:
    """``writes`` applied to every state at ``now``, ``expected`` to ``plain``; then, one
    step in 25, every one of them swept at ``now``. Whether they were swept."""
    for state in states:
        state.write(writes, now)
    plain.write(expected, now)
    if rng.random() < 0.04:
        for state in (*states, plain):
            state.sweep(now)
        return True
    return False


def renewed(rng: random.Random, on_disk: SQLiteState, shared: RedisState, chance: float,
            path: Path, url: str, namespace: str) -> tuple[SQLiteState, RedisState]:
    """Both stores committed; with probability ``chance``, closed and opened afresh on the
    same file and namespace (a restart: what they read back is all they have)."""
    on_disk.commit()
    shared.commit()
    if rng.random() >= chance:
        return on_disk, shared
    on_disk.close()
    shared.close()
    return SQLiteState(connect(path)), RedisState(url, namespace)
