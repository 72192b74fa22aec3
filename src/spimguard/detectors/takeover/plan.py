"""What one event makes the takeover detector read: the account's record, its contact
list and restrictions, and for a message the burst counts of its session and the
recipients' places in them. One query per part, read in one round trip with the other
detectors'; ``detect`` and ``writes`` both work from the answers."""

from __future__ import annotations

from typing import NamedTuple

from ... import accounts
from ...events import AccountInfo, Challenge, ContactsRead, Event, Login, Message
from ...state.ops import FOREVER, Contains, Count, Distinct, Get
from ...text import MessageView
from . import keys, record
from .origin import counted
from .settings import TakeoverSettings


class Plan(NamedTuple):
    record: Get  # the account's record (``record``): profile, sessions, incidents
    contacts_n: Distinct
    restrictions: Get
    first_seen: Get
    burst: Distinct | None = None
    known_burst: Contains | None = None
    contacts: Contains | None = None
    talked: Contains | None = None
    same_text: Count | None = None
    heard: Get | None = None  # when the one recipient last wrote to the account
    text_to: Distinct | None = None  # contacts this session sent this pitch to
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


def plan(cfg: TakeoverSettings, event: Event, view: MessageView | None) -> Plan | None:
    """The event's reads; None for an event the detector does not judge."""
    if not isinstance(event, Message | Login | ContactsRead | AccountInfo | Challenge):
        return None
    account = event.account
    common = (Get(record.key(account)), Distinct(accounts.contacts(account), FOREVER),
              Get(accounts.restrictions(account)), Get(accounts.first_seen(account)))
    if not isinstance(event, Message):
        return Plan(*common)
    session = counted(event)  # without a session id, its app and network stand in
    people = tuple(dict.fromkeys(event.recipients))[:cfg.max_recipients]
    burst = keys.burst(account, session)
    text = keys.text(account, session, view)
    life, pals, doubted = (keys.life(account, session), keys.pals(account, session),
                           keys.doubted(account))
    return Plan(*common, Distinct(burst, cfg.burst_window),
                Contains(burst, people), Contains(accounts.contacts(account), people),
                Contains(accounts.talked(account), people),
                Count(keys.same_text(account, session, view), cfg.burst_window,
                      cfg.burst_bucket),
                Get(keys.heard(account, people[0])) if len(people) == 1 else None,
                Distinct(text, cfg.burst_window), Contains(text, people),
                Count(keys.shape(account, session, event.size), cfg.burst_window,
                      cfg.burst_bucket) if event.encrypted else None,
                Distinct(life, cfg.session_ttl), Contains(life, people),
                Distinct(pals, cfg.session_ttl), Contains(pals, people),
                tuple(Contains(accounts.contacts(p), (account,)) for p in people)
                if len(people) <= cfg.owner_people else (),
                wrote=Contains(keys.wrote(account), people),
                wrote_any=Distinct(keys.wrote(account), accounts.TALKED_TTL),
                doubted=Distinct(doubted, cfg.burst_window),
                doubted_known=Contains(doubted, people))
