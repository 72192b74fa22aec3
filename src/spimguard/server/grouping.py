"""Group commit for ``/v1/check``: concurrent requests judged as one batch, one commit.

A verdict is answered only once it is durable, and on SQLite the commit is most
of a lone request's cost. While one batch is being judged (in a worker thread,
so the event loop keeps reading requests), the requests that arrive wait
together and become the next batch. Alone, a request is judged at once.
If a batch fails (the engine rolls all of it back), its requests are retried one
by one, so one bad request fails alone.
"""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from ..engine import Engine
from ..events import Message, Result


class GroupCommit:
    def __init__(self, engine: Engine, max_batch: int = 256) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.pending: list[tuple[Message, asyncio.Future[tuple[Result, bool]]]] = []
        self.draining = False
        self.task: asyncio.Task[None] | None = None  # kept: the loop holds tasks weakly

    async def judge(self, message: Message) -> Result:
        return (await self.judge_marked(message))[0]

    async def judge_marked(self, message: Message) -> tuple[Result, bool]:
        """The result, and whether the message was new (not a repeated id)."""
        future: asyncio.Future[tuple[Result, bool]] = (
            asyncio.get_running_loop().create_future())
        self.pending.append((message, future))
        if not self.draining:
            self.draining = True
            self.task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch = self.pending[: self.max_batch]
                del self.pending[: self.max_batch]
                await self._judge(batch)
        finally:
            self.draining = False

    async def _judge(self, batch: list[tuple[Message, asyncio.Future[tuple[Result, bool]]]]
                     ) -> None:
        fresh: list[bool] = []
        try:
            results = await run_in_threadpool(self.engine.process_batch, [m for m, _ in batch],
                                              fresh)
        except Exception:
            for message, future in batch:
                try:
                    alone: list[bool] = []
                    result = await run_in_threadpool(self.engine.process_batch, [message], alone)
                    future.set_result((result[0], alone[0]))
                except Exception as exc:
                    future.set_exception(exc)
            return
        for (_, future), result, new in zip(batch, results, fresh, strict=True):
            future.set_result((result, new))
