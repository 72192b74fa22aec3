"""SQLite's held copy: a batch's queries held whole, not split into their parts (session 41,
``sqlite41``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from spimguard.db import connect
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Gets, Incr, Put, Query, Tally, Touch
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0


class _ToldCursor(sqlite3.Cursor):
    """A cursor of a ``_Told`` connection: the store runs its batch's statements on one
    (session 45, ``sqlite45``)."""

    connection: _Told

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        self.connection.texts.append(sql)
        return super().execute(sql, *args)


class _Told(sqlite3.Connection):
    """A connection that keeps the text of every statement it runs, on it or its cursors."""

    texts: list[str]

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        self.texts.append(sql)
        return super().execute(sql, *args)

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or _ToldCursor)


def test_a_batch_holds_a_tally_and_the_keys_of_a_gets_as_their_parts_would(tmp_path: Path
                                                                         ) -> None:
    """A batch's queries are held whole, not split into their parts (a ``Tally``'s set, a
    ``Gets``'s every key; a name asked as a counter too is held as both): each key loaded in
    the batch's statements, and each answer the memory backend's. A property that held
    before (guarded, not new: it passes on base)."""
    path = tmp_path / "s.db"
    first = SQLiteState(connect(path))
    memory = MemoryState()
    writes = [Put("b0", 1), Put("b1", 2), Put("b2", 3), Touch("t", ("a", "b"), ttl=900),
              Incr("b0", 4.0), Incr("t", 5.0)]
    first.write(writes, T0)
    memory.write(writes, T0)
    first.commit()
    first.close()
    conn = sqlite3.connect(path, factory=_Told)
    conn.texts = []
    state = SQLiteState(conn)
    lists: list[list[Query]] = [[Gets(("b0", "b1", "b2", "b9")), Count("b0", 600)],
                                [Tally("t", 600, ("a", "z")), Count("t", 600), Count("b9", 60)]]
    state.begin()
    state.hold(lists)
    held = len(conn.texts)
    for queries in lists:
        assert state.read(queries, T0 + 1) == memory.read(queries, T0 + 1)
    assert len(conn.texts) == held  # nothing more looked up
    state.rollback()
    state.close()
