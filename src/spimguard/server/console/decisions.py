"""Operator decisions on held or blocked messages: confirm spam, or release as ham.

``apply_operator_decision`` is the one door: it records each decision, teaches
the learners through the report-trust model's operator path
(``trust.OperatorDecision``: it outranks every user report, teaches every
learner at full weight and moves the reporters' track records), queues
released messages for the IM server (``GET /v1/releases``)
and lifts the senders' restrictions through the engine's restore path. A
confirmed spam keeps the restrictions in force.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec

from ...engine import Engine
from ...errors import BadInput
from ...events import EventTime, Verdict
from ...records import LogEntry
from ...trust import OperatorDecision
from .records import ConsoleStore, Decision

Label = Literal["spam", "ham"]
_verdict = msgspec.json.Decoder(Verdict)


@dataclass(frozen=True)
class Outcome:
    decided: int
    released: int
    restored: tuple[str, ...]  # accounts whose restrictions were lifted


def _report_id(operator: str, label: str, message_id: str) -> str:
    """One id per (operator, label, message): deciding twice the same way teaches once."""
    digest = hashlib.sha256(f"{operator}\0{label}\0{message_id}".encode()).hexdigest()
    return f"operator-{digest[:40]}"


def verdict_of(entry: LogEntry) -> Verdict | None:
    """The verdict a logged message was given (None for a log entry of another kind)."""
    try:
        return _verdict.decode(entry.result) if entry.result else None
    except msgspec.DecodeError:
        return None


def kept(engine: Engine, entry: LogEntry) -> tuple[tuple[str, ...], str | None]:
    """The recipients and text of a message, from its campaign evidence or the verdict log."""
    verdict = verdict_of(entry)
    campaign = verdict.campaign if verdict else None
    if campaign:
        for kept in engine.records.committed().campaign_messages(campaign):
            if kept.id == entry.id:
                return kept.recipients, kept.text
    return (), entry.text


def apply_operator_decision(engine: Engine, store: ConsoleStore, operator: str,
                            message_ids: Sequence[str], label: Label, why: str) -> Outcome:
    """Decide on messages (one, or a whole cluster) and act on the decision."""
    if label not in ("spam", "ham"):
        raise BadInput("a decision is 'spam' or 'ham'", field="label")
    records = engine.records.committed()  # a message whose batch may yet roll back is none
    entries = [e for e in map(records.message, dict.fromkeys(message_ids)) if e]
    if not entries:
        raise BadInput("no such message in the verdict log", field="message_id", status=404)
    now = time.time()
    engine.process_batch([OperatorDecision(id=_report_id(operator, label, e.id), ts=EventTime(
        engine.now()), reporter=f"operator:{operator}", message_id=e.id, label=label)
        for e in entries])
    released = 0
    restored: list[str] = []
    for entry in entries:
        store.save_decision(Decision(entry.id, label, operator, now, entry.action, entry.ts))
        what = f"verdict {entry.action}, score {entry.score:.1f}"
        if label == "ham" and entry.action in ("hold", "block"):
            recipients, text = kept(engine, entry)
            if store.save_release(entry.id, entry.account, recipients, text, operator, now):
                released += 1
                what += "; released for delivery"
        store.audit(now, operator, f"decide.{label}", entry.id, why, what)
    if label == "ham":
        for account in dict.fromkeys(e.account for e in entries):
            if engine.restore(account):
                restored.append(account)
                store.audit(now, operator, "account.restore", account, why,
                            "restrictions lifted by a release as ham")
    return Outcome(len(entries), released, tuple(restored))
