"""Session 34 (issue 18): the cost of a batch of one on the embedded store. A batch is one
transaction under the write lock from its first statement (the verdict log's look for
repeated ids) to its commit, asking once whether another process committed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import T0, config, message
from spimguard import Engine, open_engine
from spimguard.db import connect
from spimguard.state.ops import Get, Put
from spimguard.state.sqlite import SQLiteState


def _open(folder: Path) -> Engine:
    return open_engine(config(storage={"backend": "sqlite", "data_dir": str(folder)}), folder)


def test_a_batch_of_one_message_asks_once_for_other_writers_under_its_lock(
        tmp_path: Path) -> None:
    # Base (4d77fe9): 2 to 3 a batch (its first read, its lock, a deferred read), the
    # verdict log's look and the reads each outside any transaction.
    judge = _open(tmp_path)
    conn: sqlite3.Connection = judge.state._conn  # type: ignore[attr-defined]
    for i in range(3):  # the clock's row, the learners, the first keys: opened
        judge.process(message(judge.config, f"w{i}", f"u{i}", [f"v{i}"], "hi", T0 + i))
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    for i in range(8):
        judge.process(message(judge.config, f"m{i}", f"u{i % 3}", [f"v{i}", "x"],
                              "lunch at noon?", T0 + 60 + 60 * i))
    conn.set_trace_callback(None)
    begins = [n for n, sql in enumerate(statements) if sql.startswith("BEGIN")]
    looks = [n for n, sql in enumerate(statements) if "FROM verdict_log WHERE id IN" in sql]
    commits = [n for n, sql in enumerate(statements) if sql == "COMMIT"]
    assert len(begins) == len(looks) == len(commits) == 8
    assert all(b < look for b, look in zip(begins, looks, strict=True))
    assert sum("data_version" in sql for sql in statements) == 8
    judge.close()


def test_another_process_commits_between_batches_not_within_one(tmp_path: Path) -> None:
    """What another process commits between batches is what the next reads (the held copy
    is let go at its start); while a batch is open, no other writer commits: what it reads
    is what it writes over."""
    path = tmp_path / "s.db"
    mine, other = SQLiteState(connect(path)), SQLiteState(connect(path))
    for value, store in enumerate((mine, other), 1):
        store.write([Put("v", value, 500)], T0 + value)
        store.commit()
        if store is mine:
            assert mine.read([Get("v")], T0 + 1) == [1]  # held from here on
    mine.begin()
    assert mine.read([Get("v")], T0 + 2) == [2]
    waiting = connect(path)
    waiting.execute("PRAGMA busy_timeout=0")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        waiting.execute("BEGIN IMMEDIATE")
    mine.write([Put("v", 3, 500)], T0 + 2)
    mine.commit()
    waiting.execute("BEGIN IMMEDIATE")  # free again once the batch commits
    waiting.rollback()
    assert other.read([Get("v")], T0 + 3) == [3]
    waiting.close()
    other.close()
    mine.close()

