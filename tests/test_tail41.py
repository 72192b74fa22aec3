"""Session 41's tail at 70 % of saturation (``tail41``): the server freezes what every
collection finds alive, young ones included (``server.app._FreezeSurvivors``), so no
collection walks the survivors of the one before; cycles that die frozen are still freed,
by the collector's own cadence."""

from __future__ import annotations

import asyncio
import gc
import weakref

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


def test_what_a_young_collection_finds_alive_is_out_of_every_later_walk() -> None:
    """Fails on base: there a young collection's survivors went on to the middle
    generation, walked again by each middle collection and piled up for the full one
    (15-28 ms of the engine's CPU in one pass)."""

    def young() -> tuple[bool, bool]:
        kept: list[object] = [object()]  # alive across a collection, as a cache's entry
        gc.collect(0)
        walked = any(o is kept for o in gc.get_objects())
        late: list[object] = []
        late.append(late)  # made after the collection: the next one walks it
        young = any(o is late for o in gc.get_objects(generation=0))
        del late
        return walked, young

    walked, young = _serving(young)  # type: ignore[misc]
    assert not walked
    assert young


class _Node:
    """A cycle's member that a weak reference can watch."""

    def __init__(self) -> None:
        self.me = self


def test_a_cycle_frozen_by_a_young_collection_is_freed_by_the_collectors_own_cadence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards a property base had too (there no young collection froze): a cycle frozen
    alive, then dead, is freed with no ``gc.collect()`` called, only allocations, once
    ``walk_all_every`` collections have passed (made small here) and the full one after
    them has walked everything; young collections in between must not freeze it again."""
    monkeypatch.setattr(server_app._FreezeSurvivors, "walk_all_every", 4)

    def cadence() -> tuple[bool, bool]:
        node = _Node()
        watch = weakref.ref(node)
        gc.collect(0)
        frozen = gc.get_freeze_count()
        del node
        kept: list[list[int]] = []
        for i in range(2_000_000):  # survivors, as the caches' entries: the full one comes
            kept.append([i])
            if watch() is None:
                break
        return frozen > 0, watch() is None

    frozen, freed = _serving(cadence)  # type: ignore[misc]
    assert frozen
    assert freed
