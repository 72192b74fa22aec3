"""What SQLite costs an event, split by the ``sqlite3`` module's entry points, counted by
callgrind: the rows written (``executemany``), the other statements (``execute``: the
held copy's loads, BEGIN, ``PRAGMA data_version``, the log's look for repeated ids, the
sweep's parts), the commits, and within them the binding, the parsing, SQLite's VM, its
b-tree inserts and the GIL taken back after each step; the rest of the event is Python's:
the engine's, and the store's own (the held copy, the notes, the rows and the log's rows
built), which is that rest less the memory backend's whole figure (``instructions.py``).

    python benchmarks/sqlite_split.py [--users 150 --days 1] [--batch 500] [--events N]

The mixed load (``instructions.py``'s) is judged on the SQLite backend under callgrind,
every event and none (``instructions.counted``: the same child, environment and thread
split), and each function's inclusive instructions in the main thread are subtracted run
from run, over the events. A row is a C function's, inclusive: the module's own entry points
do not call one another, so the three statement rows add up to what the module costs; the
"of which" rows are parts of them (shared by all three). ``--events``: the load's first N
events only (a run of the whole day's 3,250 takes ~50 times a plain run).

Beside the memory backend's figure (``instructions.py``) this says where SQLite's extra
goes: on session 44's final code, at batches of 500, ~131,000 instructions an event in the
module (~89,000 of it the rows) against ~168,000 of Python around it (session 45,
``sqlite45``).
"""

from __future__ import annotations

import argparse
import pickle
import re
import subprocess
import tempfile
from pathlib import Path

import engine
import instructions
from table import show

# (label, the C functions whose inclusive counts add up to it). A function's name in
# callgrind's file is the one of its definition: clinic wrappers (``cursor.c.h``) and their
# implementations both show, the wrapper's count including the implementation's, so the
# greatest of a name's counts is taken.
ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rows written (executemany)", ("pysqlite_connection_executemany",
                                    "pysqlite_cursor_executemany")),
    ("other statements (execute: loads, BEGIN, data_version, repeated ids, sweep)",
     ("pysqlite_connection_execute", "pysqlite_cursor_execute")),
    ("commits", ("pysqlite_connection_commit",)),
    ("  of which: binding values (bind_param)", ("bind_param",)),
    ("  of which: parsing statements (sqlite3_prepare_v2)", ("sqlite3_prepare_v2",)),
    ("  of which: SQLite's VM (sqlite3VdbeExec)", ("sqlite3VdbeExec",)),
    ("  of which: b-tree inserts (sqlite3BtreeInsert)", ("sqlite3BtreeInsert",)),
    ("  of which: the GIL taken back after a step (PyEval_RestoreThread)",
     ("PyEval_RestoreThread",)),
    ("  of which: cursors made (pysqlite_connection_cursor_impl)",
     ("pysqlite_connection_cursor_impl",)),
)
_LINE = re.compile(r"^\s*([\d,]+) (?:\([^)]*\)\s+)?\S*?:(\w+) ", re.M)


def functions(annotated: str) -> dict[str, int]:
    """Each function's inclusive count in ``callgrind_annotate --inclusive=yes``'s text: the
    greatest of its lines (a recursive call's line, ``name'2``, is not the function's)."""
    found: dict[str, int] = {}
    for count, name in _LINE.findall(annotated):
        found[name] = max(found.get(name, 0), int(count.replace(",", "")))
    return found


def split(every: dict[str, int], none: dict[str, int], events: int, whole: int
          ) -> list[tuple[str, int]]:
    """The rows an event: each of ``ROWS`` (its functions' counts in the run judging
    ``events`` events less the run judging none), the module's three statement rows'
    sum, and the rest of ``whole`` (the main thread's instructions an event)."""
    rows = [(label, sum(every.get(f, 0) - none.get(f, 0) for f in names) // events)
            for label, names in ROWS]
    module = sum(count for _, count in rows[:3])
    return [("the whole event (main thread)", whole), ("SQLite's module", module), *rows,
            ("the rest: the engine's Python and the store's (less the memory backend's "
             "figure, the store's)", whole - module)]


def _annotated(out: Path) -> dict[str, int]:
    return functions(subprocess.run(["callgrind_annotate", "--inclusive=yes",
                                     "--threshold=100", str(out)], check=True,
                                    capture_output=True, text=True).stdout)


def main(users: int = 150, days: int = 1, batch: int = 500, events: int = 0
         ) -> list[tuple[str, str]]:
    lines = engine.load(users, days)
    lines = lines[:events] if events else lines
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        lines_file = folder / "lines.pkl"
        lines_file.write_bytes(pickle.dumps(lines))
        none, _ = instructions.counted(lines_file, 0, "all", "sqlite", batch, folder)
        every, _ = instructions.counted(lines_file, len(lines), "all", "sqlite", batch, folder)
        rows = split(_annotated(folder / f"callgrind.{len(lines)}.out-01"),
                     _annotated(folder / "callgrind.0.out-01"), len(lines),
                     (every - none) // len(lines))
    return [(f"mixed load: {users:,} users, {days} days, events judged, batches of {batch}",
             f"{len(lines):,}"),
            *((f"{label}, instructions an event", f"{count:,}") for label, count in rows)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--events", type=int, default=0, help="the load's first N events only")
    args = parser.parse_args()
    show(main(args.users, args.days, args.batch, args.events))
