"""The console's stopped messages from the SQLite verdict log in time order (session 37,
``tail37`` then the lead): the newest ``limit`` stopped rows since ``since``, read by
walking down the rowids only as far as the ``limit``-th of them, as the ``ts`` index's walk
did. The first form of ``tail37`` read every row since ``since`` (the console asks for a
day's) and sorted them to keep the newest 500: its work grew with the log, not the
answer. Counted in SQLite's virtual-machine steps, not time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import T0
from spimguard.records import LogEntry
from spimguard.records.sqlite import SQLiteRecords


def _entry(n: int, ts: float, action: str) -> LogEntry:
    return LogEntry(id=f"m{n}", ts=ts, type="message", account="a", session="s",
                    action=action, score=0.0, signals=(), text_sha256="", text=None,
                    fingerprint="", domains=(), result=b"{}", keep={}, digest="")


def _steps(conn: sqlite3.Connection, ask: object) -> int:
    counted = [0]

    def step() -> int:
        counted[0] += 1
        return 0

    conn.set_progress_handler(step, 100)
    try:
        assert callable(ask)
        ask()
    finally:
        conn.set_progress_handler(None, 0)
    return counted[0]


def test_stopped_reads_as_far_as_its_limit_not_the_whole_range(tmp_path: Path) -> None:
    """4,000 rows a quarter-second apart, every tenth held: the newest ten since the first
    row and since the last thousand's first cost alike (the walk stops at the tenth), and
    both answer what a sort of every row says. Fails on ``tail37``'s first form: since
    the first row it stepped through all 4,000 (~4x the steps of the late ``since``)."""
    conn = sqlite3.connect(tmp_path / "r.db")
    store = SQLiteRecords(conn)
    for n in range(4_000):
        store.save(_entry(n, T0 + n * 0.25, "hold" if n % 10 == 3 else "deliver"))
    store.commit()
    newest = [f"m{n}" for n in range(3_993, 3_893, -10)]
    for since in (T0, T0 + 750.0):
        assert [e.id for e in store.stopped(since, 10)] == newest
    early = _steps(conn, lambda: store.stopped(T0, 10))
    late = _steps(conn, lambda: store.stopped(T0 + 750.0, 10))
    assert early <= late * 1.5 + 5, (early, late)
    # Fewer stopped rows than the limit: every one since ``since``, newest first.
    assert [e.id for e in store.stopped(T0 + 990.0, 500)] == ["m3993", "m3983", "m3973",
                                                               "m3963"]
    assert store.stopped(T0, 0) == []
    conn.close()
