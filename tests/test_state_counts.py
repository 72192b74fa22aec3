"""A counter in SQLite is one row (``counts``: its buckets packed as the memory holds them,
and its expiry), rewritten in place when it changes; files of the earlier layout, a row a
bucket (``counters``), are converted when they open. Either way every count answers as the
memory backend's."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from spimguard.db import connect
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Delete, Incr
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0
_WINDOWS = (60.0, 600.0, 3_600.0, 86_400.0)


def _asked(keys: list[str]) -> list[Count]:
    return [Count(key, window, 60.0) for key in keys for window in _WINDOWS]


def test_a_changed_counter_is_one_row_upserted_and_reads_back_as_memory_across_restarts(
        tmp_path: Path) -> None:
    """Counts in the same bucket, in new ones, past the bucket cap (pruned), after the
    counter expired (it starts afresh) and after a ``Delete``: each commit writes one row
    a changed counter (one upsert, no delete of its rows) and a restarted process reads
    back what the memory backend holds."""
    path = tmp_path / "s.db"
    state, memory = SQLiteState(connect(path)), MemoryState()
    statements: list[str] = []
    state._conn.set_trace_callback(statements.append)
    rng = random.Random(5)
    keys = ["c0", "c1", "c2"]
    now = T0
    for step in range(200):
        # The first 40: one key counted a minute apart, past the bucket cap (pruned).
        now += 61.0 if step < 40 else rng.choice([1.0, 30.0, 61.0, 600.0, 5_000.0])
        key = "c0" if step < 40 else rng.choice(keys)
        write = Delete(key) if step % 41 == 40 else Incr(
            key, rng.choice([1.0, 2.5]), bucket=60.0, ttl=rng.choice([900.0, 3_600.0]))
        state.write([write], now)
        memory.write([write], now)
        statements.clear()
        state.commit()
        rows = state._conn.execute("SELECT COUNT(*) FROM counts WHERE key = ?",
                                   (key,)).fetchone()[0]
        assert rows == (0 if write.__class__ is Delete else 1)
        assert not any("DELETE" in s and "counts" in s for s in statements
                       if write.__class__ is Incr), statements
        if step % 20 == 19:
            state.close()
            state = SQLiteState(connect(path))
            state._conn.set_trace_callback(statements.append)
        assert state.read(_asked(keys), now) == memory.read(_asked(keys), now), step


def test_counters_of_a_row_a_bucket_are_converted_once_when_the_file_opens(
        tmp_path: Path) -> None:
    """A file whose counters are a row a bucket: each key becomes one row of its buckets
    and greatest expiry, the old table and its lap row go, the counts answer as before
    (and the expired key is swept as before), and a second open finds nothing to do."""
    path = tmp_path / "old.db"
    SQLiteState(connect(path)).close()  # today's tables ...
    old = sqlite3.connect(path)
    bucket = int(T0 // 60)
    old.executescript(f"""
        DROP TABLE counts;
        DROP VIEW counters;
        CREATE TABLE counters (key TEXT NOT NULL, bucket INTEGER NOT NULL, n REAL NOT NULL,
            exp REAL NOT NULL, PRIMARY KEY (key, bucket)) WITHOUT ROWID;
        INSERT INTO counters VALUES ('c', {bucket - 3}, 2.0, {T0 + 3_600}),
            ('c', {bucket - 1}, 1.5, {T0 + 3_600}), ('c', {bucket}, 4.0, {T0 + 3_600}),
            ('d', {bucket - 100}, 7.0, {T0 - 1}), ('e', {bucket - 2}, 1.0, {T0 + 600}),
            ('e', {bucket}, 3.0, {T0 + 900});
        INSERT INTO sweep_lap VALUES ('counters', 3, 'c', 0);
    """)  # ... with the earlier counters (``e``'s rows with two expiries: the greatest kept)
    old.commit()
    old.close()
    memory = MemoryState()
    for key, at, amount, expiry in (
            ("c", bucket - 3, 2.0, T0 + 3_600), ("c", bucket - 1, 1.5, T0 + 3_600),
            ("c", bucket, 4.0, T0 + 3_600), ("e", bucket - 2, 1.0, T0 + 600),
            ("e", bucket, 3.0, T0 + 900)):
        memory.write([Incr(key, amount, bucket=60.0, ttl=expiry - at * 60.0)], at * 60.0)
    state = SQLiteState(connect(path))
    run = state._conn.execute
    tables = {name for name, in run("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "counters" not in tables and "counts" in tables
    assert run("SELECT key FROM counts ORDER BY key").fetchall() == [("c",), ("d",), ("e",)]
    assert run("SELECT tbl FROM sweep_lap WHERE tbl = 'counters'").fetchall() == []
    asked = _asked(["c", "d", "e"])
    assert state.read(asked, T0 + 5) == memory.read(asked, T0 + 5)
    assert state.read([Count("c", 600, 60), Count("e", 600, 60)], T0 + 5) == [7.5, 4.0]
    assert state.sweep(T0 + 5) == 1  # ``d``, expired
    state.close()
    again = SQLiteState(connect(path))
    assert again.read(asked, T0 + 700) == memory.read(asked, T0 + 700)
    assert again._conn.execute("SELECT COUNT(*) FROM counts").fetchone()[0] == 2
