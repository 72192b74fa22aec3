"""What a message costs the SQLite store by the size of its batch, counted, not timed:
its statements and rows by kind (sqlite3's trace callback) and the WAL frames its
commits write by b-tree (the WAL file's frame headers, each page named by ``dbstat``).

    python benchmarks/batch_cost.py [--users 300] [--sizes 1,2,4,16] [--warm 800]
                                    [--messages 320]

Each size judges the mixed load's first ``--warm`` messages in batches of 16 (the
state grows as in ``tests/test_tail36.py``), then the next ``--messages`` in batches of
that size, counted. The checkpointer is stopped first, so that the WAL keeps every
frame the counted commits wrote (nothing copies or restarts it meanwhile).

Why counts: a batch's own cost is what it pays whatever its size. Statements split
into the batch's own (``FIXED``: the write lock's BEGIN, the look at other processes'
commits, the verdict log's look for repeated ids, COMMIT), the held keys' loads (one a
table whose keys are not held yet) and rows written; frames by the b-tree they belong
to. What a batch of one pays beyond a sixteenth of a batch of 16 is then either its
own statements (a few microseconds each: ``FIXED`` is ~7 us a batch, measured apart)
or rows and pages a batch of 16 writes once for several of its messages: keys its
messages share (a sender's counters, sets and ties, written once a batch) and pages
its rows share (a small table's leaves; the verdict log's tails: its rowid and time
order end on the same page). Those are no fixed cost: they are what batching saves.
"""

from __future__ import annotations

import argparse
import struct
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from engine import load
from spimguard import decode_event, load_config, open_engine
from spimguard.sim.network import OFFICIAL_CLIENTS

# The statements a batch runs whatever its size (``kind``'s names).
FIXED = ("begin", "version", "answers", "commit")
_WAL_HEADER, _FRAME_HEADER = 32, 24
_WRITES = {("INSERT", "INTO"), ("DELETE", "FROM")}  # a row a trace (``executemany``)


class Counts(NamedTuple):
    """A message's statements by kind (``kind``) and WAL frames by b-tree, on average."""

    statements: dict[str, float]
    frames: dict[str, float]


def kind(statement: str) -> str:
    """What a traced statement is, told by its head (never by what its values hold: a key
    or a message's text may say anything): one of ``FIXED``, ``load <table>`` (a read of
    held keys), ``row <table>`` (a row written or deleted: one a row, as
    ``executemany`` traces each), or ``other`` (the sweep's parts, maintenance)."""
    words = statement.split(None, 5)
    head = " ".join(words[:4]).upper()
    if head.startswith("BEGIN"):
        return "begin"
    if head.startswith("COMMIT"):
        return "commit"
    if head == "PRAGMA DATA_VERSION":
        return "version"
    if head.startswith("SELECT ID, DIGEST, RESULT"):
        return "answers"
    if not words:
        return "other"
    shape = statement.split("'", 1)[0]  # the statement up to its first literal
    if words[0].upper() == "SELECT" and " WHERE key IN (" in shape:
        return f"load {shape.split(' FROM ', 1)[1].split(None, 1)[0]}"
    if len(words) > 2 and (words[0].upper(), words[1].upper()) in _WRITES and \
            " WHERE key >= " not in shape:
        return f"row {words[2]}"
    return "other"


def frames(wal: bytes) -> list[int]:
    """The page number of each whole frame of a WAL file's bytes, in order."""
    if len(wal) < _WAL_HEADER:
        return []
    page = struct.unpack(">I", wal[8:12])[0]
    found, at = [], _WAL_HEADER
    while at + _FRAME_HEADER + page <= len(wal):
        found.append(struct.unpack(">I", wal[at:at + 4])[0])
        at += _FRAME_HEADER + page
    return found


def counted(size: int, folder: Path, users: int = 300, warm: int = 800,
            messages: int = 320) -> Counts:
    """A message's statements and frames judged in batches of ``size`` (see above)."""
    cfg = load_config(environ={}, storage={"backend": "sqlite"},
                      official_clients=list(OFFICIAL_CLIENTS))
    events = [decode_event(line, cfg.limits) for line in load(users, 1)
              if b'"type":"message"' in line][:warm + messages]
    engine = open_engine(cfg, folder)
    said: list[str] = []
    try:
        conn = engine.state.conn
        checkpointer = getattr(conn, "checkpointer", None)
        if checkpointer is not None:  # the WAL keeps every frame from here on
            checkpointer.close()
            conn.checkpointer = None
        for start in range(0, warm, 16):
            engine.process_batch(events[start:start + 16])
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        wal = Path(f"{path}-wal")
        before = len(frames(wal.read_bytes())) if wal.exists() else 0
        conn.set_trace_callback(said.append)
        for start in range(warm, warm + messages, size):
            engine.process_batch(events[start:start + size])
        conn.set_trace_callback(None)
        written = frames(wal.read_bytes())[before:]
        owner = dict(conn.execute("SELECT pageno, name FROM dbstat"))
    finally:
        engine.close()
    judged = len(events) - warm
    statements = Counter(map(kind, said))
    by_tree = Counter(owner.get(page, "(free)") for page in written)
    return Counts({k: n / judged for k, n in statements.items()},
                  {k: n / judged for k, n in by_tree.items()})


def summary(counts: Counts) -> tuple[float, float, float, float, float]:
    """(statements, the batch's own, loads, rows, frames) a message."""
    s = counts.statements
    return (sum(s.values()), sum(s.get(k, 0.0) for k in FIXED),
            sum(v for k, v in s.items() if k.startswith("load ")),
            sum(v for k, v in s.items() if k.startswith("row ")), sum(counts.frames.values()))


def _show(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    width = max(len(r[0]) for r in [header, *rows])
    print(f"\n{title}")
    for row in [header, *rows]:
        print(row[0].ljust(width), *(cell.rjust(10) for cell in row[1:]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--sizes", default="1,2,4,16")
    parser.add_argument("--warm", type=int, default=800)
    parser.add_argument("--messages", type=int, default=320)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    found: dict[int, Counts] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            found[size] = counted(size, Path(tmp) / str(size), args.users, args.warm,
                                  args.messages)
    rows = [(str(size), *(f"{v:.2f}" for v in summary(found[size]))) for size in sizes]
    _show("a message by batch size: statements (the batch's own, loads, rows) and WAL frames",
         ("batch", "statements", "own", "loads", "rows", "frames"), rows)
    for title, part in (("statements", 0), ("frames", 1)):
        names = sorted({k for c in found.values() for k in c[part]},
                       key=lambda k: -found[sizes[0]][part].get(k, 0.0))
        _show(f"{title} a message by kind", ("kind", *map(str, sizes)),
             [(k, *(f"{found[s][part].get(k, 0.0):.2f}" for s in sizes)) for k in names])


if __name__ == "__main__":
    main()
