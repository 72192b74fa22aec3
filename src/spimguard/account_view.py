"""What ``GET /v1/accounts/{id}`` shows: risk, restrictions in force, incidents."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import accounts
from .records import LogEntry, RecordReads
from .state.ops import Query


def account_view(read: Callable[[Sequence[Query], float], list[Any]], records: RecordReads,
                 account: str, now: float) -> dict[str, Any]:
    """Risk, restrictions in force and incidents of one account, as of event time ``now``.

    Each restriction in force comes with its incident's timeline (from an hour
    before it: the logins, contact reads, messages and verdicts of the session,
    or of the whole account for an account-wide restriction).
    """
    restrict = accounts.restrictions_of(read([accounts.record(account)], now)[0], now) or {}
    recent = records.recent(account, 20)
    incidents = [
        {"scope": scope, "session": session, "since": entry["since"],
         "reason": entry["reason"],
         "timeline": [timeline_item(e) for e in records.timeline(
             account, session, entry["since"] - 3600)]}
        for scope, session, entry in accounts.in_force(restrict)]
    score = max((e.score for e in recent), default=0.0)
    risk = "high" if restrict else ("elevated" if recent else "normal")
    return {"account": account, "risk": risk, "max_recent_score": score,
            "restrictions": restrict, "incidents": incidents,
            "recent": [timeline_item(e) for e in recent]}


def timeline_item(entry: LogEntry) -> dict[str, Any]:
    return {"id": entry.id, "ts": entry.ts, "type": entry.type, "session": entry.session,
            "action": entry.action, "score": entry.score, "signals": list(entry.signals)}
