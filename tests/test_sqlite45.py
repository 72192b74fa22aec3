"""SQLite's state runs a batch's statements on one cursor, made once (session 45,
``sqlite45``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Get, Gets, Incr, Members, Put, Puts, Query, Touch, Write
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0


class _Counted(sqlite3.Connection):
    """A connection that counts the statements run by its own ``execute`` and
    ``executemany``: each makes a cursor, runs on it and frees it."""

    made = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        self.made += 1
        return super().execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        self.made += 1
        return super().executemany(sql, *args)


def _batch(step: int) -> tuple[list[list[Query]], list[Write]]:
    """A batch's planned reads and its writes: counters, values, a put's keys, a member
    set, each new at its step and the earlier steps' read again."""
    keys = tuple(f"band:{step}:{n}" for n in range(6))
    reads: list[list[Query]] = [[Count(f"c:{s}", 600), Get(f"v:{s}"), Gets(keys),
                                 Members(f"seen:{s}")] for s in range(step + 1)]
    writes: list[Write] = [Incr(f"c:{step}"), Put(f"v:{step}", step), Puts(keys, step),
                           Touch(f"seen:{step}", ("a", f"b{step}"), 600)]
    return reads, writes


def test_a_batch_makes_no_cursor_and_leaves_no_read_open(tmp_path: Path) -> None:
    """Batches held, read, written and committed run no statement on the connection's own
    ``execute`` or ``executemany``, each of which makes a cursor and frees it (~1,300
    instructions a statement): all run on the store's one cursor (base ran every one on
    the connection). Each answer is the memory backend's; after each commit the file is left
    with no read open on it (another connection's checkpoint of the whole WAL is not kept
    waiting: a cursor left on a row would keep its read transaction)."""
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path, factory=_Counted)
    conn.execute("PRAGMA journal_mode=WAL")
    state, memory = SQLiteState(conn), MemoryState()
    other = sqlite3.connect(path)
    made = conn.made
    for step in range(4):
        now = T0 + step
        reads, writes = _batch(step)
        state.begin()
        state.hold(reads)
        for queries in reads:
            assert state.read(queries, now) == memory.read(queries, now)
        state.write(writes, now)
        memory.write(writes, now)
        state.commit()
        busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    assert conn.made == made
    state.close()
    other.close()
