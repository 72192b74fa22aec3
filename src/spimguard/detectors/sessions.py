"""Session reputation: what users reported of a session's encrypted messages.

An encrypted message has no words, links or fingerprint, so the content, link
and bulk learners cannot carry a report on it over to its copies. What the
server does know is who sent it, and from which session. So a spam report on
an encrypted message, as the report-trust model weighs it (``trust.py``: only
its recipients count, once each, throwaways less; a ham report takes weight
back), marks the sender's *session*, and that session's later messages carry
SESSION_REPORTED, at full strength once ``reports_hard`` messages' worth of
spam weight is on it, from at least ``min_reporters`` distinct reporters (as a
campaign's confirmation needs them): one hostile correspondent reporting every
message a friend sends it cannot stop that friend's phone. Reporters are counted as
people (``trust.voice``): all those who are no person of their own (``Weighing.alone``:
new accounts, whatever their footprint, and older ones with no life apart from the
sender and its audience, such as throwaways an attacker puts in a group the victim
writes in, who hear its friends chat there) are one reporter of the session, so ten of
them, each spending its one voice on another of the victim's messages, no longer hold
the victim's phone for a week, nor do ten that write each other a line first (red
team, sessions 13 and 14). Month-old recipients who write to friends of their own are
people, heard or not.

It stands in its own group and holds on its own near full strength: people who
received the session's messages read them and said what they were. That is what
stops an intruder patient enough to write below the burst and velocity rates.
It is scoped to the session, as a suspension is: the owner's own devices are
not the intruder's. A message sent without a session marks the account's
sessionless traffic only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config import Config
from ..events import Report
from ..signals import Signal
from ..state.ops import Count, Distinct, Incr, Query, Touch, Write, key_part
from .base import (
    WRITES_REPORTS,
    Context,
    Facts,
    Outcome,
    Planning,
    ramp,
    read_more,
    sealed,
    settings,
    shared,
)


@dataclass(frozen=True, slots=True)
class SessionsSettings:
    """The sessions detector's settings (``detectors.sessions`` in config)."""

    remember: int = 604_800  # seconds a session's reported weight counts
    reports_soft: float = 0.0  # reported weight above this is evidence ...
    reports_hard: float = 3.0  # ... and at this is full (net labels of 3 messages)
    min_reporters: int = 3  # distinct reporters before any of it counts
    max_reporters: int = 64  # reporters remembered per session


SIGNALS = {
    "SESSION_REPORTED": "users reported earlier encrypted messages from this session as spam",
}

_BUCKET = 3_600.0
# The one member every reporter of no footprint counts as (no account id is empty).
_ONE_VOICE = ""


# A session's id is written with no ":" (``ops.key_part``): both ids are chosen outside
# (a Matrix id holds ":"), and joined as they are the account ``@v`` and its session
# ``s:x`` counted in the reports of ``@v:s``'s session ``x``: what an attacker's own
# messages drew, reported, would hold another account's session.
def _key(account: str, session: str) -> str:
    return f"sess:reported:{account}:{key_part(session)}"


def _reporters_key(account: str, session: str) -> str:
    return f"sess:reporters:{account}:{key_part(session)}"


class SessionsDetector(Planning[tuple[Count, Distinct]]):
    name = "sessions"
    writes_for = WRITES_REPORTS  # (``base.writes_for``)

    def __init__(self, given: dict[str, Any]) -> None:
        self.cfg = settings(self.name, SessionsSettings, given)

    def _make_plan(self, ctx: Context) -> tuple[Count, Distinct]:
        """A message's (only a message's is asked): one pair for the batch's messages of one
        session (``shared``), the reporters' deferred (``Context.deferred``): read
        (``read_more``) only once the session's reported weight is evidence, which nearly
        no session's is (0.90 reads an event of the mixed load saved, each of a set that
        was empty; session 35, ``small35``)."""
        message = ctx.message
        assert message is not None
        sender, session = message.sender, message.session
        queries = shared(ctx, (self.name, sender, session), self._make_queries, sender,
                         session)
        ctx.deferred += queries[1:]
        return queries

    def _make_queries(self, *who: str) -> tuple[Count, Distinct]:
        window = self.cfg.remember
        return Count(_key(*who), window, _BUCKET), Distinct(_reporters_key(*who), window)

    def reads(self, ctx: Context) -> Sequence[Query]:
        message = ctx.message
        return () if message is None else self._plan(ctx)[:1]

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        message = ctx.message
        if message is None:
            return []
        reported, reporters_seen = self._plan(ctx)
        weight = facts[reported] or 0
        if weight <= self.cfg.reports_soft:  # nearly every session: nothing reported
            return []
        read_more(ctx, (reporters_seen,))
        reporters = facts[reporters_seen] or 0
        strength = ramp(weight, self.cfg.reports_soft, self.cfg.reports_hard)
        if not strength or reporters < self.cfg.min_reporters:
            return []
        where = f"session '{message.session}'" if message.session else "this account"
        return [Signal("SESSION_REPORTED", strength,
                       f"{reporters} recipients reported {weight:.1f} messages' worth of "
                       f"encrypted spam from {where}")]

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        report, weighing, reported = ctx.event, ctx.trust, ctx.reported
        # ``weighing`` first: only a report is weighed, and a failing isinstance on an event
        # class costs ~0.3 µs (``engine.py``).
        if weighing is None or not isinstance(report, Report) or not sealed(reported):
            return ()
        assert reported is not None
        moved = weighing.spam_after - weighing.spam_before  # a ham report moves it back
        if not moved:
            return ()
        who, window = (reported.account, reported.session), self.cfg.remember
        out: list[Write] = [Incr(_key(*who), moved, _BUCKET, window)]
        if moved > 0:
            person = _ONE_VOICE if weighing.alone else report.reporter
            out.append(Touch(_reporters_key(*who), (person,), window, self.cfg.max_reporters))
        return out


def build(given: dict[str, Any], config: Config) -> SessionsDetector:
    return SessionsDetector(given)
