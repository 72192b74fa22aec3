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
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from .errors import StateUnavailable

_SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}  # storage.synchronous -> the pragma


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
    try:
        private_dir(Path(path).parent)
        # SQLite gives its -wal and -shm files the database file's mode.
        private_file(Path(path))
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={_SYNCHRONOUS[synchronous]}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
    except (sqlite3.Error, OSError) as exc:
        raise StateUnavailable(f"cannot open the database {path}: {exc}") from exc
    return conn


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
