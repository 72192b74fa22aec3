"""The console store in process memory: the fake for tests and the memory backend."""

from __future__ import annotations

from collections.abc import Sequence

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


class MemoryConsole:
    def __init__(self) -> None:
        self._operators: dict[str, Operator] = {}
        self._sessions: dict[str, Session] = {}
        self._audit: list[AuditEntry] = []
        self._notes: list[Note] = []
        self._appeals: dict[str, AppealEntry] = {}
        self._releases: dict[str, Release] = {}
        self._decisions: dict[str, Decision] = {}
        self._statuses: dict[str, CampaignStatus] = {}
        self._cursors: dict[str, int] = {}
        self._failures: dict[str, list[float]] = {}

    def save_operator(self, operator: Operator) -> None:
        self._operators[operator.name] = operator

    def operator(self, name: str) -> Operator | None:
        return self._operators.get(name)

    def operators(self) -> list[Operator]:
        return sorted(self._operators.values(), key=lambda o: o.name)

    def save_session(self, session: Session) -> None:
        self._sessions[session.token_hash] = session

    def session(self, token_hash: str) -> Session | None:
        return self._sessions.get(token_hash)

    def drop_session(self, token_hash: str) -> None:
        self._sessions.pop(token_hash, None)

    def audit(self, ts: float, operator: str, action: str, target: str, why: str = "",
              detail: str = "") -> None:
        # ``float(ts)``: an event's time is an ``EventTime`` (a float's subclass) that
        # msgspec does not encode; SQLite's and PostgreSQL's rows read back as floats, this
        # store keeps the object it was given (the audit's JSON export answered 500 after
        # a challenge came through ``/v1/events``: ``review42``).
        self._audit.append(AuditEntry(len(self._audit) + 1, float(ts), operator, action, target,
                                      why, detail))

    def audit_log(self, limit: int = 200, action_prefix: str = "") -> list[AuditEntry]:
        found = [e for e in reversed(self._audit) if e.action.startswith(action_prefix)]
        return found[:limit]

    def add_note(self, note: Note) -> None:
        self._notes.append(note)

    def notes(self, account: str) -> list[Note]:
        return sorted((n for n in self._notes if n.account == account),
                      key=lambda n: (-n.ts, n.operator, n.text))

    def save_appeal(self, appeal: AppealEntry) -> None:
        self._appeals.setdefault(appeal.id, msgspec.structs.replace(appeal, ts=float(appeal.ts)))

    def appeals(self, limit: int = 200) -> list[AppealEntry]:
        return sorted(self._appeals.values(), key=lambda a: (-a.ts, a.id))[:limit]

    def save_release(self, message_id: str, sender: str, recipients: Sequence[str],
                     text: str | None, operator: str, ts: float) -> bool:
        if message_id in self._releases:
            return False
        self._releases[message_id] = Release(len(self._releases) + 1, message_id, sender,
                                             tuple(recipients), text, operator, float(ts))
        return True

    def releases(self, after: int = 0, limit: int = 100) -> list[Release]:
        return sorted((r for r in self._releases.values() if r.seq > after),
                      key=lambda r: r.seq)[:limit]

    def save_decision(self, decision: Decision) -> None:
        self._decisions[decision.message_id] = decision

    def decisions(self, since: float) -> list[Decision]:
        return sorted((d for d in self._decisions.values() if d.message_ts >= since),
                      key=lambda d: (d.message_ts, d.message_id))

    def set_campaign_status(self, status: CampaignStatus) -> None:
        self._statuses[status.campaign] = status

    def campaign_statuses(self) -> dict[str, CampaignStatus]:
        return dict(self._statuses)

    def login_failures(self, keys: Sequence[str], since: float) -> dict[str, int]:
        counts = {k: sum(1 for t in self._failures.get(k, ()) if t >= since) for k in keys}
        return {k: n for k, n in counts.items() if n}

    def add_login_failure(self, keys: Sequence[str], ts: float, forget_before: float) -> None:
        for key in keys:
            self._failures.setdefault(key, []).append(ts)
        kept = {k: [t for t in times if t >= forget_before]
                for k, times in self._failures.items()}
        self._failures = {k: times for k, times in kept.items() if times}

    def clear_login_failures(self, key: str) -> None:
        self._failures.pop(key, None)

    def cursor(self, name: str) -> int:
        return self._cursors.get(name, 0)

    def advance_cursor(self, name: str, seq: int) -> None:
        self._cursors[name] = max(seq, self._cursors.get(name, 0))

    def close(self) -> None:
        """Nothing to release."""
