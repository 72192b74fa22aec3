"""Group commit for ``/v1/check``: concurrent requests judged as one batch, one commit.

A verdict is answered only once it is durable, and on SQLite the commit is most
of a lone request's cost. While one batch is being judged (in a worker thread,
so the event loop keeps reading requests), the requests that arrive wait
together and become the next batch. Alone, a request is judged at once.
The engine's work runs on one thread of its own (the engine judges one batch
at a time anyway): a plain executor hop costs about half of what a hop through
Starlette's shared thread pool does (anyio's limiter and cancel scopes), and at
light load, batches of one, the hop is paid per request.
If a batch fails (the engine rolls all of it back), its requests are retried one
by one, so one bad request fails alone; when a store is down they all fail at
once instead (one by one would only wait for the store's timeout again and again).

The API's other engine calls (an account's view, a restore) run on the same thread
(``run``), never on the event loop, where waiting for the engine's lock behind a
long batch would stall every request. One thread also orders them: each call runs
after everything handed to the thread before it (the batch being judged, and the
ones already queued) and before everything handed over after it, so a restore whose
answer has left is seen by every message submitted after that (the ones still
waiting to be taken into a batch included).

The queue is bounded in size and in time: past ``max_pending`` waiting messages
(or ``max_batches`` waiting ``/v1/events`` batches) a request is refused at once
with ``Overloaded`` (503 with ``Retry-After``), and a message that has waited
``max_wait`` seconds without its turn is refused then instead of being judged
late (its client, e.g. Prosody with a 2 s timeout, has given up or soon will).
So memory and latency stay bounded when clients send more than the engine can
judge, and the clients' own retry logic spreads the load. Nothing of a refused
request was judged or stored.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..engine import Engine
from ..errors import RecordsUnavailable, StateUnavailable
from ..events import Event, Message, Result
from .metrics import Metrics

RETRY_AFTER = 1  # seconds: a full queue drains in well under that at the measured rates
# Seconds past which a batch is logged with its CPU time: 5 times a batch of one's at 70 %
# of saturation on the development machine, past the p99 goal of 10 ms for a check.
SLOW_BATCH = 0.05
# Seconds between two of those lines: an overloaded host has a slow batch many times a
# second, and a line each would bury the log; the next line counts the ones left out.
SLOW_LOG_EVERY = 1.0

log = logging.getLogger("spimguard.server")


class Overloaded(Exception):
    """More work waits than the server queues; the request was refused untouched."""


# message, (answer, whether its id was new), when it was queued (the loop's clock)
Waiting = tuple[Message, "asyncio.Future[tuple[Result, bool]]", float]
T = TypeVar("T")


class GroupCommit:
    def __init__(self, engine: Engine, max_batch: int = 256, max_pending: int = 512,
                 max_batches: int = 16, max_wait: float = 1.0,
                 metrics: Metrics | None = None) -> None:
        self.engine = engine
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.max_batches = max_batches
        self.max_wait = max_wait
        self.pending: list[Waiting] = []
        self.batches = 0  # /v1/events batches waiting or being judged
        self.draining = False
        self.task: asyncio.Task[None] | None = None  # kept: the loop holds tasks weakly
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="spimguard-engine")
        self.slow_unlogged = 0  # slow batches since the last line logged
        self.slow_logged_at = -math.inf  # the loop's clock at that line

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` on the engine's thread."""
        return await asyncio.get_running_loop().run_in_executor(self.thread, work, *args)

    def close(self) -> None:
        """Let the engine's thread finish what it was given, then end it."""
        self.thread.shutdown()

    def _slow(self, size: int, took: float, cpu: float, now: float) -> None:
        """Log a slow batch ending at ``now`` (the loop's clock), at most one line each
        ``SLOW_LOG_EVERY`` seconds."""
        if now - self.slow_logged_at < SLOW_LOG_EVERY:
            self.slow_unlogged += 1
            return
        log.info("a batch of %d messages took %.1f ms (%.1f ms of the engine's CPU); "
                 "%d more slow batches since the last such line",
                 size, took * 1000, cpu * 1000, self.slow_unlogged)
        self.slow_unlogged, self.slow_logged_at = 0, now

    async def batch(self, events: list[Event], fresh: list[bool] | None = None) -> list[Result]:
        """A ``/v1/events`` batch: one commit of its own, under the same bound (``fresh``
        as ``Engine.process_batch`` fills it)."""
        if self.batches >= self.max_batches:
            raise Overloaded(f"{self.batches} batches are waiting")
        self.batches += 1
        try:
            return await self.run(self.engine.process_batch, events, fresh)
        finally:
            self.batches -= 1

    def admit(self) -> None:
        """Refuse before the body is even read when the queue is full (cheapest 503)."""
        if len(self.pending) >= self.max_pending:
            raise Overloaded(f"{len(self.pending)} messages are waiting")

    async def judge(self, message: Message) -> Result:
        return (await self.judge_marked(message))[0]

    async def judge_marked(self, message: Message) -> tuple[Result, bool]:
        """The result, and whether the message was new (not a repeated id)."""
        self.admit()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[Result, bool]] = loop.create_future()
        self.pending.append((message, future, loop.time()))
        if not self.draining:
            self.draining = True
            self.task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                now = asyncio.get_running_loop().time()
                taken = self.pending[: self.max_batch]
                del self.pending[: self.max_batch]
                batch = []
                for message, future, queued in taken:
                    if future.done():
                        continue  # its request is gone
                    if now - queued > self.max_wait:
                        future.set_exception(Overloaded(f"waited over {self.max_wait:g} s"))
                    else:
                        batch.append((message, future))
                        if self.metrics:
                            self.metrics.waited.observe(now - queued)
                if batch:
                    await self._judge(batch)
        finally:
            self.draining = False

    async def _judge(self, batch: list[tuple[Message, asyncio.Future[tuple[Result, bool]]]]
                     ) -> None:
        """Judge and answer; a request that went away meanwhile (its future done) is
        judged all the same (it may have been delivered) but not answered."""
        fresh: list[bool] = []
        began = asyncio.get_running_loop().time()
        try:
            results, cpu = await self.run(self._judged, [m for m, _ in batch], fresh)
        except (StateUnavailable, RecordsUnavailable) as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except Exception:
            for message, future in batch:
                try:
                    alone: list[bool] = []
                    result = await self.run(self.engine.process_batch, [message], alone)
                except Exception as exc:
                    if not future.done():
                        future.set_exception(exc)
                else:
                    if not future.done():
                        future.set_result((result[0], alone[0]))
            return
        ended = asyncio.get_running_loop().time()
        took = ended - began
        if took > SLOW_BATCH:
            # The tail's causes, told apart by what the engine and the store logged beside
            # (maintenance at INFO, the writer's WAL restarts at DEBUG): little CPU in a
            # long batch is the disk or another process holding the core.
            self._slow(len(batch), took, cpu, ended)
        if self.metrics:
            self.metrics.batch_seconds.observe(took)
            self.metrics.batch_cpu.observe(cpu)
            self.metrics.batch_size.observe(len(batch))
        for (_, future), result, new in zip(batch, results, fresh, strict=True):
            if not future.done():
                future.set_result((result, new))

    def _judged(self, messages: list[Message], fresh: list[bool]) -> tuple[list[Result], float]:
        """The batch's results and the CPU seconds the engine's thread spent on them: set
        beside the batch's time, what is left was the disk or other work holding the core."""
        began = time.thread_time()
        results = self.engine.process_batch(messages, fresh)
        return results, time.thread_time() - began
