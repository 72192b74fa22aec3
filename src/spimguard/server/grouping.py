"""Group commit for ``/v1/check``: concurrent requests judged as one batch, one commit.

A verdict is answered only once it is durable, and on SQLite the commit is most
of a lone request's cost. While one batch is being judged (in a worker thread,
so the event loop keeps reading requests), the requests that arrive wait
together and become the next batch. Alone, a request is judged at once.
The engine's work runs on one thread of its own (the engine judges one batch
at a time anyway). The hand-offs between it and the event loop are what a check
pays beside the engine's work (a thread woken is a context switch, and on one
core each costs the other thread its turn), so there are as few as the work
allows: the thread takes its next batch from the queue itself when a batch
ends, with no round trip through the loop between batches; the loop wakes it
only when it had run out of work (at the loop's next turn, so what arrived
together is one batch); a batch's answers go back to the loop in one call, not
one per request, and with more work queued the thread lets the loop write them
before it takes the next batch (``_answer``); and being woken, the thread does
not preempt the loop that woke it (``_no_wakeup_preemption``).
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
import contextlib
import logging
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

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


# message, (answer, whether its id was new), when it was queued (time.monotonic)
Waiting = tuple[Message, "asyncio.Future[tuple[Result, bool]]", float]
T = TypeVar("T")


def _no_wakeup_preemption() -> None:
    """Make the calling thread (the engine's) ``SCHED_BATCH`` where Linux has it: same
    priority and share of the CPU, but its waking does not preempt the thread running. The
    loop hands it work and goes on to wait for the network; preempted there, it was only
    made to switch back (the engine's first step is to take the GIL the loop holds): two
    context switches a hand-off for nothing."""
    if hasattr(os, "SCHED_BATCH"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


class _Call:
    """Work other than a check handed to the engine's thread (``GroupCommit.run``)."""

    __slots__ = ("args", "future", "work")

    def __init__(self, work: Callable[..., object], args: tuple[object, ...],
                 future: asyncio.Future[Any]) -> None:
        self.work, self.args, self.future = work, args, future


def _settle(answers: list[tuple[asyncio.Future[Any], bool, object]],
            written: threading.Event | None = None) -> None:
    """On the loop: each future its result (or, where the flag is False, its exception),
    unless its request went away meanwhile; then ``written`` set, once the tasks those
    results woke have run (``GroupCommit._answer``)."""
    for future, ok, outcome in answers:
        if not future.done():
            if ok:
                future.set_result(outcome)
            else:
                future.set_exception(outcome)  # type: ignore[arg-type]
    if written is not None:
        # Behind the wake-ups ``set_result`` scheduled: the loop's ready queue runs in order.
        asyncio.get_running_loop().call_soon(written.set)


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
        # What the engine's thread has yet to take, in the order handed over: checks
        # (``Waiting``) and other calls (``_Call``); ``pending`` counts the checks.
        self.queue: deque[Waiting | _Call] = deque()
        self.pending = 0
        self.batches = 0  # /v1/events batches waiting or being judged
        self.lock = threading.Lock()
        self.work = threading.Condition(self.lock)  # signalled only to wake an idle thread
        self.idle = False  # the thread waits on ``work`` (set and read under the lock)
        self.waking = False  # a wake of the idle thread is due at the loop's next turn
        self.closing = False
        self.thread: threading.Thread | None = None
        self.slow_unlogged = 0  # slow batches since the last line logged
        self.slow_logged_at = -math.inf  # the clock (monotonic) at that line

    def _hand(self, item: Waiting | _Call) -> None:
        """Queue ``item`` for the engine's thread. A busy thread takes it when its batch
        ends; an idle one is woken at the loop's next turn, once, so that what the loop
        reads in this turn (the requests that came together) is one batch, as when the
        loop formed the batches itself."""
        with self.lock:
            if self.closing:
                raise RuntimeError("the engine's thread has been closed")
            self.queue.append(item)
            if isinstance(item, tuple):
                self.pending += 1
            if (self.thread is None or self.idle) and not self.waking:
                self.waking = True
                asyncio.get_running_loop().call_soon(self._wake)

    def _wake(self) -> None:
        with self.lock:
            self.waking = False
            if self.thread is None:
                # A daemon: an app built but never started or closed (tests, embedding)
                # must not keep its process alive.
                self.thread = threading.Thread(target=self._serve, daemon=True,
                                               name="spimguard-engine")
                self.thread.start()
            elif self.idle:
                self.work.notify()

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` on the engine's thread."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._hand(_Call(work, args, future))
        return await future

    def close(self) -> None:
        """Let the engine's thread finish what it was given, then end it."""
        with self.lock:
            self.closing = True
            self.work.notify()
            thread = self.thread
        if thread is not None:
            thread.join()

    def _slow(self, size: int, took: float, cpu: float, now: float) -> None:
        """Log a slow batch ending at ``now`` (the monotonic clock), at most one line
        each ``SLOW_LOG_EVERY`` seconds."""
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
        if self.pending >= self.max_pending:
            raise Overloaded(f"{self.pending} messages are waiting")

    async def judge(self, message: Message) -> Result:
        return (await self.judge_marked(message))[0]

    async def judge_marked(self, message: Message) -> tuple[Result, bool]:
        """The result, and whether the message was new (not a repeated id)."""
        self.admit()
        future: asyncio.Future[tuple[Result, bool]] = (
            asyncio.get_running_loop().create_future())
        self._hand((message, future, time.monotonic()))
        return await future

    def _serve(self) -> None:
        """The engine's thread: what was handed over, in order, consecutive checks taken
        together (up to ``max_batch``), until ``close``."""
        _no_wakeup_preemption()
        while True:
            with self.lock:
                while not self.queue:
                    if self.closing:
                        return
                    self.idle = True
                    self.work.wait()
                    self.idle = False
                head = self.queue[0]
                if isinstance(head, _Call):
                    self.queue.popleft()
                    taken: list[Waiting] = []
                else:
                    taken = []
                    while (self.queue and len(taken) < self.max_batch
                           and isinstance(self.queue[0], tuple)):
                        taken.append(self.queue.popleft())  # type: ignore[arg-type]
                    self.pending -= len(taken)
            if taken:
                try:
                    answers = self._checks(taken)
                except BaseException as exc:  # the thread goes on: no request left waiting
                    answers = [(future, False, exc) for _, future, _ in taken]
                # More work waiting: the GIL is let go with the answers (``_answer``).
                self._answer(answers, wait=bool(self.queue))
            else:
                self._answer([self._call(head)])  # type: ignore[arg-type]

    @staticmethod
    def _call(call: _Call) -> tuple[asyncio.Future[Any], bool, object]:
        try:
            return call.future, True, call.work(*call.args)
        except BaseException as exc:  # handed to the awaiting request, as an executor does
            return call.future, False, exc

    @staticmethod
    def _answer(answers: list[tuple[asyncio.Future[Any], bool, object]],
                wait: bool = False) -> None:
        """Hand ``answers`` to their loops: one call into each (one loop, in a server). With
        ``wait`` (a batch's, more work queued), return once the loop has written them, or
        after the interpreter's switch interval (``sys.getswitchinterval``), the longest the
        loop would have waited for the GIL anyway.

        Why wait: the loop needs the GIL to settle the answers and to run the requests'
        tasks that write them, and a thread that goes straight on to its next batch keeps
        it until the switch interval (5 ms) makes it let go: from a batch's end to its
        answers settled on the loop took 0.2-3.8 ms at p99 on a loaded machine, and
        0.12-0.7 ms waiting here (session 40, ``tail40``). Blocked here, the engine's
        thread lets the loop write the answers and read what arrived meanwhile (into the
        next batch) in one turn. With nothing queued it waits for work, which lets the GIL
        go at once: as before."""
        loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, object]]]
        loops = {}
        for answer in answers:
            loops.setdefault(answer[0].get_loop(), []).append(answer)
        written = threading.Event() if wait and len(loops) == 1 else None
        for loop, theirs in loops.items():
            try:
                loop.call_soon_threadsafe(_settle, theirs, written)
            except RuntimeError:  # a closed loop: no one waits for these answers any more
                written = None
        if written is not None:
            written.wait(sys.getswitchinterval())

    def _checks(self, taken: list[Waiting]) -> list[tuple[asyncio.Future[Any], bool, object]]:
        """Judge a batch of checks, the answers for their futures. A request that went away
        meanwhile (its future done: read from this thread, at worst a moment late) is left
        out before judging; one that goes away during it is judged all the same (it may
        have been delivered) but not answered."""
        now = time.monotonic()
        answers: list[tuple[asyncio.Future[Any], bool, object]] = []
        batch: list[tuple[Message, asyncio.Future[Any]]] = []
        for message, future, queued in taken:
            if future.done():
                continue  # its request is gone
            if now - queued > self.max_wait:
                answers.append((future, False,
                                Overloaded(f"waited over {self.max_wait:g} s")))
            else:
                batch.append((message, future))
                if self.metrics:
                    self.metrics.waited.observe(now - queued)
        if batch:
            answers += self._judge(batch)
        return answers

    def _judge(self, batch: list[tuple[Message, asyncio.Future[Any]]]
               ) -> list[tuple[asyncio.Future[Any], bool, object]]:
        """Judge one batch; if it fails (the engine rolls all of it back) its messages one
        by one, so one bad request fails alone, unless the store is down (then all fail at
        once: one by one would only wait for the store's timeout again and again)."""
        fresh: list[bool] = []
        began, cpu_began = time.monotonic(), time.thread_time()
        try:
            results = self.engine.process_batch([m for m, _ in batch], fresh)
        except (StateUnavailable, RecordsUnavailable) as exc:
            return [(future, False, exc) for _, future in batch]
        except Exception:
            answers: list[tuple[asyncio.Future[Any], bool, object]] = []
            for message, future in batch:
                alone: list[bool] = []
                try:
                    result = self.engine.process_batch([message], alone)
                except Exception as exc:
                    answers.append((future, False, exc))
                else:
                    answers.append((future, True, (result[0], alone[0])))
            return answers
        cpu = time.thread_time() - cpu_began  # read inside the wall-clock span it is part of
        ended = time.monotonic()
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
        return [(future, True, (result, new))
                for (_, future), result, new in zip(batch, results, fresh, strict=True)]
