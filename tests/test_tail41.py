"""Session 41's tail at 70 % of saturation (``tail41``): the server freezes what every
middle or full collection finds alive (``server.app._FreezeSurvivors``), so no full
collection walks the middle ones' survivors again; not what a young one finds alive (every
open connection: ``review41``); cycles that die frozen are still freed, by the collector's
own cadence."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

import pytest

from conftest import TOKEN, config
from spimguard import open_engine
from spimguard.server import app as server_app
from spimguard.server import create_app
from spimguard.server.console.memory import MemoryConsole


def _serving(work: object) -> object:
    app = create_app(open_engine(config(api_token=TOKEN)), MemoryConsole())

    async def serve() -> object:
        async with app.router.lifespan_context(app):
            return work()  # type: ignore[operator]

    return asyncio.run(serve())


def test_what_a_middle_collection_finds_alive_is_out_of_every_later_walk() -> None:
    """Fails on base: there a middle collection's survivors went on to the oldest
    generation and piled up for the full one (15-28 ms of the engine's CPU in one pass)."""

    def middle() -> tuple[bool, bool]:
        kept: list[object] = [object()]  # alive across a collection, as a cache's entry
        gc.collect(1)
        walked = any(o is kept for o in gc.get_objects())
        late: list[object] = []
        late.append(late)  # made after the collection: the next one walks it
        young = any(o is late for o in gc.get_objects(generation=0))
        del late
        return walked, young

    walked, young = _serving(middle)  # type: ignore[misc]
    assert not walked
    assert young


def test_what_a_young_collection_finds_alive_is_not_frozen() -> None:
    """Fails on ``tail41``'s first form (``0d356a8``), which froze after young collections
    too: whatever is alive at one (every open connection, each a reference cycle once it
    closes) was kept until the next walk of everything (``review41``: ~47 MB a window).
    Left for the middle generation, it is walked there, and freed if it died."""

    def young() -> bool:
        open_now: list[object] = []
        open_now.append(open_now)  # a cycle alive at the young collection
        gc.collect(0)
        frozen = not any(o is open_now for o in gc.get_objects())
        del open_now
        return frozen

    assert _serving(young) is False


class _Node:
    """A cycle's member that a weak reference can watch."""

    def __init__(self) -> None:
        self.me = self


def test_a_cycle_frozen_by_a_middle_collection_is_freed_by_the_collectors_own_cadence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards a property base had too (there no middle collection froze): a cycle frozen
    alive, then dead, is freed with no ``gc.collect()`` called, only allocations, once
    ``walk_all_every`` collections have passed (made small here) and the full one after
    them has walked everything; collections in between must not freeze it again."""
    monkeypatch.setattr(server_app._FreezeSurvivors, "walk_all_every", 4)
    # CPython's own cadence, whatever ran before in this process: mypy's build
    # (``test_types``) sets the young threshold to 200,000 and leaves it.
    thresholds = gc.get_threshold()
    gc.set_threshold(700, 10, 10)

    def cadence() -> tuple[bool, bool]:
        node = _Node()
        watch = weakref.ref(node)
        gc.collect(1)
        frozen = not any(o is node for o in gc.get_objects())
        del node
        kept: list[list[int]] = []
        for i in range(2_000_000):  # survivors, as the caches' entries: the full one comes
            kept.append([i])
            if watch() is None:
                break
        return frozen, watch() is None

    try:
        frozen, freed = _serving(cadence)  # type: ignore[misc]
    finally:
        gc.set_threshold(*thresholds)
    assert frozen
    assert freed


# ``benchmarks/tail.py`` from this tree's ``benchmarks`` (not on the test command's path),
# as ``test_tail36`` imports it.
with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import tail


def test_tail_tells_the_longest_collection_and_what_each_generation_freed() -> None:
    """Fails on base (no such row): whether a generation's passes find any garbage is
    what says its walks can be spared."""
    batches = [{"at": at, "size": 1, "wall": 0.002, "cpu": 0.002, "others": 0.0,
                "preempted": 0, "yielded": 0, "commit": 0.0, "sweep": 0.0, "maintain": 0.0,
                "sweeps": 0, "maintained": 0, "oldest": 0.0} for at in (1.0, 2.0)]
    passes = [(1.001, 0, "spimguard-engine", 0.001, 0.0008, 3),
              (1.5, 1, "MainThread", 0.004, 0.0042, 0),
              (2.001, 2, "spimguard-engine", 0.02, 0.0191, 2),
              (9.0, 2, "spimguard-engine", 0.2, 0.15, 7)]  # after the level: not its own
    rows = dict(tail.summary("level", batches, passes))
    assert rows["  the longest collection's CPU ms; cyclic garbage they freed, objects "
                "gen 0 / 1 / 2"] == "19.1; 3 / 0 / 2"
