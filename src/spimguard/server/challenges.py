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
"""

from __future__ import annotations

from collections.abc import Iterable

from ..engine import Engine
from ..events import Challenge, Event
from ..records import LogEntry
from .console.decisions import kept, verdict_of
from .console.records import ConsoleStore

RELEASED_BY = "challenge"  # the feed's ``released_by`` for these releases
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
    for entry in engine.records.timeline(event.account, event.session, since, MAX_RELEASED):
        if entry.ts > event.ts:
            continue
        if entry.type == "login":
            held = []
        elif entry.type == "message" and entry.action == "hold" and (
                verdict := verdict_of(entry)) and engine.policy.rests_on_doubt(
                ((s.code, s.score) for s in verdict.signals), verdict.score):
            held.append(entry)
    return held


def release_passed(engine: Engine, console: ConsoleStore, events: Iterable[Event]) -> int:
    """Queue the releases every passed challenge among ``events`` vouches for (on the
    engine's thread, after the events were processed); how many were new."""
    released = 0
    with engine.lock:
        for event in events:
            if not (isinstance(event, Challenge) and event.passed):
                continue
            for entry in held_on_doubt(engine, event):
                recipients, text = kept(engine, entry)
                released += console.save_release(entry.id, entry.account, recipients, text,
                                                  RELEASED_BY, event.ts)
    return released
