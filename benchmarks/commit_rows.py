"""What the embedded store writes for an event: rows by statement, ``kv`` rows by keyspace,
and the WAL frames (pages) a commit appends, on the simulator's mixed load.

    python benchmarks/commit_rows.py [--users 150 --days 1] [--batch 1]

Why: at the batches of one to three that the server's group commit hands the engine, what
a commit costs is set by how many rows it writes and how many pages they dirty (each
dirty page is one WAL frame: page-sized, checksummed, written), not by how many events
it holds. Callgrind (``instructions.py``) counts the Python and SQLite C instructions;
the frames' ``write`` calls run in the kernel, which it does not count, and which the
CPU time below does. These are the counts the next cut of the state's layout must move
(speed-log, session 33).

Rows: each statement SQLite steps (a trace callback on the state's connection), its text
with the bound values blanked, an ``executemany`` counted once a row. Frames: the growth
of the ``-wal`` file, its checkpoints held off for the run (``period=None``: the
``Checkpointer`` of ``db.open_writer`` is not started, and the engine asks none), so the
file only grows, by ``page_size + 24`` bytes a frame.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

import engine as load_engine
from spimguard import backends, db, decode_event, load_config, open_engine
from spimguard.sim import network
from table import Rows, show

_BOUND = re.compile(r"\(\?[?, ]*\)|'[^']*'|\b\d+(\.\d+)?\b")


def main(users: int = 150, days: int = 1, batch: int = 1) -> Rows:
    lines = load_engine.load(users, days)
    cfg = load_config(environ={}, storage={"backend": "sqlite"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    steps: Counter[str] = Counter()
    keyspaces: Counter[str] = Counter()
    opened = backends.open_writer
    backends.open_writer = lambda path, synchronous: db.open_writer(  # type: ignore[assignment]
        path, synchronous, period=None)
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            engine = open_engine(cfg, folder)
            events = [decode_event(line, cfg.limits) for line in lines]
            conn: sqlite3.Connection = engine.state._conn  # type: ignore[attr-defined]
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            wal = folder / "spimguard.db-wal"
            before = wal.stat().st_size

            def traced(statement: str) -> None:
                text = _BOUND.sub("_", " ".join(statement.split()))
                steps[text[:72]] += 1
                if text.startswith("INSERT INTO kv "):  # the key, the first value bound
                    keyspaces[statement.split("VALUES ('", 1)[1].split(":", 1)[0]] += 1

            conn.set_trace_callback(traced)
            cpu = time.process_time()
            for start in range(0, len(events), batch):
                engine.process_batch(events[start:start + batch])
            cpu = time.process_time() - cpu
            conn.set_trace_callback(None)
            frames = (wal.stat().st_size - before) // (page + 24)
            engine.close()
    finally:
        backends.open_writer = opened
    n = len(events)
    rows: Rows = [(f"mixed load: {users:,} users, {days} days, events, batches of {batch}",
                   f"{n:,}"),
                  ("statements stepped an event (an executemany's rows each)",
                   f"{sum(steps.values()) / n:.2f}")]
    rows += [(f"  {text}", f"{count / n:.2f}") for text, count in steps.most_common(12)]
    rows.append(("kv rows an event, by keyspace", f"{sum(keyspaces.values()) / n:.2f}"))
    rows += [(f"  {space}:", f"{count / n:.2f}") for space, count in keyspaces.most_common(6)]
    rows += [(f"WAL frames an event ({page:,}-byte pages)", f"{frames / n:.2f}"),
             ("CPU µs an event (user and kernel; follows the machine's load)",
              f"{cpu / n * 1e6:,.0f}")]
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1,
                        help="events handed to the engine at once")
    args = parser.parse_args()
    show(main(args.users, args.days, args.batch))
