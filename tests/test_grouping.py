"""Group commit for /v1/check: each request gets its own verdict, fewer commits, and a
failed batch is retried one request at a time; /metrics says where a check's time went."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import threading
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from conftest import engine, message
from spimguard.server import create_app, grouping
from spimguard.server.console.memory import MemoryConsole
from spimguard.server.grouping import GroupCommit
from spimguard.server.metrics import Metrics

T0 = 1_790_000_000.0


def _batch_sizes(judge: Any) -> list[int]:
    """The size of every batch the engine is handed from now on."""
    sizes: list[int] = []
    original = judge.process_batch

    def counted(events: Any, *fresh: Any) -> Any:
        sizes.append(len(events))
        return original(events, *fresh)

    judge.process_batch = counted
    return sizes


def test_concurrent_checks_share_commits_and_keep_their_own_verdicts() -> None:
    judge = engine(storage={"backend": "memory"})
    batches = _batch_sizes(judge)
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


def test_metrics_count_every_wait_and_every_batch() -> None:
    judge = engine(storage={"backend": "memory"})
    calls = _batch_sizes(judge)
    metrics = Metrics()
    group = GroupCommit(judge, max_batch=7, metrics=metrics)

    async def run() -> None:
        await asyncio.gather(*(group.judge(message(judge.config, f"m{i}", f"u{i}", ["friend"],
                                                   "lunch at 1?", T0 + i)) for i in range(40)))

    asyncio.run(run())
    value = metrics.registry.get_sample_value
    assert value("spimguard_check_wait_seconds_count") == 40
    assert value("spimguard_batch_messages_sum") == 40
    assert value("spimguard_batch_messages_count") == len(calls) == 6  # 40 in batches of 7
    assert value("spimguard_batch_seconds_count") == len(calls)
    assert 0 < value("spimguard_batch_cpu_seconds_sum") <= value("spimguard_batch_seconds_sum")


def _slow_lines(monkeypatch: Any, caplog: Any, slow: set[str], sent: int) -> list[str]:
    """The slow-batch lines logged for ``sent`` messages judged one after another, those
    in ``slow`` taking 60 ms off the CPU (a wait, as for a disk)."""
    judge = engine(storage={"backend": "memory"})
    original = judge.process_batch

    def judged(events: Any, *fresh: Any) -> Any:
        if any(e.id in slow for e in events):
            time.sleep(0.06)
        return original(events, *fresh)

    judge.process_batch = judged  # type: ignore[method-assign]
    monkeypatch.setattr(grouping, "SLOW_BATCH", 0.05)
    group = GroupCommit(judge)

    async def judge_all() -> None:  # one loop, one clock for the lines' spacing
        for i in range(sent):
            await group.judge(message(judge.config, f"m{i}", "a", ["b"], "hi", T0 + i))

    with caplog.at_level(logging.INFO, logger="spimguard.server"):
        asyncio.run(judge_all())
    return [r.getMessage() for r in caplog.records if "a batch of" in r.getMessage()]


def test_a_slow_batch_is_logged_with_its_size_and_cpu(caplog: Any,
                                                     monkeypatch: Any) -> None:
    """A batch past ``SLOW_BATCH`` says how many messages it held and how much of its time
    was the engine's CPU (a disk or another process took the rest); a quick one says
    nothing."""
    logged = _slow_lines(monkeypatch, caplog, {"m1"}, 2)
    assert len(logged) == 1, logged
    took, cpu = (float(n) for n in re.findall(r"([\d.]+) ms", logged[0]))
    assert logged[0].startswith("a batch of 1 messages took") and took >= 60 and cpu < 30


def test_slow_batches_are_logged_a_line_a_period_counting_the_rest(caplog: Any) -> None:
    """An overloaded host is slow many times a second: one line a ``SLOW_LOG_EVERY``, the
    next one counting those left out, so the log is not buried and nothing goes unsaid."""
    group = GroupCommit(engine(storage={"backend": "memory"}))
    with caplog.at_level(logging.INFO, logger="spimguard.server"):
        for now in (100.0, 100.2, 100.5, 100.9, 101.0, 101.5, 102.5):
            group._slow(4, 0.06, 0.01, now)
    logged = [r.getMessage().rsplit("; ", 1)[1].split()[0] for r in caplog.records
              if "a batch of" in r.getMessage()]
    assert grouping.SLOW_LOG_EVERY == 1.0
    assert logged == ["0", "3", "1"]  # at 100.0, 101.0 (100.2-100.9 left out), 102.5


def test_start_up_objects_are_frozen_out_of_the_collector_while_serving() -> None:
    judge = engine(storage={"backend": "memory"})
    with TestClient(create_app(judge, MemoryConsole())) as client:
        assert gc.get_freeze_count() > 0
        assert client.get("/livez").status_code == 200
    assert gc.get_freeze_count() == 0


def test_the_engines_thread_takes_the_next_batch_without_the_loop() -> None:
    """Between two batches the thread takes what waits from the queue itself: with the
    event loop kept busy (blocked here), three batches of one are judged all the same.
    Each round trip through the loop between batches was two thread wake-ups a batch."""
    judge = engine(storage={"backend": "memory"})
    sizes = _batch_sizes(judge)
    group = GroupCommit(judge, max_batch=1)
    original = judge.process_batch
    third = threading.Event()

    def judged(events: Any, *fresh: Any) -> Any:
        results = original(events, *fresh)
        if len(sizes) == 3:
            third.set()
        return results

    judge.process_batch = judged  # type: ignore[method-assign]

    async def run() -> tuple[bool, list[Any]]:
        waiting = [asyncio.ensure_future(group.judge(message(
            judge.config, f"m{i}", f"u{i}", ["friend"], "lunch at 1?", T0 + i)))
            for i in range(3)]
        while not sizes:  # the first batch has begun; from here the loop does not yield
            await asyncio.sleep(0)
        judged_meanwhile = third.wait(60)
        return judged_meanwhile, await asyncio.gather(*waiting)

    judged_meanwhile, verdicts = asyncio.run(run())
    assert judged_meanwhile and sizes == [1, 1, 1]
    assert [v.id for v in verdicts] == ["m0", "m1", "m2"]
    group.close()


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux's scheduling policies")
def test_the_engines_thread_does_not_preempt_the_loop_when_woken() -> None:
    """SCHED_BATCH on the engine's thread alone: the loop that woke it is not made to
    switch away only to switch back (it holds the GIL the thread needs first)."""
    judge = engine(storage={"backend": "memory"})
    original = judge.process_batch
    policies: list[int] = []

    def judged(events: Any, *fresh: Any) -> Any:
        policies.append(os.sched_getscheduler(0))
        return original(events, *fresh)

    judge.process_batch = judged  # type: ignore[method-assign]
    group = GroupCommit(judge)
    asyncio.run(group.judge(message(judge.config, "m0", "a", ["b"], "hi", T0)))
    group.close()
    assert policies == [os.SCHED_BATCH]
    assert os.sched_getscheduler(0) != os.SCHED_BATCH  # the caller's own thread untouched
