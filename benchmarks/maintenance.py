"""The longest single batch's maintenance cost, and what it is made of, on the mixed load.

    python benchmarks/maintenance.py [--users 2000 --days 2] [--backend sqlite|memory]

Every ``maintenance.MAINTAIN_EVERY`` events the batch being judged sweeps the state,
rebuilds the learners and purges the records (``Engine._maintain``); each request waiting
on that batch sees the pass in its latency (issue 18). Printed: the longest pass (wall and
CPU ms: on a shared host the wall clock follows the other processes, CPU much less),
its parts, and every pass's CPU. The embedded store also drops its held copy at the
sweep: what the batches after it pay to reload is not counted here. Batches of 500, as
``/v1/events`` commits them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import engine as engine_bench
from spimguard import decode_event, engine, load_config, open_engine
from spimguard.config import Config
from spimguard.detectors import Detector, Learner
from spimguard.records import RecordStore
from spimguard.sim import network
from spimguard.state import StateBackend

Pass = dict[str, tuple[float, float]]  # part of a pass -> (wall, CPU) ms


class _Timed:
    """``maintenance.maintain``, the same steps in the same order, each timed."""

    def __init__(self) -> None:
        self.passes: list[Pass] = []

    def __call__(self, config: Config, state: StateBackend, records: RecordStore,
                 detectors: Sequence[Detector], now: float) -> None:
        timed: Pass = {}

        def step(name: str, work: Callable[[], object]) -> None:
            wall, cpu = time.perf_counter(), time.process_time()
            work()
            timed[name] = ((time.perf_counter() - wall) * 1e3,
                           (time.process_time() - cpu) * 1e3)

        step("sweep", lambda: state.sweep(now))
        for detector in detectors:
            if isinstance(detector, Learner):
                step(f"rebuild {detector.name}",
                     lambda d=detector: d.rebuild(lambda q: state.read(q, now)))
        step("purge", lambda: records.purge(now - config.records.retention_days * 86400))
        self.passes.append(timed)


def run(backend: str, lines: list[bytes]) -> list[Pass]:
    timed = _Timed()
    engine.maintain = timed  # type: ignore[assignment]
    cfg = load_config(environ={}, storage={"backend": backend},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    with tempfile.TemporaryDirectory() as folder:
        judge = open_engine(cfg, Path(folder) if backend == "sqlite" else None)
        events = [decode_event(line, cfg.limits) for line in lines]
        for start in range(0, len(events), 500):
            judge.process_batch(events[start:start + 500])
        judge.close()
    return timed.passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "memory"])
    args = parser.parse_args()
    lines = engine_bench.load(args.users, args.days)
    passes = run(args.backend, lines)
    cpu = [sum(c for _, c in p.values()) for p in passes]
    longest = max(range(len(passes)), key=cpu.__getitem__)
    print(f"{args.backend}, {len(lines):,} events, {len(passes)} maintenance passes; "
          f"longest {sum(w for w, _ in passes[longest].values()):.1f} ms wall, "
          f"{cpu[longest]:.1f} ms CPU; every pass, CPU ms: "
          + ", ".join(f"{c:.1f}" for c in cpu))
    for name, (wall, used) in passes[longest].items():
        print(f"  {name}: {wall:.1f} ms wall, {used:.1f} ms CPU")


if __name__ == "__main__":
    main()
