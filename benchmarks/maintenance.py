"""The longest single batch's maintenance cost, on the simulator's mixed load.

    python benchmarks/maintenance.py [--users 2000 --days 2] [--backend sqlite]
    python benchmarks/maintenance.py --whole   # as before: all the sweep in one pass

Every ``maintenance.SWEEP_EVERY`` events the batch being judged sweeps a part of the
state (``SWEEP_PARTS`` a lap); at a lap's end it also rebuilds the learners and purges the
records. Each request waiting on that batch sees the pass in its latency, so the figure
is the longest pass (wall and CPU ms), and what it was made of. ``--whole`` sweeps the
whole state in one pass at each lap's end, as the engine did before the sweep was cut in
parts (the held copy then also dropped whole, which the batches after it paid for and
this does not count). Batches of 500, as ``/v1/events`` commits them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import engine as engine_bench
from spimguard import decode_event, engine, load_config, maintenance, open_engine
from spimguard.config import Config
from spimguard.detectors import Detector, Learner
from spimguard.records import RecordStore
from spimguard.sim import network
from spimguard.state import StateBackend


class _Timed:
    """``maintenance.maintain`` with each of its parts timed (wall, CPU ms)."""

    def __init__(self) -> None:
        self.passes: list[dict[str, tuple[float, float]]] = []

    def __call__(self, config: Config, state: StateBackend, records: RecordStore,
                 detectors: Sequence[Detector], now: float, events: int) -> bool:
        parts: dict[str, tuple[float, float]] = {}

        def timed(name: str, work: object) -> None:
            wall, cpu = time.perf_counter(), time.process_time()
            work()  # type: ignore[operator]
            parts[name] = ((time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3)

        part = events // maintenance.SWEEP_EVERY - 1
        timed("sweep", lambda: state.sweep(now, part, maintenance.SWEEP_PARTS))
        ended = part == maintenance.SWEEP_PARTS - 1
        if ended:
            for detector in detectors:
                if isinstance(detector, Learner):
                    timed(f"rebuild {detector.name}",
                          lambda d=detector: d.rebuild(lambda q: state.read(q, now)))
            timed("purge", lambda: records.purge(
                now - config.records.retention_days * 86400))
        self.passes.append(parts)
        return ended


def run(backend: str, lines: list[bytes], whole: bool) -> list[dict[str, tuple[float, float]]]:
    if whole:
        maintenance.SWEEP_EVERY, maintenance.SWEEP_PARTS = maintenance.MAINTAIN_EVERY, 1
    timed = engine.maintain = _Timed()  # type: ignore[assignment]
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
    parser.add_argument("--whole", action="store_true",
                        help="the whole sweep at each lap's end, as before")
    args = parser.parse_args()
    lines = engine_bench.load(args.users, args.days)
    passes = run(args.backend, lines, args.whole)
    totals = [(sum(w for w, _ in p.values()), sum(c for _, c in p.values())) for p in passes]
    longest = max(range(len(passes)), key=lambda n: totals[n][1])
    print(f"{args.backend}, {len(lines):,} events, {len(passes)} passes "
          f"({'whole' if args.whole else f'{maintenance.SWEEP_PARTS} parts'}): longest pass "
          f"{totals[longest][0]:.1f} ms wall, {totals[longest][1]:.1f} ms CPU; all passes "
          f"{sum(c for _, c in totals):.0f} ms CPU")
    for name, (wall, cpu) in passes[longest].items():
        print(f"  {name}: {wall:.1f} ms wall, {cpu:.1f} ms CPU")
    sweeps = [p["sweep"][1] for p in passes]
    print(f"  sweep passes, CPU ms: longest {max(sweeps):.1f}, "
          f"mean {sum(sweeps) / len(sweeps):.1f}")


if __name__ == "__main__":
    main()
