"""Records in PostgreSQL, shared by every node (psycopg 3 and a connection pool).

A batch's records are kept in memory until ``commit`` writes them in one transaction
(one commit per batch, the statements pipelined by ``executemany``); the engine's
reads during the batch see them (a report right after its message in one batch finds
it); ``committed()`` reads on a pool of its own, what was committed, for the
console and the API. Every insert is ``ON CONFLICT DO NOTHING``: two nodes that record
the same event id (a retry racing its first try) leave one row, which is what makes
re-recording a finished event safe (``engine.py``'s failure model).

The schema is versioned (``migrations/postgres``) and applied by ``spimguard db
upgrade``; a node refuses to open a database whose schema is behind its own.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import RecordsUnavailable
from . import Answer, CampaignMessage, LogEntry, RecordReads, ReportEntry, sql

_LOCK = 0x5B16_6A4D  # the advisory lock that serialises schema upgrades
_Failure = (psycopg.Error, PoolTimeout)


def upgrade(url: str) -> list[str]:
    """Apply the migrations the database lacks; returns the names applied."""
    applied = []
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))  # nodes upgrading at once
            conn.execute(sql.SCHEMA_TABLE)
            done = conn.execute("SELECT COALESCE(MAX(version), 0) FROM spimguard_schema"
                                ).fetchone()[0]  # type: ignore[index]
            for version, name, script in sql.migrations("postgres"):
                if version > done:
                    conn.execute(script.encode())
                    conn.execute("INSERT INTO spimguard_schema VALUES (%s, %s)", (version, name))
                    applied.append(name)
    except psycopg.Error as exc:
        raise RecordsUnavailable(f"schema upgrade failed: {exc}") from exc
    return applied


def schema_version(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            exists = conn.execute("SELECT to_regclass('spimguard_schema')").fetchone()
            if not exists or exists[0] is None:
                return 0
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM spimguard_schema"
                               ).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error as exc:
        raise RecordsUnavailable(f"cannot reach PostgreSQL: {exc}") from exc


def open_pool(url: str, size: int, timeout: float, name: str) -> ConnectionPool:
    """A connection pool on a database whose schema is this release's (else a clear
    error naming the command that upgrades it): the records and the console share it."""
    version, needed = schema_version(url), sql.latest("postgres")
    if version < needed:
        raise RecordsUnavailable(f"the PostgreSQL schema is at version {version}, this "
                                 f"spimguard needs {needed}: run `spimguard db upgrade`")
    return ConnectionPool(url, min_size=1, max_size=size, timeout=timeout, open=True,
                          name=name)


class PostgresReads(sql.SQLReads):
    """The reads, each on a connection of the pool: what was committed when it began."""

    _HOUR = "FLOOR(ts / 3600)"

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def close(self) -> None:
        self._pool.close()

    def _query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(sql.psycopg(statement), params).fetchall()
        except _Failure as exc:
            raise RecordsUnavailable(f"record read failed: {exc}") from exc


class PostgresRecords(PostgresReads):
    def __init__(self, url: str, pool_size: int = 4, timeout: float = 1.0) -> None:
        super().__init__(open_pool(url, pool_size, timeout, "spimguard-records"))
        # A pool of their own (half the engine's, at least one): on the engine's, four
        # console or API reads in progress (an evidence bundle, a week's queue) held every
        # connection, and the engine's commit failed after ``timeout`` waiting for one, its
        # batch answered with errors (review, session 46).
        try:
            reads = open_pool(url, max(1, pool_size // 2), timeout, "spimguard-records-reads")
        except RecordsUnavailable:
            self._pool.close()
            raise
        self._committed = PostgresReads(reads)
        self._node = socket.gethostname()  # one health row per machine, however many workers
        self._log: dict[str, LogEntry] = {}
        self._reports: dict[str, ReportEntry] = {}
        self._campaigns: dict[tuple[str, str], CampaignMessage] = {}

    def committed(self) -> RecordReads:
        """Reads on a pool of their own, without the batch's saves (they wait in this
        process until the commit)."""
        return self._committed

    # -- reads (the batch's unsaved records first) ---------------------------------------
    def answers(self, event_ids: Sequence[str]) -> dict[str, Answer]:
        ids = list(dict.fromkeys(event_ids))
        found = {i: Answer(e.digest, e.result) for i in ids if (e := self._log.get(i))}
        found.update(super().answers([i for i in ids if i not in found]))
        return found

    def message(self, message_id: str) -> LogEntry | None:
        pending = self._log.get(message_id)
        if pending is not None:
            return pending if pending.type == "message" else None
        return super().message(message_id)

    # -- writes (kept until commit) ------------------------------------------------------
    def save(self, entry: LogEntry) -> None:
        self._log.setdefault(entry.id, entry)

    def save_report(self, report: ReportEntry) -> None:
        self._reports.setdefault(report.id, report)

    def save_campaign_message(self, message: CampaignMessage) -> None:
        self._campaigns.setdefault((message.campaign, message.id), message)

    def commit(self) -> None:
        if not (self._log or self._reports or self._campaigns):
            return
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                for statement, rows in (
                        (sql.INSERT_LOG, [sql.log_row(e) for e in self._log.values()]),
                        (sql.INSERT_REPORT, [sql.report_row(r) for r in self._reports.values()]),
                        (sql.INSERT_CAMPAIGN, [sql.campaign_row(m)
                                               for m in self._campaigns.values()])):
                    if rows:
                        cur.executemany(sql.psycopg(statement), rows)
        except _Failure as exc:
            raise RecordsUnavailable(f"record commit failed: {exc}") from exc
        self.rollback()

    def rollback(self) -> None:
        self._log.clear()
        self._reports.clear()
        self._campaigns.clear()

    def purge(self, before: float) -> int:
        try:
            with self._pool.connection() as conn, conn.transaction():
                return sum(conn.execute(sql.psycopg(s), (before,)).rowcount for s in sql.PURGE)
        except _Failure as exc:
            raise RecordsUnavailable(f"record purge failed: {exc}") from exc

    def ping(self) -> None:
        """A committed write: a database that is down, read-only or full fails here."""
        try:
            with self._pool.connection() as conn:
                conn.execute("INSERT INTO health (node, at) VALUES (%s, now()) ON CONFLICT "
                             "(node) DO UPDATE SET at = excluded.at", (self._node,))
        except _Failure as exc:
            raise RecordsUnavailable(f"PostgreSQL takes no writes: {exc}") from exc

    def close(self) -> None:
        self._committed.close()
        super().close()


__all__ = ["PostgresRecords", "open_pool", "schema_version", "upgrade"]
