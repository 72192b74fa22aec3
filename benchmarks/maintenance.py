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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import engine as engine_bench
from spimguard import decode_event, engine, load_config, maintenance, open_engine
from spimguard.detectors import Learner
from spimguard.engine import Engine
from spimguard.sim import network

Pass = dict[str, tuple[float, float]]  # part of a pass -> (wall, CPU) ms


class _Timed:
    """Each maintenance pass (``maintenance.maintain``, itself, unchanged) and the steps
    it calls, timed: the store's sweep, each learner's rebuild, the records' purge."""

    def __init__(self) -> None:
        self.passes: list[Pass] = []
        # The pass being timed; None between passes (the memory store also sweeps itself
        # every 50,000 writes, ``memory._SWEEP_EVERY``: not a maintenance pass).
        self._pass: Pass | None = None

    def wrap(self, name: str, work: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return work(*args)
            finally:
                if self._pass is not None:
                    self._pass[name] = ((time.perf_counter() - wall) * 1e3,
                                        (time.process_time() - cpu) * 1e3)
        return timed

    def watch(self, judge: Engine) -> None:
        """Time ``judge``'s passes from now on (its instances' methods wrapped)."""
        state, records = judge.state, judge.records
        state.sweep = self.wrap("sweep", state.sweep)  # type: ignore[method-assign]
        records.purge = self.wrap("purge", records.purge)  # type: ignore[method-assign]
        for detector in judge.detectors:
            if isinstance(detector, Learner):
                detector.rebuild = self.wrap(  # type: ignore[method-assign]
                    f"rebuild {detector.name}", detector.rebuild)
        whole = self.wrap("pass", maintenance.maintain)

        def maintain(*args: Any) -> None:
            self._pass = {}
            whole(*args)
            self.passes.append(self._pass)
            self._pass = None

        engine.maintain = maintain  # type: ignore[assignment]


def run(backend: str, lines: list[bytes]) -> list[Pass]:
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
    return timed.passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "memory"])
    args = parser.parse_args()
    lines = engine_bench.load(args.users, args.days)
    passes = run(args.backend, lines)
    if not passes:
        raise SystemExit(f"{len(lines):,} events: fewer than a pass's "
                         f"{maintenance.MAINTAIN_EVERY:,}; more --users or --days")
    cpu = [p["pass"][1] for p in passes]
    longest = passes[max(range(len(passes)), key=cpu.__getitem__)]
    print(f"{args.backend}, {len(lines):,} events, {len(passes)} maintenance passes; "
          f"longest {longest['pass'][0]:.1f} ms wall, {longest['pass'][1]:.1f} ms CPU; "
          f"every pass, CPU ms: " + ", ".join(f"{c:.1f}" for c in cpu))
    for name, (wall, used) in longest.items():
        if name != "pass":
            print(f"  {name}: {wall:.1f} ms wall, {used:.1f} ms CPU")


if __name__ == "__main__":
    main()
