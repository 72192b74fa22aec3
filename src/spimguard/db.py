"""The embedded SQLite database: one file holds hot state and records.

State and records share one connection so that a message's counters and its
verdict commit in one transaction: after a crash either both are there or
neither, which is what makes a retried event id safe.

What survives what (``storage.synchronous``). A commit in WAL mode appends the
transaction's pages to the -wal file before the answer leaves; with "normal" (the
default) that write reaches the operating system but is not fsynced: the WAL is
fsynced when a checkpoint copies it into the database file (every ~1,000 pages).
So a crash of the process (kill -9, the OOM killer, a segfault) loses nothing
answered, since the kernel holds the pages and writes them out; a crash of the
machine or a power loss may lose the transactions since the last checkpoint,
never leaving a torn or inconsistent file (each is in whole or not at all).
"full" fsyncs the WAL at every commit, so an answered event survives a power loss
too, for one fsync per batch (milliseconds on most disks; group commit shares it
among the batch's requests).

Checkpoints off the commit path (``open_writer``). Left to SQLite, the commit that
takes the WAL past 1,000 pages copies them into the database file and fsyncs both
files before its batch is answered: one commit in ~35 on the mixed load, 10-60 ms
each on a shared disk, about half of /v1/check's p99. The engine's connection
instead leaves the copying to a thread of its own (``Checkpointer``, its own
connection, PASSIVE checkpoints: never waiting for the writer, never making it
wait). The writer keeps one checkpoint of its own as the bound on the WAL: past
``WAL_BOUND`` pages it checkpoints in its commit as before, which then copies only
what the thread has not copied yet, and the WAL starts over from its beginning (a
WAL is rewound only once all of it is in the database file and no commit came
meanwhile, which the thread alone seldom sees under a steady stream). Nothing
changes for durability: an event is durable when its commit is (above); a
checkpoint copies what is already durable, and a crash in the middle of one is
repaired from the WAL at the next open, as it always was.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import TypeVar

from .errors import StateUnavailable

C = TypeVar("C", bound=sqlite3.Connection)

_SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}  # storage.synchronous -> the pragma
# Pages in the WAL past which the writer checkpoints in its own commit (see above): a
# 40 MB file at most, and at ~30 pages a batch of one, one commit in ~350 pays for it.
WAL_BOUND = 10_000
# Seconds between the thread's checkpoints: about as often as SQLite's own every
# 1,000 pages at the load's rates, and what a power loss may take under "normal".
CHECKPOINT_PERIOD = 0.1

log = logging.getLogger("spimguard.db")


def private_dir(folder: Path) -> None:
    """Make ``folder`` (and parents) and keep it to its owner (0700): it holds
    messages, verdicts and secrets."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_mode & 0o077:
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
    """The engine's connection: ``connect``'s, with checkpoints on a thread of their own
    (``period`` seconds apart; None: no thread, the writer's bound alone) while it is
    open."""
    conn = _open(path, synchronous, Writer)
    try:
        conn.execute(f"PRAGMA wal_autocheckpoint={int(wal_bound)}")
        if period is not None:
            conn.checkpointer = Checkpointer(path, synchronous, period)
    except (sqlite3.Error, OSError) as exc:
        conn.close()
        raise StateUnavailable(f"cannot open the database {path}: {exc}") from exc
    return conn


def _open(path: str | Path, synchronous: str, factory: type[C]) -> C:
    try:
        private_dir(Path(path).parent)
        # SQLite gives its -wal and -shm files the database file's mode.
        private_file(Path(path))
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0,
                               factory=factory)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={_SYNCHRONOUS[synchronous]}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
    except (sqlite3.Error, OSError) as exc:
        raise StateUnavailable(f"cannot open the database {path}: {exc}") from exc
    return conn


class Checkpointer:
    """PASSIVE checkpoints every ``period`` seconds on a thread and connection of its own.

    A failed one is logged (an error, once until one succeeds again) and tried again
    at the next period: it loses nothing (the WAL still holds every commit), and the
    writer's own bound still keeps the WAL from growing past ``WAL_BOUND`` pages, but
    it is a disk or a file in trouble, which the operator must hear of.
    """

    def __init__(self, path: str | Path, synchronous: str, period: float) -> None:
        self.period = period
        # The checkpoint's fsyncs (the WAL before copying, the file after) follow this.
        self._conn = _open(path, synchronous, sqlite3.Connection)
        self.failure: str | None = None  # why the last checkpoint failed, while it stands
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spimguard-checkpoint",
                                        daemon=True)
        self._thread.start()

    def checkpoint(self) -> tuple[int, int]:
        """Copy what the WAL holds into the file as far as no reader needs it: the pages
        in the WAL, and how many of them are in the file now (-1, -1 on failure)."""
        try:
            _, pages, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            if self.failure is None:
                log.error("WAL checkpoint failed (the WAL keeps every commit; retrying "
                          "every %g s): %s", self.period, exc)
            self.failure = str(exc)
            return -1, -1
        if self.failure is not None:
            log.warning("WAL checkpoints work again (after: %s)", self.failure)
            self.failure = None
        return pages, copied

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.checkpoint()

    def close(self) -> None:
        """Stop the thread (after the checkpoint it may be in) and close its connection."""
        self._stop.set()
        self._thread.join()
        self._conn.close()


class Writer(sqlite3.Connection):
    """A connection that closes its checkpointer first: the last connection to close
    checkpoints the whole WAL and removes it."""

    checkpointer: Checkpointer | None = None

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
            self.checkpointer = None
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
