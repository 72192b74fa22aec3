"""Issue 18: maintenance keeps storage bounded, whatever shape the sweep takes.

A sweep that never finishes its round is a leak: every key that had expired when a lap of
the sweep's parts began must be gone from the store by the lap's end (``ops.SWEEP_PARTS``
parts, one a batch every ``maintenance.SWEEP_EVERY`` events), and not before its part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, message
from spimguard import engine as engine_module
from spimguard import open_engine
from spimguard.state import ops
from spimguard.state.ops import Get, Incr, Members, Put, Touch

STALE = range(80)


def _stale(n: int) -> list[ops.Write]:
    return [Incr(f"vel:old{n}", 1.0, ttl=60.0), Put(f"bulk:old{n}", n, ttl=60.0),
            Touch(f"vel:set{n}", ("x",), ttl=60.0)]


def _memory_held(state: Any, n: int) -> bool:
    return (f"vel:old{n}" in state._counters or f"bulk:old{n}" in state._values
            or f"vel:set{n}" in state._members)


def _file_held(state: Any, n: int) -> bool:
    run = state._conn.execute
    return any(run(f"SELECT 1 FROM {table} WHERE key = ?", (key,)).fetchone()
               for table, key in (("counters", f"vel:old{n}"), ("kv", f"bulk:old{n}"),
                                  ("members", f"vel:set{n}")))


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("every", [1, 3])
def test_expired_keys_are_gone_within_one_lap_of_parts(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str, every: int) -> None:
    """A part every ``every`` events (a batch of one each): each expired key is held until
    some part sweeps it, none before the first part, and none is left after a lap."""
    monkeypatch.setattr(engine_module, "SWEEP_EVERY", every)
    judge = open_engine(config(storage={"backend": backend}), tmp_path)
    state: Any = judge.state
    held_at = _memory_held if backend == "memory" else _file_held
    state.write([w for n in STALE for w in _stale(n)], T0)
    state.write([Put(f"bulk:live{n}", n, ttl=10 * 86_400.0) for n in STALE], T0)
    state.commit()

    def held() -> int:
        return sum(held_at(state, n) for n in STALE)

    later = T0 + 86_400.0
    counts = []
    for n in range(ops.SWEEP_PARTS * every):
        if n < every:
            assert held() == len(STALE), f"swept before its part (event {n})"
        judge.process(message(judge.config, f"m{n}", "a", ["b"], "hi", later + n))
        counts.append(held())
    assert counts[-1] == 0, f"expired keys left after a lap ({counts[-1]})"
    assert len(set(counts)) > 3, "the keys went in a few parts, not spread over the lap"
    live = judge.read_state([Get(f"bulk:live{n}") for n in STALE])
    assert live == list(STALE), "a part dropped what had not expired"
    assert judge.read_state([Members("vel:set0")]) == [()]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_lap_takes_as_many_events_in_big_batches(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str) -> None:
    """Batches of five ``SWEEP_EVERY``s take five parts each: a lap's events are the same
    however they are batched (one part a batch stretched a lap fivefold here, and made a
    lap 500,000 events long at ``/v1/events``' batches of 10,000)."""
    monkeypatch.setattr(engine_module, "SWEEP_EVERY", 2)
    judge = open_engine(config(storage={"backend": backend}), tmp_path)
    state: Any = judge.state
    held_at = _memory_held if backend == "memory" else _file_held
    state.write([w for n in STALE for w in _stale(n)], T0)
    state.commit()
    later, size = T0 + 86_400.0, 10
    for start in range(0, ops.SWEEP_PARTS * 2, size):
        judge.process_batch([message(judge.config, f"m{n}", "a", ["b"], "hi", later + n)
                             for n in range(start, start + size)])
    assert sum(held_at(state, n) for n in STALE) == 0, "expired keys left after a lap"
