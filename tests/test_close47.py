"""An engine closed leaves every commit in ``spimguard.db`` itself (session 47).

The writer's close could leave the last commits in the -wal file: SQLite copies the WAL
into the database only at a whole last close, and the engine's connection still held a
statement, so its close was deferred (a zombie) and copied nothing until the engine
object was freed. SQLite reads such a WAL back at the next open, so nothing was lost to
spimguard; but an operator who stopped the server (its engine lives until the process
ends) and backed up ``spimguard.db`` alone, the file the README names, had none of it."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import T0, config, message
from spimguard.engine import Engine, open_engine

CFG = config(storage={"backend": "sqlite"}, records={"evidence_key": "test-key"})


def _judged(folder: Path, count: int) -> Engine:
    engine = open_engine(CFG, folder)
    engine.process_batch([message(CFG, f"m{i}", "alice", ["bob"], f"see you at {i}",
                                  ts=T0 + i) for i in range(count)])
    return engine


def _rows_in_the_file_alone(folder: Path, into: Path) -> int:
    """The verdict log's rows in a copy of ``spimguard.db`` without its -wal and -shm."""
    into.mkdir()
    shutil.copy(folder / "spimguard.db", into / "spimguard.db")
    conn = sqlite3.connect(into / "spimguard.db")
    try:
        return int(conn.execute("SELECT count(*) FROM verdict_log").fetchone()[0])
    finally:
        conn.close()


def test_the_database_file_alone_holds_every_commit_after_close(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = _judged(data, 20)
    engine.close()  # the engine object lives on, as the server's does until its exit
    wal = data / "spimguard.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert _rows_in_the_file_alone(data, tmp_path / "backup") == 20
    engine.close()  # a second close copies nothing more and fails nothing
    reopened = open_engine(CFG, data)
    try:
        assert reopened.records.committed().message("m19") is not None
    finally:
        reopened.close()


def test_a_reader_holding_an_old_snapshot_delays_the_copy_to_the_next_open(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """What the close cannot copy it says, and the next open still reads every commit."""
    data = tmp_path / "data"
    engine = open_engine(CFG, data)
    engine.process_batch([message(CFG, "m0", "alice", ["bob"], "first", ts=T0)])
    reader = sqlite3.connect(data / "spimguard.db")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM verdict_log").fetchone()  # a snapshot held
        engine.process_batch([message(CFG, "m1", "alice", ["bob"], "second", ts=T0 + 1)])
        with caplog.at_level(logging.WARNING, logger="spimguard.db"):
            engine.close()
        assert "not copied into the database file at close" in caplog.text
    finally:
        reader.close()
    reopened = open_engine(CFG, data)
    try:
        assert reopened.records.committed().message("m1") is not None
    finally:
        reopened.close()
