"""Session 41's review (``review41``): checks kept from reviewing the session's branches.

Both guard properties that held on base (``d12fc93``) and that a branch of the session
broke (docs/red-team-log.md, "The thirty-seventh pass (session 41): the review"): the
first is fixed here (``Gets.key``), the second by the lead's ``5208402`` (freezing after
middle and full passes only).
"""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from conftest import TOKEN, engine, free_port
from spimguard.db import connect
from spimguard.server.app import create_app
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Get, Gets
from spimguard.state.sqlite import SQLiteState


def _store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    if backend == "memory":
        return MemoryState()
    if backend == "sqlite":
        return SQLiteState(connect(tmp_path / "s.db"))
    from spimguard.state.redis import RedisState
    return RedisState(request.getfixturevalue("redis_url"),
                      request.getfixturevalue("redis_namespace"))


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_gets_of_no_keys_is_answered_on_every_store(backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    """``Gets(())`` is a query (bulk's ``_NO_BANDS``; a report's plan of a kept form with no
    keys) and every store answers it ``()``, as it answers a ``Gets`` of keys it does not
    hold. ``sqlite41`` (``d8bbdff``) took each query's ``key``, which a ``Gets`` of no keys
    has not: SQLite's read raised ``IndexError`` (not even ``StateUnavailable``) where
    memory and Redis answered."""
    store = _store(backend, tmp_path, request)
    assert store.read([Gets(()), Get("none"), Gets(("none",))], T0) == [(), None, (None,)]


# A client in a process of its own (so that only the server's objects are counted): ``n``
# connections, 40 at a time, each opened and dropped without a request, as a scanner or a
# flood of half-open connections does; what is left of each is the server's.
_CLIENT = r"""
import asyncio, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
async def one(gate):
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.2)
        writer.transport.abort()
async def main():
    gate = asyncio.Semaphore(40)
    await asyncio.gather(*(one(gate) for _ in range(n)))
asyncio.run(main())
"""


def _frozen_garbage_after(connections: int) -> tuple[int, int]:
    """(objects, bytes by ``sys.getsizeof``) of the reference cycles that the server's
    collector policy (``_FreezeSurvivors``, installed by the app's lifespan) holds frozen
    after ``connections`` connections of a client have come and gone."""
    app = create_app(engine(api_token=TOKEN))
    port = free_port()

    async def serve() -> tuple[int, int]:
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="error", lifespan="on"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        client = await asyncio.create_subprocess_exec(sys.executable, "-c", _CLIENT,
                                                      str(port), str(connections))
        assert await client.wait() == 0
        await asyncio.sleep(0.5)  # the last connections' losses handled
        policy = next(c for c in gc.callbacks if type(c).__name__ == "_FreezeSurvivors")
        gc.callbacks.remove(policy)
        try:
            gc.collect()  # what is garbage unfrozen now is not what freezing kept
            gc.unfreeze()
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                found = gc.collect()
                kept = sum(map(sys.getsizeof, gc.garbage))
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
        finally:
            gc.callbacks.append(policy)
            server.should_exit = True
            await task
        return found, kept

    return asyncio.run(serve())


def test_connections_that_died_are_not_kept_frozen_by_the_server() -> None:
    """Each TCP connection leaves a reference cycle when it closes (asyncio's transport,
    its socket's wrapper, the loop's handle of its bound method: ~430 bytes; the client's
    aborts included, no request needed). Freezing what only full collections find alive
    keeps few of them (those open at a full pass: 16 passes' worth at most); ``tail41``
    (``0d356a8``) froze what every young pass finds alive, and a connection is alive at
    some pass while open, so every dropped connection was kept until the walk of
    everything, every 2,400 passes: 3,000 connections kept 13,859 objects (1.30 MB),
    ~45 connections a pass, so ~100,000 connections and ~47 MB (shallow) between two
    walks, which a client drives as fast as it connects; the lead's ``5208402`` freezes
    after middle and full passes only. The bound here is bytes: what is kept after 2,000
    connections, far below what keeping each one costs (~0.9 MB)."""
    objects, kept = _frozen_garbage_after(2000)
    assert kept < 256 * 1024, (objects, kept)
