"""What the two SQL console stores share: every statement and the row mapping.

The tables are made by the records migrations (``records/migrations/*/…_console.sql``),
so ``spimguard db upgrade`` readies a shared PostgreSQL for the console too. The
statements are plain SQL with ``?`` placeholders (psycopg's ``%s`` are swapped in)
and ``ON CONFLICT`` upserts, which both engines read alike.

Cursors (audit, releases) are ``MAX + 1`` inside the insert rather than a
sequence: a sequence hands out numbers in the order transactions start, not the
order they commit, so an IM server polling ``after=7`` could see 8 before a
slower 7 commits and skip 7 for ever. ``_serialised(table)`` names what the
dialect needs to make ``MAX + 1`` safe among writers (PostgreSQL locks the
table against other writers; SQLite already has one writer at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

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

Statement = tuple[str, tuple[Any, ...]]


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching ``prefix`` literally (``_`` and ``%`` are no wildcards)."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SQLConsole:
    """The console store over a dialect's ``_rows`` (a read) and ``_write`` (statements
    in one transaction, returning the last one's row count)."""

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self, *statements: Statement) -> int:
        raise NotImplementedError

    def _serialised(self, table: str) -> tuple[Statement, ...]:
        """Statements that make this transaction the table's only writer until it ends."""
        return ()

    def save_operator(self, operator: Operator) -> None:
        self._write(("INSERT INTO console_operators (name, role, password_hash, created) "
                     "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET role = "
                     "excluded.role, password_hash = excluded.password_hash, created = "
                     "excluded.created", msgspec.structs.astuple(operator)))

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
        self._write(*self._serialised("console_audit"),
                    ("INSERT INTO console_audit (seq, ts, operator, action, target, why, "
                     "detail) SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ? FROM "
                     "console_audit", (ts, operator, action, target, why, detail)))

    def audit_log(self, limit: int = 200, action_prefix: str = "") -> list[AuditEntry]:
        return [AuditEntry(*r) for r in self._rows(
            "SELECT seq, ts, operator, action, target, why, detail FROM console_audit "
            "WHERE action LIKE ? ESCAPE '\\' ORDER BY seq DESC LIMIT ?",
            (_like_prefix(action_prefix), limit))]

    def add_note(self, note: Note) -> None:
        self._write(("INSERT INTO console_notes (account, ts, operator, text) VALUES "
                     "(?, ?, ?, ?)", msgspec.structs.astuple(note)))

    def notes(self, account: str) -> list[Note]:
        # A note has no id: notes of one time by what they are (``ConsoleStore.notes``).
        return [Note(*r) for r in self._rows(
            "SELECT account, ts, operator, text FROM console_notes WHERE account = ? "
            "ORDER BY ts DESC, operator, text", (account,))]

    def save_appeal(self, appeal: AppealEntry) -> None:
        self._write(("INSERT INTO console_appeals (id, ts, account, message_id, text) "
                     "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                     msgspec.structs.astuple(appeal)))

    def appeals(self, limit: int = 200) -> list[AppealEntry]:
        return [AppealEntry(*r) for r in self._rows(
            "SELECT id, ts, account, message_id, text FROM console_appeals "
            "ORDER BY ts DESC, id LIMIT ?", (limit,))]

    def save_release(self, message_id: str, sender: str, recipients: Sequence[str],
                     text: str | None, operator: str, ts: float) -> bool:
        # "WHERE true": SQLite reads an INSERT … SELECT … ON CONFLICT only after a WHERE.
        return self._write(*self._serialised("console_releases"), (
            "INSERT INTO console_releases (seq, message_id, sender, recipients, text, "
            "operator, ts) SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ? FROM "
            "console_releases WHERE true ON CONFLICT (message_id) DO NOTHING",
            (message_id, sender, msgspec.json.encode(list(recipients)).decode(), text,
             operator, ts))) == 1

    def releases(self, after: int = 0, limit: int = 100) -> list[Release]:
        rows = self._rows("SELECT seq, message_id, sender, recipients, text, operator, ts FROM "
                          "console_releases WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
        return [Release(int(r[0]), r[1], r[2], tuple(msgspec.json.decode(r[3])), *r[4:])
                for r in rows]

    def save_decision(self, decision: Decision) -> None:
        self._write(("INSERT INTO console_decisions (message_id, label, operator, ts, action, "
                     "message_ts) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE "
                     "SET label = excluded.label, operator = excluded.operator, ts = "
                     "excluded.ts, action = excluded.action, message_ts = excluded.message_ts",
                     msgspec.structs.astuple(decision)))

    def decisions(self, since: float) -> list[Decision]:
        return [Decision(*r) for r in self._rows(
            "SELECT message_id, label, operator, ts, action, message_ts FROM "
            "console_decisions WHERE message_ts >= ? ORDER BY message_ts, message_id",
            (since,))]

    def set_campaign_status(self, status: CampaignStatus) -> None:
        self._write(("INSERT INTO console_campaigns (campaign, status, operator, ts) VALUES "
                     "(?, ?, ?, ?) ON CONFLICT (campaign) DO UPDATE SET status = "
                     "excluded.status, operator = excluded.operator, ts = excluded.ts",
                     msgspec.structs.astuple(status)))

    def campaign_statuses(self) -> dict[str, CampaignStatus]:
        return {r[0]: CampaignStatus(*r) for r in self._rows(
            "SELECT campaign, status, operator, ts FROM console_campaigns")}

    def login_failures(self, keys: Sequence[str], since: float) -> dict[str, int]:
        if not keys:
            return {}
        marks = ", ".join("?" * len(keys))
        return {k: int(n) for k, n in self._rows(
            f"SELECT key, COUNT(*) FROM console_login_failures WHERE key IN ({marks}) AND "
            "ts >= ? GROUP BY key", (*keys, since))}

    def add_login_failure(self, keys: Sequence[str], ts: float, forget_before: float) -> None:
        self._write(("DELETE FROM console_login_failures WHERE ts < ?", (forget_before,)),
                    *(("INSERT INTO console_login_failures (key, ts) VALUES (?, ?)", (k, ts))
                      for k in keys))

    def clear_login_failures(self, key: str) -> None:
        self._write(("DELETE FROM console_login_failures WHERE key = ?", (key,)))

    def cursor(self, name: str) -> int:
        rows = self._rows("SELECT seq FROM console_cursors WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def advance_cursor(self, name: str, seq: int) -> None:
        self._write(("INSERT INTO console_cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) "
                     "DO UPDATE SET seq = excluded.seq WHERE console_cursors.seq < excluded.seq",
                     (name, seq)))
