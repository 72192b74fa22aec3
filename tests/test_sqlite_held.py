"""What SQLite's held copy knows of a key is per table (a counter, a member set, a value
and a hashed set may share a name): holding one kind must not pass for holding another."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from spimguard.db import connect
from spimguard.state import ops
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Delete, Distinct, Get, Incr, Members, Put, Touch
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0


def test_a_name_of_several_kinds_answers_as_memory_through_evictions(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    first = SQLiteState(connect(path))
    first.write([Incr("k0", 2.0), Touch("k0", ("a", "b"), ttl=900), Put("k0", "v")], T0)
    first.commit()
    first.close()
    # A fresh copy holds k0's counter alone; its set and value are read from the file.
    state = SQLiteState(connect(path), cached=4)
    memory = MemoryState()
    memory.write([Incr("k0", 2.0), Touch("k0", ("a", "b"), ttl=900), Put("k0", "v")], T0)
    assert state.read([Count("k0", 600)], T0) == [2.0]
    queries = [Count("k0", 600), Distinct("k0", 600), Members("k0"), Get("k0")]
    assert state.read(queries, T0) == memory.read(queries, T0) == [2.0, 2, ("a", "b"), "v"]

    rng = random.Random(3)
    names = [f"k{i}" for i in range(10)]  # past ``cached``: the oldest half let go on commit
    for step in range(300):
        now = T0 + step * 11
        key = rng.choice(names)
        writes = [rng.choice([Incr(key, 1.0, ttl=3000), Touch(key, (rng.choice("abc"),), ttl=900),
                              Put(key, step, ttl=500), Delete(key)])]
        for store in (memory, state):
            store.write(writes, now)
        asked = rng.sample(names, 3)
        queries = [rng.choice([Count(k, 600), Distinct(k, 600), Members(k), Get(k)]) for k in asked]
        assert state.read(queries, now) == memory.read(queries, now), step
        if step % 4 == 0:
            state.commit()
    state.close()


def test_a_list_held_ahead_is_looked_up_again_once_the_held_copy_is_let_go(
        tmp_path: Path) -> None:
    """A read of a query list held ahead (``hold``: the engine's planned reads) skips the
    look-up of its keys only while the held copy it loaded stands: once another process
    commits to the file, the copy is let go and the same list loads its keys afresh."""
    path = tmp_path / "s.db"
    mine, memory = SQLiteState(connect(path)), MemoryState()
    for state in (mine, memory):
        state.write([Put("v", 1, 500), Incr("c", 1.0, bucket=60, ttl=600)], T0)
    mine.commit()
    reads = [[Get("v")], [Count("c", 600, 60)]]
    mine.hold(reads)
    assert [mine.read(r, T0 + 1) for r in reads] == [[1], [1.0]]
    other = SQLiteState(connect(path))
    for state in (other, memory):
        state.write([Put("v", 2, 500), Incr("c", 1.0, bucket=60, ttl=600)], T0 + 2)
    other.commit()
    assert [mine.read(r, T0 + 3) for r in reads] == [memory.read(r, T0 + 3) for r in reads] \
        == [[2], [2.0]]


def test_a_large_value_rewritten_in_place_writes_its_pages_alone(tmp_path: Path) -> None:
    """A put of a key that is there updates its row where it is (an upsert): ``INSERT OR
    REPLACE`` deleted it and inserted it anew, which for a value past a leaf's room (a large
    cluster's band) freed its overflow page and took another, a third WAL frame (the free
    list's) a commit. The answer is the new value either way."""
    path = tmp_path / "s.db"
    conn = connect(path)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    state = SQLiteState(conn)
    wal = Path(f"{path}-wal")
    for step, value in enumerate(("a" * 3000, "b" * 3000)):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        state.write([Put("big", value, 500)], T0 + step)
        state.commit()
        frames = (wal.stat().st_size - 32) // (int(conn.execute("PRAGMA page_size").fetchone()[0])
                                               + 24)
    assert frames == 2  # the leaf and the overflow page
    assert state.read([Get("big")], T0 + 2) == ["b" * 3000]
    state.close()


def test_a_batch_asks_once_for_other_writers_before_its_reads_and_once_at_its_lock(
        tmp_path: Path) -> None:
    """``PRAGMA data_version`` (has another process committed?) is asked at a batch's first
    read and when it takes the write lock (later reads are in its transaction), not at its
    hold as well; a commit made before the hold, of a key held then, is still what the
    batch reads."""
    path = tmp_path / "s.db"
    conn = connect(path)
    mine = SQLiteState(conn)
    mine.write([Put("v", 1, 500)], T0)
    mine.commit()
    assert mine.read([Get("v")], T0) == [1]
    other = SQLiteState(connect(path))
    other.write([Put("v", 2, 500)], T0 + 1)
    other.commit()
    asked: list[str] = []
    conn.set_trace_callback(lambda sql: asked.append(sql) if "data_version" in sql else None)
    reads = [[Get("v")], [Get("v"), Get("x")]]
    mine.hold(reads)
    for step, (r, answer) in enumerate(zip(reads, ([2], [2, None]), strict=True)):  # two events
        assert mine.read(r, T0 + 2) == answer
        mine.write([Put("w", step, 500)], T0 + 2)
    mine.commit()
    assert len(asked) == 2
    other.close()
    mine.close()


def test_an_adding_write_is_held_by_its_own_note_in_one_pass_over_the_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write call's adding writes (Incr, Touch, Remove, Append) have their keys held by
    their notes as each is noted, not by a pass of the call's own over its writes before
    (``_hold``, never called by a write now); a key not held is loaded then, one statement
    per table, and the write adds to what the file has."""
    path = tmp_path / "s.db"
    first = SQLiteState(connect(path))
    first.write([Incr("c", 2.0, ttl=3000), Touch("s", ("a",), ttl=900)], T0)
    first.commit()
    first.close()
    state, memory = SQLiteState(connect(path)), MemoryState()
    memory.write([Incr("c", 2.0, ttl=3000), Touch("s", ("a",), ttl=900)], T0)
    passes: list[int] = []
    held = SQLiteState._hold
    monkeypatch.setattr(SQLiteState, "_hold",
                        lambda self, ops: passes.append(1) or held(self, ops))
    statements: list[str] = []
    state._conn.set_trace_callback(statements.append)
    writes = [Incr("c", 1.0, ttl=3000), Touch("s", ("b",), ttl=900), Touch("t", ("x",), ttl=9)]
    for store in (state, memory):
        store.write(writes, T0 + 1)
    # c's counter and the two sets loaded as their notes came to them (none was held)
    assert sum("SELECT" in s for s in statements) == 3
    statements.clear()
    for store in (state, memory):
        store.write(writes, T0 + 2)  # held now: nothing loaded
    assert not any("SELECT" in s for s in statements)
    assert passes == []
    queries = [Count("c", 600), Members("s"), Members("t")]
    assert state.read(queries, T0 + 3) == memory.read(queries, T0 + 3) == [
        4.0, ("a", "b"), ("x",)]
    state.commit()
    state.close()


def test_the_keys_a_sweep_part_changed_stay_held_and_the_known_queries_stay_known(
        tmp_path: Path) -> None:
    """The keys a part of the sweep changed in the file stay held, as the file has them
    then (the part's own changes: ``_agree``; loaded again from sessions 31 to 38), so the
    queries known before (``_known``) are answered from held keys after it with no
    statement; they were all forgotten at every part, and the next batch looked each of
    its queries up again."""
    path = tmp_path / "s.db"
    conn = connect(path)
    state, memory = SQLiteState(conn), MemoryState()
    for store in (state, memory):
        store.write([Touch("s", ("a",), ttl=100), Put("v", 1, 50), Incr("c", 1.0, ttl=1000)],
                    T0)
        store.write([Touch("s", ("b",), ttl=100)], T0 + 60)
    state.commit()
    queries = [Members("s"), Get("v"), Count("c", 600)]
    now = T0 + 120  # a is past the set's TTL, v past its own: the sweep drops both rows
    assert state.read(queries, now) == memory.read(queries, now) == [("b",), None, 1.0]
    dropped = sum(state.sweep_part(now, 0) for _ in range(ops.SWEEP_PARTS))
    state.commit()
    assert dropped == 2
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    assert state.read(queries, now + 1) == memory.read(queries, now + 1) == [("b",), None, 1.0]
    assert not any("SELECT" in s for s in statements)
    assert conn.execute("SELECT COUNT(*) FROM members WHERE key = 's'").fetchone()[0] == 2
    state.close()


def test_past_the_bound_the_held_copy_is_let_go_a_few_keys_a_commit(tmp_path: Path) -> None:
    """Past ``cached`` held keys, the oldest half goes ``_LET_GO`` keys a commit, not all
    in one (one batch paid ~110 ms to let 50,000 keys go, and ~25 ms to free 100,000 known
    queries: session 32), and a key let go is read from the file as it was written."""
    from spimguard.state import sqlite

    cached = 4 * sqlite._LET_GO
    state = SQLiteState(connect(tmp_path / "s.db"), cached=cached)
    keys = [f"k{i}" for i in range(cached + 10)]
    state.write([Put(key, n) for n, key in enumerate(keys)], T0)
    assert state.read([Get(key) for key in keys], T0) == list(range(len(keys)))
    held = [len(state._held)]
    for step in range(12):
        state.commit()
        held.append(len(state._held))
        # Each commit lets go of a few: never more than ``_LET_GO`` keys, nor queries freed.
        assert held[-2] - held[-1] <= sqlite._LET_GO, held
        assert sum(map(len, state._unknown)) <= cached, step
    assert held[-1] <= cached // 2 < held[1], held
    assert state.read([Get(key) for key in keys], T0) == list(range(len(keys)))
    state.close()
