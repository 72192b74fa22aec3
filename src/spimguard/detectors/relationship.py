"""Relationship: whether sender and recipient are people in a conversation.

Two accounts that list each other as contacts, where the recipient has written to
the sender before, are friends talking; that is evidence of its own, as strong as any other
kind, and one a spimmer cannot fake from outside. A hijacker does inherit the
victim's ties, so this evidence never lowers a score: it only makes the policy
ask content for agreement from another kind (``policy.py``).

CONVERSATION fires when every recipient (a message to at most ``max_people``) is
a mutual contact of the sender and has written to the sender before, as seen in
delivered or warned messages (the ``accounts.WROTE`` side of A's ties holds whom A
wrote to; held messages teach nothing). Only the recipients' side counts because it
is the one the sender cannot fake: a spimmer can write first, never make its target
write back. So a reply to a friend's message is conversation, as is a friend's
message to someone who wrote to it yesterday.

CONTACTS_MUTUAL is the same tie before anyone has replied: every recipient and the
sender list each other, and the sender is an established account (the takeover
detector's ``established``: a month of life, or a clean history over a day). A
listing alone is cheap where accepting a contact request lists both ways: a bot
can get its targets to add it back, not a month or a clean history behind it. So
a close friend's first message of the day (a price, a shouted joke, a new number)
is warned at most on its words, a fresh bot's pitch is not. What it does not prove
is that the friend is the one typing: a hijacker inherits the list, so the policy
drops this bound when the session itself is not proven the owner's
(``SESSION_UNFAMILIAR``, ``policy.py``); a recipient who wrote back
(CONVERSATION) still vouches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import accounts
from ..config import Config
from ..events import Invite
from ..signals import Signal
from ..state.ops import Contains, Query, Touch, Write
from .base import Context, Facts, Outcome, settings, shared
from .takeover import TakeoverDetector


@dataclass(frozen=True, slots=True)
class RelationshipSettings:
    """The relationship detector's settings (``detectors.relationship`` in config)."""

    max_people: int = 5  # recipients looked at; a message to more is no conversation
    remember_days: int = 180  # how long having written to someone counts
    cap: int = 2_000  # correspondents remembered per account (stalest dropped first)


SIGNALS = {
    "CONVERSATION": "sender and recipients are mutual contacts, and the recipients have "
                    "written to the sender (no points; content alone then warns unless near "
                    "certain)",
    "CONTACTS_MUTUAL": "an established sender and its recipients list each other as contacts "
                       "(no points; content alone then warns unless near certain, while the "
                       "session is the owner's)",
}

_DAY = 86_400.0
# The signals as made once (a ``Signal`` is an immutable tuple): one a message of friends.
_CONVERSATION = Signal("CONVERSATION", 1.0, "mutual contacts, and the recipients have "
                       "written to the sender")
_CONTACTS_MUTUAL = Signal("CONTACTS_MUTUAL", 1.0, "mutual contacts, an established sender")


class _Plan(NamedTuple):
    people: tuple[str, ...]
    listed: Contains  # recipients in the sender's contacts
    listed_back: tuple[Contains, ...]  # the sender in each recipient's contacts
    wrote_back: tuple[Contains, ...]  # ... and among those each recipient wrote to
    reads: tuple[Query, ...]  # the queries above
    wrote: Touch  # the write of a delivered or warned message: whom the sender wrote to


class RelationshipDetector:
    name = "relationship"

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, RelationshipSettings, given)
        # Whether the sender is established is the takeover detector's judgement (same
        # settings and state; its plan shared through the scratch when it is enabled):
        # only the two queries that judgement uses are planned, and read only when the
        # judgement reaches them (``TakeoverDetector.plan_established``).
        self.takeover = TakeoverDetector(dict(config.detectors.get("takeover", {})), config)

    def _plan(self, ctx: Context) -> _Plan | None:
        """The event's plan, asked by ``reads``, ``detect`` and ``writes``: found in the
        scratch as ``once`` would, without its call (a third of what the detector's own
        Python cost an event was the layers above ``_people_plan``)."""
        scratch = ctx.scratch
        if self.name in scratch:
            return scratch[self.name]  # type: ignore[no-any-return]
        message = ctx.message
        if message is None or type(message) is Invite:  # no failing isinstance: engine.py
            found = None
        else:  # one plan for the messages of one sender to the same recipients (``shared``)
            found = shared(ctx, (self.name, message.sender, ctx.to), self._people_plan,
                           message.sender, ctx.to)
        scratch[self.name] = found
        return found

    def _people_plan(self, sender: str, recipients: tuple[str, ...]) -> _Plan | None:
        people = tuple(dict.fromkeys(recipients))
        if not 0 < len(people) <= self.cfg.max_people or sender in people:
            return None
        me, cfg = (sender,), self.cfg
        listed = Contains(accounts.contacts(sender), people)
        listed_back = tuple(Contains(accounts.contacts(p), me) for p in people)
        wrote_back = tuple(Contains(accounts.tie_record(p), me, accounts.WROTE) for p in people)
        return _Plan(people, listed, listed_back, wrote_back,
                     (listed, *listed_back, *wrote_back),
                     Touch(accounts.tie_record(sender), people, cfg.remember_days * _DAY,
                           cfg.cap, accounts.WROTE))

    def reads(self, ctx: Context) -> Sequence[Query]:
        plan = self._plan(ctx)
        if plan is None:
            return ()
        self.takeover.plan_established(ctx)
        return plan.reads

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        """Each one-name ``Contains`` answer checked in a loop of this frame: ``all`` over a
        generator made a function and resumed it at each query, and a helper for the loop
        cost a call at each of the two (most messages reach both)."""
        plan = self._plan(ctx)
        if plan is None or False in facts[plan.listed]:
            return []
        for query in plan.listed_back:
            if not facts[query][0]:
                return []
        for query in plan.wrote_back:
            if not facts[query][0]:  # mutual contacts before anyone replied
                return [_CONTACTS_MUTUAL] if self.takeover.established(ctx, facts) else []
        return [_CONVERSATION]

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        plan = self._plan(ctx)
        if plan is None or outcome.action not in ("deliver", "warn"):
            return ()
        return (plan.wrote,)


def build(given: dict[str, Any], config: Config) -> RelationshipDetector:
    return RelationshipDetector(given, config)
