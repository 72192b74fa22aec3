"""Redis judges the mixed day as the memory store does, in batches of 1 and of 500
(``test_batch_grouping.py`` compares the embedded stores' batchings; the log and the
judging are ``grouping_logs``'s). Each Redis run is a process of its own, all four started
at once: they are mostly round trips to redis-server (a run in batches of 1 waits on
~3,500 of them), so they overlap instead of queueing one behind another."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
import redis

from conftest import detector_failures_in
from grouping_logs import judge, made_late, mixed_log
from spimguard import engine
from spimguard.state import hashed

# The run imports ``grouping_logs`` from this folder, which pytest puts on its own path
# and a process started afresh does not have (found in a fresh clone's run: only
# a PYTHONPATH naming tests/ had hidden it).
RUN = """
import sys
sys.path.insert(0, sys.argv[7])
from pathlib import Path
from grouping_logs import judged_on_redis
lateness, size, url, namespace, folder, out = sys.argv[1:7]
judged_on_redis(lateness, int(size), url, namespace, Path(folder), Path(out))
"""
RUNS = [(lateness, size) for lateness in ("in order", "late") for size in (1, 500)]


class OnRedis(Protocol):
    def __call__(self, lateness: str, size: int) -> list[bytes]: ...


@pytest.fixture(scope="module")
def on_redis(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[OnRedis]:
    """Redis's answers for each of ``RUNS``, every run started at once, each in a
    namespace of its own removed when it ends; a test waits for the ones it reads."""
    folder = tmp_path_factory.mktemp("redis-runs")
    running = {}
    for lateness, size in RUNS:
        name = f"{lateness.replace(' ', '-')}-{size}"
        namespace = f"spimguard-test-{uuid.uuid4().hex}:"
        with (folder / f"{name}.err").open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-c", RUN, lateness, str(size), redis_url, namespace,
                 str(folder / name), str(folder / f"{name}.out"),
                 str(Path(__file__).resolve().parent)],
                env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=err)
        running[lateness, size] = (process, namespace, folder / name)
    client = redis.Redis.from_url(redis_url)

    def forget(namespace: str) -> None:
        keys = list(client.scan_iter(match=namespace + "*"))
        if keys:
            client.delete(*keys)

    def answers(lateness: str, size: int) -> list[bytes]:
        process, namespace, name = running[lateness, size]
        code = process.wait(timeout=900)
        forget(namespace)
        errors = name.with_suffix(".err").read_text(errors="replace")
        assert code == 0, errors[-3000:]
        assert not detector_failures_in(errors), detector_failures_in(errors)[:5]
        return name.with_suffix(".out").read_bytes().splitlines()

    yield answers
    for process, namespace, _ in running.values():
        if process.poll() is None:
            process.kill()
            process.wait()
        forget(namespace)


@pytest.mark.parametrize("lateness", ["in order", "late"])
def test_redis_answers_as_the_memory_store_in_batches_of_1_and_500(
        tmp_path: Path, on_redis: OnRedis, lateness: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis's batch reads what its earlier events wrote through the same overlay (its
    batch-long plans and answers: ``detectors.base.shared``), every detector enabled. On
    the log with late events too, against a memory store sweeping a part every 7 events
    (its whole lap in batches of 500): Redis never sweeps, so what a sweep drops must be
    what no event still reads."""
    monkeypatch.setattr(hashed, "new_key", lambda: bytes(hashed.KEY_BYTES))
    log = mixed_log()
    if lateness == "late":
        log = made_late(log)
        monkeypatch.setattr(engine, "SWEEP_EVERY", 7)
    alone = judge("memory", log, 500, tmp_path)[0]
    assert len(alone) > 1000
    for size in (1, 500):
        answers = on_redis(lateness, size)
        for n, (one, other) in enumerate(zip(alone, answers, strict=True)):
            assert one == other, f"event {n}: Redis in batches of {size} answers apart"
