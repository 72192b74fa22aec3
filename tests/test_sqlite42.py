"""SQLite's held copy, cheaper to fill: a batch's queries held by their (class, key) pairs,
and a value load compiled with no numbered places (session 42, ``sqlite42``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from spimguard.db import connect
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Get, Gets, Incr, Put, Puts, Query, Tally, Touch, Write
from spimguard.state.sqlite import SQLiteState
from test_sqlite41 import _Told

T0 = 1_700_000_000.0


def _told(path: Path) -> tuple[_Told, SQLiteState]:
    conn = sqlite3.connect(path, factory=_Told)
    conn.texts = []
    return conn, SQLiteState(conn)


def _written(path: Path, writes: list[Write]) -> MemoryState:
    """The file at ``path`` given ``writes`` (committed), and the memory backend given them."""
    state, memory = SQLiteState(connect(path)), MemoryState()
    state.write(writes, T0)
    memory.write(writes, T0)
    state.commit()
    state.close()
    return memory


def test_a_value_load_binds_each_key_in_a_place_of_its_own_and_answers_as_before(
        tmp_path: Path) -> None:
    """A batch's values (in ``kv``, in a put's rows, in neither) load in one statement
    whose places are plain ``?``, every key bound in each half: numbered places (``?1``,
    ...) are looked up one by one among the numbers as SQLite compiles the text, O(keys²),
    and a batch's list of keys is a text compiled anew. Each answer is the memory
    backend's. Base numbered them."""
    path = tmp_path / "s.db"
    keys = [f"band:{n}" for n in range(300)]  # more than a load's chunk of values
    memory = _written(path, [Put("kv0", 1), Put("kv1", "x"), Puts(tuple(keys[:6]), 7),
                             *(Put(key, n) for n, key in enumerate(keys[6:]))])
    conn, state = _told(path)
    lists: list[list[Query]] = [[Get("kv0"), Gets(tuple(keys[:6])), Get("gone")],
                                [Get("kv1"), Gets(tuple(keys[6:])), Get(keys[3])]]
    state.begin()
    conn.texts.clear()
    state.hold(lists)
    loads = [text for text in conn.texts if "FROM kv" in text]
    assert loads and not any("?1" in text for text in loads)
    # Each key bound once a half, in chunks under the 999 places of old builds.
    assert all(text.count("?") == 2 * text.split(") UNION")[0].count("?") <= 999
               for text in loads)
    assert len(loads) == 2  # 304 keys
    held = len(conn.texts)
    for queries in lists:
        assert state.read(queries, T0 + 1) == memory.read(queries, T0 + 1)
    assert len(conn.texts) == held  # every key was loaded with the batch
    state.rollback()
    state.close()


def test_a_batch_is_held_by_its_pairs_not_filed_query_by_query_and_loads_again_once_let_go(
        tmp_path: Path) -> None:
    """A batch's planned queries are told apart by their (class, key) pairs: none of them
    (but a ``Gets``, looked at key by key) is filed among the known queries, which kept a
    batch's query objects alive until a commit let them go; a later batch's new query
    objects of held pairs look nothing up. Once the held copy is let go (another process
    committed), the pairs go with it: the next batch loads its keys again and answers as
    the file now says, not as the copy did. Base filed every planned query."""
    path = tmp_path / "s.db"
    memory = _written(path, [Put("v", 1), Incr("c", 2.0), Touch("t", ("a", "b"), ttl=900)])
    conn, state = _told(path)
    planned: list[list[Query]] = [[Get("v"), Count("c", 600), Tally("t", 600, ("a", "z"))],
                                  [Gets(("v", "w"))]]
    state.begin()
    state.hold(planned)
    assert not state._known - {planned[1][0]}  # only the Gets is known
    later: list[list[Query]] = [[Get("v"), Count("c", 600)], [Tally("t", 600, ("b",))]]
    held = len(conn.texts)
    state.hold(later)
    assert len(conn.texts) == held  # new objects, held pairs: nothing looked up
    for queries in planned + later:
        assert state.read(queries, T0 + 1) == memory.read(queries, T0 + 1)
    state.commit()
    other = SQLiteState(connect(path))  # another process's commit
    changed: list[Write] = [Put("v", 5), Incr("c", 3.0), Touch("t", ("z",), ttl=900)]
    other.write(changed, T0 + 2)
    memory.write(changed, T0 + 2)
    other.commit()
    other.close()
    state.begin()  # finds the other commit: the held copy is let go
    conn.texts.clear()
    again: list[list[Query]] = [[Get("v"), Count("c", 600), Tally("t", 600, ("a", "z"))]]
    state.hold(again)
    assert any("FROM kv" in text for text in conn.texts)
    assert any("FROM counts" in text for text in conn.texts)
    assert any("FROM members" in text for text in conn.texts)
    assert state.read(again[0], T0 + 3) == memory.read(again[0], T0 + 3)
    state.rollback()
    state.close()
