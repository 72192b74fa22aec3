"""Embedded, durable state in SQLite: the default when nothing else is installed.

Each primitive is one indexed statement; expiry is stored per row and checked on
read, so a late sweep never changes an answer, only the file's size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

from ..errors import StateUnavailable
from .ops import (
    Contains,
    Count,
    Delete,
    Distinct,
    Get,
    Incr,
    Members,
    Put,
    Query,
    Remove,
    Replace,
    Touch,
    Write,
    bucket_range,
    encode_value,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT NOT NULL, bucket INTEGER NOT NULL, n REAL NOT NULL, exp REAL NOT NULL,
    PRIMARY KEY (key, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS member_sets (
    key TEXT PRIMARY KEY, exp REAL NOT NULL, ttl REAL NOT NULL, cap INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    key TEXT NOT NULL, member TEXT NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (key, member)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_age ON members (key, ts);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, exp REAL NOT NULL)
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counters_exp ON counters (exp);
CREATE INDEX IF NOT EXISTS kv_exp ON kv (exp);
"""
_CHUNK = 500  # members per IN (...) list, under SQLite's parameter limit


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


class SQLiteState:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        try:
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"cannot create the state tables: {exc}") from exc

    def read(self, queries: Sequence[Query], now: float) -> list[Any]:
        try:
            values = self._values([q.key for q in queries if isinstance(q, Get)], now)
            return [values.get(q.key) if isinstance(q, Get) else self._answer(q, now)
                    for q in queries]
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state read failed: {exc}") from exc

    def _values(self, keys: list[str], now: float) -> dict[str, Any]:
        """Every Get of one read in one statement (they are the most common query)."""
        found: dict[str, Any] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            marks = ",".join("?" * len(chunk))
            for key, value in self._conn.execute(
                    f"SELECT key, value FROM kv WHERE key IN ({marks}) AND exp > ?",
                    (*chunk, now)):
                found[key] = msgspec.json.decode(value)
        return found

    def _answer(self, query: Query, now: float) -> Any:
        run = self._conn.execute
        if isinstance(query, Count):
            first, last = bucket_range(query, now)
            row = run("SELECT TOTAL(n) FROM counters WHERE key = ? AND bucket BETWEEN ? AND ? "
                      "AND exp > ?", (query.key, first, last, now)).fetchone()
            return float(row[0])
        if isinstance(query, Distinct):
            row = run("SELECT COUNT(*) FROM members JOIN member_sets USING (key) "
                      "WHERE key = ? AND member_sets.exp > ? AND ts > ?",
                      (query.key, now, now - query.window)).fetchone()
            return int(row[0])
        if isinstance(query, Contains):
            found: set[str] = set()
            alive = run("SELECT 1 FROM member_sets WHERE key = ? AND exp > ?",
                        (query.key, now)).fetchone()
            if alive:
                for chunk in _chunks(query.members):
                    marks = ",".join("?" * len(chunk))
                    found.update(r[0] for r in run(
                        f"SELECT member FROM members WHERE key = ? AND member IN ({marks})",
                        (query.key, *chunk)))
            return tuple(m in found for m in query.members)
        if isinstance(query, Members):
            return tuple(r[0] for r in run(
                "SELECT member FROM members JOIN member_sets USING (key) WHERE key = ? AND "
                "member_sets.exp > ? ORDER BY ts, member", (query.key, now)))
        raise TypeError(f"not a query: {query!r}")

    def write(self, writes: Sequence[Write], now: float) -> None:
        try:
            for op in writes:
                self._apply(op, now)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state write failed: {exc}") from exc

    def _set_header(self, key: str, now: float, ttl: float, cap: int) -> None:
        self._conn.execute(
            "INSERT INTO member_sets (key, exp, ttl, cap) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET exp = max(exp, excluded.exp), ttl = excluded.ttl, "
            "cap = excluded.cap", (key, now + ttl, ttl, cap))

    def _apply(self, op: Write, now: float) -> None:
        run = self._conn.execute
        if isinstance(op, Incr):
            run("INSERT INTO counters (key, bucket, n, exp) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key, bucket) DO UPDATE SET n = n + excluded.n, "
                "exp = max(exp, excluded.exp)",
                (op.key, int(now // op.bucket), op.amount, now + op.ttl))
        elif isinstance(op, Touch):
            expired = run("SELECT 1 FROM member_sets WHERE key = ? AND exp <= ?",
                          (op.key, now)).fetchone()
            if expired:
                run("DELETE FROM members WHERE key = ?", (op.key,))
            self._set_header(op.key, now, op.ttl, op.cap)
            self._conn.executemany(
                "INSERT INTO members (key, member, ts) VALUES (?, ?, ?) "
                "ON CONFLICT (key, member) DO UPDATE SET ts = max(ts, excluded.ts)",
                [(op.key, m, now) for m in op.members])
        elif isinstance(op, Replace):
            run("DELETE FROM members WHERE key = ?", (op.key,))
            run("DELETE FROM member_sets WHERE key = ?", (op.key,))
            self._set_header(op.key, now, op.ttl, max(len(op.members), 1))
            self._conn.executemany("INSERT OR REPLACE INTO members (key, member, ts) "
                                   "VALUES (?, ?, ?)", [(op.key, m, now) for m in op.members])
        elif isinstance(op, Remove):
            for chunk in _chunks(op.members):
                marks = ",".join("?" * len(chunk))
                run(f"DELETE FROM members WHERE key = ? AND member IN ({marks})",
                    (op.key, *chunk))
        elif isinstance(op, Put):
            run("INSERT OR REPLACE INTO kv (key, value, exp) VALUES (?, ?, ?)",
                (op.key, encode_value(op.value), now + op.ttl))
        elif isinstance(op, Delete):
            for table in ("counters", "members", "member_sets", "kv"):
                run(f"DELETE FROM {table} WHERE key = ?", (op.key,))

    def commit(self) -> None:
        try:
            self._conn.commit()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state commit failed: {exc}") from exc

    def rollback(self) -> None:
        try:
            self._conn.rollback()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state rollback failed: {exc}") from exc

    def sweep(self, now: float) -> int:
        run = self._conn.execute
        try:
            dropped = run("DELETE FROM counters WHERE exp <= ?", (now,)).rowcount
            dropped += run("DELETE FROM kv WHERE exp <= ?", (now,)).rowcount
            dropped += run("DELETE FROM members WHERE key IN "
                           "(SELECT key FROM member_sets WHERE exp <= ?)", (now,)).rowcount
            run("DELETE FROM member_sets WHERE exp <= ?", (now,))
            dropped += run("DELETE FROM members WHERE EXISTS (SELECT 1 FROM member_sets s "
                           "WHERE s.key = members.key AND members.ts + s.ttl <= ?)",
                           (now,)).rowcount
            oversized = run("SELECT s.key, s.cap FROM member_sets s WHERE "
                            "(SELECT COUNT(*) FROM members m WHERE m.key = s.key) > s.cap"
                            ).fetchall()
            for key, cap in oversized:  # stalest first; ties by member, as Redis drops them
                dropped += run("DELETE FROM members WHERE key = ? AND member IN (SELECT member "
                               "FROM members WHERE key = ? ORDER BY ts DESC, member DESC "
                               "LIMIT -1 OFFSET ?)",
                               (key, key, cap)).rowcount
            self._conn.commit()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state sweep failed: {exc}") from exc
        return dropped

    def ping(self) -> None:
        """The file is the records' too: ``SQLiteRecords.ping`` proves it takes writes."""

    def close(self) -> None:
        self._conn.close()
