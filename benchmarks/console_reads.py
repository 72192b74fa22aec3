"""What a console read costs the engine's batches, in the embedded (SQLite) store.

    python benchmarks/console_reads.py [--users 300 --days 1 --batch 8]

The simulator's mixed load is judged by an engine on a fresh SQLite file: its first
``--warm`` share in batches of 500 (a day's log, its held and blocked messages the
console's queue), then the rest in batches of ``--batch`` (the server's group commit under
load), each batch's wall time taken, in blocks of ten: alone, then beside a thread reading
the console's review queue and account search (``views.queue``, ``views.search_accounts``:
the day's stopped messages, up to 5,000 rows) in a loop, as an operator's pages would, and
so on in turn (both kinds of block see the shared machine's same moments); each read's
wall time too. Until session 46 those reads ran on the engine's connection under the lock
every save and commit takes (a batch waited for a whole read); since, they read a read-
only connection of their own, and what is left is the interpreter's lock, which the
reading thread holds while it turns rows into records.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from engine import load
from spimguard import decode_event, load_config, open_engine
from spimguard.server.console import views
from spimguard.server.console.memory import MemoryConsole
from spimguard.sim import network
from table import Rows, show


def batches(lines: list[bytes], warm: float, size: int, block: int = 10
            ) -> tuple[list[float], list[float], list[float], list[float]]:
    """Wall seconds of each measured batch alone and beside the reading thread (blocks of
    ``block`` batches in turn, so both see the machine's same moments), of each of its
    reads, and of ten reads with the engine idle."""
    cfg = load_config(environ={}, storage={"backend": "sqlite"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(cfg, Path(folder))
        events = [decode_event(line, cfg.limits) for line in lines]
        first = int(len(events) * warm)
        for start in range(0, first - 10 * size, 500):
            engine.process_batch(events[start:min(start + 500, first - 10 * size)])
        on, done, busy = threading.Event(), threading.Event(), threading.Lock()
        console, reads = MemoryConsole(), []

        def read() -> None:
            while not done.is_set():
                if not on.wait(0.05):
                    continue
                with busy:
                    began = time.perf_counter()
                    views.queue(engine, console, {})
                    views.search_accounts(engine, "")
                    reads.append(time.perf_counter() - began)

        idle = []  # reads alone, each after a batch's commit (which a reader's cache forgets)
        for start in range(first - 10 * size, first, size):
            engine.process_batch(events[start:start + size])
            began = time.perf_counter()
            views.queue(engine, console, {})
            views.search_accounts(engine, "")
            idle.append(time.perf_counter() - began)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        alone: list[float] = []
        reading: list[float] = []
        try:
            for n, start in enumerate(range(first, len(events), size)):
                if n % block == 0:
                    if n // block % 2:
                        on.set()
                    else:
                        on.clear()
                        with busy:  # the read in flight ends before a batch alone starts
                            pass
                began = time.perf_counter()
                engine.process_batch(events[start:start + size])
                (reading if on.is_set() else alone).append(time.perf_counter() - began)
        finally:
            done.set()
            reader.join()
            engine.close()
    return alone, reading, reads, idle


def figures(name: str, took: list[float]) -> Rows:
    ms = sorted(t * 1000 for t in took)
    return [(f"{name}: count", f"{len(ms)}"),
            (f"{name}: mean ms", f"{statistics.fmean(ms):.2f}"),
            (f"{name}: p50 ms", f"{ms[len(ms) // 2]:.2f}"),
            (f"{name}: p99 ms", f"{ms[int(len(ms) * 0.99)]:.2f}"),
            (f"{name}: longest ms", f"{ms[-1]:.1f}")]


def main(users: int = 300, days: int = 1, size: int = 8, warm: float = 0.7) -> Rows:
    lines = load(users, days)
    alone, reading, reads, idle = batches(lines, warm, size)
    return [("events", f"{len(lines)}"), *figures("batch alone", alone),
            *figures("batch beside reads", reading), *figures("console read", reads),
            *figures("console read, engine idle", idle)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--warm", type=float, default=0.7)
    args = parser.parse_args()
    show(main(args.users, args.days, args.batch, args.warm))
