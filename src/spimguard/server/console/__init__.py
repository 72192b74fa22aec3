"""The operator console at ``/console/``: server-rendered pages for moderators.

``open_console`` opens the console's own store beside the engine's records (the
shared PostgreSQL, the same SQLite file, or memory); ``routes`` are mounted by
``server.create_app``.
"""

from __future__ import annotations

from pathlib import Path

from ...config import Config
from .decisions import apply_operator_decision
from .memory import MemoryConsole
from .pages import routes
from .records import ConsoleStore
from .sqlite import SQLiteConsole
from .web import SecurityHeaders


def open_console(config: Config, data_dir: str | Path | None = None) -> ConsoleStore:
    """Where the records are: PostgreSQL makes one console for every node."""
    if config.records.backend == "postgres":
        from .postgres import PostgresConsole

        return PostgresConsole(config.records.url)
    if config.storage.backend == "memory":
        return MemoryConsole()
    return SQLiteConsole.open(data_dir or config.storage.data_dir)


__all__ = ["ConsoleStore", "SecurityHeaders", "apply_operator_decision", "open_console",
           "routes"]
