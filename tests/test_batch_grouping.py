"""Same log, same verdicts and the same state, however its events are grouped in batches.

HTTP batches depend on timing (``server.grouping``), so one log reaches two processes cut
differently; an embedded store's batch puts each account's takeover record once, at its
end (``detectors.base.Finishing``), so what an event reads of it depends on the batch
only if that put and the reads it spares disagree. Judged here in batches of 1, 7 and
500: every answer and the store after a final sweep must be the same. Redis's
batchings: ``test_batch_grouping_redis.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grouping_logs import judge, made_late, mixed_log
from spimguard import engine
from spimguard.state import hashed


@pytest.fixture(scope="module")
def log() -> list[bytes]:
    return mixed_log()


@pytest.fixture(scope="module")
def late(log: list[bytes]) -> list[bytes]:
    return made_late(log)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("maintain_every", [engine.MAINTAIN_EVERY, 333])
def test_batches_of_1_7_and_500_give_the_same_answers_and_state(
        tmp_path: Path, log: list[bytes], backend: str, maintain_every: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with a maintenance pass in the midst of batches (every 333 events), which puts
    what the batch's judged events left to its end before it commits, and with the sweep's
    parts at the end of batches every 50 events (at other events in each batching)."""
    # One key for every store's hashed sets (each picks its own at random), so they compare.
    monkeypatch.setattr(hashed, "new_key", lambda: bytes(hashed.KEY_BYTES))
    monkeypatch.setattr(engine, "MAINTAIN_EVERY", maintain_every)
    if maintain_every == 333:
        monkeypatch.setattr(engine, "SWEEP_EVERY", 50)
    runs = {size: judge(backend, log, size, tmp_path / str(size)) for size in (1, 7, 500)}
    for size in (7, 500):
        for n, (one, other) in enumerate(zip(runs[1][0], runs[size][0], strict=True)):
            assert one == other, f"event {n}: batches of 1 and {size} answer apart"
        assert runs[size][1] == runs[1][1], f"batches of 1 and {size} leave stores apart"
    assert len(runs[1][0]) > 1000


def test_late_events_answer_alike_in_any_batches_when_the_memory_store_sweeps_often(
        tmp_path: Path, late: list[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """The store sweeps a part every 7 events, at the end of a batch, so at other events
    in each batching (every 7th event alone, each batch of 7, a lap a batch of 500), and
    1 event in 10 comes up to a day late: a sweep drops only what no event still judged
    as of its own time reads (``ops.sweep_horizon``), and one later than that is judged
    as of it (``Engine._on_time``). Without either, events answer apart (before both: event 1903 in
    batches of 7, VELOCITY_FANOUT 0.216 against 0.181)."""
    monkeypatch.setattr(hashed, "new_key", lambda: bytes(hashed.KEY_BYTES))
    monkeypatch.setattr(engine, "SWEEP_EVERY", 7)
    answers = {size: judge("memory", late, size, tmp_path / str(size))[0]
               for size in (1, 7, 500)}
    for size in (7, 500):
        for n, (one, other) in enumerate(zip(answers[1], answers[size], strict=True)):
            assert one == other, f"event {n}: batches of 1 and {size} answer apart"


def test_late_events_answer_alike_in_sqlite_and_memory_with_sweeps_at_other_events(
        tmp_path: Path, late: list[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory store sweeping a part every 11 events in batches of 7 (every other
    batch), SQLite a lap's worth at the end of every batch of 500: every sweep falls at
    another event, and each keeps what the late events
    still read, so the two answer alike (the same log, the same verdicts on any node).
    A maintenance pass sweeping up to its own time instead: event 1928 answers apart."""
    monkeypatch.setattr(hashed, "new_key", lambda: bytes(hashed.KEY_BYTES))
    monkeypatch.setattr(engine, "SWEEP_EVERY", 11)
    alone = judge("memory", late, 7, tmp_path / "memory")[0]
    monkeypatch.setattr(engine, "MAINTAIN_EVERY", 37)
    monkeypatch.setattr(engine, "SWEEP_EVERY", 37)
    embedded = judge("sqlite", late, 500, tmp_path / "sqlite")[0]
    for n, (one, other) in enumerate(zip(alone, embedded, strict=True)):
        assert one == other, f"event {n}: SQLite answers apart from memory"
