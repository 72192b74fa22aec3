"""WAL checkpoints off the commit path (``db.open_writer``): commits leave the copying
to the checkpointer's thread, the writer's own bound keeps the WAL from growing
without limit, and a failing checkpoint is heard of."""

from __future__ import annotations

import gc
import logging
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from spimguard.db import BACKSTOP, Checkpointer, Writer, open_writer

_ROW = 10_000  # bytes a commit writes: a row over three pages (frames in the WAL)


def _frames(db: Path) -> int:
    """Pages the WAL file has room for (it is reused from its start, never shrunk)."""
    wal = db.with_name(db.name + "-wal")
    return max(0, wal.stat().st_size - 32) // (4096 + 24) if wal.exists() else 0


def _stream(conn: Writer, commits: int, after: Callable[[], None] = lambda: None) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, body BLOB)")
    conn.commit()
    for _ in range(commits):
        conn.execute("INSERT INTO t (body) VALUES (randomblob(?))", (_ROW,))
        conn.commit()
        after()


def _in_file(db: Path, copy: Path) -> int:
    """Rows the database file holds without its WAL (what checkpoints copied); -1 when
    the copy caught a checkpoint halfway through writing the file."""
    shutil.copyfile(db, copy)
    copy.with_name(copy.name + "-wal").unlink(missing_ok=True)
    alone = sqlite3.connect(copy)
    try:
        found = alone.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchone()
        return alone.execute("SELECT COUNT(*) FROM t").fetchone()[0] if found else 0
    except sqlite3.DatabaseError:
        return -1
    finally:
        alone.close()


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for the checkpointer's thread to get somewhere (not a measure of speed: the
    deadline is only there so that a thread that never gets there fails the test)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_commits_leave_the_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    """Nothing but the checkpointer copies the WAL into the file: a commit pays for no
    checkpoint (SQLite's own would, at 1,000 pages)."""
    db = tmp_path / "x.db"
    conn = open_writer(db, period=None)
    assert conn.checkpointer is not None
    try:
        _stream(conn, 600)  # ~2,000 pages
        assert _frames(db) > 1_500
        assert _in_file(db, tmp_path / "copy.db") == 0
        conn.checkpointer.checkpoint()
        assert _in_file(db, tmp_path / "copy.db") == 600
    finally:
        conn.close()


def _held(db: Path) -> tuple[Writer, Checkpointer, sqlite3.Connection]:
    """A writer bound to 100 pages, checkpointed only when called, and a reader holding
    the snapshot of its first five commits, as a long export does."""
    conn = open_writer(db, wal_bound=100, period=None)
    assert conn.checkpointer is not None
    _stream(conn, 5)
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM t").fetchone()
    return conn, conn.checkpointer, reader


class _Racing:
    """The checkpointer's connection, with a commit landing during each PASSIVE
    checkpoint, as under a steady stream: that commit is after what the checkpoint set
    out to copy (here, a reader's snapshot taken just before it), so the WAL is never
    all copied when a transaction starts, and SQLite never rewinds it by itself."""

    def __init__(self, conn: sqlite3.Connection, writer: Writer, db: Path) -> None:
        self.conn, self.writer, self.db = conn, writer, db

    def execute(self, sql: str) -> sqlite3.Cursor:
        if "PASSIVE" not in sql:
            return self.conn.execute(sql)
        reader = sqlite3.connect(self.db, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM t").fetchone()
            _stream(self.writer, 1)
            return self.conn.execute(sql)
        finally:
            reader.close()

    def close(self) -> None:
        self.conn.close()


@pytest.mark.parametrize("bound", [100, 10**9])
def test_the_wal_stays_bounded_under_a_long_stream(tmp_path: Path, bound: int) -> None:
    """Over a stream thirty times the bound, checkpointed every ten commits, the WAL
    never holds much more than the bound (without one, it holds the whole stream)."""
    db = tmp_path / "x.db"
    conn = open_writer(db, wal_bound=bound, period=None)
    checkpointer = conn.checkpointer
    assert checkpointer is not None
    checkpointer._conn = _Racing(checkpointer._conn, conn, db)  # type: ignore[assignment]
    largest = 0
    try:
        for _ in range(100):
            _stream(conn, 10)
            largest = max(largest, _frames(db))
            checkpointer.checkpoint()
    finally:
        conn.close()
    if bound == 100:
        assert largest <= bound + 60  # what ten commits and the one racing wrote
    else:
        assert largest > 3_000


def test_the_thread_copies_the_wal(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    conn = open_writer(db, wal_bound=300, period=0.005)
    try:
        _stream(conn, 1_000)
        _until(lambda: _in_file(db, tmp_path / "copy.db") == 1_000,
               "the thread never copied the last commits into the file")
    finally:
        conn.close()
    assert not db.with_name(db.name + "-wal").exists()  # the last to close cleaned up


def test_the_thread_ends_with_a_writer_dropped_unclosed(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "x.db", period=0.005)
    checkpointer = conn.checkpointer
    assert checkpointer is not None and checkpointer._thread is not None
    thread = checkpointer._thread
    del conn, checkpointer
    gc.collect()
    _until(lambda: not thread.is_alive(), "the thread outlived its writer")


def test_a_failing_checkpoint_is_logged_and_tried_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Failing:
        def execute(self, sql: str) -> sqlite3.Cursor:
            raise sqlite3.OperationalError("disk I/O error")

        def close(self) -> None:
            pass

    db = tmp_path / "x.db"
    conn = open_writer(db, period=0.005)
    checkpointer = conn.checkpointer
    assert checkpointer is not None
    working = checkpointer._conn
    try:
        with caplog.at_level(logging.WARNING, logger="spimguard.db"):
            checkpointer._conn = Failing()  # type: ignore[assignment]
            _until(lambda: "disk I/O error" in (checkpointer.failure or ""), "no failure seen")
            _stream(conn, 50)  # commits go on: the WAL holds them
            checkpointer._conn = working
            _until(lambda: checkpointer.failure is None, "never recovered")
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "disk I/O error" in errors[0].getMessage()  # once a streak
        assert any("work again" in r.getMessage() for r in caplog.records)
        _until(lambda: _in_file(db, tmp_path / "copy.db") == 50, "nothing copied after")
    finally:
        checkpointer._conn = working
        conn.close()


def test_a_reader_that_keeps_the_wal_from_restarting_is_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A reader of an old snapshot (a long export) keeps the WAL from being copied past
    it and from restarting: the WAL grows past the bound, which is logged, and restarts
    once the reader is done."""
    conn, checkpointer, reader = _held(tmp_path / "x.db")
    try:
        with caplog.at_level(logging.WARNING, logger="spimguard.db"):
            _stream(conn, 30)  # ~120 pages: past the bound, not yet twice it
            checkpointer.checkpoint()
            assert checkpointer.failure is None  # busy once is the next period's
            _stream(conn, 30)
            assert checkpointer.checkpoint() >= 200
            assert "older snapshot" in (checkpointer.failure or "")
            checkpointer.checkpoint()  # still held: not logged again
            reader.execute("COMMIT")
            checkpointer.checkpoint()
            assert checkpointer.failure is None
        _stream(conn, 1)
        assert checkpointer.checkpoint() < 10  # the WAL started over
        assert [r.levelno for r in caplog.records] == [logging.ERROR, logging.WARNING]
    finally:
        reader.close()
        conn.close()



def test_the_writer_restarts_the_wal_after_the_commit_that_finds_it_due(
        tmp_path: Path) -> None:
    """Past the bound the thread only marks the restart due; the writer's next commit
    does it (on the thread, the writer's next transaction waited in SQLite's busy
    handler, which woke it up to 15 ms after the restart was over)."""
    conn, checkpointer, reader = _held(tmp_path / "x.db")
    try:
        _stream(conn, 40)  # ~120 pages, held back from the copy by the reader's snapshot
        assert checkpointer.checkpoint() > 100 and checkpointer.due
        reader.execute("COMMIT")
        _stream(conn, 1)  # not all copied: only a restart lets the WAL start over
        assert not checkpointer.due
        _stream(conn, 1)
        assert checkpointer.checkpoint() < 10
    finally:
        reader.close()
        conn.close()


def test_a_commit_with_nothing_written_leaves_the_restart_to_one_that_writes(
        tmp_path: Path) -> None:
    """The engine commits its records after its state on the same connection: that second
    commit, with no transaction open, neither restarts the WAL nor looks at it."""
    conn = open_writer(tmp_path / "x.db", wal_bound=100, period=None)
    checkpointer = conn.checkpointer
    assert checkpointer is not None
    try:
        _stream(conn, 5)
        checkpointer.due = True
        conn.commit()
        assert checkpointer.due
        _stream(conn, 1)
        assert not checkpointer.due
    finally:
        conn.close()


def test_a_commit_leaves_the_restart_while_the_thread_checkpoints(tmp_path: Path) -> None:
    """A commit never waits for the thread's checkpoint in progress: the restart is left
    to a later commit."""
    conn = open_writer(tmp_path / "x.db", wal_bound=100, period=None)
    checkpointer = conn.checkpointer
    assert checkpointer is not None
    held, release = threading.Event(), threading.Event()

    def checkpointing() -> None:
        with checkpointer.turn:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=checkpointing)
    try:
        _stream(conn, 5)
        checkpointer.due = True
        thread.start()
        held.wait(10)
        _stream(conn, 1)
        assert checkpointer.due  # left, not waited for
        release.set()
        thread.join()
        _stream(conn, 1)
        assert not checkpointer.due
    finally:
        release.set()
        conn.close()


def test_a_writer_that_never_pauses_still_keeps_the_wal_bounded(tmp_path: Path) -> None:
    """Batches back to back hold the write lock but for gaps shorter than the thread's
    turn, so its RESTART misses each time; the writer restarts the WAL itself past the
    backstop (an attack review's flood: without it the WAL held the whole stream). The
    bound allows the backstop and what comes while the thread finishes its turn."""
    db = tmp_path / "x.db"
    bound = 300
    conn = open_writer(db, wal_bound=bound, period=0.05)
    peak = 0

    def measure() -> None:
        nonlocal peak
        peak = max(peak, _frames(db))

    try:
        _stream(conn, 3_000, measure)  # ~9,000 pages, no pause between commits
    finally:
        conn.close()
    assert peak <= 2 * BACKSTOP * bound


def test_a_database_put_straight_in_a_shared_sticky_folder_leaves_the_folder_open(
        tmp_path: Path) -> None:
    """Its own data folder is closed to others (0700); a shared sticky folder such as
    /tmp is not (closing it broke the machine's other users), the files stay 0600."""
    shared, own = tmp_path / "shared", tmp_path / "own"
    shared.mkdir()
    shared.chmod(0o1777)
    own.mkdir(mode=0o755)
    for folder in (shared, own):
        open_writer(folder / "x.db", period=None).close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE(own.stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "x.db").stat().st_mode) == 0o600
