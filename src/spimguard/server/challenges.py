"""What a passed challenge releases: the session's messages held on doubt alone.

A hold that rests on doubt that the session is the owner's (``Policy.rests_on_doubt``:
the takeover evidence, or the suspension it imposed, made it; the rest would not) asks
the owner's challenge. When the IM server reports that the session passed it (a
``challenge`` event, ``passed: true``), that doubt is answered: the session's messages
held on it, since its latest sign-in and up to the challenge, are queued on the release
feed (``GET /v1/releases``, ``released_by: "challenge"``), as an operator's release is,
for the IM server to deliver.
What other evidence held (words, links, reports, a newcomer writing to strangers) stays
held: a challenge proves the session is the account holder's, and the holder of a
throwaway account passes its own. A failed challenge releases nothing. Each message is
released once (the feed keeps one release per message), so a retried event adds nothing.

The release time is the challenge's event time: a replay of the same log queues the same
releases at the same times.

Each new challenge's outcome goes to the console's audit log, where an operator's releases
and restores go, under the actor ``(challenge)``: the account, the session, passed or
failed, how many messages it released, the restrictions left in force after a pass and
the account action a failure drew (the console escapes the account and session ids,
hostile input, wherever it shows them). A retried event is audited once, as it is
released once.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import accounts
from ..engine import Engine
from ..events import Challenge, Event, Result
from ..records import LogEntry
from .console.decisions import kept, verdict_of
from .console.records import ConsoleStore

RELEASED_BY = "challenge"  # the feed's ``released_by`` for these releases
ACTOR = "(challenge)"  # the audit log's operator: the IM server's challenge, no one's login
MAX_RELEASED = 10_000  # held messages one challenge looks through (the rest: an operator's)


def held_on_doubt(engine: Engine, event: Challenge) -> list[LogEntry]:
    """The messages of the challenged session held on doubt about it alone, since its
    latest sign-in and up to the challenge, within a restriction's lifetime.

    A pass proves who holds the session now, and a session id is the client's choice (an
    XMPP resource, a Matrix device id): signing in under one takes it over from whoever
    held it. What was sent under the id before its latest sign-in may be an intruder's
    (the owner signing in again under its phone's id after the intruder did), so it is
    left to an operator. A challenge given to no session (the account's messages sent
    without one) names no sender: whoever answered it, those messages cannot be told
    apart (an intruder's among them), so it releases nothing."""
    if not event.session:
        return []
    since = event.ts - engine.config.policy.restriction_ttl
    held: list[LogEntry] = []
    # After the batch's commit (``after_challenges``): its committed view holds the batch.
    for entry in engine.records.committed().timeline(event.account, event.session, since,
                                                     MAX_RELEASED):
        if entry.ts > event.ts:
            continue
        if entry.type == "login":
            held = []
        elif entry.type == "message" and entry.action == "hold" and (
                verdict := verdict_of(entry)) and engine.policy.rests_on_doubt(
                ((s.code, s.score) for s in verdict.signals), verdict.score):
            held.append(entry)
    return held


def after_challenges(engine: Engine, console: ConsoleStore, events: Sequence[Event],
                     results: Sequence[Result], fresh: Sequence[bool]) -> int:
    """Queue the releases every passed challenge among ``events`` vouches for and audit
    every new challenge's outcome (on the engine's thread, after the events were
    processed: ``results`` and ``fresh`` as ``Engine.process_batch`` gave them); how many
    releases were new."""
    released = 0
    with engine.lock:
        for event, result, new in zip(events, results, fresh, strict=True):
            if not isinstance(event, Challenge):
                continue
            count = 0
            if event.passed:
                for entry in held_on_doubt(engine, event):
                    recipients, text = kept(engine, entry)
                    count += console.save_release(entry.id, entry.account, recipients, text,
                                                  RELEASED_BY, event.ts)
            released += count
            if new:
                console.audit(event.ts, ACTOR, f"challenge.{_outcome(event)}", event.account,
                              "", _audited(engine, event, result, count))
    return released


def _outcome(event: Challenge) -> str:
    return "passed" if event.passed else "failed"


def _audited(engine: Engine, event: Challenge, result: Result, released: int) -> str:
    """The audit log's detail of one challenge: the session, what it released and the
    restrictions left (a pass), or the account action it drew (a failure)."""
    where = f"session {event.session!r}" if event.session else "no session"
    if not event.passed:
        action = result.account_action
        drew = f"{action.action} (session {action.session!r})" if action.session else (
            action.action)
        return f"{where}: failed; account action: {drew}"
    restrict = accounts.restrictions_of(
        engine.read_state([accounts.record(event.account)], event.ts)[0], event.ts)
    left = [f"suspension of session {session!r}" if session else f"account-wide {scope}"
            for scope, session, _ in accounts.in_force(restrict)]
    return (f"{where}: passed; {released} held message(s) released; restrictions in force "
            f"afterwards: {', '.join(left) or 'none'}")
