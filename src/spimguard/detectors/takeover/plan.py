"""What one event makes the takeover detector read: the account's record, its contact
list and restrictions, and for a message the burst counts of its session and the
recipients' places in them. One query per part, a set's count and the recipients' places
in it one ``Tally`` (16 queries a message to one friend, 21 as a Distinct and a Contains
each); ``detect`` and ``writes`` both work from the answers.

**Only what the event's branch can use.** Reads are planned before any state is seen
(``engine._plan_batch``). What the event alone rules out is not read: the contacts a
session sent this pitch to only for a message with a link (the only one ``burst.measure``
counts them for, and ``writes`` keeps them for: a link's pitch is its domain, never the
key of a text without one), the repeats of a text only for a message with a fingerprint
(``burst.repeating``), the contact list's size only for a contact read among the events
other than messages. Whether the recipients list the account back is read for every
message (``FAMILIAR_SENDER`` asks it); ``owner_consistent`` sees it only for a message in
the clear with no link (``listed_back``). Each is answered as if read: None or nothing,
never a stale value.

**Read in one round trip, or when the judgement gets there.** What every message's
judgement or writes ask (the record, the recipients' ties, the dormant ties' one-way
record, whether a recipient just wrote, the text's repeats) is read with the other
detectors' reads, before ``detect``. What only a message from a risky session asks (the
burst's sets and counts, the contact list's size: ``Plan.risky``), or ``owner_consistent``
at its end, or ``established`` of an account younger than ``established_after`` (its
vouching correspondents), is ``Plan.later``: read during ``detect`` when the judgement
reaches it (``base.read_more``), at the event's time and with the batch's earlier events'
effects, as if read with the rest (the engine holds them with the batch's keys on SQLite,
reads them in the event's claim on Redis). Most messages come from the owner's usual
session: of the ~13 queries an event planned on the mixed load, ~6 now wait, ~1 of which
is read.

**Made once a batch.** All but what a message's text decides (its fingerprint, its link,
its size) depends on the account, the session and the recipients alone: that part is made
once for the batch's messages with the same three (``base.shared``), and so is the plan of
an event other than a message, once for the account's events of the batch of its kind."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from ... import accounts
from ...events import AccountInfo, Challenge, ContactsRead, Login, Message
from ...state.ops import FOREVER, Contains, Count, Distinct, Get, LastTouch, Query, Tally
from ..base import Context, shared, ties_for
from . import keys, record, rooms
from .origin import counted
from .settings import TakeoverSettings

_ACCOUNT_EVENTS = frozenset((Login, ContactsRead, AccountInfo, Challenge))  # but messages


class Plan(msgspec.Struct, frozen=True):
    """What the event reads, by part (read by name only): a struct, made in C, where a
    NamedTuple's ``__new__`` was a Python lambda's frame, ~1.4 an event (``calls41``)."""

    record: Get  # the account's record (``record``): profile, sessions, incidents
    contacts_n: Distinct  # the contact list's size: read by a contact read, else deferred
    restrictions: Get  # the engine's record of the account (``accounts.record``), as read
    reads: tuple[Query, ...]  # what the event reads before it is judged, in one flat tuple
    # What only some branches of a message's judgement use, read when one reaches it
    # (``base.read_more``): the vouching correspondents first, then what a risky
    # session's message reads (``risky``).
    later: tuple[Query, ...] = ()
    session: str = ""  # the session a message counts under (``origin.counted``)
    # Each set a burst counts in is asked how many it holds and which recipients it holds
    # in one ``Tally`` (answered ``(count, memberships)``), the recipients its members.
    burst: Tally | None = None  # dormant ties this session wrote to in the burst window
    contacts: Contains | None = None
    talked: Contains | None = None
    same_text: Count | None = None  # only for a message with a fingerprint
    # When the one recipient last wrote to the account, within ``reply_window``: its touch
    # of the account's ties (``accounts.heard``).
    heard: LastTouch | None = None
    text_to: Tally | None = None  # contacts this session sent this pitch to (a link)
    # ... and the contacts and correspondents the account's unproven sessions sent a link
    # to over a session's life (``burst.measure``'s spread pitch): whatever the site
    # (``keys.linked``) first, then each of the message's sites (``keys.spread``,
    # ``keys.spread_sites``: the first ``unlisted`` of them on no popular list)
    spread: tuple[Tally, ...] = ()
    unlisted: int = 0
    # Whether the one recipient of a link was written to by the account's unproven sessions
    # (``keys.sought``; ``TakeoverDetector._asked``)
    sought: Tally | None = None
    shape: Count | None = None  # encrypted: messages of this size class from the session
    life: Tally | None = None  # dormant ties the session wrote to, over its life
    pals: Tally | None = None  # correspondents the session wrote to, over its life
    listed_back: tuple[Contains, ...] = ()  # the account in each recipient's contacts
    wrote: Tally | None = None  # recipients the account itself wrote to (one way)
    doubted: Tally | None = None  # dormant ties the account's unproven sessions wrote to
    # ... and over a session's life, with the correspondents they wrote to (``unproven``)
    doubted_life: Tally | None = None
    doubted_pals: Tally | None = None
    # The account in each recipient's contacts (``accounts.listed_back``, the first
    # ``accounts.MAX_TIES``): whether the recipients vouch for the tie (``FAMILIAR_SENDER``).
    back: tuple[Contains, ...] = ()
    reciprocated: Distinct | None = None  # correspondents who vouched for their tie to it
    room: rooms.RoomPlan | None = None  # a group post's room (``rooms``)
    # Dormant ties the account's earned networks sent popular sites to (``keys.shares``):
    # read only for such a message (``TakeoverDetector._unearned``).
    shares: Tally | None = None

    def risky(self) -> tuple[Query, ...]:
        """What judging a message from a risky session reads of ``later``: the contact
        list's size and the burst's sets and counts, all but the vouching correspondents
        (which only ``established`` asks) and the popular shares (``shares``: only a
        familiar session's message asks), nor the spread pitch's set over the unproven
        sessions' life (``Plan.spread``, last) nor whether a recipient was sought
        (``Plan.sought``, before them): read only when a recipient could join them
        (``burst.spread_to``), or a reply's exemption asks (``_asked``)."""
        return self.later[2:len(self.later) - len(self.spread) - (self.sought is not None)]


def sessions_sets(found: Plan, account: str, sessions: Iterable[str]
                  ) -> tuple[tuple[Tally, Tally], ...]:
    """The burst set and this pitch's set (``Plan.burst``, ``Plan.text_to``) of each of
    ``sessions`` (the account's other sessions, as their messages count: ``origin.counted``),
    each asked of the message's recipients as the session's own are: what
    ``TakeoverDetector._broadcast`` reads of the account's other familiar sessions. The
    pitch's set named as ``keys.text`` names it, the session's part swapped."""
    assert found.burst is not None and found.text_to is not None
    burst, text_to = found.burst, found.text_to
    pitch = text_to.key[len(keys.lifelong(account, found.session)):]
    return tuple([(Tally(keys.burst(account, s), burst.window, burst.members),
                   Tally(keys.lifelong(account, s) + pitch, text_to.window, text_to.members,
                         text_to.side)) for s in sessions])


class _People(msgspec.Struct, frozen=True):
    """The part of a message's plan its sender, session and recipients decide: made once
    a batch for its messages with the same three (``base.shared``), for an account writes
    to the same few people from the same session most of the time (a struct, as
    ``Plan``)."""

    plan: Plan  # with the reads of a message that is not in the clear or has a link
    listed_back: tuple[Contains, ...]  # ``Plan.listed_back`` of one in the clear, no link
    clear_reads: tuple[Query, ...]  # ``Plan.reads`` of one in the clear with no link


def plan(cfg: TakeoverSettings, ctx: Context) -> Plan | None:
    """The event's reads; None for an event the detector does not judge."""
    event, view = ctx.message, ctx.view
    if event is None:  # kinds told apart by ``type(x) is`` (``engine``: no isinstance fails)
        kind = type(ctx.event)
        if kind not in _ACCOUNT_EVENTS:
            return None
        account, listed = ctx.event.account, kind is ContactsRead
        return shared(ctx, ("takeover", account, listed), _account_plan, account, listed)
    account = event.account
    session = counted(event)  # without a session id, its app and network stand in
    people = shared(ctx, ("takeover", account, session, ctx.to), _people_plan, cfg, ctx,
                    event, session)
    found = people.plan
    assert found.burst is not None
    window, bucket = cfg.burst_window, cfg.burst_bucket
    sites, unlisted = keys.spread_sites(view)  # each site, as sold; () for none
    link = bool(sites)
    clear = not event.encrypted and view is not None and not link
    same_text = (Count(keys.same_text(account, session, view), window, bucket)
                 if view and view.fingerprint else None)
    text_to = Tally(keys.text(account, session, view), window,
                    found.burst.members, keys.LIFE) if link else None
    members, life = found.burst.members, cfg.session_ttl
    spread = (Tally(keys.linked(account), life, members, keys.LIFE),
              *[Tally(keys.spread(account, site), life, members, keys.LIFE)
                for site in sites]
              ) if link else ()
    sought = Tally(keys.sought(account), life, members, keys.LIFE) if (
        link and found.heard is not None) else None
    shape = (Count(keys.shape(account, session, event.size), window, bucket)
             if event.encrypted else None)
    extra: tuple[Query, ...] = () if same_text is None else (same_text,)
    if found.heard is not None:
        extra += (found.heard,)
    later = found.later
    if text_to is not None or shape is not None:  # what only the burst's strength asks
        later = (*later, *[q for q in (text_to, shape, sought) if q is not None], *spread)
    room = rooms.plan(account, session, event.conversation, found.burst.members,
                      None if text_to is None else text_to.key,
                      len({account, *event.recipients})) if accounts.in_room(
        event) else None
    if room is not None:
        extra += room.reads
    # The people's plan with what the text decides: ``msgspec.structs.replace`` copies the
    # fields it holds as they are in C and sets these ten. Made whole by keyword, as until
    # session 43, the struct matched 27 names and Python loaded 16 of them from ``found``:
    # ~15,500 instructions a message where this is ~3,800 (``takeover43``).
    return msgspec.structs.replace(
        found, reads=(people.clear_reads if clear else found.reads) + extra, later=later,
        same_text=same_text, text_to=text_to, spread=spread, unlisted=unlisted, sought=sought,
        shape=shape, listed_back=people.listed_back if clear else (), room=room)


def standing(account: str) -> tuple[Get, Distinct]:
    """What ``established`` reads of an account (``TakeoverDetector.established``): its
    record and its vouching correspondents, the account's alone. A detector that asks
    only that judgement while this one plans nothing of the event (it is disabled) plans
    these two, not the ~16 queries of a message's ``plan``."""
    return Get(record.key(account)), _reciprocated(account)


def _reciprocated(account: str) -> Distinct:
    return Distinct(keys.reciprocated(account), accounts.TALKED_TTL, keys.RECIPROCATED)


def _account_plan(account: str, listed: bool) -> Plan:
    """What an event of the account but a message reads: its record and the engine's
    record of it (its restrictions: ``accounts.record``); a contact read (``listed``) the
    contact list's size too, which nothing else of it asks."""
    own = (Get(record.key(account)), Distinct(accounts.contacts(account), FOREVER),
           accounts.record(account))
    return Plan(*own, reads=own if listed else (own[0], own[2]))


def _people_plan(cfg: TakeoverSettings, ctx: Context, message: Message, session: str
                 ) -> _People:
    """A message's plan but for what its text decides (``plan``): of its sender, session
    and recipients (``ctx.to``) alone, whatever else ``ctx`` holds."""
    account = message.sender
    common = _account_plan(account, False)
    people = tuple(dict.fromkeys(ctx.to))[:cfg.max_recipients]
    window, life_ttl = cfg.burst_window, cfg.session_ttl
    life_key = keys.lifelong(account, session)
    burst = Tally(keys.burst(account, session), window, people)
    # The event's shared ties where they ask of these people (``base.ties_for``).
    (contacts, talked), back = ties_for(ctx, message, people)
    # Never of the account itself: its note to itself is its own line, which never makes it
    # "heard" (a reply, a vouch: ``_reciprocating``), however delivered (review36a).
    heard = accounts.heard(account, people[0], cfg.reply_window) if len(
        people) == 1 and people[0] != account else None
    life = Tally(life_key, life_ttl, people, keys.LIFE)
    pals = Tally(life_key, life_ttl, people, keys.PALS)
    wrote = Tally(keys.wrote(account), accounts.TALKED_TTL, people, keys.WROTE)
    doubted = Tally(keys.doubted(account), window, people)
    unproven_key = keys.unproven(account)
    doubted_life = Tally(unproven_key, life_ttl, people, keys.LIFE)
    doubted_pals = Tally(unproven_key, life_ttl, people, keys.PALS)
    # ``back``'s own queries when it holds every recipient (at most ``MAX_TIES``), not made
    # again: a generator's frame and a query a recipient, the same ones.
    listed_back = () if len(people) > cfg.owner_people else back if len(
        people) <= accounts.MAX_TIES else accounts.listed_back(account, people, len(people))
    reciprocated = _reciprocated(account)
    shares = Tally(keys.shares(account), cfg.pitch_trust_after, people, keys.LIFE)
    # Who the recipients are to the account is asked of every message (``FAMILIAR_SENDER``,
    # the dormant ties its writes record, what a clean one teaches); the rest only of a
    # risky session's message (``later``). ``listed_back`` is ``back``'s start (or all of
    # it, past ``MAX_TIES``), read once.
    head = (*common.reads, contacts, talked, wrote)
    found = msgspec.structs.replace(common, reads=(*head, *back),
                                    later=(reciprocated, shares, common.contacts_n, burst, life,
                                           pals, doubted, doubted_life, doubted_pals),
                                    session=session, burst=burst, contacts=contacts,
                                    talked=talked, heard=heard, life=life, pals=pals,
                                    wrote=wrote, doubted=doubted, doubted_life=doubted_life,
                                    doubted_pals=doubted_pals, back=back,
                                    reciprocated=reciprocated, shares=shares)
    return _People(found, listed_back, (*head, *listed_back, *back[len(listed_back):]))
