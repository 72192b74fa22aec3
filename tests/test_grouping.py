"""Group commit for /v1/check: each request gets its own verdict, fewer commits, and a
failed batch is retried one request at a time."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import engine, message
from spimguard.server.grouping import GroupCommit

T0 = 1_790_000_000.0


def test_concurrent_checks_share_commits_and_keep_their_own_verdicts() -> None:
    judge = engine(storage={"backend": "memory"})
    batches: list[int] = []
    original = judge.process_batch

    def counted(events: Any, *fresh: Any) -> Any:
        batches.append(len(events))
        return original(events, *fresh)

    judge.process_batch = counted  # type: ignore[method-assign]
    group = GroupCommit(judge)
    texts = ["lunch at 1?" if i % 2 else "WINNER!! claim your FREE prize now, call 09061701461"
             for i in range(40)]

    async def run() -> list[Any]:
        return await asyncio.gather(*(group.judge(message(judge.config, f"m{i}", f"u{i}",
                                                          ["friend"], text, T0 + i))
                                      for i, text in enumerate(texts)))

    verdicts = asyncio.run(run())
    assert [v.id for v in verdicts] == [f"m{i}" for i in range(40)]
    assert all(v.action in ("hold", "block") for v in verdicts[0::2])
    assert all(v.action == "deliver" for v in verdicts[1::2])
    assert sum(batches) == 40 and len(batches) < 40  # grouped


def test_a_failed_batch_is_retried_request_by_request() -> None:
    judge = engine(storage={"backend": "memory"})
    original = judge.process_batch

    def fragile(events: Any, *fresh: Any) -> Any:
        if any(e.text == "boom" for e in events):
            raise RuntimeError("storage hiccup")
        return original(events, *fresh)

    judge.process_batch = fragile  # type: ignore[method-assign]
    group = GroupCommit(judge)

    async def run() -> list[Any]:
        return await asyncio.gather(
            *(group.judge(message(judge.config, f"m{i}", "a", ["b"], t, T0 + i))
              for i, t in enumerate(["hi", "boom", "see you"])), return_exceptions=True)

    first, failed, last = asyncio.run(run())
    assert first.action == "deliver" and last.action == "deliver"
    assert isinstance(failed, RuntimeError)
