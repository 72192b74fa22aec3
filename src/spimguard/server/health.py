"""Readiness and the degraded answer: what the service says when a store fails.

``/healthz`` proves each store takes work now (Redis answers, PostgreSQL or the
SQLite file takes a committed write) and answers 503 naming the store that does
not; ``/livez`` only says the process answers.

When the last probe's result is over a second old, a request starts the next probe
in a worker thread (one at a time: a load balancer polling fast costs at most one
probe a second, and a store that hangs never holds up the event loop) and waits for
it at most ``_PATIENCE``; a probe slower than that leaves the request the last
result, so a slow store never makes the health check itself time out. The very
first request, with nothing to answer from, waits up to ``_HUNG``. A probe still
out after ``_HUNG`` seconds is stuck, not slow: from then on the answer names every
store as not answering.

A probe writes, and on the embedded SQLite its write shares the engine's connection,
so a check batch waits behind it. A batch that committed a new event proved the same
thing (both stores took its writes), so while traffic commits no probe runs at all:
the probe's write is paid only when the engine is idle, where nothing waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from ..engine import Engine
from ..events import SignalOut, Verdict

_FRESH = 1.0  # seconds a probe's answer is reused
# Twice the longest timeout of a store client here (Redis's 5 s socket timeout): by
# then the probe's own error would have come, so it is stuck in the store.
_HUNG = 10.0
# A second, as the reuse: a probe slower than that is a slow store, and the request
# answers the last result well inside a load balancer's check timeout (typically 2-5 s).
_PATIENCE = 1.0
_STORES = ("state", "records")  # what ``Engine.health`` answers for

log = logging.getLogger("spimguard.server")


class HealthProbe:
    def __init__(self, engine: Engine, wrote: Callable[[], float | None]) -> None:
        """``wrote()``: when (``time.monotonic``) the engine last committed a new event."""
        self.engine = engine
        self.wrote = wrote
        self.at = -_FRESH  # when ``last`` was last known true
        self.last: dict[str, str] | None = None
        self.probing: asyncio.Task[None] | None = None  # kept: the loop holds tasks weakly
        self.started = 0.0

    async def stores(self) -> dict[str, str]:
        """Per store, "ok" or why not, as of the last probe or commit."""
        wrote = self.wrote()
        if self.last is not None and wrote is not None and wrote > self.at:
            self.last, self.at = dict.fromkeys(self.last, "ok"), wrote
        now = time.monotonic()
        if now - self.at >= _FRESH and (self.probing is None or self.probing.done()):
            self.started = now
            self.probing = asyncio.create_task(self._probe())
        if self.probing is not None and not self.probing.done():
            # asyncio.wait, not await: a request that goes away leaves the probe running
            await asyncio.wait({self.probing}, timeout=_PATIENCE if self.last else _HUNG)
        out = self.last
        late = time.monotonic() - self.started
        if out is None or (self.probing is not None and not self.probing.done()
                           and late >= _HUNG):
            stuck = f"no answer to the health probe for {late:.0f} s"
            return dict.fromkeys(out or _STORES, stuck)
        return out

    async def _probe(self) -> None:
        try:
            self.last = await run_in_threadpool(self.engine.health)
        except Exception as exc:  # a bug, not a store down: say so, and log it
            log.exception("the health probe failed")
            self.last = dict.fromkeys(_STORES, f"the health probe failed: {exc!r}")
        self.at = time.monotonic()


def degraded(message_id: str) -> Verdict:
    """The fail-open answer: delivered, unjudged, and saying so."""
    return Verdict(id=message_id, action="deliver", score=0.0, signals=[SignalOut(
        "DEGRADED", 0.0, "not judged: a store is unavailable (storage.fail_mode = open)")])
