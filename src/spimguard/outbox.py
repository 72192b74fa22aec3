"""What an event leaves in the records: its log entry, and a campaign message or a report.

Built once per judged event, after the verdict; ``once.Outbox`` carries it to the
record store (and, on shared state, inside the claim, so another node can finish
an event whose records did not commit).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import msgspec

from . import once
from .config import Config
from .detectors import Context
from .events import Event, Message, Report, Result, Verdict
from .policy import Decision
from .records import CampaignMessage, LogEntry, ReportEntry
from .text import CACHED_CHARS


def outbox_of(config: Config, event: Event, body: str, ctx: Context, result: Result,
              decision: Decision | None) -> once.Outbox:
    answer = msgspec.json.encode(result)
    ts = float(event.ts)  # a plain float: msgspec encodes no ``EventTime`` (a subclass)
    if isinstance(event, Message):
        assert ctx.view is not None
        assert isinstance(result, Verdict)  # a message's answer (``Engine._decide``)
        entry = LogEntry(
            id=event.id, ts=ts, type="message", account=event.sender, digest=body,
            session=event.session, action=result.action, score=result.score,
            signals=tuple([s.code for s in result.signals]) if result.signals else (),
            text_sha256=_text_sha256(event.text),
            text=event.text if config.records.keep_text else None,
            fingerprint=ctx.view.fingerprint, domains=ctx.view.domains, result=answer,
            keep=ctx.keep)
        campaign = None
        if result.campaign:
            campaign = CampaignMessage(
                campaign=result.campaign, id=event.id, ts=ts, sender=event.sender,
                session=event.session, client=event.client.id, ip=event.client.ip,
                recipients=tuple(event.recipients), text=event.text, action=result.action,
                domains=ctx.view.domains)
        return once.Outbox(entry, campaign=campaign)
    entry = LogEntry(id=event.id, ts=ts, type=type(event).__name__.lower(),
                     account=event.account, digest=body,
                     session=getattr(event, "session", ""),
                     action="", score=decision.score if decision else 0.0,
                     signals=tuple([s.code for s in decision.signals]) if decision else (),
                     result=answer, keep=ctx.keep)
    report = None
    if isinstance(event, Report):
        report = ReportEntry(
            id=event.id, ts=ts, reporter=event.reporter,
            message_id=event.message_id, label=event.label, text=event.text,
            sender=ctx.reported.account if ctx.reported else "")
    return once.Outbox(entry, report=report)


def _text_sha256(text: str) -> str:
    """The SHA-256 of a message's text, as the log keeps it. Chat and spam repeat their
    texts verbatim (on the mixed load, one message in seven has a text not seen before),
    so those of short texts are cached (``text.CACHED_CHARS``, as the text views are): a
    hit costs a look-up instead of a hash (~4,000 instructions). Long texts are not, so
    hostile input cannot fill memory."""
    return _cached_sha256(text) if len(text) <= CACHED_CHARS else _sha256(text)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Keyed by the text the view's cache (``text.view``) holds too: a few MB at most.
_cached_sha256 = lru_cache(maxsize=8192)(_sha256)
