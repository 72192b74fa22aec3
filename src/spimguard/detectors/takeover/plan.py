"""What one event makes the takeover detector read: the account's record, its contact
list and restrictions, and for a message the burst counts of its session and the
recipients' places in them. One query per part, a set's count and the recipients' places
in it one ``Tally`` (14 queries a message to one friend, 19 as a Distinct and a Contains
each), read in one round trip with the other detectors'; ``detect`` and ``writes`` both
work from the answers.

**Only what the event's branch can use.** Reads are planned before any state is seen
(``engine._plan_batch``), so what depends on state is always read; what the event alone
rules out is not: the contacts a session sent this pitch to only for a message with a
link (the only one ``burst.measure`` counts them for, and ``writes`` keeps them for:
a link's pitch is its domain, never the key of a text without one), the repeats of a text only for a
message with a fingerprint (``burst.repeating``). Whether the recipients list the
account back is read for every message (``FAMILIAR_SENDER`` asks it); ``owner_consistent``
sees it only for a message in the clear with no link (``listed_back``).
Each is answered as if read: None or nothing, never a stale value."""

from __future__ import annotations

from typing import NamedTuple

from ... import accounts
from ...events import AccountInfo, Challenge, ContactsRead, Event, Login, Message
from ...state.ops import FOREVER, Contains, Count, Distinct, Get, Query, Tally
from ...text import MessageView
from . import keys, record
from .origin import counted
from .settings import TakeoverSettings


class Plan(NamedTuple):
    record: Get  # the account's record (``record``): profile, sessions, incidents
    contacts_n: Distinct
    restrictions: Get
    first_seen: Get
    reads: tuple[Query, ...]  # every query above and below, in one flat tuple
    session: str = ""  # the session a message counts under (``origin.counted``)
    # Each set a burst counts in is asked how many it holds and which recipients it holds
    # in one ``Tally`` (answered ``(count, memberships)``), the recipients its members.
    burst: Tally | None = None  # dormant ties this session wrote to in the burst window
    contacts: Contains | None = None
    talked: Contains | None = None
    same_text: Count | None = None  # only for a message with a fingerprint
    heard: Get | None = None  # when the one recipient last wrote to the account
    text_to: Tally | None = None  # contacts this session sent this pitch to (a link)
    shape: Count | None = None  # encrypted: messages of this size class from the session
    life: Tally | None = None  # dormant ties the session wrote to, over its life
    pals: Tally | None = None  # correspondents the session wrote to, over its life
    listed_back: tuple[Contains, ...] = ()  # the account in each recipient's contacts
    wrote: Tally | None = None  # recipients the account itself wrote to (one way)
    doubted: Tally | None = None  # dormant ties the account's unproven sessions wrote to
    # The account in each recipient's contacts (``accounts.listed_back``, the first
    # ``accounts.MAX_TIES``): whether the recipients vouch for the tie (``FAMILIAR_SENDER``).
    back: tuple[Contains, ...] = ()
    reciprocated: Distinct | None = None  # correspondents who vouched for their tie to it


def plan(cfg: TakeoverSettings, event: Event, view: MessageView | None) -> Plan | None:
    """The event's reads; None for an event the detector does not judge."""
    if not isinstance(event, Message | Login | ContactsRead | AccountInfo | Challenge):
        return None
    account = event.account
    contacts_key = accounts.contacts(account)
    held = accounts.record(account)  # the account's restrictions and first sighting, both
    common = (Get(record.key(account)), Distinct(contacts_key, FOREVER), held, held)
    if not isinstance(event, Message):
        return Plan(*common, reads=common[:3])
    session = counted(event)  # without a session id, its app and network stand in
    people = tuple(dict.fromkeys(event.recipients))[:cfg.max_recipients]
    window, bucket, life_ttl = cfg.burst_window, cfg.burst_bucket, cfg.session_ttl
    life_key = keys.lifelong(account, session)
    link = bool(view and view.urls)
    clear = not event.encrypted and view is not None and not link
    burst = Tally(keys.burst(account, session), window, people)
    contacts, talked = accounts.ties(account, people, len(people))
    same_text = (Count(keys.same_text(account, session, view), window, bucket)
                 if view and view.fingerprint else None)
    heard = Get(keys.heard(account, people[0])) if len(people) == 1 else None
    text_to = Tally(keys.text(account, session, view), window, people) if link else None
    shape = (Count(keys.shape(account, session, event.size), window, bucket)
             if event.encrypted else None)
    life = Tally(life_key, life_ttl, people, keys.LIFE)
    pals = Tally(life_key, life_ttl, people, keys.PALS)
    wrote = Tally(keys.wrote(account), accounts.TALKED_TTL, people, keys.WROTE)
    doubted = Tally(keys.doubted(account), window, people)
    listed_back = tuple(Contains(accounts.contacts(p), (account,)) for p in people) if (
        clear and len(people) <= cfg.owner_people) else ()
    reads = [*common[:3], burst, contacts, talked, life, pals, wrote, doubted, *listed_back]
    back = accounts.listed_back(account, people)  # ``listed_back`` is its start, or nothing
    reciprocated = Distinct(keys.reciprocated(account), accounts.TALKED_TTL,
                            keys.RECIPROCATED)
    reads += (*back[len(listed_back):], reciprocated)
    reads += [q for q in (same_text, heard, text_to, shape) if q is not None]
    return Plan(*common, tuple(reads), session, burst, contacts, talked, same_text, heard,
                text_to, shape, life, pals, listed_back, wrote, doubted, back,
                reciprocated)  # in the order of Plan's fields
