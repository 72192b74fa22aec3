"""SQLite's held copy: a batch's keys told apart by (table, key), and loaded keys filed by
their kinds in one look-up (session 43, ``hold43``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spimguard.db import connect
from spimguard.state import ops
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Query
from spimguard.state.sqlite import SQLiteState
from test_sqlite42 import T0, _written


class _Asked(dict[str, int]):
    """A dict that counts the keys looked up by ``get``."""

    asked: list[str]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.append(key)
        return super().get(key, default)


def _stored(path: Path) -> MemoryState:
    """A file holding a set, a counter, values and a key that is a value and a counter;
    the memory backend given the same writes, to answer as it."""
    return _written(path, [ops.Touch("set:a", ("x", "y"), ttl=900), ops.Incr("n:a", 2.0),
                           ops.Put("v:a", 1), ops.Put("v:b", 2), ops.Incr("v:b", 3.0),
                           ops.Touch("set:b", ("z",), ttl=900)])


def test_a_sets_queries_of_one_key_are_looked_at_once(tmp_path: Path) -> None:
    """A ``Tally``, a ``Distinct``, a ``Contains``, a ``Members`` and a ``LastTouch`` of one
    set are one (table, key) pair: its table is asked once (base asked it of each class)."""
    memory = _stored(tmp_path / "s.db")
    state = SQLiteState(connect(tmp_path / "s.db"))
    kinds = _Asked()
    kinds.asked = []
    state._set_kinds = kinds
    lists: list[list[Query]] = [[ops.Tally("set:a", 600, ("x", "q")), ops.Distinct("set:a", 600)],
                                [ops.Contains("set:a", ("y",)), ops.Members("set:a"),
                                 ops.LastTouch("set:a", "x", 600)]]
    state.begin()
    state.hold(lists)
    assert kinds.asked == ["set:a"]
    for queries in lists:
        assert state.read(queries, T0 + 1) == memory.read(queries, T0 + 1)
    state.rollback()
    state.close()


def test_keys_of_one_kind_and_of_two_load_from_each_of_their_tables(tmp_path: Path) -> None:
    """Keys wanted of one kind (filed by one look-up) and a key wanted of two (a value and a
    counter: filed by each bit) are each loaded from every table of theirs, held as of
    those kinds, and answered as the memory backend answers; a key in no table is held as
    absent. A property that held before (guarded, not new: it passes on base)."""
    memory = _stored(tmp_path / "s.db")
    state = SQLiteState(connect(tmp_path / "s.db"))
    lists: list[list[Query]] = [[ops.Count("n:a", 600), ops.Gets(("v:a", "v:b", "v:none"))],
                                [ops.Count("v:b", 600), ops.Tally("set:b", 600, ("z",)),
                                 ops.Get("v:a"), ops.Count("n:none", 600)]]
    state.begin()
    state.hold(lists)
    held = dict(state._held)
    assert held.keys() >= {"n:a", "v:a", "v:b", "v:none", "set:b", "n:none"}
    assert held["v:b"] == held["v:a"] | held["n:a"] != held["v:a"]
    for queries in lists:
        assert state.read(queries, T0 + 1) == memory.read(queries, T0 + 1)
    state.rollback()
    state.close()
