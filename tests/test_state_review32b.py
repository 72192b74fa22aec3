"""Session 32's state changes under an operator's worst day (``review32b``): the held copy
of SQLite bounded under batches of thousands of events, and a file converted to a counter
a row (``counts``) refused loudly by session 31's release rather than read as empty."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from spimguard.db import connect
from spimguard.state import sqlite
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Incr
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0


def test_batches_bringing_more_than_a_commit_lets_go_keep_the_held_copy_bounded(
        tmp_path: Path) -> None:
    """Batches of thousands of events each bring thousands of new keys; letting go only
    ``_LET_GO`` (500) a commit, the held copy grew by the rest every batch, without bound
    (cached 2,000, 3,000 new keys a batch: 50,000 held after 20 batches). After a commit no
    more than ``cached`` keys are held, and every count answers as the memory backend's."""
    cached = 4 * sqlite._LET_GO
    state, memory = SQLiteState(connect(tmp_path / "s.db"), cached=cached), MemoryState()
    fresh = 0
    for batch in range(12):
        now = T0 + batch
        writes = [Incr(f"k{fresh + i}", 1.0, bucket=60.0, ttl=3_600.0)
                  for i in range(3 * cached // 2)]
        fresh += len(writes)
        asked = [Count(w.key, 600.0, 60.0) for w in writes] + [Count("k0", 600.0, 60.0)]
        assert state.read(asked, now) == memory.read(asked, now), batch
        state.write(writes, now)
        memory.write(writes, now)
        state.commit()
        assert len(state._held) <= cached, (batch, len(state._held))
        assert sum(map(len, state._unknown)) <= cached, batch
    asked = [Count(f"k{i}", 3_600.0, 60.0) for i in range(0, fresh, 97)]
    assert state.read(asked, T0 + 20) == memory.read(asked, T0 + 20)
    state.close()


def _old_file(path: Path, rows: str, counts: str = "") -> None:
    """A file of session 31's layout, counters a row a bucket (``counts`` rows too, when
    given: a file converted before the view was kept, then counted in by session 31)."""
    SQLiteState(connect(path)).close()
    old = sqlite3.connect(path)
    old.executescript(f"""
        DROP VIEW IF EXISTS counters;
        CREATE TABLE counters (key TEXT NOT NULL, bucket INTEGER NOT NULL, n REAL NOT NULL,
            exp REAL NOT NULL, PRIMARY KEY (key, bucket)) WITHOUT ROWID;
        INSERT INTO counters VALUES {rows};
        {counts}""")
    old.commit()
    old.close()


# Session 31's release's own statements on its counters (892a476's ``state/sqlite.py``):
# the table it creates at every open, its read and its write.
_OLD_SCHEMA = """CREATE TABLE IF NOT EXISTS counters (
    key TEXT NOT NULL, bucket INTEGER NOT NULL, n REAL NOT NULL, exp REAL NOT NULL,
    PRIMARY KEY (key, bucket)) WITHOUT ROWID;"""
_OLD_READ = "SELECT key, bucket, n, exp FROM counters WHERE key IN (?)"
_OLD_WRITE = "INSERT INTO counters (key, bucket, n, exp) VALUES (?, ?, ?, ?)"


def test_session_31s_release_on_a_converted_file_fails_loudly_not_counting_from_nothing(
        tmp_path: Path) -> None:
    """An old node (session 31's release) on a file of this release: its ``CREATE TABLE IF
    NOT EXISTS counters`` made an empty table, it read every counter as 0 and wrote its
    counts there, and this release's next open replaced the file's counts with them. Now
    its statements fail (its store turns a failed statement into ``StateUnavailable``), and
    the file's counts stay as they were."""
    path = tmp_path / "s.db"
    state = SQLiteState(connect(path))
    state.write([Incr("c", 5.0, bucket=60.0, ttl=3_600.0)], T0)
    state.commit()
    state.close()
    old = sqlite3.connect(path)
    old.executescript(_OLD_SCHEMA)  # its open: nothing made, the name is taken
    with pytest.raises(sqlite3.OperationalError, match="counters of a later release"):
        old.execute(_OLD_READ, ("c",)).fetchall()
    with pytest.raises(sqlite3.OperationalError):
        old.execute(_OLD_WRITE, ("c", int(T0 // 60), 5.0, T0 + 3_600.0))
    old.close()
    again = SQLiteState(connect(path))
    assert again.read([Count("c", 600.0, 60.0)], T0 + 2) == [5.0]
    again.close()


def test_a_counter_in_both_layouts_is_added_at_conversion_not_replaced(
        tmp_path: Path) -> None:
    """A key with a ``counts`` row and ``counters`` rows (a file converted before the view
    was kept, then counted in by session 31's release): the conversion replaced the row
    with the old node's rows (5 for 12 here); both are counts of the key, added, bucket by
    bucket, the greatest expiry kept."""
    path = tmp_path / "s.db"
    state = SQLiteState(connect(path))
    state.write([Incr("c", 7.0, bucket=60.0, ttl=3_600.0),
                 Incr("d", 1.0, bucket=60.0, ttl=600.0)], T0)
    state.commit()
    state.close()
    bucket = int(T0 // 60)
    _old_file(path, f"('c', {bucket}, 4.0, {T0 + 3_700}), ('c', {bucket + 1}, 1.0, "
                    f"{T0 + 3_700}), ('e', {bucket}, 2.0, {T0 + 600})")
    memory = MemoryState()
    memory.write([Incr("c", 11.0, bucket=60.0, ttl=3_600.0), Incr("d", 1.0, bucket=60.0,
                  ttl=600.0), Incr("e", 2.0, bucket=60.0, ttl=600.0)], T0)
    memory.write([Incr("c", 1.0, bucket=60.0, ttl=3_640.0)], (bucket + 1) * 60.0)
    state = SQLiteState(connect(path))
    asked = [Count(key, window, 60.0) for key in "cde" for window in (60.0, 600.0)]
    now = (bucket + 1) * 60.0 + 1
    assert state.read(asked, now) == memory.read(asked, now)
    assert state.read([Count("c", 600.0, 60.0)], now) == [12.0]
    exp = state._conn.execute("SELECT exp FROM counts WHERE key = 'c'").fetchone()[0]
    assert exp == T0 + 3_700
    state.close()


_KILLED = """
import os, signal, sys
from spimguard.db import connect
from spimguard.state.sqlite import SQLiteState
conn = connect(sys.argv[1])
dropping = []
conn.set_trace_callback(lambda s: dropping.append(1) if sys.argv[2] in s else None)
def handler():
    if dropping:
        os.kill(os.getpid(), signal.SIGKILL)
    return 0
conn.set_progress_handler(handler, 1)
SQLiteState(conn)
"""


@pytest.mark.parametrize("at", ["INTO counts VALUES", "DROP TABLE counters"])
def test_a_conversion_killed_midway_leaves_the_old_layout_and_converts_at_the_next_open(
        tmp_path: Path, at: str) -> None:
    """kill -9 while the conversion inserts the rows a key, or drops the old table: the
    transaction never committed, the file is of the old layout whole, and the next open
    converts it (every count as the memory backend's). (A guard: the conversion was one
    transaction already; this passes on d7d7cb2.)"""
    path = tmp_path / "s.db"
    bucket = int(T0 // 60)
    _old_file(path, ", ".join(f"('k{i}', {bucket - i % 3}, {1.0 + i % 5}, {T0 + 3_600})"
                              for i in range(2_000)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run([sys.executable, "-c", _KILLED, str(path), at], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr[-2_000:]
    peek = sqlite3.connect(path)
    assert peek.execute("SELECT COUNT(*) FROM counters").fetchone()[0] == 2_000
    assert peek.execute("SELECT COUNT(*) FROM counts").fetchone()[0] == 0
    peek.close()
    memory = MemoryState()
    for i in range(2_000):
        memory.write([Incr(f"k{i}", 1.0 + i % 5, bucket=60.0,
                           ttl=T0 + 3_600 - (bucket - i % 3) * 60.0)], (bucket - i % 3) * 60.0)
    state = SQLiteState(connect(path))
    asked = [Count(f"k{i}", 600.0, 60.0) for i in range(0, 2_000, 7)]
    assert state.read(asked, T0 + 1) == memory.read(asked, T0 + 1)
    assert state._conn.execute("SELECT COUNT(*) FROM counts").fetchone()[0] == 2_000
    state.close()
