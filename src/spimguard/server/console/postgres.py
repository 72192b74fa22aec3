"""The console store in the PostgreSQL every node shares (``[records] backend =
"postgres"``): one set of operators and sessions (a login on one node is valid on
all), one audit log, one release queue with one cursor sequence.

Like the records, it refuses a database whose schema is behind (``spimguard db
upgrade`` makes the console tables).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from ...errors import RecordsUnavailable
from ...records import sql as records_sql
from ...records.postgres import open_pool
from .sql import SQLConsole, Statement

_Failure = (psycopg.Error, PoolTimeout)


class PostgresConsole(SQLConsole):
    def __init__(self, url: str, pool_size: int = 2, timeout: float = 2.0) -> None:
        self._pool = open_pool(url, pool_size, timeout, "spimguard-console")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(records_sql.psycopg(sql), params).fetchall()
        except _Failure as exc:
            raise RecordsUnavailable(f"console read failed: {exc}") from exc

    def _write(self, *statements: Statement) -> int:
        count = 0
        try:
            with self._pool.connection() as conn, conn.transaction():
                for sql, params in statements:
                    count = conn.execute(records_sql.psycopg(sql), params).rowcount
        except _Failure as exc:
            raise RecordsUnavailable(f"console write failed: {exc}") from exc
        return count

    def _serialised(self, table: str) -> tuple[Statement, ...]:
        # Blocks other writers of the table (not its readers) until this transaction ends.
        return ((f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE", ()),)

    def close(self) -> None:
        self._pool.close()
