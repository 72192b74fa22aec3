"""What one event makes the takeover detector read: the account's record, its contact
list and restrictions, and for a message the burst counts of its session and the
recipients' places in them. One query per part, read in one round trip with the other
detectors'; ``detect`` and ``writes`` both work from the answers.

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
from ...state.ops import FOREVER, Contains, Count, Distinct, Get, Query
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
    burst: Distinct | None = None
    known_burst: Contains | None = None
    contacts: Contains | None = None
    talked: Contains | None = None
    same_text: Count | None = None  # only for a message with a fingerprint
    heard: Get | None = None  # when the one recipient last wrote to the account
    text_to: Distinct | None = None  # contacts this session sent this pitch to (a link)
    text_known: Contains | None = None
    shape: Count | None = None  # encrypted: messages of this size class from the session
    life: Distinct | None = None  # dormant ties the session wrote to, over its life
    life_known: Contains | None = None
    pals: Distinct | None = None  # correspondents the session wrote to, over its life
    pals_known: Contains | None = None
    listed_back: tuple[Contains, ...] = ()  # the account in each recipient's contacts
    wrote: Contains | None = None  # recipients the account itself wrote to (one way)
    wrote_any: Distinct | None = None  # ... how many it wrote to at all
    doubted: Distinct | None = None  # dormant ties the account's unproven sessions wrote to
    doubted_known: Contains | None = None
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
    burst_key, life_key, pals_key, doubted_key, wrote_key = (
        keys.burst(account, session), keys.life(account, session),
        keys.pals(account, session), keys.doubted(account), keys.wrote(account))
    link = bool(view and view.urls)
    clear = not event.encrypted and view is not None and not link
    burst, known_burst = Distinct(burst_key, window), Contains(burst_key, people)
    contacts, talked = accounts.ties(account, people, len(people))
    same_text = (Count(keys.same_text(account, session, view), window, bucket)
                 if view and view.fingerprint else None)
    heard = Get(keys.heard(account, people[0])) if len(people) == 1 else None
    text_to: Distinct | None = None
    text_known: Contains | None = None
    if link:
        text_key = keys.text(account, session, view)
        text_to, text_known = Distinct(text_key, window), Contains(text_key, people)
    shape = (Count(keys.shape(account, session, event.size), window, bucket)
             if event.encrypted else None)
    life, life_known = Distinct(life_key, life_ttl), Contains(life_key, people)
    pals, pals_known = Distinct(pals_key, life_ttl), Contains(pals_key, people)
    wrote = Contains(wrote_key, people, keys.WROTE)
    wrote_any = Distinct(wrote_key, accounts.TALKED_TTL, keys.WROTE)
    doubted, doubted_known = Distinct(doubted_key, window), Contains(doubted_key, people)
    listed_back = tuple(Contains(accounts.contacts(p), (account,)) for p in people) if (
        clear and len(people) <= cfg.owner_people) else ()
    reads = [*common[:3], burst, known_burst, contacts, talked, life, life_known, pals, pals_known,
             wrote, wrote_any, doubted, doubted_known, *listed_back]
    back = accounts.listed_back(account, people)  # ``listed_back`` is its start, or nothing
    reciprocated = Distinct(keys.reciprocated(account), accounts.TALKED_TTL,
                            keys.RECIPROCATED)
    reads += (*back[len(listed_back):], reciprocated)
    if same_text is not None:
        reads.append(same_text)
    if heard is not None:
        reads.append(heard)
    if text_to is not None and text_known is not None:
        reads += (text_to, text_known)
    if shape is not None:
        reads.append(shape)
    return Plan(*common, tuple(reads), session, burst, known_burst, contacts, talked,
                same_text, heard, text_to, text_known, shape, life, life_known, pals,
                pals_known, listed_back, wrote, wrote_any, doubted,
                doubted_known, back, reciprocated)  # in the order of Plan's fields
