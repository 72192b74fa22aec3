"""What the two SQL record stores share: statements, row mapping and versioned migrations.

SQLite and PostgreSQL hold the same tables with the same encodings (signals and
domains space-joined, recipients as JSON, ``keep`` as msgpack), so rows map to
records one way. Statements are written with ``?`` placeholders and turned into
``%s`` for psycopg; both engines understand ``ON CONFLICT DO NOTHING``. One difference:
SQLite's verdict log is in time order by its rowid (``at``, migration 0004) and has no
index on ``ts``, so it writes its own rows and reads by time its own way
(``records/sqlite.py``); PostgreSQL's keeps the index.

Migrations are numbered SQL files under ``migrations/<dialect>/`` (``0001_x.sql``).
A store records the last one applied (``spimguard_schema``) and applies the
rest in order: SQLite at open (it is embedded, one process), PostgreSQL through
``spimguard db upgrade`` (one operator step for many nodes, under an advisory
lock so two upgrades never interleave).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import msgspec

from . import Answer, CampaignMessage, LogEntry, ReportEntry

COLUMNS = ("id, ts, type, account, session, action, score, signals, text_sha256, text, "
           "fingerprint, domains, result, keep, digest")
REPORT_COLUMNS = "id, ts, reporter, message_id, label, text, sender"
CAMPAIGN_COLUMNS = ("campaign, id, ts, sender, session, client, ip, recipients, text, action, "
                    "domains")


# PostgreSQL's; SQLite's writes its rowid too, and its text NULL by the statement where
# the entry keeps none (``records/sqlite.py``, ``textless_row``).
INSERT_LOG = (f"INSERT INTO verdict_log ({COLUMNS}) VALUES ({', '.join('?' * 15)}) "
              "ON CONFLICT DO NOTHING")
_TEXT = COLUMNS.split(", ").index("text")
INSERT_REPORT = (f"INSERT INTO reports ({REPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT DO NOTHING")
INSERT_CAMPAIGN = (f"INSERT INTO campaign_messages ({CAMPAIGN_COLUMNS}) VALUES "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
MESSAGE = f"SELECT {COLUMNS} FROM verdict_log WHERE id = ? AND type = 'message'"
REPORTS = f"SELECT {REPORT_COLUMNS} FROM reports WHERE message_id = ? ORDER BY ts, id"
RECENT = (f"SELECT {COLUMNS} FROM verdict_log WHERE account = ? AND action NOT IN ('', "
          "'deliver') ORDER BY ts DESC, id LIMIT ?")
TIMELINE_SESSION = (f"SELECT {COLUMNS} FROM verdict_log WHERE account = ? AND session = ? AND "
                    "ts >= ? ORDER BY ts, id LIMIT ?")
TIMELINE = (f"SELECT {COLUMNS} FROM verdict_log WHERE account = ? AND ts >= ? ORDER BY ts, id "
            "LIMIT ?")
LATEST_REPORTS = f"SELECT {REPORT_COLUMNS} FROM reports ORDER BY ts DESC, id DESC LIMIT ?"
STOPPED = (f"SELECT {COLUMNS} FROM verdict_log WHERE ts >= ? AND type = 'message' AND action "
           "IN ('hold', 'block') ORDER BY ts DESC, id DESC LIMIT ?")
STOPPED_ACCOUNTS = ("SELECT account FROM verdict_log WHERE ts >= ? AND type = 'message' AND "
                    "action IN ('hold', 'block') GROUP BY account ORDER BY MAX(ts) DESC, "
                    "account LIMIT ?")
# Messages per hour and action; ``{hour}`` is the dialect's whole hour of ``ts`` (SQLite's
# CAST truncates, PostgreSQL's rounds: it takes FLOOR).
HOURLY = ("SELECT {hour} * 3600 AS hour, action, COUNT(*) FROM verdict_log WHERE ts >= ? AND "
          "type = 'message' GROUP BY hour, action ORDER BY hour, action")
CAMPAIGN = (f"SELECT {CAMPAIGN_COLUMNS} FROM campaign_messages WHERE campaign = ? "
            "ORDER BY ts, id")
CAMPAIGN_IDS = ("SELECT campaign FROM campaign_messages GROUP BY campaign HAVING MAX(ts) >= ? "
                "ORDER BY MAX(ts) DESC, campaign")
PURGE = ("DELETE FROM verdict_log WHERE ts < ?", "DELETE FROM reports WHERE ts < ?",
         "DELETE FROM campaign_messages WHERE ts < ?")
SCHEMA_TABLE = ("CREATE TABLE IF NOT EXISTS spimguard_schema (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL)")


def answers_query(count: int) -> str:
    """The verdicts given for ``count`` event ids, in one statement."""
    return f"SELECT id, digest, result FROM verdict_log WHERE id IN ({', '.join('?' * count)})"


def psycopg(statement: str) -> str:
    """A statement with psycopg's placeholders."""
    return statement.replace("?", "%s")


def entry(row: Sequence[Any]) -> LogEntry:
    return LogEntry(id=row[0], ts=row[1], type=row[2], account=row[3], session=row[4],
                    action=row[5], score=row[6], signals=tuple(row[7].split()),
                    text_sha256=row[8], text=row[9], fingerprint=row[10],
                    domains=tuple(row[11].split()), result=bytes(row[12]),
                    keep=msgspec.msgpack.decode(row[13]) if row[13] else {}, digest=row[14])


def log_row(e: LogEntry) -> tuple[Any, ...]:
    """A log entry's row. SQLite's module binds an exact ``str``, ``int``, ``float`` or
    ``bytearray`` as it is, and passes any other value through its adapters first (~3,300
    instructions a value: ``state/sqlite.py``, ``_PUT_VALUE``): so the blobs are
    bytearrays, not ``bytes`` (psycopg writes either as ``bytea``, and both read back
    ``bytes``), and the time a ``float``, not the event's ``EventTime``. A text the log does
    not keep (None, nearly every row) is left out of ``textless_row``'s row."""
    return (e.id, float(e.ts), e.type, e.account, e.session, e.action, e.score,
            " ".join(e.signals), e.text_sha256, e.text, e.fingerprint, " ".join(e.domains),
            bytearray(e.result),
            bytearray(msgspec.msgpack.encode(e.keep)) if e.keep else bytearray(), e.digest)


def textless_row(e: LogEntry) -> tuple[Any, ...]:
    """``log_row`` without its text, for SQLite's insert of an entry whose text is None (the
    statement writes the NULL, which SQLite's module would adapt as a value)."""
    row = log_row(e)
    return row[:_TEXT] + row[_TEXT + 1:]


def report_row(r: ReportEntry) -> tuple[Any, ...]:
    return (r.id, r.ts, r.reporter, r.message_id, r.label, r.text, r.sender)


def campaign_row(m: CampaignMessage) -> tuple[Any, ...]:
    return (m.campaign, m.id, m.ts, m.sender, m.session, m.client, m.ip,
            msgspec.json.encode(m.recipients).decode(), m.text, m.action, " ".join(m.domains))


def campaign_message(row: Sequence[Any]) -> CampaignMessage:
    # The row holds ``campaign_row``'s 11 columns: mypy counts no unpacked slice.
    return CampaignMessage(*row[:7], tuple(msgspec.json.decode(row[7])),  # type: ignore[call-arg]
                           row[8], row[9],
                           tuple(row[10].split()))


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(version, name, SQL) of every migration of ``dialect``, oldest first."""
    folder = resources.files("spimguard.records").joinpath("migrations", dialect)
    found = [(int(f.name.split("_", 1)[0]), f.name, f.read_text("utf-8"))
             for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted(found)


def latest(dialect: str) -> int:
    return migrations(dialect)[-1][0]


class SQLReads:
    """The reads both SQL stores answer alike, over their own ``_query`` (``?`` statements),
    ``_CHUNK`` (the ids one statement may ask for), ``_HOUR`` (the dialect's whole hour of
    ``ts``) and the reads by time, which a dialect may answer from another order than
    ``ts``'s index (``_STOPPED``, ``_STOPPED_ACCOUNTS``, ``_HOURLY``: SQLite's rowids,
    ``records/sqlite.py``), each with the parameters of ``STOPPED``, ``STOPPED_ACCOUNTS``
    and ``HOURLY``. What the database holds: a store's
    committed view (``RecordStore.committed``) is one of these on its own connection."""

    _CHUNK = 1000
    _HOUR = ""
    _STOPPED = STOPPED
    _STOPPED_ACCOUNTS = STOPPED_ACCOUNTS
    _HOURLY = HOURLY

    def _query(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def answers(self, event_ids: Sequence[str]) -> dict[str, Answer]:
        found: dict[str, Answer] = {}
        ids = list(dict.fromkeys(event_ids))
        for start in range(0, len(ids), self._CHUNK):
            chunk = tuple(ids[start:start + self._CHUNK])
            for row in self._query(answers_query(len(chunk)), chunk):
                found[row[0]] = Answer(row[1], bytes(row[2]))
        return found

    def message(self, message_id: str) -> LogEntry | None:
        rows = self._query(MESSAGE, (message_id,))
        return entry(rows[0]) if rows else None

    def reports(self, message_id: str) -> list[ReportEntry]:
        return [ReportEntry(*row) for row in self._query(REPORTS, (message_id,))]

    def latest_reports(self, limit: int = 200) -> list[ReportEntry]:
        return [ReportEntry(*row) for row in self._query(LATEST_REPORTS, (limit,))]

    def recent(self, account: str, limit: int = 20) -> list[LogEntry]:
        return [entry(r) for r in self._query(RECENT, (account, limit))]

    def timeline(self, account: str, session: str, since: float,
                 limit: int = 200) -> list[LogEntry]:
        rows = (self._query(TIMELINE_SESSION, (account, session, since, limit)) if session
                else self._query(TIMELINE, (account, since, limit)))
        return [entry(r) for r in rows]

    def stopped(self, since: float, limit: int = 500) -> list[LogEntry]:
        return [entry(r) for r in self._query(self._STOPPED, (since, limit))]

    def stopped_accounts(self, since: float, limit: int = 100_000) -> list[str]:
        return [row[0] for row in self._query(self._STOPPED_ACCOUNTS, (since, limit))]

    def hourly(self, since: float) -> list[tuple[int, str, int]]:
        rows = self._query(self._HOURLY.format(hour=self._HOUR), (since,))
        return [(int(h), a, int(n)) for h, a, n in rows]

    def campaign_messages(self, campaign: str) -> list[CampaignMessage]:
        return [campaign_message(row) for row in self._query(CAMPAIGN, (campaign,))]

    def campaign_ids(self, since: float = 0.0) -> list[str]:
        return [row[0] for row in self._query(CAMPAIGN_IDS, (since,))]
