"""The console store in the embedded SQLite file, on its own connection.

Its tables come from the records migrations, applied here too (the console may
open the file before the engine does, e.g. ``spimguard operators add``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ...db import connect
from ...errors import RecordsUnavailable
from ...records.sqlite import upgrade
from .sql import SQLConsole, Statement


class SQLiteConsole(SQLConsole):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        try:
            upgrade(conn)
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"cannot create the console tables: {exc}") from exc

    @classmethod
    def open(cls, data_dir: str | Path) -> SQLiteConsole:
        return cls(connect(Path(data_dir) / "spimguard.db"))

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"console read failed: {exc}") from exc

    def _write(self, *statements: Statement) -> int:
        count = 0
        try:
            with self._conn:
                for sql, params in statements:
                    count = self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"console write failed: {exc}") from exc
        return count

    def close(self) -> None:
        self._conn.close()
