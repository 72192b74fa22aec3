"""What SQLite's state binds at a commit, and what a sided record's row is written from:
the costs the embedded store adds to the memory backend's (session 24, ``sqlgap``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from spimguard.db import STAT_EVERY, Checkpointer, connect, open_writer
from spimguard.state import ops, sided
from spimguard.state.conformance import HASHED, SIDED, SIDES
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Query, Write
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0


class _BindsCursor(sqlite3.Cursor):
    """A cursor of a ``_Binds`` connection: the store runs its batch's statements on one
    (session 45, ``sqlite45``)."""

    connection: _Binds

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self.connection.bound.update(map(type, parameters))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        rows = list(parameters)
        for row in rows:
            self.connection.bound.update(map(type, row))
        return super().executemany(sql, rows)


class _Binds(sqlite3.Connection):
    """A connection that notes the type of every value a statement of it, or of its
    cursors, binds."""

    bound: set[type]

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self.bound.update(map(type, parameters))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        rows = list(parameters)
        for row in rows:
            self.bound.update(map(type, row))
        return super().executemany(sql, rows)

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or _BindsCursor)


def _writes(step: int) -> list[Write]:
    one, two, _ = SIDES
    return [ops.Put("v", {"n": step}), ops.Puts(("b1", "b2"), b"\x00packed" * step),
            ops.Incr("c", 1.0), ops.Touch("s", (f"m{step}", "m"), ttl=900.0, cap=3),
            ops.Remove("s", ("m0",)), ops.Replace(f"{HASHED}h", ("x", f"y{step}")),
            ops.Touch(f"{SIDED}r", (f"p{step}",), 600.0, 10, one),
            ops.Touch(f"{SIDED}r", ("p0",), 300.0, 10, two)]


def test_a_commit_binds_only_what_the_sqlite3_module_takes_as_it_is(tmp_path: Path) -> None:
    """None and bytes go through the module's adapters (a registry look-up, two failed
    attribute look-ups and the AttributeError each builds: ~3,300 instructions a value);
    an int, a float, a str or a bytearray are bound as they are. The rows read back as
    the memory backend answers, the file reopened."""
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path, factory=_Binds)
    conn.bound = set()
    state, model = SQLiteState(conn), MemoryState()
    conn.bound.clear()  # what opening the file bound is not a commit's
    for step in range(4):
        for store in (state, model):
            store.write(_writes(step), T0 + step)
        state.commit()
    assert conn.bound <= {int, float, str, bytearray}, conn.bound
    state.close()
    one, two, three = SIDES
    asked: list[Query] = [ops.Get("v"), ops.Get("b1"), ops.Get("b2"), ops.Count("c", 600.0),
                          ops.Members("s"), ops.Distinct("s", 900.0),
                          ops.Contains(f"{HASHED}h", ("x", "y3")),
                          *(q for side in (one, two, three) for q in (
                              ops.Members(f"{SIDED}r", side),
                              ops.Distinct(f"{SIDED}r", 600.0, side)))]
    reopened = SQLiteState(connect(path))
    assert reopened.read(asked, T0 + 5) == model.read(asked, T0 + 5)
    reopened.close()
    raw = connect(path)
    # A member row's header columns are NULL; the header's are its set's, under x'' (m1
    # past the cap of three, m0 removed).
    assert raw.execute("SELECT member, ttl, cap FROM members WHERE key = 's' ORDER BY member"
                       ).fetchall() == [("m", None, None), ("m2", None, None),
                                        ("m3", None, None), (b"", 900.0, 3)]
    # "v" in kv, the put of "b1" and "b2" one row of puts (session 37).
    assert raw.execute("SELECT typeof(value) FROM kv UNION ALL SELECT typeof(value) FROM puts"
                       ).fetchall() == [("blob",)] * 2
    raw.close()


def test_a_sided_rows_names_are_encoded_from_its_last_written_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record's names are encoded whole at its first write, then reused while the
    record keeps its names tuple, and extended by the names a touch appends; the row
    holds ``encode_names`` of its names whatever the path, names dropped included."""
    encoded: list[int] = []
    encode = sided.encode_names

    def counted(names: tuple[str, ...]) -> bytes:
        encoded.append(len(names))
        return encode(names)

    monkeypatch.setattr(sided, "encode_names", counted)
    one, two, _ = SIDES
    key = f"{SIDED}names"
    path = tmp_path / "s.db"
    state = SQLiteState(connect(path))

    def row() -> bytes:
        return state._conn.execute("SELECT names FROM sided_sets WHERE key = ?",
                                   (key,)).fetchone()[0]

    def touch(members: tuple[str, ...], side: str, now: float, cap: int = 10) -> None:
        state.write([ops.Touch(key, members, 600.0, cap, side)], now)
        state.commit()
        record = state._hot.sided_record(key)
        assert record is not None and row() == encode(record.names)

    touch(("a", "b", "c"), one, T0)
    assert encoded == [3]
    touch(("b",), two, T0 + 1)  # no one added: the same tuple, nothing encoded
    assert encoded == [3]
    touch(("d", "é\ud800"), one, T0 + 2)  # two appended: those two alone
    assert encoded == [3, 2]
    touch(("e",), two, T0 + 3)
    assert encoded == [3, 2, 1]
    touch(("g",), one, T0 + 4, cap=1)  # past the side's cap: names leave, encoded whole
    names = state._hot.sided_record(key).names  # type: ignore[union-attr]
    assert len(names) < 7 and encoded[-1] == len(names)
    state.close()


def test_the_writer_looks_at_the_wal_files_size_once_in_stat_every_commits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backstop's stat (~13,000 instructions, building a ``stat_result``) is made at a
    writer's first commit, then once every ``STAT_EVERY``; a commit past the backstop it
    finds still truncates the WAL. Only this writer's checkpointer is counted: the patch is
    the class's, and a checkpointer thread another test's writer left running in this
    process (until the writer is collected) looks too (session 35's one failing run)."""
    looks: list[bool] = []
    restarts: list[str] = []
    mine: list[Checkpointer] = []
    overdue, restart_from = Checkpointer.overdue, Checkpointer.restart_from

    def looked(self: Checkpointer) -> bool:
        if self not in mine:
            return overdue(self)
        looks.append(True)
        return True

    def restarted(self: Checkpointer, writer: sqlite3.Connection, mode: str = "TRUNCATE",
                  wait: bool = True) -> None:
        if self not in mine:
            return restart_from(self, writer, mode, wait)
        restarts.append(mode)

    monkeypatch.setattr(Checkpointer, "overdue", looked)
    monkeypatch.setattr(Checkpointer, "restart_from", restarted)
    conn = open_writer(tmp_path / "x.db", period=None)
    assert conn.checkpointer is not None
    mine.append(conn.checkpointer)
    try:
        conn.execute("CREATE TABLE t (n INTEGER)")
        for n in range(2 * STAT_EVERY + 1):
            conn.execute("INSERT INTO t VALUES (?)", (n,))
            conn.commit()
            if n == 0:
                assert (looks, restarts) == ([True], ["TRUNCATE"])
        assert (len(looks), len(restarts)) == (3, 3)
    finally:
        conn.close()


def test_a_sets_keyspace_is_told_by_its_prefix_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which table a member set's key lives in (hashed, sided or plain: its prefix, two
    ``startswith`` of a tuple) is told once a key, then looked up; the answers and the
    rows are as before."""
    from spimguard.state import sqlite as module

    told: list[str] = []
    for name in ("is_hashed", "is_sided"):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda key, real=real: told.append(key) or real(key))
    state, model = SQLiteState(connect(tmp_path / "s.db")), MemoryState()
    one = SIDES[0]
    for step in range(10):
        writes: list[Write] = [ops.Touch("plain", (f"m{step}",)), ops.Remove("plain", ("m0",)),
                               ops.Touch(f"{HASHED}h", (f"m{step}",)),
                               ops.Touch(f"{SIDED}r", (f"m{step}",), side=one)]
        for store in (state, model):
            store.write(writes, T0 + step)
        asked: list[Query] = [ops.Members("plain"), ops.Distinct("plain", 600.0),
                              ops.Contains(f"{HASHED}h", ("m1", "m9")),
                              ops.Members(f"{SIDED}r", one)]
        assert state.read(asked, T0 + step) == model.read(asked, T0 + step)
        state.commit()
    assert len(told) <= 2 * len(set(told)), told  # each key told once (its two tests)
    state.close()
