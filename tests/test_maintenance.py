"""Issue 18: maintenance keeps storage bounded, whatever shape the sweep takes.

A sweep that never finishes its round is a leak: every key that had expired when a lap of
the sweep's parts began must be gone from the store by the lap's end (``ops.SWEEP_PARTS``
parts, one a batch every ``maintenance.SWEEP_EVERY`` events), and not before its part;
also when the process restarts more often than a lap takes, or a batch's part is rolled
back (an attacker's crashing input, a crash loop, a full disk must not keep state forever).
"""

from __future__ import annotations

from dataclasses import replace
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
               for table, key in (("counts", f"vel:old{n}"), ("kv", f"bulk:old{n}"),
                                  ("members", f"vel:set{n}")))


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("every", [1, 3])
def test_expired_keys_are_gone_within_one_lap_of_parts(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str, every: int) -> None:
    """A part every ``every`` events (a batch of one each; the process's first batch takes
    one, ``Engine._since_sweep``): each expired key is held until some part sweeps it, none
    is dropped between parts, and none is left after a lap."""
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
    counts = [held()]
    for n in range(ops.SWEEP_PARTS * every):
        judge.process(message(judge.config, f"m{n}", "a", ["b"], "hi", later + n))
        counts.append(held())
    assert counts[0] == len(STALE)
    assert counts[1:every + 1] == [counts[1]] * every, "swept before its part"
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


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("restart_every", [2, 7])
def test_a_lap_goes_on_across_restarts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       backend: str, restart_every: int) -> None:
    """A part every 3 events, the process restarted every ``restart_every`` events: a lap's
    worth of events still sweeps every part. Each process used to begin the lap again,
    and sweep its first parts alone (every 7 events); one restarted more often than a
    part's events swept nothing (every 2): ``_restarted``."""
    monkeypatch.setattr(engine_module, "SWEEP_EVERY", 3)
    cfg = config(storage={"backend": backend})
    judge = open_engine(cfg, tmp_path)
    held_at = _memory_held if backend == "memory" else _file_held
    judge.state.write([w for n in STALE for w in _stale(n)], T0)
    judge.state.commit()
    later = T0 + 86_400.0
    for n in range(ops.SWEEP_PARTS * 3):
        if n and n % restart_every == 0:
            judge = _restarted(judge, backend, tmp_path)
        judge.process(message(cfg, f"m{n}", "a", ["b"], "hi", later + n))
    left = sum(held_at(judge.state, n) for n in STALE)
    assert left == 0, f"expired keys left after a lap's events ({left})"


def test_a_part_rolled_back_is_redone_by_the_next(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    """A batch whose commit fails takes its part of the sweep back with it: the next part
    sweeps that slice again, and a lap of parts committed leaves no expired key. The lap
    went on past the part rolled back, whose keys waited a whole lap more. (The memory
    store cannot undo a part, nor needs to redo one.)"""
    monkeypatch.setattr(engine_module, "SWEEP_EVERY", 1)
    cfg = config(storage={"backend": "sqlite"})
    judge = open_engine(cfg, tmp_path)
    judge.state.write([w for n in STALE for w in _stale(n)], T0)
    judge.state.commit()
    later, committed, n = T0 + 86_400.0, 0, 0
    commit = judge._commit

    def boom() -> None:
        raise RuntimeError("the disk is full")

    while committed < ops.SWEEP_PARTS:
        judge._commit = boom if n in (5, 17, 30) else commit  # type: ignore[method-assign]
        try:
            judge.process(message(cfg, f"m{n}", "a", ["b"], "hi", later + n))
            committed += 1
        except RuntimeError:
            pass
        n += 1
    assert n == committed + 3
    left = sum(_file_held(judge.state, n) for n in STALE)
    assert left == 0, f"expired keys left after a lap of parts committed ({left})"




def _restarted(judge: Any, backend: str, folder: Path) -> Any:
    """``judge``'s process restarted: the memory store's engine on the same store (its keys
    are the process's), the file's on the file."""
    if backend == "memory":
        return replace(judge)
    judge.close()
    return open_engine(judge.config, folder)


def _passes(monkeypatch: pytest.MonkeyPatch, folder: Path, backend: str, sweep_every: int,
            events: int, restart: Any) -> int:
    """Maintenance passes (one every 60 events) in ``events`` events, a part every
    ``sweep_every``, the process restarted before each event ``n`` that ``restart(n)``."""
    monkeypatch.setattr(engine_module, "SWEEP_EVERY", sweep_every)
    monkeypatch.setattr(engine_module, "MAINTAIN_EVERY", 60)
    passes: list[float] = []
    monkeypatch.setattr(engine_module, "maintain",
                        lambda config, state, records, detectors, now: passes.append(now))
    cfg = config(storage={"backend": backend})
    judge = open_engine(cfg, folder)
    for n in range(events):
        if restart(n):
            judge = _restarted(judge, backend, folder)
        judge.process(message(cfg, f"m{n}", "a", ["b"], "hi", T0 + n))
    return len(passes)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_the_count_to_a_pass_goes_on_across_restarts(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str) -> None:
    """A pass every 60 events, a part every 3, the process restarted every 20 events: the
    count since the last pass resumes where the last part kept it, so 300 events still
    take passes, about as many as without restarts. Each process used to count from 0 and
    never reached one (a crash loop, frequent deploys never purged)."""
    passes = _passes(monkeypatch, tmp_path, backend, 3, 300, lambda n: n and n % 20 == 0)
    assert passes >= 4, f"{passes} passes in 300 events restarted every 20"


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_pass_is_not_taken_again_at_each_restart(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str) -> None:
    """A pass every 60 events, a part every 25: 55 events keep the count at 51, then
    restarts every 20 events. The second process passes at its 9th event, and its batch
    takes a part that keeps the count at 0 (the next part came after its end): the
    processes after it resume from there. Kept only at the next part, each resumed from
    before the pass (52, 53, ...) and passed again: 9 passes."""
    passes = _passes(monkeypatch, tmp_path, backend, 25, 55 + 10 * 20,
                     lambda n: n >= 55 and (n - 55) % 20 == 0)
    assert passes == 1, f"{passes} passes, where the count reached 60 once"
