"""The server freezes what each full collection finds alive (``server.app``), so the next
full collection, on the event loop or in a batch, walks only what came since."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest
from starlette.applications import Starlette

from conftest import TOKEN, config
from spimguard import open_engine
from spimguard.server import app as server_app
from spimguard.server import create_app
from spimguard.server.console.memory import MemoryConsole


def test_what_a_full_collection_finds_alive_is_out_of_the_next_ones_walk() -> None:
    app = create_app(open_engine(config(api_token=TOKEN)), MemoryConsole())

    async def serving() -> tuple[bool, bool]:
        async with app.router.lifespan_context(app):
            kept: list[object] = [object()]  # alive across collections, as a cache's entry
            gc.collect()
            walked = any(o is kept for o in gc.get_objects(generation=2))
            late: list[object] = []
            late.append(late)  # a cycle made after the last full collection: not frozen
            young = any(o is late for o in gc.get_objects())
            del late
        return walked, young

    walked, young = asyncio.run(serving())
    assert not walked  # frozen by the full collection, not left in the oldest generation
    assert young
    assert gc.get_freeze_count() == 0  # the server's end gives the collector it all back
    assert not any(isinstance(c, server_app._FreezeSurvivors) for c in gc.callbacks)


class _Node:
    """A cycle's member that a weak reference can watch."""

    def __init__(self) -> None:
        self.me = self


def test_a_frozen_cycle_made_garbage_is_freed_within_a_bounded_number_of_collections(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Freezing leaks nothing for ever: every ``walk_all_every``-th collection gives the
    frozen objects back, and the next full one frees the cycles among them that died (the
    bound made small here: the server's is 240 middle or full collections)."""
    monkeypatch.setattr(server_app._FreezeSurvivors, "walk_all_every", 16)
    app = create_app(open_engine(config(api_token=TOKEN)), MemoryConsole())

    async def serving() -> tuple[bool, bool]:
        async with app.router.lifespan_context(app):
            node = _Node()
            watch = weakref.ref(node)
            gc.collect()  # alive at a full collection: frozen
            del node
            gc.collect()
            frozen_kept = watch() is not None
            for _ in range(server_app._FreezeSurvivors.walk_all_every):
                gc.collect()
            return frozen_kept, watch() is None

    frozen_kept, freed = asyncio.run(serving())
    assert frozen_kept  # the cycle died frozen: the next collection did not walk it
    assert freed


def test_every_server_freezes_at_its_start_however_many_collections_came_before(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The count of collections is each server's own: a process that started servers
    before (tests, embedding) still freezes the next one's start-up objects."""
    monkeypatch.setattr(server_app._FreezeSurvivors, "walk_all_every", 3)
    for _ in range(server_app._FreezeSurvivors.walk_all_every + 1):
        app = create_app(open_engine(config(api_token=TOKEN)), MemoryConsole())

        assert asyncio.run(_frozen_while_serving(app)) > 0


async def _frozen_while_serving(app: Starlette) -> int:
    async with app.router.lifespan_context(app):
        return gc.get_freeze_count()
