"""Relationship: whether sender and recipient are people in a conversation.

Two accounts that list each other as contacts, where the recipient has written to
the sender before, are friends talking; that is evidence of its own, as strong as any other
kind, and one a spimmer cannot fake from outside. A hijacker does inherit the
victim's ties, so this evidence never lowers a score: it only makes the policy
ask content for agreement from another kind (``policy.py``).

CONVERSATION fires when every recipient (a message to at most ``max_people``) is
a mutual contact of the sender and has written to the sender before, as seen in
delivered or warned messages: the recipients are among the people who wrote to the
sender, the engine's ``accounts.TALKED`` side of the sender's own ties (held messages
and invitations teach nothing). Only the recipients' side counts because it is the one
the sender cannot fake: a spimmer can write first, never make its target write back.
So a reply to a friend's message is conversation, as is a friend's message to someone
who wrote to it yesterday.

**One fact kept once.** This detector kept its own record of whom each account wrote
to, in messages to at most ``max_people`` (the "wrote" side of the writer's ties), and
asked it of each recipient: did p write to the sender? That is the question the
sender's ``TALKED`` answers, kept by the engine for every message to at most
``accounts.MAX_TALKED_FANOUT``: one read of one record (the very query velocity and
the engine ask, ``accounts.ties``, read once an event), where there was one a recipient
and a touch of the sender's record a message (session 24).

What changes is which messages teach "wrote back": those to 6 to 50 recipients too (a
post to a group of up to 50, a note to a family of eight). A spimmer that reads this
has two ways to use it, and neither buys more than one answer from its target did. It
can gather its targets into a group and wait for their answers there ("who is
this?"); but a group of five taught it before, and ten groups of five reach the fifty
one group now does: the bound on the group's size never bounded the people reached.
Or it can join a group its target already talks in (a neighbourhood's, a class's),
and every line the target posts there "writes back" to it; what it still needs is the
target listing it back (``listed_back``: the target's own act), and then a warned
pitch instead of a held one for words that are not near certain, nothing else: no
points go down, another kind of evidence (a reported link, a campaign, velocity to
strangers) still holds it, and the other detectors already read the group's lines as
ties (``accounts.Standing``: a correspondent is vouched, whatever the message's
fan-out). Before, the same listed bot waited a day of clean lines with three people
listing it back, and was "established" (CONTACTS_MUTUAL, the same bound), or got one
answer to a line of its own: the group saves it that day or that answer
(``tests/test_relationship.py``, the group attack, measured). A
hijacker inherits the owner's groups' lines as it inherits its contacts: from a session
nothing proves the owner's, a contact who listed the owner back and posted in a group of
up to 50 with it now bounds its words as one who wrote to the owner directly did; a
session that read the list, or an open incident, lifts the bound (``policy.DOUBT``),
and a burst to dormant ties counts as any other kind. The simulator's hijack, groups
and mixed scenarios (seeds 404 and 505) stopped the same spim either way.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec

from ..config import Config
from ..events import Invite, Message
from ..signals import Signal
from ..state.ops import Contains, Query, Write
from .base import WRITES_NONE, Context, Facts, Outcome, settings, shared, shared_ties
from .takeover import TakeoverDetector


@dataclass(frozen=True, slots=True)
class RelationshipSettings:
    """The relationship detector's settings (``detectors.relationship`` in config)."""

    max_people: int = 5  # recipients looked at; a message to more is no conversation

    # Session 24: the detector keeps no record of its own (the engine's correspondents,
    # 180 days and 2,000 an account, answer "wrote back").
    RETIRED: ClassVar[Mapping[str, str]] = {
        "remember_days": "the engine's correspondents answer; they keep 180 days",
        "cap": "the engine's correspondents answer; they keep 2,000 an account"}


SIGNALS = {
    "CONVERSATION": "sender and recipients are mutual contacts, and the recipients have "
                    "written to the sender (no points; content alone then warns unless near "
                    "certain)",
    "CONTACTS_MUTUAL": "an established sender and its recipients list each other as contacts "
                       "(no points; content alone then warns unless near certain, while the "
                       "session is the owner's)",
}

# The signals as made once (a ``Signal`` is an immutable tuple): one a message of friends.
_CONVERSATION = Signal("CONVERSATION", 1.0, "mutual contacts, and the recipients have "
                       "written to the sender")
_CONTACTS_MUTUAL = Signal("CONTACTS_MUTUAL", 1.0, "mutual contacts, an established sender")


class _Plan(msgspec.Struct, frozen=True):
    """A message's reads, by part: a struct, made in C (``calls41``: a NamedTuple's
    ``__new__`` is a Python lambda's frame)."""

    people: tuple[str, ...]
    listed: Contains  # recipients in the sender's contacts
    listed_back: tuple[Contains, ...]  # the sender in each recipient's contacts
    wrote_back: Contains  # recipients among those who wrote to the sender
    reads: tuple[Query, ...]  # the queries above


class RelationshipDetector:
    name = "relationship"
    writes_for = WRITES_NONE  # (``base.writes_for``)

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
            return scratch[self.name]
        message = ctx.message
        if message is None or type(message) is Invite:  # no failing isinstance: engine.py
            found = None
        else:  # one plan for the messages of one sender to the same recipients (``shared``)
            found = shared(ctx, (self.name, message.sender, ctx.to), self._people_plan,
                           ctx, message)
        scratch[self.name] = found
        return found

    def _people_plan(self, ctx: Context, message: Message) -> _Plan | None:
        """The plan of the message's sender and recipients (``ctx.to``) alone. Its queries
        are the event's ``shared_ties``, the ones bulk, velocity and reputation ask (the
        ties of the distinct recipients are those of the recipients: ``accounts.ties``
        takes each once), made once an event, not again here: a platform's messages are
        mostly of senders no other event of the batch shares, so each was made twice."""
        people = tuple(dict.fromkeys(ctx.to))
        if not 0 < len(people) <= self.cfg.max_people or message.sender in people:
            return None
        (listed, wrote_back), listed_back = shared_ties(ctx, message)
        return _Plan(people, listed, listed_back, wrote_back,
                     (listed, *listed_back, wrote_back))

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
        if False in facts[plan.wrote_back]:  # mutual contacts before anyone replied
            return [_CONTACTS_MUTUAL] if self.takeover.established(ctx, facts) else []
        return [_CONVERSATION]

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        return ()


def build(given: dict[str, Any], config: Config) -> RelationshipDetector:
    return RelationshipDetector(given, config)
