"""Issue 18: the sweep in parts (``state.sweeping``), at positions fixed by the event count.

A part drops what expired among its keys alone, the memory store and SQLite the same
keys (a late event reads what a sweep left: stores that swept apart would answer apart),
and a lap of the parts drops everything that expired: storage stays bounded.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from conftest import T0, config, message
from spimguard import accounts, maintenance, open_engine
from spimguard.state import StateBackend, ops
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Incr, Put, Touch, Write
from spimguard.state.sqlite import SQLiteState
from spimguard.state.sweeping import part_of

PARTS = 5
TTL = 100.0


def _writes(ids: range, ttl: float, tag: str) -> list[Write]:
    """A key of every kind a store keeps apart an id: counter, plain set, value, hashed set
    and value lodged in the account's object, and that object's sided record."""
    writes: list[Write] = []
    for n in ids:
        who = f"{tag}{n}"
        writes += [Incr(f"vel:n:{who}", 1.0, ttl=ttl), Touch(f"vel:to:{who}", ("x",), ttl=ttl),
                   Put(f"bulk:{who}", n, ttl=ttl), Touch(accounts.contacts(who), ("y",), ttl=ttl),
                   Put(f"acct:{who}", n, ttl=ttl),
                   Touch(accounts.tie_record(who), ("z",), ttl, side=accounts.TALKED)]
    return writes


def _held(state: StateBackend, path: Path | None) -> set[str]:
    """The keys a store holds, a lodged one by its host's (the memory store's one object)."""
    if isinstance(state, MemoryState):
        return (set(state._counters) | set(state._members) | set(state._values)
                | set(state._hashed) | set(state.accounts()))
    state.close()
    with sqlite3.connect(path) as db:  # type: ignore[arg-type]
        return {key for table in ("counters", "members", "kv", "hashed_sets", "sided_sets")
                for (key,) in db.execute(f"SELECT DISTINCT key FROM {table}")}


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_each_part_drops_what_expired_among_its_keys_and_a_lap_drops_it_all(
        tmp_path: Path, backend: str) -> None:
    path = tmp_path / "state.db"

    def opened() -> StateBackend:
        return MemoryState() if backend == "memory" else SQLiteState(sqlite3.connect(path))

    state = opened()
    state.write(_writes(range(60), TTL, "old") + _writes(range(10), 10 * TTL, "live"), T0)
    state.commit()
    held = _held(state, path)
    expired = {key for key in held if "old" in key}
    assert len(expired) >= 240 and len(held - expired) >= 40
    for part in range(PARTS):
        state = opened() if backend == "sqlite" else state
        state.sweep(T0 + 2 * TTL, part, PARTS)
        state.commit()
        assert _held(state, path) == held - {k for k in expired if part_of(k, PARTS) <= part}, part
    assert _held(state if backend == "memory" else opened(), path) == held - expired


def test_expired_keys_go_within_a_lap_of_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the engine: a part every 3 events, 4 parts a lap, so every key that expired
    is gone 12 events after, and no sooner all at once (after 3 events, a quarter)."""
    monkeypatch.setattr(maintenance, "SWEEP_EVERY", 3)
    monkeypatch.setattr(maintenance, "SWEEP_PARTS", 4)
    judge = open_engine(config())
    stale = [f"vel:n:old{n}" for n in range(80)]
    judge.state.write([Incr(key, 1.0, ttl=TTL) for key in stale], T0)
    counters = judge.state._counters  # type: ignore[attr-defined]
    later = T0 + 86_400.0
    for n in range(12):
        judge.process(message(judge.config, f"m{n}", "a", ["b"], "hi", later + n))
        if n == 2:
            assert 0 < len([k for k in stale if k in counters]) < len(stale)
    assert not [key for key in stale if key in counters]


def test_a_lodged_keys_part_is_its_hosts() -> None:
    """The memory store keeps a lodged key in its host's object and sweeps them at once:
    SQLite, which keeps them apart, must sweep them in the same part."""
    rng = random.Random(18)
    ids = ["", "x", "@al:ice.org", *("".join(rng.choice("ab:z09é😀\0-@.") for _ in range(
        rng.randint(1, 14))) for _ in range(500))]
    assert ops._lodged
    for prefix, place in ops._lodged.items():
        parts = {part_of(place.host + i, PARTS) for i in ids}
        assert len(parts) == PARTS
        for i in ids:
            assert part_of(prefix + i, PARTS) == part_of(place.host + i, PARTS), (prefix, i)
