"""The embedded SQLite database: one file holds hot state and records.

State and records share one connection so that a message's counters and its
verdict commit in one transaction: after a crash either both are there or
neither, which is what makes a retried event id safe.

What survives what (``storage.synchronous``). A commit in WAL mode appends the
transaction's pages to the -wal file before the answer leaves; with "normal" (the
default) that write reaches the operating system but is not fsynced: the WAL is
fsynced when a checkpoint copies it into the database file (every 0.1 s under load,
below). So a crash of the process (kill -9, the OOM killer, a segfault) loses nothing
answered, since the kernel holds the pages and writes them out; a crash of the
machine or a power loss may lose the transactions since the last checkpoint,
never leaving a torn or inconsistent file (each is in whole or not at all).
"full" fsyncs the WAL at every commit, so an answered event survives a power loss
too, for one fsync per batch (milliseconds on most disks; group commit shares it
among the batch's requests).

Checkpoints off the commit path (``open_writer``). Left to SQLite, the commit that
takes the WAL past 1,000 pages copies them into the database file and fsyncs both
files before its batch is answered: one commit in ~35 on the mixed load, 10-140 ms
each on a shared disk (traced in the server, one commit in 12-16 took over 5 ms,
nearly all of them these; one in 80-350 does now). The engine's connection leaves
that to a thread with a connection of its own (``Checkpointer``): every
``CHECKPOINT_PERIOD`` a PASSIVE checkpoint, which copies beside the commits and never
makes the writer wait. Under a steady stream a commit nearly always lands
during it, so the WAL is never all copied when the next transaction starts, which is
when SQLite rewinds it, and it would grow for ever: past ``WAL_BOUND`` pages a
RESTART checkpoint copies what came meanwhile (the PASSIVE one just copied the rest)
and syncs, holding the writer back, so that the next commit starts the WAL over. The
writer runs it itself, right after the commit that finds it due: run by the thread,
it made the writer's next transaction wait in SQLite's busy handler, which sleeps in
steps of 1, 2, 5, 10, 15, 20, 25 ms and so woke the writer up to 15 ms after the
restart was over (traced in the server at a steady 350 checks/s: the batches that
met a restart, the slowest of all, each took the restart and 2-10 ms more).
It is skipped (tried at the next commit) while the thread is in a checkpoint, so a
commit never waits for a PASSIVE copy. Past ``BACKSTOP`` times the bound (restarts
kept failing: a reader of an older snapshot) the writer truncates the WAL after a
commit, waiting its turn (a stat of the WAL file every ``STAT_EVERY`` commits tells). Nothing
changes for durability: an event is durable
when its commit is (above); a checkpoint copies what is already durable, and a crash
in the middle of one is repaired from the WAL at the next open, as it always was.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import stat
import threading
import time
import weakref
from pathlib import Path
from typing import TypeVar

from .errors import StateUnavailable

_Conn = TypeVar("_Conn", bound=sqlite3.Connection)

_SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}  # storage.synchronous -> the pragma
# Pages in the WAL past which the writer restarts it (see above): ~160 MB, and what one
# period adds. A restart holds the writer back for two fsyncs and a copy (9-46 ms traced
# on the shared disk) whatever the bound, so the bound sets how often commits wait: the
# mixed load writes ~26 pages a message in batches of one, and at 500 checks/s in pairs
# 10,000 pages made 21-22 restarts in 12,000 checks, 40,000 make 2-3. The price: a WAL
# file of that size on disk, and an open after a crash reads it all to recover.
WAL_BOUND = 40_000
# A restarted WAL file larger than this many times the bound is cut back to it (SQLite's
# journal_size_limit): a flood's high-water mark does not stay on disk until the last
# close. Not the bound itself: a restart always finds the WAL past the bound, so every
# restart cut the file and the commits after it grew it again, an ftruncate (3-20 ms, a
# journal commit on ext4) on the writer and new blocks for every frame past the cut.
WAL_KEPT = 2
# Seconds between the thread's checkpoints: about as often as SQLite's own every
# 1,000 pages at the load's rates, and what a power loss may take under "normal".
CHECKPOINT_PERIOD = 0.1
# Seconds a restart waits (holding the writer back) for a reader of an older snapshot to
# finish: past it, it gives up until the thread finds it due again a period later, so a
# long reader (an export) never stalls the commits for longer.
RESTART_WAIT = 0.05
# Seconds the close's copy of the whole WAL waits for a reader of an older snapshot
# (``Writer.close``): past it the copy is left to the next open, and a stop goes on.
CLOSE_WAIT = 1.0
# Past this many times the bound the writer truncates the WAL after a commit, waiting for
# the thread's checkpoint in progress: a backstop for restarts that kept being skipped or
# refused. That commit's batch pays for the copy; a restart waits for readers as any
# write does, so it cannot be starved.
BACKSTOP = 4
# Commits between the writer's looks at the WAL file's size (for the backstop): a stat
# builds a ``stat_result`` of some twenty fields, ~13,000 instructions, 0.5 % of an event
# committed alone (callgrind, session 24). What it may miss is this many commits' pages
# past a bound of ``BACKSTOP`` times ``WAL_BOUND`` (at ~26 pages a commit of one event,
# 0.3 % of it), and a look at the first commit tells a writer reopened on a grown WAL.
STAT_EVERY = 16

log = logging.getLogger("spimguard.db")


def private_dir(folder: Path) -> None:
    """Make ``folder`` (and parents) and keep it to its owner (0700): it holds
    messages, verdicts and secrets. A shared sticky folder (``/tmp``: a database put
    straight in it) is everyone's, not ours to close: its files are kept private
    one by one (``private_file``), and closing it would break every other user."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = folder.stat().st_mode
    if mode & 0o077 and not mode & stat.S_ISVTX:
        folder.chmod(0o700)


def private_file(path: Path) -> None:
    """Create ``path`` if missing, readable by its owner only (0600) either way."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def connect(path: str | Path, synchronous: str = "normal") -> sqlite3.Connection:
    """The database at ``path`` in WAL mode, with ``synchronous`` ("normal" or "full")."""
    return _open(path, synchronous, sqlite3.Connection)


def open_writer(path: str | Path, synchronous: str = "normal", wal_bound: int = WAL_BOUND,
                period: float | None = CHECKPOINT_PERIOD) -> Writer:
    """The engine's connection: ``connect``'s, its checkpoints left to a ``Checkpointer``
    that runs every ``period`` seconds while it is open (None: only when called)."""
    conn = _open(path, synchronous, Writer, autocheckpoint=0)
    try:
        # A restarted WAL file past ``WAL_KEPT`` bounds is cut back (``WAL_KEPT``).
        page = int(conn.execute("PRAGMA page_size").fetchone()[0])
        conn.execute(f"PRAGMA journal_size_limit={WAL_KEPT * int(wal_bound) * page}")
        conn.checkpointer = checkpointer = Checkpointer(path, synchronous, wal_bound, page)
    except sqlite3.Error as exc:
        conn.close()
        raise StateUnavailable(f"cannot open the database {path}: {exc}") from exc
    except StateUnavailable:
        conn.close()
        raise
    if period is not None:
        checkpointer.start(period, conn)
    return conn


def _open(path: str | Path, synchronous: str, factory: type[_Conn], timeout: float = 30.0,
          autocheckpoint: int | None = None) -> _Conn:
    try:
        private_dir(Path(path).parent)
        # SQLite gives its -wal and -shm files the database file's mode.
        private_file(Path(path))
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=timeout,
                               factory=factory)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={_SYNCHRONOUS[synchronous]}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        if autocheckpoint is not None:
            conn.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
    except (sqlite3.Error, OSError) as exc:
        raise StateUnavailable(f"cannot open the database {path}: {exc}") from exc
    return conn


def _wal_checkpoint(conn: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
    """(busy, pages in the WAL, pages copied), the statement finished at once: one left
    open would keep its connection's hold on the WAL, and the next restart would wait."""
    rows = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
    return rows[0]


class Checkpointer:
    """The WAL copied into the database file by a connection (and thread) of its own.

    What keeps the WAL from being copied or restarted is logged as an error, once until
    a checkpoint succeeds again, and tried again at the next period: a failed checkpoint
    (a disk or a file in trouble), or a WAL past twice the bound that a reader of an old
    snapshot keeps from restarting. Nothing is lost meanwhile (the WAL holds every
    commit), but the WAL grows, which the operator must hear of.
    """

    def __init__(self, path: str | Path, synchronous: str, bound: int, page: int) -> None:
        self.bound = bound
        self._wal, self._page = Path(f"{path}-wal"), page
        # Held by whichever checkpoints, the thread or the writer past the backstop: a
        # checkpoint refuses to start while another connection's runs (SQLite answers
        # busy at once, without waiting), so the writer's must wait its turn, not lose it.
        self.turn = threading.Lock()
        # The checkpoint's fsyncs (the WAL before copying, the file after) follow this.
        self._conn = _open(path, synchronous, sqlite3.Connection, RESTART_WAIT)
        self.failure: str | None = None  # what kept the last checkpoint back, while it stands
        self.due = False  # past the bound: the writer restarts the WAL after its next commit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, period: float, writer: sqlite3.Connection) -> None:
        """Checkpoints every ``period`` seconds until ``close``, or until ``writer`` is
        dropped unclosed (an engine a test or an embedding forgot): no thread outlives it."""
        self._thread = threading.Thread(target=self._run, args=(period, weakref.ref(writer)),
                                        daemon=True, name="spimguard-checkpoint")
        self._thread.start()

    def checkpoint(self) -> int:
        """Copy what the WAL holds into the file, and past the bound leave the writer a
        restart to do: the pages in the WAL (-1 when the checkpoint failed)."""
        with self.turn:
            return self._checkpoint()

    def overdue(self) -> bool:
        """Whether the WAL file has grown past the backstop (its size, a stat: cheap
        enough to ask after every commit)."""
        try:
            size = self._wal.stat().st_size
        except FileNotFoundError:
            return False
        return size > BACKSTOP * self.bound * self._page

    def restart_from(self, writer: sqlite3.Connection, mode: str = "TRUNCATE",
                     wait: bool = True) -> None:
        """Restart the WAL from the writer's own connection (``mode`` RESTART, or TRUNCATE
        to give its file's space back too), waiting for readers only ``RESTART_WAIT`` (a
        long reader must not stall the commits), and for the thread's checkpoint in
        progress unless not ``wait`` (then it is left to a later commit)."""
        if not self.turn.acquire(blocking=wait):
            return
        try:
            self.due = False  # tried: a reader that refused it is the thread's to find again
            timeout = writer.execute("PRAGMA busy_timeout").fetchone()[0]
            writer.execute(f"PRAGMA busy_timeout={int(RESTART_WAIT * 1000)}")
            try:
                _wal_checkpoint(writer, mode)
            finally:
                writer.execute(f"PRAGMA busy_timeout={int(timeout)}")
        finally:
            self.turn.release()

    def _checkpoint(self) -> int:
        try:
            if self.overdue():
                # The writer restarts it at its next commit; a checkpoint here would
                # hold the lock that restart needs.
                self._failed(f"the WAL holds over {BACKSTOP * self.bound} pages: a reader of "
                             "an older snapshot or a failing disk kept it from restarting")
                return self._wal.stat().st_size // self._page
            _, pages, copied = _wal_checkpoint(self._conn, "PASSIVE")
        except (OSError, sqlite3.Error) as exc:
            self._failed(f"WAL checkpoint failed: {exc}")
            return -1
        self.due = pages >= self.bound
        if copied < pages and pages >= 2 * self.bound:  # held back once is the next period's
            self._failed(f"the WAL holds {pages} pages and cannot restart: a reader of an "
                         "older snapshot keeps it from being copied")
        elif self.failure is not None:
            log.warning("WAL checkpoints work again (after: %s)", self.failure)
            self.failure = None
        return pages

    def _failed(self, why: str) -> None:
        if self.failure is None:
            log.error("%s (the WAL keeps every commit, and grows until a checkpoint "
                      "succeeds; trying again)", why)
        self.failure = why

    def _run(self, period: float, writer: weakref.ref[sqlite3.Connection]) -> None:
        while not self._stop.wait(period) and writer() is not None:
            self.checkpoint()

    def close(self) -> None:
        """Stop the thread (after the checkpoint it may be in) and close its connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._conn.close()


class Writer(sqlite3.Connection):
    """A connection that closes its checkpointer first: the last connection to close
    checkpoints the whole WAL and removes it (and nothing checkpoints once it is gone)."""

    checkpointer: Checkpointer | None = None
    unlooked = STAT_EVERY - 1  # commits since the WAL file's size was last looked at

    def commit(self) -> None:
        """Commit; then restart the WAL when the thread found it past the bound, or
        truncate it when it has grown past the backstop (looked at every ``STAT_EVERY``
        commits, the first included). The commit has happened either
        way: a failing restart is logged, never raised as the commit's failure. With no
        transaction open nothing is written, and the WAL is left to the next commit that
        writes: the engine commits its records after its state on this connection, an
        empty commit a batch whose stat of the WAL file was ~5 µs of a batch of one."""
        if not self.in_transaction:
            return
        super().commit()
        checkpointer = self.checkpointer
        if checkpointer is None:
            return
        self.unlooked += 1
        look = self.unlooked >= STAT_EVERY
        if look:
            self.unlooked = 0
        try:
            began = time.perf_counter()
            if look and checkpointer.overdue():
                checkpointer.restart_from(self)
            elif checkpointer.due:
                checkpointer.restart_from(self, "RESTART", wait=False)
            else:
                return
            # What a slow batch logged by the server (``grouping``) may have waited for.
            log.debug("the writer restarted the WAL in %.1f ms",
                      (time.perf_counter() - began) * 1000)
        except sqlite3.Error as exc:
            log.error("the writer's own WAL restart failed: %s", exc)

    def close(self) -> None:
        """The checkpointer's thread stopped, then the whole WAL copied into the database
        file and cut to nothing, then the close. SQLite checkpoints at the last close of a
        database only if that close is whole, and a connection with a statement not yet
        finalized (one the engine's objects still hold) is closed only in name (a zombie,
        ``sqlite3_close_v2``) and checkpoints nothing: the last commits stayed in the
        -wal file, and a backup that copied ``spimguard.db`` alone after a stop missed
        them (found by review46, session 46). Closing twice checkpoints once."""
        checkpointer, self.checkpointer = self.checkpointer, None
        if checkpointer is not None:
            checkpointer.close()
            try:
                # A reader of an older snapshot (outside spimguard: the engine's own are
                # closed) holds the copy back: a stop waits for it a second at most.
                self.execute(f"PRAGMA busy_timeout={int(CLOSE_WAIT * 1000)}")
                busy = _wal_checkpoint(self, "TRUNCATE")[0]
            except sqlite3.Error as exc:
                busy, why = 1, str(exc)
            else:
                why = "a reader of an older snapshot held it back"
            if busy:  # the commits are safe in the WAL; only the copy waits
                log.warning("the WAL was not copied into the database file at close (%s); "
                            "the next open copies it, so back up the -wal file too", why)
        super().close()


def kept_secret(path: Path) -> str:
    """A random secret made on first use and kept in ``path`` (mode 0600) from then on.

    The API token and the evidence key both default to one, so a fresh install is
    secure without configuration and stays stable across restarts.
    """
    private_dir(path.parent)
    if path.exists():
        private_file(path)
        return path.read_text("utf-8").strip()
    private_file(path)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret + "\n", "utf-8")
    return secret
