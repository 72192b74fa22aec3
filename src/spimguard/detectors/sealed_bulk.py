"""Encrypted bulk: one shape of ciphertext to many people, from a session the account
does not use.

Without the words, the bulk detector has no text to cluster. What the server still
sees is the shape of a message: its ciphertext's size class (``text.size_class``, a
quarter-octave, the one the takeover detector uses) and its attachments' names and
MIME types. A friend's encrypted messages vary in size and go to the few people
it is talking with; an intruder's or a bot's pitch is one size (or one attachment)
to many. So, for encrypted messages only, this counts per session the distinct
targets that got the same size class, or the same attachment, within ``window``,
and SEALED_BULK grows from ``reach_soft`` to ``reach_hard`` of them.

It fires only for a session the takeover detector judges unfamiliar (its app or
network new to the account: ``TakeoverDetector`` decides, this reuses it), in
proportion to its unfamiliarity (takeover's 0.4, 0.6 or 1): it holds on its own
only when both the app and the network are new, the intruder's own software on
its own servers. The account's own app on a network not yet learnt (the owner
greeting everyone from the mobile network, measured in the mixed simulation)
only warns on this evidence. The owner's own phone at home greeting everyone at
new year, or announcing a new number, is the owner's doing and is never counted. A session
that has earned replies (it answers friends who wrote to it) is conversing: its
evidence halves, as takeover's burst does.

Unlike takeover's burst it counts every target, not only dormant ties: an active
friend early in a harvested list is reached by the pitch like anyone else. A
group conversation counts as one target (velocity's rule): one post to a room is
not a pitch to each member.

What an attacker who reads this does: pad each copy to a different size class
and vary the attachment's name. That costs the pitch its uniformity, not its
reach, and the takeover burst still counts the dormant ties; this detector is a
floor under the metadata-only verdicts, not a wall.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import accounts
from ..config import Config
from ..signals import Signal
from ..state.ops import Contains, Distinct, Query, Touch, Write, key_part
from ..text import size_class
from .base import Context, Facts, Outcome, Planning, ramp, settings
from .takeover import TakeoverDetector


@dataclass(frozen=True, slots=True)
class SealedBulkSettings:
    """The sealed_bulk detector's settings (``detectors.sealed_bulk`` in config)."""

    # The takeover burst window: a pitch goes out in minutes, a friend's day is spread out.
    window: int = 600
    # Distinct targets of one shape in ``window`` above which evidence starts: a person
    # writes to two friends in ten minutes often, and short chat shares a size class
    # (Megolm's ~100 bytes of envelope make all one-liners one to three classes).
    reach_soft: int = 2
    # ... and full: takeover's burst is full at 4 dormant ties; one shape to 6 people of
    # any kind in ten minutes, from a session the account does not use, is a mailing.
    reach_hard: int = 6
    max_targets: int = 500  # recipients looked at per message (bound on one read)
    max_attachments: int = 4  # attachments looked at per message (bound on reads)
    set_cap: int = 5_000  # targets kept per shape set


SIGNALS = {
    "SEALED_BULK": "an unfamiliar session sent encrypted messages of one size, or one "
                   "attachment, to many people",
}


class _Plan(NamedTuple):
    targets: tuple[str, ...]
    shapes: tuple[str, ...]  # the size class's set key, then one per attachment
    reach: tuple[Distinct, ...]
    known: tuple[Contains, ...]


def _attachment_tag(name: str, mime: str) -> str:
    """A bounded key part for a hostile name and type."""
    digest = hashlib.blake2b(f"{name}\0{mime}".encode(), digest_size=8).hexdigest()
    return f"a{digest}"


class SealedBulkDetector(Planning[_Plan | None]):
    name = "sealed_bulk"

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, SealedBulkSettings, given)
        # The takeover detector's own judgement of the session (same settings, same
        # state): its memo when it planned the event, else the record alone
        # (``plan_session``), not the ~14 queries of its plan.
        self.takeover = TakeoverDetector(dict(config.detectors.get("takeover", {})), config)

    def _make_plan(self, ctx: Context) -> _Plan | None:
        message = ctx.message
        if message is None or not message.encrypted or not message.session:
            return None
        cfg = self.cfg
        if accounts.in_room(message):
            targets: tuple[str, ...] = (f"conv:{message.conversation}",)
        else:
            targets = tuple(dict.fromkeys(message.recipients))[: cfg.max_targets]
        # The session with no ":" (``ops.key_part``), the tags none either: one sender's
        # session is one key whatever either id holds (``@v``'s session ``s:x`` is not
        # ``@v:s``'s ``x``, whose reach another's messages would fill).
        base = f"sb:{message.sender}:{key_part(message.session)}"
        attached = dict.fromkeys(_attachment_tag(a.name, a.mime) for a in message.attachments)
        tags = [f"s{size_class(message.size)}", *list(attached)[: cfg.max_attachments]]
        shapes = tuple(f"{base}:{tag}" for tag in tags)
        return _Plan(targets, shapes, tuple(Distinct(k, cfg.window) for k in shapes),
                     tuple(Contains(k, targets) for k in shapes))

    def reads(self, ctx: Context) -> Sequence[Query]:
        plan = self._plan(ctx)
        if plan is None:
            return ()
        return (*self.takeover.plan_session(ctx), *plan.reach, *plan.known)

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        plan = self._plan(ctx)
        if plan is None:
            return []
        session = self.takeover.sender_session(ctx, facts)
        risk = session.get("risk", 0.0)
        if not risk:
            return []
        reach, shape = max(
            (facts[total] + sum(1 for seen in facts[known] if not seen), i)
            for i, (total, known) in enumerate(zip(plan.reach, plan.known, strict=True)))
        strength = ramp(reach, self.cfg.reach_soft, self.cfg.reach_hard)
        if not strength:
            return []
        strength *= risk
        what = "messages of one size" if shape == 0 else "one attachment"
        detail = (f"a session the account does not use sent {what} to {reach} people in "
                  f"{self.cfg.window // 60} min")
        if self.takeover.conversing(session):
            strength *= 0.5
            detail += f", but it had replied to {session['replies']} messages"
        return [Signal("SEALED_BULK", strength, detail)]

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        plan = self._plan(ctx)
        if plan is None or not self.takeover.sender_session(ctx, facts).get("risk"):
            return ()  # the familiar session is never judged here: nothing to count
        return [Touch(key, plan.targets, self.cfg.window, self.cfg.set_cap)
                for key in plan.shapes]


def build(given: dict[str, Any], config: Config) -> SealedBulkDetector:
    return SealedBulkDetector(given, config)
