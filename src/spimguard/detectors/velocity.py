"""Sender velocity: how fast, how wide and to whom an account is writing.

A person writes to a handful of friends; a bot or a hijacked session writes to
everyone, fast, and to people it has never talked with. Each of these alone is
weak evidence (a party invitation goes to many friends at once), so the signals
share the ``velocity`` group, whose points the policy caps.

Targets: a message in a named conversation with several recipients (a group
chat) counts as one target, the conversation; any other message counts each
recipient. A *stranger* is a recipient the sender neither lists nor has exchanged
messages with; one it lists who has not vouched for it (listed it back, written to it)
is *unvouched* (``accounts.Standing``): no stranger while the sender writes to a handful
of them in ``unvouched_window`` (a newcomer's friends have mostly not added it yet),
and every one of them a stranger past ``accounts.UNVOUCHED_ALLOWANCE`` (a bot lists
the targets it works through). Each kind is kept in a window set of its own; the
unvouched one spans a day, as a newcomer's first lines to its friends do, so a bot
cannot work through its list five an hour.

A group conversation is a room people joined (``accounts.room``: its conversation and
who is in it, so the same conversation with other members is another room). What a post
costs the sender's stranger budget is the people it puts a stranger's words in front of.
A room stands as most of its members do (``accounts.room_standing``, from the first
``accounts.MAX_TIES`` of them): a family group of phone-book friends who list each
other, or a room whose members have talked with the sender, vouches for it and reaches
no stranger; a room at least half of whose members it lists or is vouched by is its own
circle, one unvouched target within its allowance; a room of mostly people who never
vouched for the sender reaches each of them (``accounts.room_carried``), counted by name
in the window as if written to one by one: posting again to the same people costs
nothing, each new member rotated in costs one, and a bot pitching one room of sixty an
hour has sixty strangers, not one. The same vouchers carry one room with others in it an
hour (kept in the sender's ``vel:carried:`` set): the bot's few socks, put in every room
it pitches, vouch for its first room; in the others they are spent, and the room counts
once, as a stranger (friends who talk in several of a member's rooms look the same).

The cap is there because an established account's behaviour has innocent
explanations its history vouches for. A days-old account has no history, and
one that writes *links* to many strangers is what a throwaway spam bot is:
NEW_ACCOUNT_LINKS stands in its own group (``newcomer``) and holds on its own
while the account is young (its strength halves over ``new_account_age``).
An encrypted message hides whether it carries a link: a days-old account writing
encrypted messages to as many strangers is held alike (NEW_ACCOUNT_SEALED, same
group), since nothing the server can see vouches for it either. And one that opens
one-to-one chats in the clear with as many strangers is held alike (NEW_ACCOUNT_DIRECT,
same group), link or not: what tells a friend's message from a pitch is whom it goes to,
not the words. A newcomer's friends list it back or write first, and its greeting to a
room is one post (never this signal, nor its members among the strangers the signal
counts), while a throwaway's pitches go one by one to people who never heard of it.
So what the signal counts is those: the strangers the account wrote to one to one in the
window (kept apart, ``vel:direct:``, a day), not the room members velocity's
set holds too (red team, session 29: a newcomer that greeted a room of 200 and thanked
one of its members one to one was blocked, the greeting's 64 checked members its
"strangers").
The words alone held these only when the content model knew the language: the unseen
Russian Telegram pitches of the talyguryn set, job offers with no link, reached their
recipients warned, 8-29 % of the bots' messages in ``mixed`` (docs/red-team-log.md,
session 29).

Youth is what a spammer who reads this works around: four strangers an hour for two days,
or an account aged past ``new_account_age`` before use, were all delivered (review,
session 29). What neither changes is that nobody answers a pitch. COLD_OUTREACH (same
group, at any age, said where none of the newcomer's three is): the strangers the account
wrote to one to one in ``cold_window`` (a day, the same set) outnumber the people who
answered them in the day by ``cold_strangers``, and those are under
``cold_answered_share`` of them. Strangers who wrote first are correspondents and
never counted; the people it lists are never counted (an owner greeting its phone book,
none answering yet, is no cold outreach; a newcomer's listed strangers are the allowance's
business).

A reader of that rule paces under the day's bar, and buys answers (red team, session 31).
A slow bot's strangers accumulate over days: those written to before the day have had
their day to be answered, so over ``cold_long_window`` (a week; the set is kept as long)
``cold_old_strangers`` of them past the week's answerers hold too, unless those are
``cold_old_answered_share`` of them (nine strangers a day reached 63 of 63 in a week).
And an answer is what offsets a cold message, not whoever wrote: a one-to-one message to
the account from someone it wrote to cold in the week, which counts (``vel:answered:``)
only from a person, an account past ``new_account_age`` with ``cold_answer_footprint``
correspondents besides the account (``_answers``), once, when first given. Whoever
merely wrote to it offset its cold messages before: 20 socks that each said "hi" bought
40 strangers in an hour, and the talkers of a small room it sat in as many (a room post
fills ``TALKED``). And an answerer's later messages renewed its answer each day (session
32: socks shared by four bots said "ok" every morning, 40 of 40 a day per bot).

A held message is no stranger's silence (session 33): held or blocked, it never reached
its stranger, and nobody answers what they never saw. Counted in the rolling day, one hold
held the next morning's first stranger and every one after (an organiser, 0 of 14 a day
for five days). The strangers of messages not received are kept apart too
(``vel:withheld:``), and up to ``cold_forgiven`` of the day's leave its count for the
week's, as strangers whose day is over; past that they count in the day, as a bot that
writes on while held does. A withheld stranger written to again is written to cold again.
The set is of strangers who never heard from the account (review, session 33): a message
received takes its strangers out, and a held one adds none it reached before, or a held
message to ten, then one to each delivered, had all ten forgiven (19 of 19 a day).

Invitations (``invite`` events) are contact attempts too; inviting strangers
into rooms is how Matrix spim spreads, and an invitation carries no text for
the other detectors to judge, so INVITE_STRANGERS stands in its own group and
holds at full strength.

Windows are event time. Counts include the message being judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from .. import accounts
from ..config import Config
from ..events import RECEIVED, Invite, Message
from ..signals import Signal
from ..state.ops import Contains, Count, Distinct, Incr, Query, Remove, Tally, Touch, Write
from .base import Context, Facts, Outcome, ramp, read_more, settings, shared, shared_ties, ties_for


@dataclass(frozen=True, slots=True)
class VelocitySettings:
    """The velocity detector's settings (``detectors.velocity`` in config)."""

    rate_window: int = 60  # seconds over which messages are counted
    rate_soft: int = 15  # messages per rate_window that start to count as evidence
    rate_hard: int = 60  # ... and that count in full
    fanout_window: int = 600  # seconds over which distinct targets are counted
    fanout_soft: int = 20  # distinct targets per fanout_window: evidence starts
    fanout_hard: int = 100  # ... full strength
    strangers_window: int = 3600  # seconds over which distinct strangers are counted
    strangers_soft: int = 5  # strangers per strangers_window: evidence starts
    strangers_hard: int = 30  # ... full strength
    unvouched_window: int = 86400  # seconds over which distinct unvouched recipients count
    new_account_age: int = 172_800  # an account younger than this (s) is new
    invite_strangers_soft: int = 3  # strangers invited per strangers_window: evidence starts
    invite_strangers_hard: int = 12  # ... full strength
    new_account_strangers: int = 2  # strangers in strangers_window that make a new account suspect
    new_account_link_strangers: int = 5  # ... and, writing links, that make it a throwaway bot
    new_account_sealed_strangers: int = 5  # ... or writing encrypted messages (links unseen)
    # ... or one-to-one in the clear, link or not (the same bar: a pitch's shape is its
    # recipients, and unknown words vouch for nothing; session 29, red-team log)
    new_account_direct_strangers: int = 5
    # Cold outreach, at any age (COLD_OUTREACH; session 30, red-team log): the strangers an
    # account wrote to one to one in ``cold_window``, less the people who answered them in
    # that window (``cold_answer_footprint``), that hold. A day: answers come within hours,
    # and a bot pacing under an hourly bar (four an hour, 96 a day) or aged past
    # ``new_account_age`` writes its day's strangers all the same. Ten: twice the handful a
    # person writes to cold in a day (the marketplace newcomer's five sellers,
    # ``accounts.UNVOUCHED_ALLOWANCE``'s five friends).
    cold_window: int = 86_400
    cold_strangers: int = 10
    # ... unless at least this share of them is matched by people who answered: most of
    # a person's cold messages are answered (the sellers a buyer asks, a salesperson's
    # prospects), a pitch's are ignored by most (a majority, no finer number: session 30)
    cold_answered_share: float = 0.5
    # ... and over a week (session 31, red-team log): the strangers written to before the
    # day (those of ``cold_long_window`` not in ``cold_window``) have had their day to be
    # answered, so no room is left for answers yet to come: ``cold_old_strangers`` of them
    # past the people who answered it in the week hold, unless those are at least
    # ``cold_old_answered_share`` of them. Ten, the day's number (the handful a person
    # leaves unanswered, not a day's bar again each day): nine strangers a day, under the
    # day's bar, reached 63 of 63 in a week. A week: what a person's errand of cold
    # messages (a buyer's sellers, a week's prospects) spans.
    cold_long_window: int = 604_800
    cold_old_strangers: int = 10
    # A quarter, half the day's majority: the week's rule is for the account nobody answers
    # (a pitch's targets answer next to none), not for an errand with a poor return; with
    # the day's half, a buyer asking five sellers a day of whom two answer was held from
    # its sixth day (6 of 35), one asking three a day of whom one answers from its sixth
    # (3 of 21). The buyer nobody answers at all is the price (red-team log, session 31).
    cold_old_answered_share: float = 0.25
    # What makes an answer count (session 31): a one-to-one message to an account that wrote
    # to it cold in ``cold_long_window``, from an account past ``new_account_age`` with at
    # least this many correspondents besides the one it answers (``accounts.TALKED``, their
    # 180 days). Three, as ``trust.full_footprint`` and ``accounts.ROOM_VOUCHERS``: what
    # anyone who uses a messenger has, what a sock has only with as many socks of its own.
    cold_answer_footprint: int = 3
    # What an account's held messages say (session 33, red-team log): a cold message held
    # or blocked never reached its stranger, so nobody can answer it, and its silence says
    # nothing of whether the account's outreach is wanted. Counted in the rolling day, one
    # hold was a week's: an organiser held at its day's 13th (14 strangers, 3 answering) was
    # held at the next morning's first by its own held messages, 0 of 14 a day for five
    # days (review32a). So up to this many of the day's withheld strangers (``vel:withheld:``)
    # leave the day's count for the week's, as strangers whose day is over; past it they
    # count in the day as before (session 30: a bot held for its day writes on, to forty or
    # hundreds, and a hold it could write through would be no hold). Ten, the day's own bar
    # (``cold_strangers``): a day's worth of strangers again is a person who resends or does
    # not know it is held, not one who writes on to a list.
    cold_forgiven: int = 10
    max_targets: int = 500  # recipients looked at per message (bound on one read)
    set_cap: int = 5_000  # members kept per sender in its target, stranger, unvouched sets


SIGNALS = {
    "VELOCITY_RATE": "many messages per minute from one sender",
    "VELOCITY_FANOUT": "many distinct recipients or conversations in a short window",
    "VELOCITY_STRANGERS": "many recipients who are neither contacts nor correspondents",
    "NEW_ACCOUNT_STRANGERS": "an account first seen days ago writing to strangers",
    "NEW_ACCOUNT_LINKS": "an account first seen days ago writing links to many strangers",
    "NEW_ACCOUNT_SEALED": "an account first seen days ago writing encrypted messages (the "
                          "server cannot see their links) to many strangers",
    "NEW_ACCOUNT_DIRECT": "an account first seen days ago writing one-to-one to many "
                          "strangers, link or not",
    "COLD_OUTREACH": "an account of any age writing one-to-one, in a day, to many more "
                     "strangers than people who answered it, or in a week to many whose "
                     "day to answer has passed",
    "INVITE_STRANGERS": "an account inviting many users it shares no contact or room with",
}


def _msgs(account: str) -> str:
    return f"vel:msgs:{account}"


def _targets(account: str) -> str:
    return f"vel:targets:{account}"


def _strangers(account: str) -> str:
    return f"vel:strangers:{account}"


def _unvouched(account: str) -> str:
    return f"vel:unvouched:{account}"


def _carried(account: str) -> str:
    return f"vel:carried:{account}"


def _direct(account: str) -> str:
    return f"vel:direct:{account}"


def _answered(account: str) -> str:
    return f"vel:answered:{account}"


def _withheld(account: str) -> str:
    return f"vel:withheld:{account}"


class _Cold(msgspec.Struct, frozen=True):
    """COLD_OUTREACH's reads (``_cold_reach``): the sender's one-to-one strangers (its
    ``vel:direct:`` set) and the people whose answers to them count (its
    ``vel:answered:`` set, ``_answers``), over the day (``cold_window``) and over the week
    (``cold_long_window``). The week is a ``Distinct``: which of the message's strangers
    the set holds is the day's ``Tally``'s answer (membership is by the set's TTL, not the
    window, on every backend), so a second ``Contains`` would ask it again. ``withheld``:
    the day's strangers whose message was not received (``vel:withheld:``), and which of
    the message's were withheld before (a ``Tally``, read with the day's answerers).
    Structs, as ``_Plan``."""

    day: Tally
    answered: Distinct
    week: Distinct
    answered_week: Distinct
    withheld: Tally


class _Plan(msgspec.Struct, frozen=True):
    """A message's reads, by part (read by name only): a struct, made in C, where a
    NamedTuple's ``__new__`` was a Python lambda's frame (``calls41``)."""

    # What fan-out counts: the recipients, or the group conversation (one target,
    # ``accounts.room``; whom it reaches as its members stand, ``carried``).
    people: tuple[str, ...]
    rate: Count
    # Each window set asked how many it holds and which of the message's people are in it
    # already (those not are new to it): one ``Tally`` a set.
    targets_seen: Tally
    strangers: Tally
    unvouched: Tally
    ties: tuple[Contains, Contains]  # ``accounts.ties`` of ``people``, or the group's members
    back: tuple[Contains, ...]  # ``accounts.listed_back`` of the same
    # A group conversation: ``people`` is the room, standing as its members do, asked of
    # the sender's carriers (``accounts.carried_queries``); None for any other message.
    carried: Contains | None
    # Any other message but an invitation: the strangers the sender opened chats with one
    # to one in the hour (NEW_ACCOUNT_DIRECT), read only when that could fire; the same
    # set over ``cold_window`` and ``cold_long_window``, and how many people answered the
    # sender in each (``_Cold``), read only when the message reaches a stranger
    # (COLD_OUTREACH).
    direct: Tally | None
    cold: _Cold | None
    # A message to one recipient (not in a room, not an invitation): whether it answers a
    # cold message of the recipient's (the sender in its ``vel:direct:`` set), the
    # sender's correspondents, and whether its answer counts already (the sender in the
    # recipient's ``vel:answered:`` set) (``_answers``); read only when the recipient wrote
    # to it.
    answer: tuple[Contains, Distinct, Contains] | None
    everyone: int  # a group conversation's members, checked or not (``room_carried``)
    # Every query above, in two tuples made with the plan: those each message reads, and
    # the sender's contacts and ``back``, deferred (``_standing``).
    reads: tuple[Query, ...]
    later: tuple[Contains, ...]
    deferred: tuple[Query, ...]  # ``later``, ``direct``, ``cold`` and ``answer``
    counted: tuple[Write, ...]  # the message and its targets counted (every message's writes)


class _Reach(msgspec.Struct, frozen=True):
    """Who the message reaches, as velocity counts strangers: a struct, made in C (a
    NamedTuple's ``__new__`` is a Python lambda's frame)."""

    now: tuple[str, ...]  # its recipients who count as strangers
    strangers: tuple[str, ...]  # its recipients the sender does not list (the window's set)
    unvouched: tuple[str, ...]  # ... it lists, unvouched (their window's set)
    count: int  # strangers in the window with the message's
    listed: int  # ... of which unvouched (the day's, past the allowance; else 0)
    carriers: tuple[str, ...]  # a room's, added to the sender's (``accounts.Carried``)


# The newcomer group's signals, one fact with COLD_OUTREACH (the last one ``detect`` says
# of a days-old sender's strangers, when it says one).
_NEWCOMER = frozenset({"NEW_ACCOUNT_LINKS", "NEW_ACCOUNT_SEALED", "NEW_ACCOUNT_DIRECT"})

# The event's scratch entry of its writes: ``detect`` finds who the message reaches, which
# is what it writes (whatever the verdict), and the engine asks ``writes`` after ``detect``.
_WRITES = "velocity:writes"
# ... and an answer that counts (``_answers``): written only when the answer itself is
# delivered or warned, as the engine's ``TALKED`` tie is (an answer the engine held or
# blocked never reached the account; review31a: 20 answers blocked as phishing bought
# their cold writer 20 strangers).
_ANSWER = "velocity:answer"
# ... and a cold message's unheard strangers (``_unheard``) withheld (``vel:withheld:``) when
# the message was not received, or its withheld ones taken out of the set when it was: the
# set holds the strangers who never heard from the sender (COLD_OUTREACH's day leaves them
# to the week, ``_cold_reach``). A pair, (if held, if received).
_WITHHELD = "velocity:withheld"


def _new(people: tuple[str, ...], kept: list[bool], some: list[str]) -> int:
    """How many of ``some`` (among ``people``) are not ``kept`` in their window's set."""
    if not some:
        return 0
    known = dict(zip(people, kept, strict=True))
    return sum(1 for p in some if not known[p])


def _standing(ctx: Context, plan: _Plan, facts: Facts) -> accounts.Standing | None:
    """The checked people's ``accounts.Standing``; None when every one is a correspondent
    (most messages: nobody is a stranger or unvouched). Which of them the sender lists,
    and which list it back (``plan.later``), tell the others apart: they are read only
    then. Read with the rest, they were two contact lists a message (the sender's, a
    recipient's) for seven messages in ten that ask neither; the bulk, reputation,
    relationship and takeover detectors read the same queries up front, so with them
    enabled nothing is read later."""
    if False not in facts[plan.ties[1]]:
        return None
    read_more(ctx, plan.later)
    return accounts.standing(plan.ties[0].members, plan.ties, facts, plan.back)


def _reach_of(ctx: Context, plan: _Plan, facts: Facts) -> _Reach:
    found = _standing(ctx, plan, facts)
    carriers: tuple[str, ...] = ()
    if plan.carried is not None:
        found, carriers = accounts.room_carried(
            found or accounts.Standing([], []), plan.ties[0].members, plan.people[0],
            facts[plan.carried], plan.everyone)
    strangers, kept_strangers = facts[plan.strangers]
    unvouched, kept_unvouched = facts[plan.unvouched]
    if found is None or not (found.strangers or found.unvouched):  # most messages
        listed = unvouched if unvouched > accounts.UNVOUCHED_ALLOWANCE else 0
        return _Reach((), (), (), strangers + listed, listed, carriers)
    strangers += _new(plan.strangers.members, kept_strangers, found.strangers)
    unvouched += _new(plan.unvouched.members, kept_unvouched, found.unvouched)
    listed = unvouched if unvouched > accounts.UNVOUCHED_ALLOWANCE else 0
    return _Reach(tuple(accounts.counted(found, unvouched)), tuple(found.strangers),
                  tuple(found.unvouched), strangers + listed, listed, carriers)


def _direct_reach(ctx: Context, direct: Tally, reach: _Reach, facts: Facts) -> int:
    """The strangers a days-old sender wrote to one to one in the window, the message's
    with them, and the day's unvouched past the allowance (``reach.listed``): what
    NEW_ACCOUNT_DIRECT counts. Never more than ``reach.count``, whose strangers' set holds
    these and the members of stranger rooms, so read (``read_more``) only when that count
    reaches the bar."""
    read_more(ctx, (direct,))
    count, kept = facts[direct]
    return int(count) + _new(direct.members, kept, list(reach.strangers)) + reach.listed


def _cold_reach(ctx: Context, cold: _Cold, reach: _Reach, unheard: int, facts: Facts,
                cfg: VelocitySettings) -> tuple[int, int, str] | None:
    """COLD_OUTREACH's count, or None: the strangers the sender wrote to one to one (its
    ``vel:direct:`` set, the message's ``unheard`` with them, ``_unheard``; never the
    people it lists, vouched or not: an owner greeting its whole phone book, none of whom
    answered yet, is no cold outreach), how many people answered them (``_answers``), and
    the span they were counted over.

    The day's: cold when its strangers outnumber the day's answerers by ``cold_strangers``
    and those are under ``cold_answered_share`` of them. The week's, where the day's is
    not: the strangers written to before the day (the week's less the day's), whose day
    to answer has passed, against the week's answerers, by ``cold_old_strangers`` and
    under ``cold_old_answered_share``: a bot pacing under the day's bar works through its
    targets a day at a time, and nothing answers any of them. The day's withheld
    strangers, up to ``cold_forgiven``, are the week's old, not the day's: nobody can
    answer them. Each count is read (``read_more``) only when the one before it reaches
    its bar (the day's set is read with the message, ``_unheard``; the withheld and the
    answerers only when its strangers could reach the bar; the week's set only when the
    day's rule said nothing, its withheld and answerers only when the old could reach
    theirs)."""
    so_far = int(facts[cold.day][0])  # the day's before this message, withheld or not
    if so_far + unheard >= cfg.cold_strangers:  # at most the day's, none withheld
        read_more(ctx, (cold.withheld, cold.answered))
        day = so_far - _forgiven(cold, facts, cfg) + unheard
        answered = int(facts[cold.answered])
        if day - answered >= cfg.cold_strangers and answered < cfg.cold_answered_share * day:
            return day, answered, f"{cfg.cold_window // 3600} h"
    read_more(ctx, (cold.week,))
    before = int(facts[cold.week]) - so_far
    if before + min(so_far, cfg.cold_forgiven) < cfg.cold_old_strangers:  # at most the old
        return None
    read_more(ctx, (cold.withheld, cold.answered_week))
    # The strangers before the day, and the day's forgiven: their day to answer is over
    old = before + _forgiven(cold, facts, cfg)
    answered = int(facts[cold.answered_week])
    if old - answered < cfg.cold_old_strangers or answered >= cfg.cold_old_answered_share * old:
        return None
    return old, answered, (f"{cfg.cold_window // 3600} h to "
                           f"{cfg.cold_long_window // 86_400} days ago")


def _forgiven(cold: _Cold, facts: Facts, cfg: VelocitySettings) -> int:
    """How many of the day's withheld strangers leave its count for the week's."""
    return min(int(facts[cold.withheld][0]), cfg.cold_forgiven)


def _unheard(ctx: Context, cold: _Cold, strangers: tuple[str, ...], facts: Facts
             ) -> tuple[list[str], list[str]]:
    """Of the message's strangers, those who never heard from the sender, and which of
    them were withheld (``vel:withheld:``): the unheard are new to its one-to-one set, or
    withheld, every message to them since held or blocked. They are the ones a held
    message withholds, and the ones its day counts (a stranger written to cold again is
    cold again); one the sender reached before is neither (review33b: a bot that had
    reached nine had a second, held message to each withheld and forgiven, and wrote to
    nine more), and one it reaches now is withheld no longer (a message to ten held, then
    one to each of them delivered: 19 of 19 a day, each one forgiven though reached).
    The withheld set is read only when a stranger was written to before: most are new."""
    read_more(ctx, (cold.day,))
    seen = dict(zip(cold.day.members, facts[cold.day][1], strict=True))
    again = [p for p in strangers if seen[p]]
    if not again:
        return list(strangers), []
    read_more(ctx, (cold.withheld,))
    gone = dict(zip(cold.withheld.members, facts[cold.withheld][1], strict=True))
    withheld = [p for p in again if gone[p]]
    return [p for p in strangers if not seen[p] or gone[p]], withheld


def _answers(ctx: Context, answer: tuple[Contains, Distinct, Contains], facts: Facts,
             footprint: int) -> bool:
    """Whether a message to one recipient, who wrote to its sender, is an answer to cold
    outreach that counts (COLD_OUTREACH's offset, kept in the recipient's
    ``vel:answered:`` set): the recipient wrote to the sender cold in the week (the
    sender in its ``vel:direct:`` set), and the sender has ``footprint`` correspondents of
    its own besides the recipient (the caller asks that it is past ``new_account_age``;
    ``writes`` keeps it only if the answer itself was delivered or warned, ``_ANSWER``).

    An answer is evidence that the cold message was wanted only as far as the answerer is
    a person of its own (``trust.voice``'s principle): socks the bot made are young, and
    nobody but the bot writes to them. Whoever merely wrote to the account proved
    nothing: 20 socks that said "hi" to it bought it 40 strangers in an hour, and the
    talkers of a room of 40 posting in it (a room post fills ``TALKED`` too) bought 40
    more (session 30's xfails).

    And an answer is one fact, counted once, when it is first given: the sender's later
    messages to the account are a conversation, not more answers (``counted``: it is in
    the account's ``vel:answered:`` already). Counted again, each one moved the answer
    into the day it was written, whenever the cold message was (review31a: socks that
    answered four bots once said "ok" to each every morning, and every bot's day had 20
    answerers to its 40 strangers, 40 of 40 reached). So a cold writer's answerers are
    its answered strangers, each once: what it bought with a stranger's answer is that
    stranger's day, not a day each morning after.

    Read in this order, each only when the one before holds: most messages to one who
    wrote to the sender are to a friend, never written to cold. The answerer's
    correspondents and whether its answer counts already are one read (two keys)."""
    cold, lives, counted = answer
    read_more(ctx, (cold,))
    if not facts[cold][0]:
        return False
    read_more(ctx, (lives, counted))
    return int(facts[lives]) - 1 >= footprint and not facts[counted][0]


class VelocityDetector:
    name = "velocity"

    def __init__(self, given: dict[str, Any]) -> None:
        self.cfg = cfg = settings(self.name, VelocitySettings, given)
        # How long the one-to-one strangers and the answers are kept: their longest window.
        self.cold_kept = max(cfg.cold_long_window, cfg.cold_window, cfg.strangers_window)

    def _plan(self, ctx: Context, message: Message) -> _Plan:
        """The plan, one for the messages of one sender to the same recipients in the same
        conversation (``shared``), kept in the event's scratch as ``once`` would, without
        its call: ``reads`` and ``detect`` each ask it."""
        scratch = ctx.scratch
        found = scratch.get(self.name)
        if found is None:
            found = scratch[self.name] = shared(
                ctx, (self.name, message.sender, ctx.to, message.conversation),
                self._make_plan, ctx, message)
        return found

    def _make_plan(self, ctx: Context, message: Message) -> _Plan:
        cfg, sender = self.cfg, message.sender
        carried = None
        if accounts.in_room(message):
            people: tuple[str, ...] = (accounts.room(message.conversation,
                                                     message.recipients),)
            # The members' ties: the queries bulk and reputation ask of the same message.
            ties, back = shared_ties(ctx, message)
            carried = Contains(_carried(sender),
                               accounts.carried_queries(ties[0].members, people[0]))
            # The window sets are asked of the room and of its members: a room nobody
            # carries reaches its members by name (``accounts.room_carried``).
            reached = (*people, *ties[0].members)
        else:
            people = tuple(dict.fromkeys(message.recipients))[: cfg.max_targets]
            # The queries bulk, reputation and takeover ask of the same recipients, unless
            # they are more than those look at (``accounts.MAX_TIES``) or velocity's cap.
            ties, back = ties_for(ctx, message, people)
            reached = people
        msgs, targets = _msgs(sender), _targets(sender)  # each read and written
        windows = (Count(msgs, cfg.rate_window, 10.0),
                   Tally(targets, cfg.fanout_window, people),
                   Tally(_strangers(sender), cfg.strangers_window, reached),
                   Tally(_unvouched(sender), cfg.unvouched_window, reached))
        counted = (Incr(msgs, 1.0, 10.0, cfg.rate_window * 2),
                   Touch(targets, people, cfg.fanout_window, cfg.set_cap))
        own: tuple[Query, ...] = () if carried is None else (carried,)
        later: tuple[Contains, ...] = (ties[0], *back)
        deferred: tuple[Query, ...]
        direct, cold, answer, deferred = None, None, None, later
        if carried is None and type(message) is not Invite:
            direct = Tally(_direct(sender), cfg.strangers_window, people)
            answered = _answered(sender)
            cold = _Cold(Tally(direct.key, cfg.cold_window, people),
                         Distinct(answered, cfg.cold_window),
                         Distinct(direct.key, cfg.cold_long_window),
                         Distinct(answered, cfg.cold_long_window),
                         Tally(_withheld(sender), cfg.cold_window, people))
            if len(people) == 1:
                answer = (Contains(_direct(people[0]), (sender,)),
                          Distinct(accounts.tie_record(sender), accounts.TALKED_TTL,
                                   accounts.TALKED),
                          Contains(_answered(people[0]), (sender,)))
            deferred = (*later, direct, *msgspec.structs.astuple(cold), *(answer or ()))
        return _Plan(people, *windows, ties, back, carried, direct, cold, answer,
                     0 if carried is None else len(set(message.recipients)),
                     (*windows, ties[1], *own), later, deferred, counted)

    def reads(self, ctx: Context) -> Sequence[Query]:
        message = ctx.message
        if message is None:
            return ()
        plan = self._plan(ctx, message)
        ctx.deferred += plan.deferred
        return plan.reads

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        message = ctx.message
        if message is None:
            return []
        cfg, plan = self.cfg, self._plan(ctx, message)
        found: list[Signal] = []
        rate = facts[plan.rate] + 1
        # Each count is compared with its soft bound before ``ramp`` is called: nearly every
        # message is below all of them, and a call costs more than the comparison.
        if rate > cfg.rate_soft and (strength := ramp(rate, cfg.rate_soft, cfg.rate_hard)):
            found.append(Signal("VELOCITY_RATE", strength,
                                f"{rate:.0f} messages in {cfg.rate_window} s"))
        fanout, kept = facts[plan.targets_seen]
        fanout += kept.count(False)  # with the targets new to the window's set
        if fanout > cfg.fanout_soft and (strength := ramp(fanout, cfg.fanout_soft,
                                                          cfg.fanout_hard)):
            found.append(Signal("VELOCITY_FANOUT", strength,
                                f"wrote to {fanout} recipients in "
                                f"{cfg.fanout_window // 60} min"))
        reach = _reach_of(ctx, plan, facts)
        first_seen = ctx.account.first_seen
        age = message.ts - first_seen if first_seen is not None else 0.0
        young = age < cfg.new_account_age
        if (plan.answer is not None and not young and facts[plan.ties[1]][0]
                and _answers(ctx, plan.answer, facts, cfg.cold_answer_footprint)):
            ctx.scratch[_ANSWER] = Touch(_answered(plan.people[0]), (message.sender,),
                                         self.cold_kept, cfg.set_cap)
        ctx.scratch[_WRITES] = self._written(plan, reach)
        unheard: list[str] = []
        if reach.strangers and plan.cold is not None:
            unheard, withheld = _unheard(ctx, plan.cold, reach.strangers, facts)
            key = plan.cold.withheld.key
            ctx.scratch[_WITHHELD] = (
                Touch(key, tuple(unheard), self.cold_kept, cfg.set_cap) if unheard else None,
                Remove(key, tuple(withheld)) if withheld else None)
        strangers_now, strangers = reach.now, reach.count
        if strangers_now and type(message) is Invite and (strength := ramp(
                strangers, cfg.invite_strangers_soft, cfg.invite_strangers_hard)):
            found.append(Signal("INVITE_STRANGERS", strength,
                                f"invited {strangers} accounts that are not its contacts in "
                                f"{cfg.strangers_window // 60} min"))
        if strangers > cfg.strangers_soft and (strength := ramp(
                strangers, cfg.strangers_soft, cfg.strangers_hard)):
            found.append(Signal("VELOCITY_STRANGERS", strength,
                                f"wrote to {strangers} accounts that are not its contacts in "
                                f"{cfg.strangers_window // 60} min"))
        if (young and strangers_now
                and strangers >= cfg.new_account_strangers):
            youth = 1.0 - 0.5 * age / cfg.new_account_age
            found.append(Signal("NEW_ACCOUNT_STRANGERS", youth,
                                f"account first seen {age / 3600:.0f} h ago wrote to "
                                f"{strangers} strangers"))
            if ctx.view is not None and ctx.view.domains and (
                    strangers >= cfg.new_account_link_strangers):
                found.append(Signal("NEW_ACCOUNT_LINKS", youth,
                                    f"account first seen {age / 3600:.0f} h ago sent links to "
                                    f"{strangers} strangers"))
            elif message.encrypted and strangers >= cfg.new_account_sealed_strangers:
                found.append(Signal("NEW_ACCOUNT_SEALED", youth,
                                    f"account first seen {age / 3600:.0f} h ago sent encrypted "
                                    f"messages to {strangers} strangers"))
            elif (plan.direct is not None and strangers >= cfg.new_account_direct_strangers
                  and (direct := _direct_reach(ctx, plan.direct, reach, facts))
                  >= cfg.new_account_direct_strangers):
                found.append(Signal("NEW_ACCOUNT_DIRECT", youth,
                                    f"account first seen {age / 3600:.0f} h ago wrote one to "
                                    f"one to {direct} strangers"))
        # Cold outreach, at any age: one to one to a stranger, and the day's strangers past
        # the people who answered by ``cold_strangers``, or the week's before the day by
        # ``cold_old_strangers`` (``_cold_reach``). One fact with the newcomer's
        # signals (their group): said only where none of them is.
        if (reach.strangers and plan.cold is not None
                and (not found or found[-1].code not in _NEWCOMER)
                and (cold := _cold_reach(ctx, plan.cold, reach, len(unheard), facts,
                                        cfg))):
            found.append(Signal("COLD_OUTREACH", 1.0,
                                f"wrote one to one to {cold[0]} strangers in {cold[2]}; "
                                f"{cold[1]} people answered it"))
        return found

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        """``_written``; if the message was received, an answer that counts (``_ANSWER``)
        and its withheld strangers withheld no longer; if not, its unheard strangers
        withheld (``_WITHHELD``)."""
        written = ctx.scratch.get(_WRITES, ())
        received = outcome.action in RECEIVED
        withheld = ctx.scratch.get(_WITHHELD, (None, None))[received]
        answer = ctx.scratch.get(_ANSWER) if received else None
        if answer is None and withheld is None:  # most messages: no comprehension made
            return written
        return (*written, *[w for w in (answer, withheld) if w is not None])

    def _written(self, plan: _Plan, reach: _Reach) -> Sequence[Write]:
        """The message and its targets counted, and whom it reached added to the window
        sets (their keys as the plan's queries hold them: none made again a message); the
        strangers written to one to one, to their own too (``vel:direct:``, a week)."""
        if not (reach.strangers or reach.unvouched or reach.carriers):  # most messages
            return plan.counted
        cfg, out = self.cfg, [*plan.counted]
        if reach.strangers:
            out.append(Touch(plan.strangers.key, reach.strangers, cfg.strangers_window,
                             cfg.set_cap))
        if reach.unvouched:
            out.append(Touch(plan.unvouched.key, reach.unvouched, cfg.unvouched_window,
                             cfg.set_cap))
        if reach.strangers and plan.direct is not None:  # at any age (COLD_OUTREACH)
            out.append(Touch(plan.direct.key, reach.strangers, self.cold_kept, cfg.set_cap))
        if reach.carriers and plan.carried is not None:  # carriers: a room's, carried asked
            out.append(Touch(plan.carried.key, reach.carriers, cfg.strangers_window,
                             cfg.set_cap))
        return out


def build(given: dict[str, Any], config: Config) -> VelocityDetector:
    return VelocityDetector(given)
