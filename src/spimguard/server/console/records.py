"""What the console keeps: operators, sessions, the audit log, notes, appeals, releases,
decisions and campaign status, behind one small interface (``ConsoleStore``).

``MemoryConsole`` is the fake, ``SQLiteConsole`` the embedded store and
``PostgresConsole`` the one every node shares; the two SQL stores run the same
statements (``sql.py``), and ``conformance.check_console`` is what all three share.
Every write commits at once (operator actions are few and
must not ride on the engine's transaction). Times here are wall-clock seconds:
they are operator actions, not events, and never feed a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import msgspec

Role = Literal["viewer", "moderator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "moderator", "admin")
CAMPAIGN_STATUSES = ("open", "reported to registrar", "taken down")


class Operator(msgspec.Struct, frozen=True):
    name: str
    role: Role
    password_hash: str  # argon2id, PHC string
    created: float


class Session(msgspec.Struct, frozen=True):
    token_hash: str  # SHA-256 of the cookie value: a leaked table opens no session
    operator: str
    csrf: str
    created: float
    expires: float


class AuditEntry(msgspec.Struct, frozen=True):
    seq: int
    ts: float
    operator: str
    action: str  # e.g. "decide.spam", "account.restore", "lists.add"
    target: str
    why: str = ""
    detail: str = ""


class Note(msgspec.Struct, frozen=True):
    account: str
    ts: float
    operator: str
    text: str


class AppealEntry(msgspec.Struct, frozen=True):
    id: str
    ts: float  # event time of the appeal
    account: str
    message_id: str
    text: str = ""


class Release(msgspec.Struct, frozen=True):
    """A held message an operator released as ham, for the IM server to deliver."""

    seq: int  # the cursor of ``GET /v1/releases?after=``
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    text: str | None  # when the verdict log or the campaign evidence kept it
    operator: str
    ts: float


class Decision(msgspec.Struct, frozen=True):
    message_id: str
    label: Literal["spam", "ham"]
    operator: str
    ts: float
    action: str  # the verdict's action when the operator decided (hold, block, ...)
    message_ts: float  # the message's event time: rates are per message judged then


class CampaignStatus(msgspec.Struct, frozen=True):
    campaign: str
    status: str
    operator: str
    ts: float


class ConsoleStore(Protocol):
    def save_operator(self, operator: Operator) -> None:
        """Add the operator, or replace its role and password."""

    def operator(self, name: str) -> Operator | None: ...

    def operators(self) -> Sequence[Operator]: ...

    def save_session(self, session: Session) -> None: ...

    def session(self, token_hash: str) -> Session | None: ...

    def drop_session(self, token_hash: str) -> None: ...

    def audit(self, ts: float, operator: str, action: str, target: str, why: str = "",
              detail: str = "") -> None: ...

    def audit_log(self, limit: int = 200, action_prefix: str = "") -> Sequence[AuditEntry]:
        """Newest first; ``action_prefix`` keeps e.g. only ``lists.`` entries."""

    def add_note(self, note: Note) -> None: ...

    def notes(self, account: str) -> Sequence[Note]:
        """Newest first; notes of one time by their operator, then their text (code
        points): a note has no id, so what it is orders it, and every store lists the same
        notes in the same order (not by where a store happened to put them)."""

    def save_appeal(self, appeal: AppealEntry) -> None:
        """Kept once per id (a retried event adds nothing)."""

    def appeals(self, limit: int = 200) -> Sequence[AppealEntry]:
        """Newest first, appeals of one time by id (code points)."""

    def save_release(self, message_id: str, sender: str, recipients: Sequence[str],
                     text: str | None, operator: str, ts: float) -> bool:
        """Queue a release once per message; False when it was already released."""

    def releases(self, after: int = 0, limit: int = 100) -> Sequence[Release]:
        """Releases with a cursor above ``after``, oldest first."""

    def save_decision(self, decision: Decision) -> None:
        """The operator's latest word on a message (replaces an earlier one)."""

    def decisions(self, since: float) -> Sequence[Decision]:
        """Decisions on messages sent (event time) at or after ``since``, oldest message
        first, messages of one time by id (code points)."""

    def set_campaign_status(self, status: CampaignStatus) -> None: ...

    def campaign_statuses(self) -> dict[str, CampaignStatus]: ...

    def login_failures(self, keys: Sequence[str], since: float) -> dict[str, int]:
        """Failed logins at or after ``since`` per key (keys without any are left out)."""

    def add_login_failure(self, keys: Sequence[str], ts: float, forget_before: float) -> None:
        """Count a failed login against each key; failures before ``forget_before`` may go."""

    def clear_login_failures(self, key: str) -> None: ...

    def cursor(self, name: str) -> int:
        """How far the reader ``name`` has gone in the release queue (0: not started)."""

    def advance_cursor(self, name: str, seq: int) -> None:
        """Move ``name``'s cursor to ``seq``; never back (two nodes may both advance it)."""

    def close(self) -> None: ...


__all__ = ["CAMPAIGN_STATUSES", "ROLES", "AppealEntry", "AuditEntry", "CampaignStatus",
           "ConsoleStore", "Decision", "Note", "Operator", "Release", "Role", "Session"]
