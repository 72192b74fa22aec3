"""SQLite's held copy, cheaper to fill: a value load compiled with no numbered places
(session 42, ``sqlite42``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from spimguard.db import connect
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Get, Gets, Put, Puts, Query, Write
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
