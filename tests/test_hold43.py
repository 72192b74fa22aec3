"""SQLite's held copy: a batch's keys told apart by (table, key), and loaded keys filed by
their kinds in one look-up (session 43, ``hold43``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spimguard.db import connect
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    Contains,
    Count,
    Distinct,
    Get,
    Gets,
    Incr,
    LastTouch,
    Members,
    Put,
    Query,
    Tally,
    Touch,
)
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0


class _Asked(dict[str, int]):
    """A dict that counts the keys looked up by ``get``."""

    asked: list[str]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.append(key)
        return super().get(key, default)


def _stored(path: Path) -> MemoryState:
    """A file holding a set, a counter, values and a key that is a value and a counter;
    the memory backend given the same writes, to answer as it."""
    writes = [Touch("set:a", ("x", "y"), ttl=900), Incr("n:a", 2.0), Put("v:a", 1),
              Put("v:b", 2), Incr("v:b", 3.0), Touch("set:b", ("z",), ttl=900)]
    state, memory = SQLiteState(connect(path)), MemoryState()
    state.write(writes, T0)
    memory.write(writes, T0)
    state.commit()
    state.close()
    return memory


def test_a_sets_queries_of_one_key_are_looked_at_once(tmp_path: Path) -> None:
    """A ``Tally``, a ``Distinct``, a ``Contains``, a ``Members`` and a ``LastTouch`` of one
    set are one (table, key) pair: its table is asked once (base asked it of each class)."""
    memory = _stored(tmp_path / "s.db")
    state = SQLiteState(connect(tmp_path / "s.db"))
    kinds = _Asked()
    kinds.asked = []
    state._set_kinds = kinds
    lists: list[list[Query]] = [[Tally("set:a", 600, ("x", "q")), Distinct("set:a", 600)],
                                [Contains("set:a", ("y",)), Members("set:a"),
                                 LastTouch("set:a", "x", 600)]]
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
    lists: list[list[Query]] = [[Count("n:a", 600), Gets(("v:a", "v:b", "v:none"))],
                                [Count("v:b", 600), Tally("set:b", 600, ("z",)),
                                 Get("v:a"), Count("n:none", 600)]]
    state.begin()
    state.hold(lists)
    held = dict(state._held)
    assert held.keys() >= {"n:a", "v:a", "v:b", "v:none", "set:b", "n:none"}
    assert held["v:b"] == held["v:a"] | held["n:a"] != held["v:a"]
    for queries in lists:
        assert state.read(queries, T0 + 1) == memory.read(queries, T0 + 1)
    state.rollback()
    state.close()
