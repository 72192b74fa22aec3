"""Records in the embedded SQLite file (shared with state: one commit per request)."""

from __future__ import annotations

import sqlite3

import msgspec

from ..errors import RecordsUnavailable
from . import CampaignMessage, LogEntry, ReportEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdict_log (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, type TEXT NOT NULL, account TEXT NOT NULL,
    session TEXT NOT NULL, action TEXT NOT NULL, score REAL NOT NULL, signals TEXT NOT NULL,
    text_sha256 TEXT NOT NULL, text TEXT, fingerprint TEXT NOT NULL, domains TEXT NOT NULL,
    result BLOB NOT NULL, keep BLOB NOT NULL DEFAULT x'');
CREATE INDEX IF NOT EXISTS verdict_log_ts ON verdict_log (ts);
CREATE INDEX IF NOT EXISTS verdict_log_account ON verdict_log (account, ts)
    WHERE action NOT IN ('', 'deliver');
CREATE INDEX IF NOT EXISTS verdict_log_session ON verdict_log (account, session, ts);
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, reporter TEXT NOT NULL, message_id TEXT NOT NULL,
    label TEXT NOT NULL, text TEXT NOT NULL, sender TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reports_message ON reports (message_id);
CREATE INDEX IF NOT EXISTS reports_ts ON reports (ts);
CREATE TABLE IF NOT EXISTS campaign_messages (
    campaign TEXT NOT NULL, id TEXT NOT NULL, ts REAL NOT NULL, sender TEXT NOT NULL,
    session TEXT NOT NULL, client TEXT NOT NULL, ip TEXT NOT NULL, recipients TEXT NOT NULL,
    text TEXT NOT NULL, action TEXT NOT NULL, domains TEXT NOT NULL,
    PRIMARY KEY (campaign, id));
CREATE INDEX IF NOT EXISTS campaign_messages_ts ON campaign_messages (ts);
"""
_COLUMNS = ("id, ts, type, account, session, action, score, signals, text_sha256, text, "
            "fingerprint, domains, result, keep")


def _entry(row: tuple) -> LogEntry:
    return LogEntry(id=row[0], ts=row[1], type=row[2], account=row[3], session=row[4],
                    action=row[5], score=row[6], signals=tuple(row[7].split()) if row[7] else (),
                    text_sha256=row[8], text=row[9], fingerprint=row[10],
                    domains=tuple(row[11].split()) if row[11] else (), result=row[12],
                    keep=msgspec.msgpack.decode(row[13]) if row[13] else {})


class SQLiteRecords:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        try:
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"cannot create the record tables: {exc}") from exc

    def _query(self, sql: str, params: tuple) -> list[tuple]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"record read failed: {exc}") from exc

    def result(self, event_id: str) -> bytes | None:
        rows = self._query("SELECT result FROM verdict_log WHERE id = ?", (event_id,))
        return rows[0][0] if rows else None

    def message(self, message_id: str) -> LogEntry | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM verdict_log WHERE id = ? AND type = "
                           "'message'", (message_id,))
        return _entry(rows[0]) if rows else None

    def save(self, entry: LogEntry) -> None:
        try:
            self._conn.execute(
                f"INSERT OR IGNORE INTO verdict_log ({_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry.id, entry.ts, entry.type, entry.account, entry.session, entry.action,
                 entry.score, " ".join(entry.signals), entry.text_sha256, entry.text,
                 entry.fingerprint, " ".join(entry.domains), entry.result,
                 msgspec.msgpack.encode(entry.keep) if entry.keep else b""))
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"record write failed: {exc}") from exc

    def save_report(self, report: ReportEntry) -> None:
        try:
            self._conn.execute(
                "INSERT OR IGNORE INTO reports (id, ts, reporter, message_id, label, text, "
                "sender) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (report.id, report.ts, report.reporter, report.message_id, report.label,
                 report.text, report.sender))
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"record write failed: {exc}") from exc

    def reports(self, message_id: str) -> list[ReportEntry]:
        rows = self._query("SELECT id, ts, reporter, message_id, label, text, sender FROM "
                           "reports WHERE message_id = ? ORDER BY ts", (message_id,))
        return [ReportEntry(*row) for row in rows]

    def latest_reports(self, limit: int = 200) -> list[ReportEntry]:
        rows = self._query("SELECT id, ts, reporter, message_id, label, text, sender FROM "
                           "reports ORDER BY ts DESC, id DESC LIMIT ?", (limit,))
        return [ReportEntry(*row) for row in rows]

    def recent(self, account: str, limit: int = 20) -> list[LogEntry]:
        rows = self._query(f"SELECT {_COLUMNS} FROM verdict_log WHERE account = ? AND action "
                           "NOT IN ('', 'deliver') ORDER BY ts DESC LIMIT ?", (account, limit))
        return [_entry(r) for r in rows]

    def timeline(self, account: str, session: str, since: float,
                 limit: int = 200) -> list[LogEntry]:
        if session:
            rows = self._query(f"SELECT {_COLUMNS} FROM verdict_log WHERE account = ? AND "
                               "session = ? AND ts >= ? ORDER BY ts LIMIT ?",
                               (account, session, since, limit))
        else:
            rows = self._query(f"SELECT {_COLUMNS} FROM verdict_log WHERE account = ? AND "
                               "ts >= ? ORDER BY ts LIMIT ?", (account, since, limit))
        return [_entry(r) for r in rows]

    def stopped(self, since: float, limit: int = 500) -> list[LogEntry]:
        rows = self._query(f"SELECT {_COLUMNS} FROM verdict_log WHERE ts >= ? AND type = "
                           "'message' AND action IN ('hold', 'block') ORDER BY ts DESC, id DESC "
                           "LIMIT ?", (since, limit))
        return [_entry(r) for r in rows]

    def hourly(self, since: float) -> list[tuple[int, str, int]]:
        rows = self._query("SELECT CAST(ts / 3600 AS INTEGER) * 3600 AS hour, action, COUNT(*) "
                           "FROM verdict_log WHERE ts >= ? AND type = 'message' "
                           "GROUP BY hour, action ORDER BY hour, action", (since,))
        return [(int(h), a, int(n)) for h, a, n in rows]

    def save_campaign_message(self, message: CampaignMessage) -> None:
        try:
            self._conn.execute(
                "INSERT OR IGNORE INTO campaign_messages (campaign, id, ts, sender, session, "
                "client, ip, recipients, text, action, domains) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (message.campaign, message.id, message.ts, message.sender, message.session,
                 message.client, message.ip, msgspec.json.encode(message.recipients).decode(),
                 message.text, message.action, " ".join(message.domains)))
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"record write failed: {exc}") from exc

    def campaign_messages(self, campaign: str) -> list[CampaignMessage]:
        rows = self._query("SELECT campaign, id, ts, sender, session, client, ip, recipients, "
                           "text, action, domains FROM campaign_messages WHERE campaign = ? "
                           "ORDER BY ts, id", (campaign,))
        return [CampaignMessage(*row[:7], tuple(msgspec.json.decode(row[7])), row[8], row[9],
                                tuple(row[10].split())) for row in rows]

    def campaign_ids(self, since: float = 0.0) -> list[str]:
        rows = self._query("SELECT campaign FROM campaign_messages GROUP BY campaign "
                           "HAVING MAX(ts) >= ? ORDER BY MAX(ts) DESC", (since,))
        return [row[0] for row in rows]

    def purge(self, before: float) -> int:
        try:
            dropped = self._conn.execute("DELETE FROM verdict_log WHERE ts < ?",
                                         (before,)).rowcount
            dropped += self._conn.execute("DELETE FROM reports WHERE ts < ?", (before,)).rowcount
            dropped += self._conn.execute("DELETE FROM campaign_messages WHERE ts < ?",
                                          (before,)).rowcount
            self._conn.commit()
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"record purge failed: {exc}") from exc
        return dropped

    def commit(self) -> None:
        try:
            self._conn.commit()
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"record commit failed: {exc}") from exc

    def rollback(self) -> None:
        try:
            self._conn.rollback()
        except sqlite3.Error as exc:
            raise RecordsUnavailable(f"record rollback failed: {exc}") from exc

    def close(self) -> None:
        self._conn.close()


__all__ = ["SQLiteRecords"]
