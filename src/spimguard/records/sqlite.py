"""Records in the embedded SQLite file (shared with state: one commit per request).

Rows saved during a batch wait in memory and go in at the commit, one
``executemany`` per table; any read of the engine's first writes what waits, so it
sees every earlier save (a report about a message of the same batch finds it).

The console, the API and the CLI read through ``committed()``: a read-only connection
of its own (WAL: a snapshot of what was committed when each statement began), so they
never show a batch's rows before its commit (a batch that rolls back logged nothing)
and never hold the engine's saves and commits back while they read (session 46).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..errors import RecordsUnavailable
from . import CampaignMessage, LogEntry, RecordReads, ReportEntry, sql

# The verdict log's rowid (``at``) is its row's whole second of ``ts`` shifted 31 bits plus
# its place among that second's rows (migration 0004, session 37): the table is in time
# order, and the reads by time are ranges of rowids, each bounded exactly by ``ts`` itself,
# where an index on ``ts`` was one more b-tree every commit wrote a page of. ``_SECOND``
# is the first rowid of the second of the ``ts`` given as ``?{n}``.
_SECOND = "(CAST(?{n} AS INTEGER) << 31)"
_NEXT_SECOND = "((CAST(?{n} AS INTEGER) + 1) << 31)"


def _log_insert(null: str = "") -> str:
    """The verdict log's insert: its rowid the next of its second's (under the write lock
    every commit takes, so no other writer takes it meanwhile; 2**31 rows a second before
    the constraint refuses one), its column ``null`` (if any) written NULL by the statement
    itself rather than bound (``sql.textless_row``). Numbered places: ``ts`` is asked thrice."""
    columns = sql.COLUMNS.split(", ")
    bound = [column for column in columns if column != null]
    ts = bound.index("ts") + 1
    first, after = _SECOND.format(n=ts), _NEXT_SECOND.format(n=ts)
    at = (f"(SELECT COALESCE(MAX(at) + 1, {first}) FROM verdict_log WHERE at >= {first} "
          f"AND at < {after})")
    places = ", ".join("NULL" if column == null else f"?{bound.index(column) + 1}"
                       for column in columns)
    return (f"INSERT INTO verdict_log (at, {sql.COLUMNS}) VALUES ({at}, {places}) "
            "ON CONFLICT DO NOTHING")


_INSERT_LOG = _log_insert()
_INSERT_TEXTLESS_LOG = _log_insert("text")
# The latest time: the greatest ``ts`` among the last second's rows.
_LATEST = ("SELECT MAX(ts) FROM verdict_log WHERE at >= "
           "(SELECT MAX(at) FROM verdict_log) >> 31 << 31")
# ``sql.STOPPED``, ``sql.STOPPED_ACCOUNTS`` and ``sql.HOURLY`` over the rowids from the
# second of ``since`` on, and ``sql.PURGE``'s first over those before the second after
# ``before``.
_SINCE = f"at >= {_SECOND.format(n=1)} AND ts >= ?1"
# ``sql.STOPPED`` walks down the rowids from the newest only as far as the second of the
# ``limit``-th newest stopped row (the inner select; the second of ``since`` when fewer),
# as the ``ts`` index's walk stopped at its ``limit``-th: ordered by ``ts`` within those
# seconds, it reads no more rows than the index did, where a range from ``since`` read
# every row of the console's day to keep its newest 500.
_STOPPED_ROWS = "ts >= ?1 AND type = 'message' AND action IN ('hold', 'block')"
_STOPPED = (f"SELECT {sql.COLUMNS} FROM verdict_log WHERE at >= MAX({_SECOND.format(n=1)}, "
            f"COALESCE((SELECT at FROM verdict_log WHERE {_SINCE} AND {_STOPPED_ROWS} "
            "ORDER BY at DESC LIMIT 1 OFFSET ?2 - 1) >> 31 << 31, 0)) AND "
            f"{_STOPPED_ROWS} ORDER BY ts DESC, id DESC LIMIT ?2")
# ``NOT INDEXED``: its ``GROUP BY account`` drew the planner to walk ``verdict_log_session``
# in account order, a read of every row the log keeps (its retention, not the week; 15
# times the range's time on a 30-day log of a million rows, session 47) to spare a sort
# of the week's few stopped rows.
_STOPPED_ACCOUNTS = (f"SELECT account FROM verdict_log NOT INDEXED WHERE {_SINCE} AND "
                     "type = 'message' AND action IN ('hold', 'block') GROUP BY account "
                     "ORDER BY MAX(ts) DESC, account LIMIT ?2")
_HOURLY = ("SELECT {hour} * 3600 AS hour, action, COUNT(*) FROM verdict_log WHERE "
           + _SINCE + " AND type = 'message' GROUP BY hour, action ORDER BY hour, action")
_PURGE = (f"DELETE FROM verdict_log WHERE at < {_NEXT_SECOND.format(n=1)} AND ts < ?1",
          *sql.PURGE[1:])


def upgrade(conn: sqlite3.Connection) -> list[str]:
    """Apply the SQLite migrations not yet applied, each in its own transaction; refuse a
    file a later release migrated further than this one knows. Why at the open: a release
    before 37 opened 37's file, answered, and was refused only at its first commit (the
    verdict log's constraint), its detectors failing on records of a later layout meanwhile;
    a file of a release after this one is refused before anything reads it."""
    conn.execute(sql.SCHEMA_TABLE)
    done = conn.execute("SELECT COALESCE(MAX(version), 0) FROM spimguard_schema").fetchone()[0]
    known = sql.migrations("sqlite")
    if done > known[-1][0]:
        raise RecordsUnavailable(
            f"the file's schema is at version {done}, of a later release: this one knows "
            f"up to {known[-1][0]} and would misread it (no downgrade)")
    applied = []
    for version, name, script in known:
        if version > done:
            conn.executescript(f"BEGIN; {script}; INSERT INTO spimguard_schema VALUES "
                               f"({version}, '{name}'); COMMIT;")
            applied.append(name)
    return applied


def _read_only(conn: sqlite3.Connection) -> sqlite3.Connection | None:
    """A read-only connection to ``conn``'s file, None when it has none (``:memory:``, a
    temporary database): no other connection can open that one; None too for a file out
    of WAL mode (an embedding's connection; ``db.connect``'s are all in it): there a read
    in progress holds a lock that fails the engine's commit ("database is locked") once
    its busy timeout runs out, where a read on ``conn`` itself only made it wait (review,
    session 46)."""
    path = next(row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main")
    if not path or conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return None
    try:
        reader = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True,
                                 check_same_thread=False)
        # As the writer's (``db.connect``): a sort too big for the cache (a campaign's
        # messages, texts and all, ``ORDER BY ts``) stays in memory. Left to the default,
        # it spilled into a file in /var/tmp, outside the private data folder, and failed
        # where that is read-only (a container's root; review, session 46).
        reader.execute("PRAGMA temp_store=MEMORY")
        return reader
    except sqlite3.Error as exc:
        raise RecordsUnavailable(f"cannot open the records' reader: {exc}") from exc


class SQLiteReads(sql.SQLReads):
    """The reads, over SQLite's rowid order, on a connection used by one thread at a time."""

    _CHUNK = 900  # SQLite's bound on ? per statement is 999 on old builds
    _HOUR = "CAST(ts / 3600 AS INTEGER)"
    _STOPPED = _STOPPED
    _STOPPED_ACCOUNTS = _STOPPED_ACCOUNTS
    _HOURLY = _HOURLY

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock | threading.RLock) -> None:
        self._conn = conn
        self._lock = lock

    def _query(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(statement, params).fetchall()
            except sqlite3.Error as exc:
                raise RecordsUnavailable(f"record read failed: {exc}") from exc

    def close(self) -> None:
        """Once the statement in hand is over, cut short (its read fails: RecordsUnavailable):
        closed under another thread's statement, the connection's memory was freed while
        that thread still read through it, and the process died of a segmentation fault
        (an engine closed while a console or API read ran; review, session 46)."""
        with contextlib.suppress(sqlite3.ProgrammingError):  # closed before: none in hand
            self._conn.interrupt()
        with self._lock:
            self._conn.close()


class SQLiteRecords(SQLiteReads):
    def __init__(self, conn: sqlite3.Connection) -> None:
        # The engine's thread saves rows into ``_waiting`` while another thread may read
        # on this connection (an embedding's, or a file without another: ``committed``),
        # and a read writes what waits first: unguarded, a read's flush could take the
        # run list a save had just found and write it before the save appended to it,
        # and that row was never written (found by sqlite45, session 45). The lock makes
        # a save, a flush and a read's flush-then-query each whole.
        super().__init__(conn, threading.RLock())
        # Table -> its (statement, rows) runs in the order saved: a repeated id keeps the
        # first entry only if that goes in first, and the log's entries with a text and
        # without are two statements. A run a table and batch, but where kept texts
        # interleave (rare): an executemany a run.
        self._waiting: dict[str, list[tuple[str, list[tuple[Any, ...]]]]] = {}
        try:
            upgrade(conn)
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"cannot create the record tables: {exc}") from exc
        # Opened after the migrations, so it never reads the file's older layout; its
        # own lock, as a connection is one thread's at a time: readers wait for each
        # other, never for the engine.
        reader = _read_only(conn)
        self._committed: SQLiteReads | None = (
            SQLiteReads(reader, threading.Lock()) if reader is not None else None)

    def committed(self) -> RecordReads:
        """The read-only connection's reads; for a file-less database, or one out of WAL
        mode (``_read_only``), the store's own, which show the batch's saves and wait for
        its lock as before session 46."""
        return self._committed or self

    def _query(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            self.flush()
            return super()._query(statement, params)

    def _write(self, table: str, statement: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            runs = self._waiting.setdefault(table, [])
            if runs and runs[-1][0] == statement:
                runs[-1][1].append(params)
            else:
                runs.append((statement, [params]))

    def flush(self) -> None:
        """Write the rows that wait, uncommitted (``SQLiteState`` calls it before the
        commit they share: counters and verdicts go in one transaction)."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
            try:
                for runs in waiting.values():
                    for statement, rows in runs:
                        self._conn.executemany(statement, rows)
            except sqlite3.Error as exc:
                raise RecordsUnavailable(f"record write failed: {exc}") from exc

    def latest(self) -> float | None:
        """The latest time in the verdict log (the rows of its last rowid's second: a step
        down one edge of the tree, then that second's rows), None for an empty log: with the
        engine's clock's row, the clock after a restart (``Engine._opened_clock``)."""
        return self._query(_LATEST, ())[0][0]

    def commits_with(self, conn: sqlite3.Connection) -> bool:
        """Whether this log's rows commit in the transactions of ``conn`` (the embedded
        state's, as ``backends.open_stores`` makes them): then what a commit logs is
        durable exactly when the state's writes are."""
        return conn is self._conn

    def save(self, entry: LogEntry) -> None:
        if entry.text is None:
            self._write("log", _INSERT_TEXTLESS_LOG, sql.textless_row(entry))
        else:
            self._write("log", _INSERT_LOG, sql.log_row(entry))

    def save_report(self, report: ReportEntry) -> None:
        self._write("reports", sql.INSERT_REPORT, sql.report_row(report))

    def save_campaign_message(self, message: CampaignMessage) -> None:
        self._write("campaigns", sql.INSERT_CAMPAIGN, sql.campaign_row(message))

    def purge(self, before: float) -> int:
        with self._lock:
            self.flush()
            try:
                dropped = sum(self._conn.execute(s, (before,)).rowcount for s in _PURGE)
                self._conn.commit()
            except sqlite3.Error as exc:
                raise RecordsUnavailable(f"record purge failed: {exc}") from exc
            return dropped

    def commit(self) -> None:
        with self._lock:
            self.flush()
            try:
                self._conn.commit()
            except sqlite3.Error as exc:
                raise RecordsUnavailable(f"record commit failed: {exc}") from exc

    def rollback(self) -> None:
        with self._lock:
            self._waiting = {}
            try:
                self._conn.rollback()
            except sqlite3.Error as exc:
                raise RecordsUnavailable(f"record rollback failed: {exc}") from exc

    def ping(self) -> None:
        """A write the disk must take: a full disk or a read-only file fails here."""
        with self._lock:
            self.flush()
            try:
                self._conn.execute("CREATE TABLE IF NOT EXISTS health (at REAL)")
                self._conn.execute("DELETE FROM health")
                self._conn.execute("INSERT INTO health VALUES (julianday('now'))")
                self._conn.commit()
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.rollback()
                raise RecordsUnavailable(f"the database takes no writes: {exc}") from exc

    def close(self) -> None:
        """The reader with the store: a reader left open would keep a handle on the file
        (and its WAL) past the engine's close."""
        if self._committed is not None:
            self._committed.close()
        with self._lock:  # as the reader's: a read of another thread's may be in hand
            self._conn.close()


__all__ = ["SQLiteReads", "SQLiteRecords", "upgrade"]
