"""The longest single batch's maintenance cost, and what it is made of, on the mixed load.

    python benchmarks/maintenance.py [--users 2000 --days 2] [--backend sqlite|memory]

Every ``maintenance.MAINTAIN_EVERY`` events the batch being judged rebuilds the learners
and purges the records (``Engine._maintain``), and at the end of a batch every
``maintenance.SWEEP_EVERY`` events it sweeps one part of the state's lap
(``Engine._sweep_part``); each request waiting on that batch sees them in its latency
(issue 18). Printed: the batch whose maintenance cost most (wall and CPU ms: on a shared
host the wall clock follows the other processes, CPU much less) and its parts, every
pass's CPU, and the sweep's parts (mean, longest, total). The embedded store's part first
writes the batch's changes (``SQLiteState._flush``), which the batch's commit would write
anyway, and so does the pass (``maintain`` commits): timed apart ("batch's writes in ...")
and not counted in either. Batches of 500, as
``/v1/events`` commits them.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import engine as engine_bench
from spimguard import decode_event, engine, load_config, maintenance, open_engine
from spimguard.detectors import Learner
from spimguard.engine import Engine
from spimguard.sim import network

Timings = dict[str, tuple[float, float]]  # part of a batch's maintenance -> (wall, CPU) ms


class _Timed:
    """Each batch's maintenance: the pass (``maintenance.maintain``, itself, unchanged) and
    the steps it calls (each learner's rebuild, the records' purge), and the sweep's part
    (``maintenance.sweep_part``), timed through the engine's own objects."""

    def __init__(self) -> None:
        self.batches: list[Timings] = []  # the batches with any maintenance
        self.parts: list[float] = []  # every sweep part's CPU ms
        self._batch: Timings = {}
        self._inside = False

    def wrap(self, name: str, work: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return work(*args)
            finally:
                self._batch[name] = ((time.perf_counter() - wall) * 1e3,
                                     (time.process_time() - cpu) * 1e3)
        return timed

    def net(self, name: str, work: Callable[..., Any]) -> Callable[..., Any]:
        """``wrap``, less the batch's writes the embedded store flushes inside it."""
        whole = self.wrap(name, work)

        def timed(*args: Any) -> Any:
            self._inside = True
            try:
                return whole(*args)
            finally:
                self._inside = False
                writes = self._batch.pop("batch's writes", None)
                if writes is not None:
                    self._batch[f"batch's writes in {name}"] = writes
                    part = self._batch[name]
                    self._batch[name] = (part[0] - writes[0], part[1] - writes[1])
        return timed

    def watch(self, judge: Engine) -> None:
        """Time ``judge``'s maintenance from now on (its instances' methods wrapped)."""
        records = judge.records
        records.purge = self.wrap("purge", records.purge)  # type: ignore[method-assign]
        for detector in judge.detectors:
            if isinstance(detector, Learner):
                detector.rebuild = self.wrap(  # type: ignore[method-assign]
                    f"rebuild {detector.name}", detector.rebuild)
        engine.maintain = self.net("pass", maintenance.maintain)  # type: ignore[assignment]
        engine.sweep_part = self.net(  # type: ignore[assignment]
            "sweep part", maintenance.sweep_part)
        flush = getattr(judge.state, "_flush", None)
        if flush is not None:
            timed_flush = self.wrap("batch's writes", flush)

            def flushed() -> None:
                (timed_flush if self._inside else flush)()

            judge.state._flush = flushed  # type: ignore[attr-defined]
        batch = judge.process_batch

        def process_batch(*args: Any) -> Any:
            self._batch = {}
            try:
                return batch(*args)
            finally:
                if self._batch:
                    self.batches.append(self._batch)
                    if "sweep part" in self._batch:
                        self.parts.append(self._batch["sweep part"][1])

        judge.process_batch = process_batch  # type: ignore[method-assign]


def _whole(batch: Timings) -> tuple[float, float]:
    """A batch's maintenance: its pass and its sweep part (the pass's steps are in it)."""
    return (sum(batch[n][0] for n in ("pass", "sweep part") if n in batch),
            sum(batch[n][1] for n in ("pass", "sweep part") if n in batch))


def run(backend: str, lines: list[bytes]) -> _Timed:
    cfg = load_config(environ={}, storage={"backend": backend},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    timed = _Timed()
    with tempfile.TemporaryDirectory() as folder:
        judge = open_engine(cfg, Path(folder) if backend == "sqlite" else None)
        timed.watch(judge)
        events = [decode_event(line, cfg.limits) for line in lines]
        for start in range(0, len(events), 500):
            judge.process_batch(events[start:start + 500])
        judge.close()
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "memory"])
    args = parser.parse_args()
    lines = engine_bench.load(args.users, args.days)
    timed = run(args.backend, lines)
    passes = [b["pass"][1] for b in timed.batches if "pass" in b]
    if not passes:
        raise SystemExit(f"{len(lines):,} events: fewer than a pass's "
                         f"{maintenance.MAINTAIN_EVERY:,}; more --users or --days")
    longest = max(timed.batches, key=lambda b: _whole(b)[1])
    wall, cpu = _whole(longest)
    print(f"{args.backend}, {len(lines):,} events, {len(passes)} maintenance passes, "
          f"{len(timed.parts)} sweep parts; longest batch maintenance {wall:.1f} ms wall, "
          f"{cpu:.1f} ms CPU; every pass, CPU ms: " + ", ".join(f"{c:.1f}" for c in passes))
    print(f"  sweep parts, CPU ms: mean {statistics.mean(timed.parts):.1f}, "
          f"longest {max(timed.parts):.1f}, total {sum(timed.parts):.1f}")
    for name, (wall, used) in longest.items():
        print(f"  {name}: {wall:.1f} ms wall, {used:.1f} ms CPU")


if __name__ == "__main__":
    main()
