"""The console store in the embedded SQLite file, on its own connection.

Plain SQL throughout (``?`` placeholders aside), so a PostgreSQL store runs the
same statements. Cursors (audit, releases) are ``MAX + 1`` inside the insert, not
an AUTOINCREMENT column, for the same reason.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from ...db import connect
from ...errors import RecordsUnavailable
from .records import (
    AppealEntry,
    AuditEntry,
    CampaignStatus,
    Decision,
    Note,
    Operator,
    Release,
    Session,
)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS console_operators (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
    "password_hash TEXT NOT NULL, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS console_sessions (token_hash TEXT PRIMARY KEY, "
    "operator TEXT NOT NULL, csrf TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS console_audit (seq BIGINT PRIMARY KEY, ts REAL NOT NULL, "
    "operator TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, why TEXT NOT NULL, "
    "detail TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS console_notes (account TEXT NOT NULL, ts REAL NOT NULL, "
    "operator TEXT NOT NULL, text TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS console_notes_account ON console_notes (account, ts)",
    "CREATE TABLE IF NOT EXISTS console_appeals (id TEXT PRIMARY KEY, ts REAL NOT NULL, "
    "account TEXT NOT NULL, message_id TEXT NOT NULL, text TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS console_releases (seq BIGINT PRIMARY KEY, "
    "message_id TEXT NOT NULL UNIQUE, sender TEXT NOT NULL, recipients TEXT NOT NULL, "
    "text TEXT, operator TEXT NOT NULL, ts REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS console_decisions (message_id TEXT PRIMARY KEY, "
    "label TEXT NOT NULL, operator TEXT NOT NULL, ts REAL NOT NULL, action TEXT NOT NULL, "
    "message_ts REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS console_decisions_ts ON console_decisions (message_ts)",
    "CREATE TABLE IF NOT EXISTS console_campaigns (campaign TEXT PRIMARY KEY, "
    "status TEXT NOT NULL, operator TEXT NOT NULL, ts REAL NOT NULL)",
)


class SQLiteConsole:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._write(*((statement, ()) for statement in SCHEMA))

    @classmethod
    def open(cls, data_dir: str | Path) -> SQLiteConsole:
        return cls(connect(Path(data_dir) / "spimguard.db"))

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"console read failed: {exc}") from exc

    def _write(self, *statements: tuple[str, tuple[Any, ...]]) -> int:
        """Run the statements in one transaction; the last one's row count."""
        count = 0
        try:
            with self._conn:
                for sql, params in statements:
                    count = self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"console write failed: {exc}") from exc
        return count

    def save_operator(self, operator: Operator) -> None:
        self._write(("DELETE FROM console_operators WHERE name = ?", (operator.name,)),
                    ("INSERT INTO console_operators (name, role, password_hash, created) "
                     "VALUES (?, ?, ?, ?)", (operator.name, operator.role,
                                             operator.password_hash, operator.created)))

    def operator(self, name: str) -> Operator | None:
        rows = self._rows("SELECT name, role, password_hash, created FROM console_operators "
                          "WHERE name = ?", (name,))
        return Operator(*rows[0]) if rows else None

    def operators(self) -> list[Operator]:
        return [Operator(*r) for r in self._rows(
            "SELECT name, role, password_hash, created FROM console_operators ORDER BY name")]

    def save_session(self, session: Session) -> None:
        self._write(("DELETE FROM console_sessions WHERE expires < ?", (session.created,)),
                    ("INSERT INTO console_sessions (token_hash, operator, csrf, created, "
                     "expires) VALUES (?, ?, ?, ?, ?)", msgspec.structs.astuple(session)))

    def session(self, token_hash: str) -> Session | None:
        rows = self._rows("SELECT token_hash, operator, csrf, created, expires FROM "
                          "console_sessions WHERE token_hash = ?", (token_hash,))
        return Session(*rows[0]) if rows else None

    def drop_session(self, token_hash: str) -> None:
        self._write(("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,)))

    def audit(self, ts: float, operator: str, action: str, target: str, why: str = "",
              detail: str = "") -> None:
        self._write(("INSERT INTO console_audit (seq, ts, operator, action, target, why, "
                     "detail) SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ? FROM "
                     "console_audit", (ts, operator, action, target, why, detail)))

    def audit_log(self, limit: int = 200, action_prefix: str = "") -> list[AuditEntry]:
        like = action_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [AuditEntry(*r) for r in self._rows(
            "SELECT seq, ts, operator, action, target, why, detail FROM console_audit "
            "WHERE action LIKE ? ESCAPE '\\' ORDER BY seq DESC LIMIT ?", (like + "%", limit))]

    def add_note(self, note: Note) -> None:
        self._write(("INSERT INTO console_notes (account, ts, operator, text) VALUES "
                     "(?, ?, ?, ?)", msgspec.structs.astuple(note)))

    def notes(self, account: str) -> list[Note]:
        return [Note(*r) for r in self._rows(
            "SELECT account, ts, operator, text FROM console_notes WHERE account = ? "
            "ORDER BY ts DESC", (account,))]

    def save_appeal(self, appeal: AppealEntry) -> None:
        if not self._rows("SELECT 1 FROM console_appeals WHERE id = ?", (appeal.id,)):
            self._write(("INSERT INTO console_appeals (id, ts, account, message_id, text) "
                         "VALUES (?, ?, ?, ?, ?)", msgspec.structs.astuple(appeal)))

    def appeals(self, limit: int = 200) -> list[AppealEntry]:
        return [AppealEntry(*r) for r in self._rows(
            "SELECT id, ts, account, message_id, text FROM console_appeals "
            "ORDER BY ts DESC, id LIMIT ?", (limit,))]

    def save_release(self, message_id: str, sender: str, recipients: Sequence[str],
                     text: str | None, operator: str, ts: float) -> bool:
        if self._rows("SELECT 1 FROM console_releases WHERE message_id = ?", (message_id,)):
            return False
        self._write(("INSERT INTO console_releases (seq, message_id, sender, recipients, text, "
                     "operator, ts) SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ? FROM "
                     "console_releases", (message_id, sender,
                                          msgspec.json.encode(list(recipients)).decode(), text,
                                          operator, ts)))
        return True

    def releases(self, after: int = 0, limit: int = 100) -> list[Release]:
        rows = self._rows("SELECT seq, message_id, sender, recipients, text, operator, ts FROM "
                          "console_releases WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
        return [Release(r[0], r[1], r[2], tuple(msgspec.json.decode(r[3])), *r[4:])
                for r in rows]

    def save_decision(self, decision: Decision) -> None:
        self._write(("DELETE FROM console_decisions WHERE message_id = ?",
                     (decision.message_id,)),
                    ("INSERT INTO console_decisions (message_id, label, operator, ts, action, "
                     "message_ts) VALUES (?, ?, ?, ?, ?, ?)", msgspec.structs.astuple(decision)))

    def decisions(self, since: float) -> list[Decision]:
        return [Decision(*r) for r in self._rows(
            "SELECT message_id, label, operator, ts, action, message_ts FROM "
            "console_decisions WHERE message_ts >= ? ORDER BY message_ts", (since,))]

    def set_campaign_status(self, status: CampaignStatus) -> None:
        self._write(("DELETE FROM console_campaigns WHERE campaign = ?", (status.campaign,)),
                    ("INSERT INTO console_campaigns (campaign, status, operator, ts) VALUES "
                     "(?, ?, ?, ?)", msgspec.structs.astuple(status)))

    def campaign_statuses(self) -> dict[str, CampaignStatus]:
        return {r[0]: CampaignStatus(*r) for r in self._rows(
            "SELECT campaign, status, operator, ts FROM console_campaigns")}

    def close(self) -> None:
        self._conn.close()
