"""Instructions an event, counted by callgrind: the engine's cost on a shared machine.

    python benchmarks/instructions.py [--users 300 --days 1] [--only takeover] [--backend sqlite]
                                      [--batch 500]

Rates in messages per second follow whatever else the machine runs; callgrind counts the
instructions the interpreter executes, the same for the same code, load and environment
(``PYTHONHASHSEED=0``), whatever the load average. The simulator's mixed load
(``engine.load``) is saved to a file; the engine then runs it twice under
``valgrind --tool=callgrind``: judging every event, and judging none (the imports, the
model's load, the store's opening). The difference over the events is the figure. With
``--only``, every other detector is disabled, and the same figure from ``--only none``
subtracted from it is what that detector adds. OpenBLAS is kept to one thread in the
counted runs: its idle threads spin, and moved a run by up to ~18,000 instructions an
event. A run takes ~50 times a plain one (minutes for the
default load). ``--batch`` is how many events the engine is handed at once (500: a
backlog; the server's group commit hands it 1-8 at ordinary load, where what a batch
costs whatever its size weighs on every event).

The figure is the main thread's, the one that judges; the other threads' (SQLite's
checkpointer) is printed apart. That thread wakes every 0.1 s of the clock, and under
callgrind the engine runs ~50 times slower, so it woke ~50 times as often an event as in
a plain run: 4-8k instructions an event at batches of 500 and 94-115k at batches of one,
moving ±20k between runs of the same code with the machine's load (sqlgap, session 24).
Until session 24 it was in the figure: SQLite's figures before then are that much higher.
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import engine
from table import show


def child(lines_file: str, n: int, only: str, backend: str, batch: int) -> None:
    """What callgrind runs: the engine over the first ``n`` events of the saved load."""
    from spimguard import decode_event, load_config, open_engine
    from spimguard.sim import network

    lines = pickle.loads(Path(lines_file).read_bytes())
    cfg = load_config(environ={}, storage={"backend": backend},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(cfg, Path(folder) if backend != "memory" else None)
        if only != "all":
            keep = set() if only == "none" else set(only.split(","))
            engine.disabled.update({d.name: "benchmark" for d in engine.detectors
                                    if d.name not in keep})
        events = [decode_event(line, cfg.limits) for line in lines][:n]
        for start in range(0, len(events), batch):
            engine.process_batch(events[start:start + batch])
        engine.close()


def total(argv: Sequence[str], out: Path) -> int:
    """Callgrind's instructions of one run of ``argv`` (a script's child: a micro-benchmark's
    stage), every thread together, with the counted runs' environment (``counted``)."""
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                    sys.executable, *argv], check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
    found = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
    if found is None:
        raise RuntimeError(f"no summary in {out}")
    return int(found.group(1))


def counted(lines_file: Path, n: int, only: str, backend: str, batch: int,
            folder: Path, extra: Sequence[str] = ()) -> tuple[int, int]:
    """Instructions of one run under callgrind: the main thread's (the engine's), and the
    other threads' (SQLite's checkpointer), each thread's summary line counted apart.
    ``extra``: arguments after the child's own, for a script that runs ``child`` itself
    (``cold_instructions.py``: the records it keeps decoded)."""
    out = folder / f"callgrind.{n}.out"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                    "--separate-threads=yes",
                    sys.executable, __file__, "--child", str(lines_file), str(n), only,
                    backend, str(batch), *extra], check=True, capture_output=True,
                   # OpenBLAS's idle worker threads spin, and callgrind counts them: ±5,000
                   # instructions an event between runs of the same code (bytesfast, session 18).
                   env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
    threads = sorted(folder.glob(f"{out.name}-*"))  # -01 is the main thread
    counts = []
    for part in threads:
        found = re.search(r"^summary:\s+(\d+)", part.read_text(), re.M)
        if found is None:
            raise RuntimeError(f"no summary in {part}")
        counts.append(int(found.group(1)))
    if not counts or not threads[0].name.endswith("-01"):
        raise RuntimeError(f"no main thread's counts beside {out}")
    return counts[0], sum(counts[1:])


def per_event(lines: list[bytes], only: str, backend: str, batch: int,
              extra: Sequence[str] = ()) -> tuple[int, int]:
    """Instructions an event of judging ``lines``: the main thread's and the other threads'
    (the run judging every event less the one judging none)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        lines_file = folder / "lines.pkl"
        lines_file.write_bytes(pickle.dumps(lines))
        none, none_else = counted(lines_file, 0, only, backend, batch, folder, extra)
        every, every_else = counted(lines_file, len(lines), only, backend, batch, folder,
                                    extra)
    return (every - none) // len(lines), (every_else - none_else) // len(lines)


def main(users: int = 300, days: int = 1, only: str = "all",
         backend: str = "memory", batch: int = 500) -> list[tuple[str, str]]:
    lines = engine.load(users, days)
    main_thread, others = per_event(lines, only, backend, batch)
    return [(f"mixed load: {users:,} users, {days} days, events", f"{len(lines):,}"),
            (f"instructions an event, detectors: {only}, {backend} backend, batches of {batch}",
             f"{main_thread:,}"),
            ("  other threads (SQLite's checkpointer: runs by the clock, not counted above)",
             f"{others:,}")]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--only", default="all",
                        help="detectors to keep, comma-separated; all or none")
    parser.add_argument("--backend", default="memory", choices=("memory", "sqlite"))
    parser.add_argument("--batch", type=int, default=500,
                        help="events handed to the engine at once")
    args = parser.parse_args()
    show(main(args.users, args.days, args.only, args.backend, args.batch))
