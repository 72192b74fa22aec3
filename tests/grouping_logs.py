"""The mixed day judged in batches, for the files that compare its batchings and its
stores (``test_batch_grouping.py``, ``test_batch_grouping_redis.py``): two files so the
Redis comparisons, mostly round trips, run on the other worker beside the embedded ones."""

from __future__ import annotations

import logging
import random
import sqlite3
from pathlib import Path
from typing import Any

import msgspec

from spimguard import decode_event, load_config, open_engine
from spimguard.events import Event
from spimguard.sim import network, scenarios, texts


def mixed_log() -> list[bytes]:
    """The simulator's mixed day on 80 users over 2 days, as sent."""
    rng = random.Random(11)
    plan = scenarios.plan(network.build(80, rng), texts.load(), "mixed", 2, rng)
    return [msgspec.json.encode({**p.body, "id": f"e{n}", "ts": p.ts})
            for n, p in enumerate(plan.events)]


def made_late(log: list[bytes]) -> list[bytes]:
    """The log with 1 event in 10 up to a day late."""
    jitter = random.Random(3)
    events = []
    for line in log:
        event = msgspec.json.decode(line)
        if jitter.random() < 0.1:
            event["ts"] -= jitter.uniform(0.0, 86_400.0)
        events.append(msgspec.json.encode(event))
    return events


def plain(value: Any) -> Any:
    """A stored object as plain data, so two stores' contents compare."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    slots = [s for kind in type(value).__mro__ for s in getattr(kind, "__slots__", ())]
    if slots:
        return {s: plain(getattr(value, s)) for s in slots if hasattr(value, s)}
    return value


def judge(backend: str, log: list[bytes], size: int, folder: Path,
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
        stored = {part: plain(getattr(state, part)) for part in (
            "_counters", "_members", "_hashed", "_values")}
        stored["_sided"] = plain({p: home.records for p, home in state._homes.items()})
        judging.close()
    return answers, stored


def judged_on_redis(lateness: str, size: int, url: str, namespace: str, folder: Path,
                    out: Path) -> None:
    """Redis's answers to the log (``lateness``: "in order" or "late"), in batches of
    ``size``, one JSON line each into ``out``: run in a process of its own
    (``test_batch_grouping_redis.py``), with what that test's memory run is judged under
    (every store's hashed sets on one key; with late events, a sweep part every 7 events),
    and failing as a test would on a detector failure the engine logged."""
    from conftest import DetectorFailures
    from spimguard import engine
    from spimguard.state import hashed

    hashed.new_key = lambda: bytes(hashed.KEY_BYTES)
    log = mixed_log()
    if lateness == "late":
        log = made_late(log)
        engine.SWEEP_EVERY = 7
    failures = DetectorFailures()
    logging.getLogger("spimguard.engine").addHandler(failures)
    answers = judge("redis", log, size, folder, redis_url=url, redis_namespace=namespace)[0]
    failures.check()
    out.write_bytes(b"".join(answer + b"\n" for answer in answers))
