"""Durable records: the verdict log (which also makes event ids idempotent) and reports.

``RecordStore`` is the seam; ``MemoryRecords`` is its fake, ``SQLiteRecords``
the embedded default and ``PostgresRecords`` the store many nodes share
(``conformance.check_records`` is the behaviour all three share). The engine reads
its batch's saves before their commit; the console, the API and the CLI read
``committed()`` (``RecordReads``), which shows only what was committed. A report
usually names only a message id, hours later, so the log keeps what learning
needs (sender, session, fingerprint, domains) and the text itself only when
``records.keep_text`` is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec


class LogEntry(msgspec.Struct, frozen=True, gc=False):
    """One judged event as the verdict log keeps it.

    Records hold strings, numbers, tuples of strings and ``keep`` (names to bytes): no
    record can be part of a reference cycle, so none is tracked by the cyclic garbage
    collector (``gc=False``, as the state primitives). A store that keeps them in memory
    (``MemoryRecords``: every entry of the log) then adds nothing to what each collection
    walks: tracked, the log's entries were most of the objects the collection after each
    batch walked, and the full collections its growth set off took ~7 % of the engine's
    CPU with no detector (``benchmarks/engine.py``, memory backend)."""

    id: str
    ts: float
    type: str
    account: str
    digest: str = ""  # hash of the event's canonical body: a repeated id must match it
    session: str = ""
    action: str = ""
    score: float = 0.0
    signals: tuple[str, ...] = ()
    text_sha256: str = ""
    text: str | None = None
    fingerprint: str = ""
    domains: tuple[str, ...] = ()
    result: bytes = b""  # the JSON answer given, returned again for a repeated id
    keep: dict[str, bytes] = {}  # per detector: what it needs to learn from a later report


class ReportEntry(msgspec.Struct, frozen=True, gc=False):
    id: str
    ts: float
    reporter: str
    message_id: str
    label: str
    text: str = ""
    sender: str = ""  # the reported message's sender, when the log still has it


class CampaignMessage(msgspec.Struct, frozen=True, gc=False):
    """A message kept as campaign evidence (its text too: it is spim, and the evidence)."""

    campaign: str
    id: str
    ts: float
    sender: str
    session: str
    client: str
    ip: str
    recipients: tuple[str, ...]
    text: str
    action: str
    domains: tuple[str, ...] = ()


class Answer(msgspec.Struct, frozen=True):
    """What was answered for an event id, and the digest of the event that got it: a
    struct, made in C (the engine makes one an event it judges; a NamedTuple's ``__new__``
    is a Python lambda's frame: ``calls41``)."""

    digest: str
    result: bytes


class RecordReads(Protocol):
    """What the log answers: the engine's reads while judging (``answers``, ``message``),
    and the console's, the API's and the CLI's through ``RecordStore.committed``."""

    def answers(self, event_ids: Sequence[str]) -> dict[str, Answer]:
        """The answers already given for those of ``event_ids`` that were seen (one query)."""

    def message(self, message_id: str) -> LogEntry | None: ...

    def reports(self, message_id: str) -> Sequence[ReportEntry]: ...

    def latest_reports(self, limit: int = 200) -> Sequence[ReportEntry]:
        """The newest reports, newest first."""

    def recent(self, account: str, limit: int = 20) -> Sequence[LogEntry]:
        """The account's latest entries that were not plain deliveries, newest first."""

    def timeline(self, account: str, session: str, since: float,
                 limit: int = 200) -> Sequence[LogEntry]:
        """Everything logged for the account's session (all sessions if "") since ``since``,
        oldest first: an incident's logins, contact reads, messages and verdicts."""

    def stopped(self, since: float, limit: int = 500) -> Sequence[LogEntry]:
        """Messages held or blocked at or after ``since``, newest first (the review queue)."""

    def stopped_accounts(self, since: float, limit: int = 100_000) -> Sequence[str]:
        """The accounts with a message held or blocked at or after ``since``, the latest
        stopped first (ties by name): the console's account search, which ``stopped``'s
        newest messages would blind to every account of a large campaign's week but the
        last few thousand messages' senders."""

    def hourly(self, since: float) -> Sequence[tuple[int, str, int]]:
        """(hour start, action, messages) for every hour with messages since ``since``."""

    def campaign_messages(self, campaign: str) -> Sequence[CampaignMessage]:
        """A campaign's messages, oldest first."""

    def campaign_ids(self, since: float = 0.0) -> Sequence[str]:
        """Campaigns with a message at or after ``since``, most recent first."""


class RecordStore(RecordReads, Protocol):
    """The engine's store: its own reads see the batch's saves before the commit (a repeated
    id, a report about a message of the same batch); ``committed`` is for everyone else."""

    def committed(self) -> RecordReads:
        """The reads of other threads (the console, the API, the CLI): only what was
        committed, and without waiting for the engine's batch, which may still roll back
        (its event answered with an error, and sent again). SQLite's is a read-only
        connection of its own; PostgreSQL's the pool's, without the batch's saves; the
        memory fake's the store itself (it shows what is saved, committed or not)."""

    def save(self, entry: LogEntry) -> None: ...

    def save_report(self, report: ReportEntry) -> None: ...

    def save_campaign_message(self, message: CampaignMessage) -> None: ...

    def purge(self, before: float) -> int:
        """Drop entries with event time before ``before``; returns how many."""

    def commit(self) -> None: ...

    def rollback(self) -> None:
        """Forget what was saved since the last commit, where the store can."""

    def ping(self) -> None:
        """Prove the store can still take a write now (``/healthz``); raise if not."""

    def close(self) -> None: ...


__all__ = ["Answer", "CampaignMessage", "LogEntry", "RecordReads", "RecordStore", "ReportEntry"]
