"""Same log, same verdicts and the same state, however its events are grouped in batches.

HTTP batches depend on timing (``server.grouping``), so one log reaches two processes cut
differently; an embedded store's batch puts each account's takeover record once, at its
end (``detectors.base.Finishing``), so what an event reads of it depends on the batch
only if that put and the reads it spares disagree. Judged here in batches of 1, 7 and
500: every answer and the store after a final sweep must be the same.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from spimguard import decode_event, engine, load_config, open_engine
from spimguard.events import Event
from spimguard.sim import network, scenarios, texts
from spimguard.state import hashed


@pytest.fixture(scope="module")
def log() -> list[bytes]:
    rng = random.Random(11)
    plan = scenarios.plan(network.build(80, rng), texts.load(), "mixed", 2, rng)
    return [msgspec.json.encode({**p.body, "id": f"e{n}", "ts": p.ts})
            for n, p in enumerate(plan.events)]


@pytest.fixture(scope="module")
def late(log: list[bytes]) -> list[bytes]:
    """The log with 1 event in 10 up to a day late."""
    jitter = random.Random(3)
    events = []
    for line in log:
        event = msgspec.json.decode(line)
        if jitter.random() < 0.1:
            event["ts"] -= jitter.uniform(0.0, 86_400.0)
        events.append(msgspec.json.encode(event))
    return events


def _plain(value: Any) -> Any:
    """A stored object as plain data, so two stores' contents compare."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    slots = [s for kind in type(value).__mro__ for s in getattr(kind, "__slots__", ())]
    if slots:
        return {s: _plain(getattr(value, s)) for s in slots if hasattr(value, s)}
    return value


def _judge(backend: str, log: list[bytes], size: int, folder: Path,
           **storage: str) -> tuple[list[bytes], Any]:
    """Every answer, as sent, and what the store holds after a final sweep (Redis's: None,
    its answers are compared)."""
    cfg = load_config(environ={}, storage={"backend": backend, **storage},
                      official_clients=list(network.OFFICIAL_CLIENTS),
                      records={"evidence_key": "test-evidence-key"} if storage else {})
    # Redis's records are an embedded SQLite: in the run's own folder, not the default one
    # in the working directory, where a run before would answer this one's ids.
    judging = open_engine(cfg, None if backend == "memory" else folder)
    events: list[Event] = [decode_event(line, cfg.limits) for line in log]
    answers = []
    for start in range(0, len(events), size):
        answers += [msgspec.json.encode(r) for r in judging.process_batch(
            events[start:start + size])]
    if backend == "redis":
        judging.close()
        return answers, None
    state = judging.state
    state.sweep(judging.clock)
    state.commit()
    if backend == "sqlite":
        judging.close()
        with sqlite3.connect(folder / "spimguard.db") as db:
            stored = {t: sorted(db.execute(f"SELECT * FROM {t}"), key=repr)
                      for t in ("counts", "members", "kv", "hashed_sets", "sided_sets")}
    else:
        stored = {part: _plain(getattr(state, part)) for part in (
            "_counters", "_members", "_hashed", "_values")}
        stored["_sided"] = _plain({p: home.records for p, home in state._homes.items()})
        judging.close()
    return answers, stored


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
    runs = {size: _judge(backend, log, size, tmp_path / str(size)) for size in (1, 7, 500)}
    for size in (7, 500):
        for n, (one, other) in enumerate(zip(runs[1][0], runs[size][0], strict=True)):
            assert one == other, f"event {n}: batches of 1 and {size} answer apart"
        assert runs[size][1] == runs[1][1], f"batches of 1 and {size} leave stores apart"
    assert len(runs[1][0]) > 1000


@pytest.mark.parametrize("lateness", ["in order", "late"])
def test_redis_answers_as_the_memory_store_in_batches_of_1_and_500(
        tmp_path: Path, log: list[bytes], late: list[bytes], redis_url: str, lateness: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis's batch reads what its earlier events wrote through the same overlay (its
    batch-long plans and answers: ``detectors.base.shared``), every detector enabled. On
    the log with late events too, against a memory store sweeping a part every 7 events
    (its whole lap in batches of 500): Redis never sweeps, so what a sweep drops must be
    what no event still reads."""
    import uuid

    import redis

    monkeypatch.setattr(hashed, "new_key", lambda: bytes(hashed.KEY_BYTES))
    if lateness == "late":
        log = late
        monkeypatch.setattr(engine, "SWEEP_EVERY", 7)
    alone = _judge("memory", log, 500, tmp_path)[0]
    client = redis.Redis.from_url(redis_url)
    for size in (1, 500):
        namespace = f"spimguard-test-{uuid.uuid4().hex}:"
        try:
            answers = _judge("redis", log, size, tmp_path / str(size), redis_url=redis_url,
                             redis_namespace=namespace)[0]
        finally:
            keys = list(client.scan_iter(match=namespace + "*"))
            if keys:
                client.delete(*keys)
        for n, (one, other) in enumerate(zip(alone, answers, strict=True)):
            assert one == other, f"event {n}: Redis in batches of {size} answers apart"


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
    answers = {size: _judge("memory", late, size, tmp_path / str(size))[0]
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
    alone = _judge("memory", late, 7, tmp_path / "memory")[0]
    monkeypatch.setattr(engine, "MAINTAIN_EVERY", 37)
    monkeypatch.setattr(engine, "SWEEP_EVERY", 37)
    embedded = _judge("sqlite", late, 500, tmp_path / "sqlite")[0]
    for n, (one, other) in enumerate(zip(alone, embedded, strict=True)):
        assert one == other, f"event {n}: SQLite answers apart from memory"
