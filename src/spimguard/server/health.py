"""Readiness and the degraded answer: what the service says when a store fails.

``/healthz`` proves each store takes work now (Redis answers, PostgreSQL or the
SQLite file takes a committed write) and answers 503 naming the store that does
not; ``/livez`` only says the process answers. Probes are cached for a second,
so a load balancer polling fast costs one probe write a second, and run in a
worker thread, so a store that hangs never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool

from ..engine import Engine
from ..events import SignalOut, Verdict

_FRESH = 1.0  # seconds a probe's answer is reused


class HealthProbe:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = asyncio.Lock()
        self.at = -_FRESH
        self.last: dict[str, str] = {}

    async def stores(self) -> dict[str, str]:
        async with self.lock:  # concurrent probes share one look
            if time.monotonic() - self.at >= _FRESH:
                self.last = await run_in_threadpool(self.engine.health)
                self.at = time.monotonic()
            return self.last


def degraded(message_id: str) -> Verdict:
    """The fail-open answer: delivered, unjudged, and saying so."""
    return Verdict(id=message_id, action="deliver", score=0.0, signals=[SignalOut(
        "DEGRADED", 0.0, "not judged: a store is unavailable (storage.fail_mode = open)")])
