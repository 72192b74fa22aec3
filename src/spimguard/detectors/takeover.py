"""Hijacked accounts: a stranger's software in a friend's account, spamming its contacts.

The case spimguard was born from: credentials harvested, a login from the
seller's own software, the whole contact list read, then every contact sent the
same promo in the victim's name. Each part alone is innocent (people use
third-party apps, clients fetch the whole roster, friends greet everyone at new
year), so the decision rests on their conjunction, per *session*:

1. the session is **unfamiliar** to the account: its client (official or not)
   and its network prefix (/24, /48) against the account's profile. A client or
   network counts as familiar once seen for a day; an official client id from a
   new network still counts as unfamiliar (attackers spoof client ids);
2. it **bursts to the account's dormant ties**: distinct contacts the account
   has not been writing with, written to from this session in ``burst_window``
   (an owner on a new network writes to the friends it always writes to), with
   one text and often a link; or, spread past that window, over the session's
   life beyond the correspondents it also wrote to (``_slow_burst``);
3. it **read the contact list** first (``contacts_read`` against the list size).

ACCOUNT_HIJACK_BURST needs 1 and 2; 3, one text, dormant ties and a link make
it stronger. A session only partly new with positive evidence that it is the
owner's and nothing against it (``owner_consistent``: an established account, the
official or the account's own app, no contact list read, a message in the clear
with no link, to contacts who list it back, from a network that sessions proven
the owner's, by their conversation, wrote from) leaves only a trace
(``unpitched_trace``): the owner's phone a few hours into a new network where it
has been answering friends, announcing "this is my new number" to everyone.
Nothing against is not evidence for: an account with no history, a network only
written from (an intruder's warm-up looks the same), an encrypted message (nobody
can say it has no link) prove nothing, and the burst counts in full whatever the
app claims. Every message of a session the account does not use and nothing
proves the owner's carries SESSION_UNFAMILIAR (no points): a hijacker that writes
once per burst window never bursts, yet a contact listing it inherited no longer
vouches for its words (``policy.py``). Its notices speak of the session's app,
network and messages.
**The intruder is one actor, whatever sessions it mints.** Session ids and
sign-ins are the client's choice: the burst also counts the dormant ties written to
in ``burst_window`` from all of the account's sessions nothing proves the owner's
(``_doubted_burst``), so a new session for every message bursts all the same. A
reply (the recipient wrote first) neither joins nor is judged by it, and the
owner's proven sessions count apart. A message without a session has its app and
network stand in for one.
An encrypted message has no text to compare: never "the text the session is
repeating" (its replies count), but one size class of ciphertext to the dormant
ties stands in for one text in the burst's strength.

The account profile (COMPA-style, kept under 1 KiB) also yields
BEHAVIOUR_CHANGE: a first link ever, a script the account never writes in, an
hour it never writes at.

**One record per account.** What every event of an account reads (the profile, each
session's facts, the networks of its live sessions, its open incidents, each session's
delivered count) is one value, ``takeover_record``, read once and put once per event,
stored without field names or repeated strings.
What a burst counts (contacts written to per session and per text, in a window) stays
in member sets of their own: they grow with an attack up to ``burst_cap``, and one value
rewritten with every message would cost as much as they hold.

**Profiles learn only what the owner proves.** A sign-in teaches nothing (one
quiet login days before a burst must not make the intruder's network
familiar), nor does reading contacts. A network or client enters the profile
through messages that raised no evidence, to the account's own contacts or
correspondents, and is familiar after ``familiar_uses`` such messages, the
first ``familiar_after`` ago; or at once through a passed challenge on an
official app, or the IM server's own ``account`` facts (its known networks as
CIDRs, its known clients). The contacts the account writes to (its one-way
record, what makes a tie active) are learnt the same way: from sessions proven
the owner's, never an unfamiliar one's clean lines.

**Replies are earned.** A message counts as a reply only when it answers, in a
one-to-one conversation, someone who wrote to the account *after this session
signed in* (so within ``reply_window``), and is not the text the session is
already repeating. Invitations are not writing.

**Order-proof bursts.** Once a session has written to dormant ties, its burst
is the larger of those ties and the distinct contacts it sent a link to one
site: an active friend among the first recipients of a pitch counts like any
other, while a link shared with two close friends alone is no burst. The site,
not the words: sellers vary the words per recipient (four templates, names
filled in), never the site they sell.

**Incidents belong to the account.** An unfamiliar session that drew an
account action leaves an incident (its network, /16 range and client family).
While the account has restrictions in force, a new session from the same
network or range, or with the same client family, inherits it
(INCIDENT_INHERITED: suspended from its sign-in, or its first message), unless
its network was familiar before the incident, or a passed challenge proved it the
owner's since its sign-in: the owner's own devices keep working. Re-signing in does
not start clean.

**Day one.** With no familiar network yet (a new installation, or an account
new to spimguard), a session is judged relative to the account's other live
sessions: a second network while another one is live counts as new, and with a
third-party app as wholly unfamiliar; the burst rules then apply as usual.

The owner passes the challenge by signing in with an official client from a
network the account used at least a day before the incident: the account-wide
restrictions are lifted (CHALLENGE_PASSED) and that network and app are
familiar from then on; sessions suspended in the incident stay suspended
(they are the intruder's) until ``POST /v1/accounts/{id}/restore``. Or the
IM server says so (a ``challenge`` event: the session answered the second
factor it was asked for): that session is the owner's, so its network and app
are familiar at once, its own suspension and the account-wide restrictions
lift, and its incident is dropped (its network, range and app are the
owner's and pass no suspicion on). A failed challenge (CHALLENGE_FAILED) is
the intruder's mark: whoever holds the session has the password alone.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from .. import accounts
from ..config import Config
from ..events import AccountInfo, Challenge, ContactsRead, Event, Invite, Login, Message
from ..signals import Signal
from ..state.ops import (
    FOREVER,
    Contains,
    Count,
    Distinct,
    Get,
    Incr,
    Put,
    Query,
    Touch,
    Write,
)
from ..text import size_class
from . import takeover_record
from .base import Context, Facts, Outcome, ramp, settings


@dataclass(frozen=True, slots=True)
class TakeoverSettings:
    """The takeover detector's settings (``detectors.takeover`` in config)."""

    familiar_after: int = 86_400  # seconds a client or network must be known to be familiar
    familiar_uses: int = 3  # ... and clean messages from it to the account's own people
    dormant_after: int = 2_592_000  # a sign-in after this long without one is unfamiliar too
    burst_window: int = 600  # seconds over which a session's contacts written to are counted
    # Its text and size counts move by this step (a window rounded to whole minutes: one
    # counter entry a minute however fast the session sends).
    burst_bucket: int = 60
    burst_soft: int = 1  # distinct contacts where burst evidence starts ...
    burst_hard: int = 4  # ... and is full
    scraped_share: float = 0.5  # share of the contact list a session must read to count
    mature_messages: int = 30  # messages before the profile judges behaviour change
    reply_window: int = 1_800  # seconds within which answering a message counts as a reply
    replies_trusted: int = 2  # replies that make a session a conversing one (its burst halves)
    trusted_messages: int = 20  # clean messages before the account's usual session is trusted
    hour_messages: int = 100  # messages in the hour histogram before an hour can be unusual
    # ... and past this many it is halved (recent habits count more: about four times
    # ``hour_messages``, so a halved histogram still judges hours).
    hour_decay: int = 400
    max_networks: int = 6  # networks kept in a profile (least recently seen dropped)
    max_clients: int = 4  # clients kept in a profile
    max_domains: int = 16  # domains kept in a profile
    session_ttl: int = 2_592_000  # seconds session facts are kept
    live_window: int = 43_200  # seconds a session counts as live after its last activity
    max_cidrs: int = 16  # networks (CIDRs) from ``account`` events kept in a profile
    max_incidents: int = 8  # incidents (network, range, client family) kept per account
    # How unfamiliar a session is (LOGIN_UNFAMILIAR's strength, and the burst's risk),
    # on one scale from the owner (0) to a stranger (1). A known place is half a stranger:
    # the owner's network after a month's silence, or a third-party app new to the account
    # at home (people try apps; sellers of stolen accounts log in from their own network) ...
    risk_known_network: float = 0.4
    # ... a known app on a new network is more: travel, or a spoofed official client id
    # (ids are free to claim, networks are not); an official app counts as known here ...
    risk_new_network: float = 0.6
    # ... and a new app on a new network is the stranger the detector exists for.
    risk_stranger: float = 1.0
    # ACCOUNT_HIJACK_BURST's strength: the burst's ramp times this sum (capped at 1). A full
    # burst from a session of known-network risk weighs 0.45 + 0.25 * 0.4 = 0.55 alone (a
    # warning under scores.toml), from a stranger 0.7; each corroboration adds 0.1, so a
    # stranger's burst with one text, after reading the list and with a link reaches 1.
    burst_base: float = 0.45
    burst_risk: float = 0.25  # times the session's risk
    burst_scraped: float = 0.1  # it read most of the contact list first
    burst_one_text: float = 0.1  # one text to all, or most of the contacts it wrote to dormant
    burst_link: float = 0.1  # the text carries a link (the pitch's payload)
    # A session that replied to its friends before its burst is most likely the owner:
    # its burst weighs this much on the account's own app, and ``replied_other_app``
    # on another (people chat; spam software blasts).
    replied_own_app: float = 0.25
    replied_other_app: float = 0.5
    behaviour_change: float = 0.35  # BEHAVIOUR_CHANGE per unusual thing (three make it whole)
    scraped_min_contacts: int = 5  # a contact list shorter than this is not worth harvesting
    # Bounds on what one event may make the detector hold (an attacker chooses both):
    max_recipients: int = 500  # recipients of one message checked against ties (the rest wait)
    burst_cap: int = 5_000  # members of a session's burst sets (far above ``burst_hard``)
    live_cap: int = 16  # networks in an account's live-sessions set
    # Sessions whose facts an account's record keeps: an account's own devices are a handful;
    # past it the least recent without standing go first (``takeover_record``).
    max_sessions: int = 8
    unpitched_trace: float = 0.15  # burst strength at most, from a partly new session consistent
    # with the owner (``owner_consistent``; x its weight 10 stays under challenge - velocity cap)
    # An account first seen this long ago (by spimguard, or by the IM server: an ``account``
    # event's ``created``) is established without counting its messages: a month of life.
    established_after: int = 2_592_000
    owner_people: int = 5  # recipients checked for listing the account back (more: not judged)


SIGNALS = {
    "LOGIN_UNFAMILIAR": "a sign-in from a client or network the account does not use",
    "CONTACTS_SCRAPED": "an unfamiliar session read most of the contact list",
    "ACCOUNT_HIJACK_BURST": "an unfamiliar session is writing to many of the account's own "
                            "contacts, often one text with a link",
    "ACCOUNT_BURST_UNPITCHED": "the same burst from a session that claims the account's app, "
                               "read no contact list and sent no link, from a network the "
                               "account never wrote from: held, never an account action alone",
    "BEHAVIOUR_CHANGE": "the account does what it never did: a first link, another script, "
                        "an unusual hour",
    "CHALLENGE_PASSED": "the owner signed in from an official app on a known network, or "
                        "the session answered the owner's challenge: restrictions lifted",
    "CHALLENGE_FAILED": "the session failed the owner's challenge: it holds the password, "
                        "not the owner's second factor",
    "FAMILIAR_SENDER": "the account's usual app on its usual network, writing to its own "
                       "contacts (counts against the other evidence)",
    "INCIDENT_INHERITED": "a new session from the network, range or app of an open incident "
                          "on the account",
    "OWNER_CONSISTENT": "an established account's session with nothing against it: its official "
                        "or own app, no contact list read, no link in the clear, to contacts "
                        "who list it back, from its own network (volume and words alone then "
                        "warn)",
    "SESSION_UNFAMILIAR": "sent from a session the account does not use, not proven the "
                          "owner's (no points: mutual contacts no longer vouch for the words)",
}

_ASCII_LETTER = re.compile("[A-Za-z]")  # what str.isalpha accepts in ASCII
_SCRIPTS = (("C", re.compile("[\u0400-\u04ff]")), ("H", re.compile("[\u3040-\u9fff\uac00-\ud7af]")),
            ("A", re.compile("[\u0600-\u06ff]")), ("L", re.compile("[a-zA-Z]")))


@lru_cache(maxsize=65_536)
def network(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to; "" when it is not an address."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address)


def script(text: str) -> str:
    """The script most of the text is written in: L(atin), C(yrillic), H(an/kana/hangul),
    A(rabic), or "" when no script has a third of the characters."""
    if text.isascii():
        return "L" if _ASCII_LETTER.search(text) else ""
    for code, pattern in _SCRIPTS:
        if len(pattern.findall(text)) * 3 >= len(text.replace(" ", "")) > 0:
            return code
    return ""


def _domain_tag(domain: str) -> str:
    return f"{zlib.crc32(domain.encode()):08x}"


def _pitch(ctx: Context) -> str:
    """What a session repeats when it pitches: the link's domain (sellers vary the words
    per recipient, never the site they sell), else the text's fingerprint."""
    view = ctx.view
    if view is None:
        return ""
    return f"d:{min(view.domains)}" if view.domains else view.fingerprint


def _shape_key(account: str, session: str, size: int) -> str:
    return f"tk:shape:{account}:{session}:{size_class(size)}"


def _life_key(account: str, session: str) -> str:
    return f"tk:life:{account}:{session}"


def _pals_key(account: str, session: str) -> str:
    return f"tk:pals:{account}:{session}"


def _heard_key(account: str, peer: str) -> str:
    return f"tk:heard:{account}:{peer}"


def _wrote_key(account: str) -> str:
    return f"tk:wrote:{account}"


def _doubted_key(account: str) -> str:
    return f"tk:doubted:{account}"


def _counted(message: Message) -> str:
    """The session a message counts under: its own, or its stand-in."""
    return message.session or _stand_in(message)


def _stand_in(message: Message) -> str:
    """A message's session when it names none: its app (family) and network. ``~`` keeps
    it apart from the ids clients choose only by convention; a client naming its session
    so merges its own counts, never the owner's (it would need the account)."""
    return f"~{client_family(message.client.id)}~{network(message.client.ip)}"


def wide_range(net: str) -> str:
    """The /16 (IPv4) or /32 (IPv6) around a network: a hosting provider's range."""
    try:
        address = ipaddress.ip_address(net)
    except ValueError:
        return ""
    bits = 16 if address.version == 4 else 32
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address)


def client_family(client: str) -> str:
    """A client id without its version: 'MobileFunster 2.1' and 'mobilefunster/3' are one."""
    return re.split(r"[\s/_-]*v?\d", client.strip().lower(), maxsplit=1)[0].strip()


def in_cidrs(net: str, cidrs: Sequence[str]) -> bool:
    try:
        address = ipaddress.ip_address(net)
    except ValueError:
        return False
    return any(address in _cidr(c) for c in cidrs)


@lru_cache(maxsize=4_096)
def _cidr(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


class _Plan(NamedTuple):
    record: Get  # the account's record (``takeover_record``): profile, sessions, incidents
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


class TakeoverDetector:
    name = "takeover"

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, TakeoverSettings, given)
        self.official = frozenset(config.official_clients)
        self.restriction_ttl = config.policy.restriction_ttl

    # -- what to read --------------------------------------------------------------------
    def _plan(self, ctx: Context) -> _Plan | None:
        if self.name in ctx.scratch:
            return ctx.scratch[self.name]
        event = ctx.event
        if not isinstance(event, Message | Login | ContactsRead | AccountInfo | Challenge):
            ctx.scratch[self.name] = None
            return None
        account, session = event.account, getattr(event, "session", "")
        common = (Get(takeover_record.key(account)),
                  Distinct(accounts.contacts(account), FOREVER),
                  Get(accounts.restrictions(account)), Get(accounts.first_seen(account)))
        if isinstance(event, Message):
            session = _counted(event)  # without a session id, its app and network stand in
            people = tuple(dict.fromkeys(event.recipients))[:self.cfg.max_recipients]
            burst = f"tk:to:{account}:{session}"
            fingerprint = ctx.view.fingerprint if ctx.view else ""
            text = f"tk:text:{account}:{session}:{_pitch(ctx)}"
            plan = _Plan(*common, Distinct(burst, self.cfg.burst_window),
                         Contains(burst, people), Contains(accounts.contacts(account), people),
                         Contains(accounts.talked(account), people),
                         Count(f"tk:fp:{account}:{session}:{fingerprint}",
                               self.cfg.burst_window, self.cfg.burst_bucket),
                         Get(_heard_key(account, people[0])) if len(people) == 1 else None,
                         Distinct(text, self.cfg.burst_window), Contains(text, people),
                         Count(_shape_key(account, session, event.size), self.cfg.burst_window,
                               self.cfg.burst_bucket) if event.encrypted
                         else None,
                         Distinct(_life_key(account, session), self.cfg.session_ttl),
                         Contains(_life_key(account, session), people),
                         Distinct(_pals_key(account, session), self.cfg.session_ttl),
                         Contains(_pals_key(account, session), people),
                         tuple(Contains(accounts.contacts(p), (account,)) for p in people)
                         if len(people) <= self.cfg.owner_people else (),
                         wrote=Contains(_wrote_key(account), people),
                         wrote_any=Distinct(_wrote_key(account), accounts.TALKED_TTL),
                         doubted=Distinct(_doubted_key(account), self.cfg.burst_window),
                         doubted_known=Contains(_doubted_key(account), people))
        else:
            plan = _Plan(*common)
        ctx.scratch[self.name] = plan
        return plan

    def reads(self, ctx: Context) -> Sequence[Query]:
        plan = self._plan(ctx)
        if plan is None:
            return ()
        out: list[Query] = []
        for part in plan:
            if isinstance(part, tuple):
                out.extend(part)  # listed_back: one query a recipient
            elif part is not None:
                out.append(part)
        return out

    # -- the record --------------------------------------------------------------------
    def _record(self, ctx: Context, facts: Facts, plan: _Plan) -> takeover_record.Record:
        """The account's record as this event read it (once per event: detect and writes
        share it, and writes gather the event's changes in it)."""
        memo = f"{self.name}:record"
        if memo not in ctx.scratch:
            ctx.scratch[memo] = takeover_record.Record(
                ctx.event.account, facts[plan.record], self.cfg.session_ttl,
                self.cfg.live_window, self.restriction_ttl)
        return ctx.scratch[memo]

    def _profile(self, ctx: Context, facts: Facts, plan: _Plan) -> dict[str, Any]:
        return self._record(ctx, facts, plan).profile(ctx.event.ts)

    # -- the session ---------------------------------------------------------------------
    def _familiar(self, seen: dict[str, list[float]], key: str, before: float) -> bool:
        """``familiar_uses`` clean uses of ``key``, the first ``familiar_after`` before."""
        entry = seen.get(key)
        return (entry is not None and len(entry) == 3
                and entry[0] <= before - self.cfg.familiar_after
                and entry[2] >= self.cfg.familiar_uses)

    def _known_net(self, profile: dict[str, Any], net: str, before: float) -> bool:
        return self._familiar(profile.get("nets", {}), net, before) or in_cidrs(
            net, profile.get("cidrs", ()))

    def _history(self, profile: dict[str, Any], now: float) -> bool:
        """Whether the profile has a familiar network to compare with."""
        return bool(profile.get("cidrs")) or any(
            self._familiar(profile.get("nets", {}), n, now) for n in profile.get("nets", {}))

    def _relative(self, live: dict[str, float], net: str, client: str) -> float:
        """Day one: a second network while the account's other session is live is new;
        with a third-party app too, wholly unfamiliar."""
        if not net or len(live) - (net in live) <= 0:
            return 0.0
        return (self.cfg.risk_new_network if client in self.official or not self.official
                else self.cfg.risk_stranger)

    def unfamiliar(self, profile: dict[str, Any], client: str, ip_net: str, now: float) -> float:
        """0 for the account's usual client and network, up to 1 for both new (a profile
        with history: ``_history``)."""
        clients = profile.get("clients", {})
        known_net = not ip_net or self._known_net(profile, ip_net, now)
        known_client = self._familiar(clients, client, now)
        official = client in self.official
        dormant = now - profile.get("last", now) >= self.cfg.dormant_after
        cfg = self.cfg
        if known_net and (known_client or official):
            # the first sign-in in a month: check the burst
            return cfg.risk_known_network if dormant else 0.0
        if known_net:
            return cfg.risk_known_network  # a third-party app new to this account, at home
        if official or known_client:
            return cfg.risk_new_network  # a familiar app on a new network
        return cfg.risk_stranger

    def _scraped(self, read: int, size: int) -> bool:
        """Whether a session read most of a contact list worth the name."""
        return size >= self.cfg.scraped_min_contacts and read >= self.cfg.scraped_share * size

    @staticmethod
    def _dormant_ties(plan: _Plan, facts: Facts) -> list[str]:
        """The recipients who are contacts the account has not been writing to: only these
        make a burst (an owner on a new network writes to the friends it always writes to;
        a harvester writes to the whole list, most of it dormant).

        A tie counts from the account's own side: a contact who writes to it and whom it
        never wrote to (an acquaintance's greetings, a friend of the family) is not a
        friend the owner writes to, and an owner on a new network has no reason to start
        with them, while a harvested list holds them wherever its order puts them (an
        active friend early in the list used to let a fourth message through). Until the
        account's one-way record holds anyone (spimguard just installed or upgraded) the
        two-way one stands in."""
        assert plan.known_burst is not None and plan.wrote is not None
        assert plan.wrote_any is not None
        ties = facts[plan.wrote] if facts[plan.wrote_any] else facts[plan.talked]
        return [p for p, contact, used in zip(plan.known_burst.members, facts[plan.contacts],
                                              ties, strict=True) if contact and not used]

    def _trusted(self, profile: dict[str, Any], session: dict[str, Any], now: float) -> bool:
        """The owner's own habit: an account with a clean history on its own app and
        network (``detect`` asks ``established`` too: a network proven at once, by a
        passed challenge, is the holder's, and a throwaway's holder passes its own).

        A chain letter or an announcement to all contacts from there is the owner's
        doing; content alone should warn about it, not hold it."""
        return (profile.get("msgs", 0) >= self.cfg.trusted_messages
                and bool(session.get("net")) and bool(session.get("client"))
                and self._known_net(profile, session["net"], now)
                and self._familiar(profile.get("clients", {}), session["client"], now))

    def established(self, ctx: Context, facts: Facts) -> bool:
        """Positive evidence that the account is someone's own, not a throwaway: known for
        ``established_after`` (to spimguard, or to the IM server by its ``account`` event),
        or a clean history of ``trusted_messages`` over more than ``familiar_after``. An
        account with no history has nothing against it, which is not evidence for it: a
        bot's first day looks the same."""
        plan = self._plan(ctx)
        if plan is None:
            return False
        first, now = facts[plan.first_seen], ctx.event.ts
        if first is None:
            return False
        profile = self._profile(ctx, facts, plan)
        return now - first >= self.cfg.established_after or (
            now - first >= self.cfg.familiar_after
            and profile.get("msgs", 0) >= self.cfg.trusted_messages)

    def _vouching(self, ctx: Context, facts: Facts, plan: _Plan,
                  session: dict[str, Any]) -> bool:
        """Whether this session's clean uses of its network count as the owner's: an
        established account on a session with nothing against it (``risk`` 0), or one that
        has been answering its friends (``replies_trusted``: they wrote to it first, the
        side a spimmer cannot fake). An intruder's warm-up lines from its own network are
        neither, and teach the network nothing towards ``owner_consistent``."""
        return (not session.get("risk") and self.established(ctx, facts)) or session.get(
            "replies", 0) >= self.cfg.replies_trusted

    def _written_from(self, profile: dict[str, Any], net: str, before: float) -> bool:
        """Whether sessions the owner was proven on (``_vouching``) had written cleanly to
        its own people from ``net`` ``familiar_uses`` times, the first before ``before``
        (this session's sign-in): proven by use, if not yet by time (``familiar_after``)."""
        entry = profile.get("owned", {}).get(net)
        return (entry is not None and len(entry) == 3 and entry[0] < before
                and entry[2] >= self.cfg.familiar_uses)

    def owner_consistent(self, ctx: Context, facts: Facts) -> bool:
        """Positive evidence that the owner is writing, and nothing against it.

        An established account (``established``), its official app (or one it uses), no
        contact list read, a message in the clear with no link, to contacts who all list
        the account back, and a network that is either not new (``risk`` 0) or one sessions
        proven the owner's wrote from (``_written_from``): what the owner announcing a new
        number from its phone looks like. Each part is what an intruder or a bot gives
        away: a throwaway account, its own software, the harvest of the list, the pitched
        link, targets that never added it, its own servers (and its warm-up there teaches
        nothing). Of an encrypted message nobody can say it has no link, so it is never
        consistent with anyone: its metadata is all there is to judge."""
        memo = f"{self.name}:owner"
        if memo in ctx.scratch:
            return bool(ctx.scratch[memo])
        plan = self._plan(ctx)
        found = False
        if (plan is not None and plan.burst is not None and plan.contacts is not None
                and plan.listed_back):
            profile = self._profile(ctx, facts, plan)
            session = self._session(ctx, facts, plan)
            client = session.get("client", "")
            found = (not facts[plan.restrictions]
                     and isinstance(ctx.event, Message) and not ctx.event.encrypted
                     and ctx.view is not None and not ctx.view.urls
                     and (client in self.official or self._familiar(
                         profile.get("clients", {}), client, ctx.event.ts))
                     and not self._scraped(session.get("read", 0), facts[plan.contacts_n])
                     and all(facts[plan.contacts])
                     and all(facts[q][0] for q in plan.listed_back)
                     and self.established(ctx, facts)
                     and (not session["risk"] or self._written_from(
                         profile, session.get("net", ""), session.get("login", ctx.event.ts))))
        ctx.scratch[memo] = found
        return found

    def sender_session(self, ctx: Context, facts: Facts) -> dict[str, Any]:
        """The message's session as this detector judges it (``risk`` 0 when familiar),
        for detectors that weigh evidence by it; memoised per event like ``_session``."""
        plan = self._plan(ctx)
        return {} if plan is None else self._session(ctx, facts, plan)

    def _session(self, ctx: Context, facts: Facts, plan: _Plan) -> dict[str, Any]:
        """The session's facts: from its login when we saw one, else from the message.

        Computed once per event (detect and writes both need it)."""
        memo = f"{self.name}:session"
        if memo not in ctx.scratch:
            ctx.scratch[memo] = self._session_facts(ctx, facts, plan)
        return ctx.scratch[memo]

    def _session_facts(self, ctx: Context, facts: Facts, plan: _Plan) -> dict[str, Any]:
        event = ctx.event
        record = self._record(ctx, facts, plan)
        stored = record.session(event.session, event.ts)
        profile = record.profile(event.ts)
        if stored and not isinstance(event, Login):
            if isinstance(event, Message) and stored.get("risk") and not stored.get(
                    "dormant") and self._history(profile, event.ts):
                # The profile may have learnt the session's network since it signed in
                # (clean use, over a day): judged as it stands now, never riskier.
                now = self.unfamiliar(profile, stored["client"], stored["net"], event.ts)
                return {**stored, "risk": min(stored["risk"], now)}
            return stored
        client = getattr(event, "client", None)
        ip = getattr(event, "ip", "") or (client.ip if client else "")
        client_id = client.id if client else ""
        net = network(ip)
        history = self._history(profile, event.ts)
        risk = (self.unfamiliar(profile, client_id, net, event.ts) if history
                else self._relative(record.live(event.ts), net, client_id))
        dormant = history and event.ts - profile.get("last", event.ts) >= self.cfg.dormant_after
        return {"client": client_id, "net": net, "login": event.ts, "read": 0, "risk": risk,
                "dormant": dormant}

    # -- signals -------------------------------------------------------------------------
    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        plan = self._plan(ctx)
        if plan is None:
            return []
        event = ctx.event
        if isinstance(event, AccountInfo):
            return []
        if isinstance(event, Challenge):
            return [self._challenge(event)]
        record = self._record(ctx, facts, plan)
        profile, incidents = record.profile(event.ts), record.incidents(event.ts)
        session = self._session(ctx, facts, plan)
        risk = session["risk"]
        if isinstance(event, Login):
            return self._login(event, facts, plan, profile, session, incidents)
        if isinstance(event, ContactsRead):
            size = facts[plan.contacts_n]
            if risk and self._scraped(event.count, size):
                return [Signal("CONTACTS_SCRAPED", risk, f"session '{event.session}' read "
                               f"{event.count} of {size} contacts")]
            return []
        assert isinstance(event, Message)
        found = self._behaviour(ctx, event, profile)
        inherited = self._inherited(facts, plan, profile, session, event.session, incidents)
        if inherited:
            found.append(inherited)
        if not risk and self._trusted(profile, session, event.ts) and self.established(
                ctx, facts) and plan.contacts and all(facts[plan.contacts]):
            found.append(Signal("FAMILIAR_SENDER", 1.0, f"its usual app "
                                f"'{session.get('client')}' on its usual network, to its "
                                "contacts"))
        elif self.owner_consistent(ctx, facts):
            found.append(Signal("OWNER_CONSISTENT", 1.0, f"its app '{session.get('client')}', "
                                "no contact list read, no link, to its contacts"))
        elif risk and not self._vouching(ctx, facts, plan, session):
            # Doubt from the session itself, on every message and not only once a burst
            # shows: a hijacker inherits the contact list, and one that writes once per
            # burst window never bursts. No points: it only stops a mutual listing from
            # vouching for the words (``policy.py``).
            found.append(Signal("SESSION_UNFAMILIAR", risk, "sent from a session the "
                                "account does not use, not proven the owner's"))
        if not risk or plan.burst is None:
            return found
        size = facts[plan.contacts_n]
        scraped = self._scraped(session.get("read", 0), size)
        client = session.get("client") or "an unknown app"
        link = bool(ctx.view and ctx.view.urls)
        where = ("a network it used before" if risk == self.cfg.risk_known_network
                 else "a new network")
        if scraped and (risk >= self.cfg.risk_stranger or link):
            # An unfamiliar session that read the whole contact list: what it sends carries
            # those facts, before any burst can be counted. A new app on a new network warns
            # on every message; a session only partly new (an official app's id, which
            # anyone can claim, from a new network) on its links, what harvesters send.
            found.append(Signal("LOGIN_UNFAMILIAR", risk, f"sent from a session that signed "
                                f"in from '{client}' on {where}"))
            found.append(Signal("CONTACTS_SCRAPED", risk, f"... which read {session['read']} "
                                f"of its {size} contacts"))
        dormant = self._dormant_ties(plan, facts)
        assert plan.known_burst is not None
        seen = dict(zip(plan.known_burst.members, facts[plan.known_burst], strict=True))
        own = facts[plan.burst] + sum(1 for p in dormant if not seen[p])
        # Sessions are tied to one another only by what they do: a message that writes
        # down no part of the list (only to people the account writes to) is no step of
        # anyone's burst, so the owner's unproven phone chatting with a friend during an
        # intruder's burst is judged by its own count alone.
        quick = max(own, self._doubted_burst(plan, facts, dormant)) if dormant and (
            self._doubted(ctx, facts, plan, session)) else own
        slow = self._slow_burst(plan, facts, dormant)
        ties = max(quick, slow)
        # A link to dormant ties is a pitch: from then on every contact it sent that site
        # counts, active friends too (where they sit in the list changes nothing).
        pitched = self._text_burst(plan, facts) if link and ties else 0
        burst = max(ties, pitched)
        # Counted over the account's other unproven sessions too: the detail says so.
        shared = burst > max(own, slow, pitched)
        strength = ramp(burst, self.cfg.burst_soft, self.cfg.burst_hard)
        if not strength:
            return found
        contacts_now = sum(facts[plan.contacts])
        # Encrypted, "one text" is as far as the server can tell: one size class.
        same_text = self._repeating(ctx, plan, facts) or bool(
            plan.shape and facts[plan.shape] >= 1)
        cfg = self.cfg
        strength *= min(1.0, cfg.burst_base + cfg.burst_risk * risk
                        + cfg.burst_scraped * scraped
                        + cfg.burst_one_text * (same_text
                                                   or len(dormant) * 2 >= max(contacts_now, 1))
                        + cfg.burst_link * link)
        during = (f"in {self.cfg.burst_window // 60} min" if burst > slow
                  else "over the session, more than the friends it writes with")
        parts = [f"{burst} of its contacts it had not been writing to or sent one text to, "
                 + during]
        replies = session.get("replies", 0)
        if replies >= self.cfg.replies_trusted:
            # It has been answering its friends' messages: people chat, spam software
            # blasts. On the account's own app too, it is most likely the owner on the road.
            own_app = self._familiar(profile.get("clients", {}), session.get("client", ""),
                                     event.ts)
            strength *= cfg.replied_own_app if own_app else cfg.replied_other_app
            parts.append(f"but it had replied to {replies} messages before")
        owner = self.owner_consistent(ctx, facts)
        if owner:
            # Only partly new, and nothing in it says someone else (``owner_consistent``):
            # the owner's app on a network the account has written from cleanly, no contact
            # list read, no link. The phone a few hours into a new network explains the
            # session and an announcement the burst ("my new number", to everyone): only a
            # trace, under what challenges the account with velocity's capped points. A
            # network the account never wrote from gets no such allowance: an intruder can
            # claim the official app and skip the list and the link, not its own servers.
            strength = min(strength, self.cfg.unpitched_trace)
            parts.append("but it read no contact list and sent no link")
        # Only partly new, no list read, no link, in the clear, but from a network the
        # account never wrote from: the burst is held in full (an intruder that spoofs the
        # official app and skips the list and the link), yet it is no evidence for an
        # account action on its own: the owner on a phone new to this network looks the
        # same, and suspending its session would stop its own chat with it.
        code = ("ACCOUNT_BURST_UNPITCHED" if not owner and risk < self.cfg.risk_stranger
                and not (scraped or link) and plan.shape is None else "ACCOUNT_HIJACK_BURST")
        if same_text:
            parts.append("with messages of one size" if plan.shape else "with one text")
        if scraped:
            parts.append(f"after reading {session.get('read')} of {size} contacts")
        login = dt.datetime.fromtimestamp(session.get("login", event.ts), dt.UTC)
        about = {"topic": "hijack", "client": client, "time": login.strftime("%H:%M UTC"),
                 "network": where, "count": str(int(
                     self._record(ctx, facts, plan).sent(_counted(event), event.ts)))}  # delivered
        found.append(Signal(code, strength,
                            f"a session from '{client}' on {where}"
                            + (", with other sessions of the account nothing proves the "
                               "owner's," if shared else "")
                            + " wrote to " + ", ".join(parts),
                            about=about))
        return found

    def _login(self, event: Login, facts: Facts, plan: _Plan, profile: dict[str, Any],
               session: dict[str, Any], incidents: list[dict[str, Any]]) -> list[Signal]:
        if not event.success:
            return []
        restrict = facts[plan.restrictions]
        if restrict and event.client.id in self.official:
            since = min(entry["since"] for _, _, entry in accounts.in_force(restrict))
            if self._known_net(profile, network(event.ip), since):
                return [Signal("CHALLENGE_PASSED", 0.0, "signed in from an official app on a "
                               "network used before the incident")]
        inherited = self._inherited(facts, plan, profile, session, event.session, incidents)
        if inherited:
            return [inherited]
        risk = session["risk"]
        if not risk:
            return []
        what = ("a new network" if risk >= self.cfg.risk_new_network
                else "a network it used before")
        client = event.client.id or "an unknown app"
        gap = (event.ts - profile.get("last", event.ts)) / 86_400
        since = f", {gap:.0f} days after its last sign-in" if gap >= 1 else ""
        return [Signal("LOGIN_UNFAMILIAR", risk, f"signed in from '{client}' on {what}{since}")]

    @staticmethod
    def _challenge(event: Challenge) -> Signal:
        where = f"session '{event.session}'" if event.session else "the account"
        if event.passed:
            return Signal("CHALLENGE_PASSED", 0.0, f"{where} answered the owner's challenge")
        return Signal("CHALLENGE_FAILED", 1.0, f"{where} failed the owner's challenge: it "
                      "has the password, not the owner's second factor")

    @staticmethod
    def _repeating(ctx: Context, plan: _Plan, facts: Facts) -> bool:
        """Whether the session already sent this text in the burst window; never for an
        encrypted message (no fingerprint: its words are unknown, not the same)."""
        assert plan.same_text is not None
        return bool(ctx.view and ctx.view.fingerprint) and facts[plan.same_text] >= 1

    @staticmethod
    def _slow_burst(plan: _Plan, facts: Facts, dormant: list[str]) -> int:
        """Dormant ties the session wrote to over its life, beyond the correspondents it
        also wrote to. The burst window catches a pitch sent in minutes; one spread out
        (a message every 11 minutes) still goes almost only to dormant ties, while an
        owner on a new network, however slowly, writes to the friends it always writes
        to first and most."""
        assert plan.life is not None and plan.life_known is not None
        assert plan.pals is not None and plan.pals_known is not None
        assert plan.talked is not None
        life = facts[plan.life] + sum(1 for p, known in zip(
            plan.life_known.members, facts[plan.life_known], strict=True)
            if not known and p in dormant)
        pals = facts[plan.pals] + sum(1 for talked, known in zip(
            facts[plan.talked], facts[plan.pals_known], strict=True) if talked and not known)
        return max(0, int(life) - int(pals))

    def _answers(self, ctx: Context, plan: _Plan, facts: Facts,
                 session: dict[str, Any]) -> bool:
        """Whether the message is a reply: one-to-one, to someone who wrote to the account
        since this session signed in (within ``reply_window``), and not the text the
        session is already repeating."""
        heard = facts[plan.heard] if plan.heard is not None else None
        return heard is not None and heard >= session.get("login", ctx.event.ts) and not (
            self._repeating(ctx, plan, facts))

    def _doubted(self, ctx: Context, facts: Facts, plan: _Plan,
                 session: dict[str, Any]) -> bool:
        """Whether the message joins, and is judged by, the burst over the account's
        unproven sessions (``_doubted_burst``): its session is unfamiliar and nothing
        proves it the owner's, and it is not a reply (the recipient wrote first, which
        no intruder can make a contact do: a conversation is nobody's burst)."""
        return bool(session.get("risk")) and not self._vouching(
            ctx, facts, plan, session) and not self._answers(ctx, plan, facts, session)

    @staticmethod
    def _doubted_burst(plan: _Plan, facts: Facts, dormant: list[str]) -> int:
        """Dormant ties written to in the burst window from any of the account's sessions
        that nothing proves the owner's, this message's included. Session ids and
        sign-ins are the client's choice: an intruder that signs in anew for every
        message is still one actor writing down the list, while the owner's proven
        sessions (familiar, or answering friends) are another and count apart."""
        assert plan.doubted is not None and plan.doubted_known is not None
        known = dict(zip(plan.doubted_known.members, facts[plan.doubted_known], strict=True))
        return int(facts[plan.doubted]) + sum(1 for p in dormant if not known[p])

    @staticmethod
    def _text_burst(plan: _Plan, facts: Facts) -> int:
        """Distinct contacts this session sent this pitch to, this one included."""
        assert plan.text_to is not None and plan.text_known is not None
        assert plan.contacts is not None
        new = sum(1 for contact, known in zip(facts[plan.contacts], facts[plan.text_known],
                                              strict=True) if contact and not known)
        return int(facts[plan.text_to]) + new

    def _inherited(self, facts: Facts, plan: _Plan, profile: dict[str, Any],
                   session: dict[str, Any], session_id: str,
                   incidents: list[dict[str, Any]]) -> Signal | None:
        """A new session from an open incident's network, range or client family; never one
        a passed challenge proved the owner's since its sign-in (``proven``: the owner's
        new phone, verified from its old one, claims the official app an intruder spoofed)."""
        restrict = facts[plan.restrictions]
        if not restrict or session.get("proven") or accounts.session_blocked(
                restrict, session_id):
            return None
        net, client = session.get("net", ""), session.get("client", "")
        for incident in incidents:
            if incident["session"] == session_id or session.get(
                    "login", 0.0) < incident["since"] or (
                    net and self._known_net(profile, net, incident["since"])):
                continue  # the incident's own session, one live before it, the owner's network
            same = [what for what, here, there in (
                ("network", net, incident["net"]), ("network range", wide_range(net),
                                                    incident["range"]),
                ("app", client_family(client), incident["family"])) if here and here == there]
            if same:
                when = dt.datetime.fromtimestamp(incident["since"], dt.UTC)
                return Signal("INCIDENT_INHERITED", 1.0, f"a new session with the {same[0]} "
                              f"of the incident at {when:%H:%M UTC}")
        return None

    def _behaviour(self, ctx: Context, message: Message, profile: dict[str, Any]) -> list[Signal]:
        if profile.get("msgs", 0) < self.cfg.mature_messages or ctx.view is None:
            return []
        changes = []
        domains = profile.get("domains", [])
        if ctx.view.urls and not domains:
            changes.append("its first link ever")
        code = script(ctx.view.text)
        if code and code not in profile.get("scripts", code):
            changes.append("a script it never wrote in")
        hours = profile.get("hours", [])
        hour = int(message.ts // 3600 % 24)
        # An hour is unusual only against a well-filled histogram, and only when the
        # hours either side are empty too (a few days of chat leave many gaps).
        if (len(hours) == 24 and sum(hours) >= self.cfg.hour_messages
                and not any(hours[(hour + d) % 24] for d in (-1, 0, 1))):
            changes.append(f"at {hour:02d}h, when it never writes")
        if not changes:
            return []
        return [Signal("BEHAVIOUR_CHANGE", min(1.0, self.cfg.behaviour_change * len(changes)),
                       "the account sent " + ", ".join(changes))]

    # -- what to remember ----------------------------------------------------------------
    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        plan = self._plan(ctx)
        if plan is None:
            return ()
        event = ctx.event
        if isinstance(event, Login) and not event.success:
            return ()
        record = self._record(ctx, facts, plan)
        out = self._changes(ctx, facts, plan, outcome, record)
        put = record.put(event.ts)
        return out if put is None else [*out, put]

    def _changes(self, ctx: Context, facts: Facts, plan: _Plan, outcome: Outcome,
                 record: takeover_record.Record) -> list[Write]:
        """The event's writes but the account's record, whose changes it makes in
        ``record`` (put once, by ``writes``)."""
        event, now = ctx.event, ctx.event.ts
        if isinstance(event, AccountInfo):
            record.set_profile(self._told(record.profile(now), event), now)
            return []
        if isinstance(event, Challenge):
            return self._challenge_writes(event, facts, plan, outcome, record)
        cfg = self.cfg
        profile = dict(record.profile(now))
        session = dict(self._session(ctx, facts, plan))
        out: list[Write] = []
        if session.get("net"):
            record.touch_live(session["net"], now, cfg.live_cap)
        if outcome.account_action != "none" and session.get("risk"):
            self._incident(event, record, session)
        if isinstance(event, Login):
            session.update(login=event.ts, client=event.client.id)
            profile["last"] = event.ts  # a sign-in alone teaches no network or app
            if "CHALLENGE_PASSED" in outcome.signals:
                # The owner proved it: its account-wide restrictions go, this network and
                # app are familiar from now on; the incident's sessions stay suspended.
                out.append(accounts.after_challenge(event.account, facts[plan.restrictions],
                                                    self.restriction_ttl))
                self._remember(profile, "nets", session["net"], event.ts, cfg.max_networks,
                               proven=True)
                self._remember(profile, "clients", event.client.id, event.ts,
                               cfg.max_clients, proven=True)
            record.set_profile(profile, now)
        elif isinstance(event, ContactsRead):
            session["read"] = max(session.get("read", 0), event.count)
        elif isinstance(event, Message):
            out.extend(self._message_writes(ctx, event, plan, facts, outcome, session))
            if outcome.action in ("deliver", "warn"):
                record.count_sent(_counted(event), now, cfg.max_sessions)
            clean = outcome.action in ("deliver", "warn") and not (
                outcome.signals & {"ACCOUNT_HIJACK_BURST", "ACCOUNT_BURST_UNPITCHED",
                                   "BEHAVIOUR_CHANGE", "INCIDENT_INHERITED"})
            own_people = plan.contacts is not None and all(
                c or t for c, t in zip(facts[plan.contacts], facts[plan.talked], strict=True))
            # The one-way record is the owner's writing: an intruder's bland lines from its
            # own sessions (one contact each, never a burst) would turn the whole list into
            # active ties for its burst the next day.
            vouching = self._vouching(ctx, facts, plan, session)
            owners = not session.get("risk") or vouching
            if clean and owners and not isinstance(event, Invite) and len(
                    event.recipients) <= accounts.MAX_TALKED_FANOUT:
                out.append(Touch(_wrote_key(event.account), tuple(event.recipients),
                                 accounts.TALKED_TTL, accounts.TALKED_CAP))
            if clean and ctx.view is not None:
                self._learn(profile, event, ctx, session if own_people else None)
                if own_people and vouching:
                    self._remember(profile, "owned", session.get("net", ""), event.ts,
                                   cfg.max_networks)
                record.set_profile(profile, now)
        if event.session:
            record.set_session(event.session, session, now, cfg.max_sessions,
                               cfg.replies_trusted)
        return out

    def _message_writes(self, ctx: Context, event: Message, plan: _Plan, facts: Facts,
                        outcome: Outcome, session: dict[str, Any]) -> list[Write]:
        """A session's burst, text and delivery counts; replies earned; who heard from it."""
        cfg = self.cfg
        out: list[Write] = []
        delivered = outcome.action in ("deliver", "warn")
        if plan.burst is not None:
            assert plan.same_text is not None
            assert plan.contacts is not None and plan.text_to is not None
            assert plan.life is not None and plan.pals is not None
            assert plan.talked is not None
            dormant = self._dormant_ties(plan, facts)
            if dormant:
                out.append(Touch(plan.burst.key, tuple(dormant), cfg.burst_window,
                                 cfg.burst_cap))
                if self._doubted(ctx, facts, plan, session):
                    assert plan.doubted is not None
                    out.append(Touch(plan.doubted.key, tuple(dormant), cfg.burst_window,
                                     cfg.burst_cap))
            if session.get("risk"):  # the slow burst is only judged where the burst is
                pals = tuple(p for p, t in zip(plan.contacts.members, facts[plan.talked],
                                               strict=True) if t)
                out.extend(Touch(key, members, cfg.session_ttl, cfg.burst_cap)
                           for key, members in ((plan.life.key, tuple(dormant)),
                                                (plan.pals.key, pals)) if members)
            contacts = tuple(p for p, c in zip(plan.contacts.members, facts[plan.contacts],
                                               strict=True) if c)
            if contacts:
                out.append(Touch(plan.text_to.key, contacts, cfg.burst_window,
                                 cfg.burst_cap))
            out.append(Incr(plan.same_text.key, 1.0, cfg.burst_bucket, cfg.burst_window))
            if plan.shape is not None:
                out.append(Incr(plan.shape.key, 1.0, cfg.burst_bucket, cfg.burst_window))
            if self._answers(ctx, plan, facts, session):
                session["replies"] = session.get("replies", 0) + 1
        if delivered and not isinstance(event, Invite) and len(
                event.recipients) <= accounts.MAX_TALKED_FANOUT:
            # Written to: a reply from the recipient within reply_window is a conversation.
            out.extend(Put(_heard_key(r, event.account), event.ts, cfg.reply_window)
                       for r in dict.fromkeys(event.recipients))
        return out

    def _challenge_writes(self, event: Challenge, facts: Facts, plan: _Plan,
                          outcome: Outcome, record: takeover_record.Record) -> list[Write]:
        """A pass: the session is the owner's (its app and network familiar at once, its
        facts unfamiliar no more), its suspension and the account-wide restrictions lift,
        its incident goes. A failure that drew an account action: an incident of its own.

        A pass proves the session as the challenge found it. Signed in again since (a
        session id is the client's choice, and the IM server's report may come late), it
        may be someone else's now: the account-wide restrictions and the incident of the
        earlier holder go, but the session is not proven, nor its suspension lifted."""
        now = event.ts
        stored, incidents = record.session(event.session, now), record.incidents(now)
        if not event.passed:
            if outcome.account_action != "none":
                self._incident(event, record, stored or {})
            return []
        current = not stored or stored.get("login", event.ts) <= event.ts
        out: list[Write] = [accounts.after_challenge(
            event.account, facts[plan.restrictions], self.restriction_ttl,
            event.session if current else "")]
        if any(i["session"] == event.session and i["since"] <= now for i in incidents):
            record.set_incidents([i for i in incidents
                                  if i["session"] != event.session or i["since"] > now], now)
        if stored and current and event.session:
            cfg = self.cfg
            profile = dict(record.profile(now))
            self._remember(profile, "nets", stored.get("net", ""), event.ts,
                           cfg.max_networks, proven=True)
            self._remember(profile, "clients", stored.get("client", ""), event.ts,
                           cfg.max_clients, proven=True)
            record.set_profile(profile, now)
            record.set_session(event.session, {**stored, "risk": 0.0, "dormant": False,
                                               "proven": True}, now,
                               cfg.max_sessions, cfg.replies_trusted)
        return out

    def _incident(self, event: Event, record: takeover_record.Record,
                  session: dict[str, Any]) -> None:
        """The account's incidents with this session's network, range and app added."""
        net = session.get("net", "")
        entry = {"session": event.session, "since": event.ts, "net": net,
                 "range": wide_range(net), "family": client_family(session.get("client", ""))}
        kept = [i for i in record.incidents(event.ts) if i["session"] != event.session]
        record.set_incidents([*kept, entry][-self.cfg.max_incidents:], event.ts)

    def _told(self, profile: dict[str, Any], event: AccountInfo) -> dict[str, Any]:
        """What the IM server knows of the owner: familiar at once."""
        profile = dict(profile)
        cidrs = [c.strip() for c in event.networks]
        profile["cidrs"] = list(dict.fromkeys([*profile.get("cidrs", []), *cidrs]))[
            -self.cfg.max_cidrs:]
        for client in event.clients:
            self._remember(profile, "clients", client, event.ts, self.cfg.max_clients,
                           proven=True)
        return profile

    def _remember(self, profile: dict[str, Any], field: str, key: str, now: float, cap: int,
                  proven: bool = False) -> None:
        """One clean use of ``key`` at ``now`` ([first, last, uses]); ``proven``: familiar
        at once (a passed challenge, the IM server's own facts)."""
        if not key:
            return
        seen = dict(profile.get(field, {}))
        entry = seen.get(key) or [now, now]
        first, uses = entry[0], entry[2] if len(entry) > 2 else 0
        if proven:
            first, uses = min(first, now - self.cfg.familiar_after), max(
                uses, self.cfg.familiar_uses)
        seen[key] = [first, now, min(uses + 1, 255)]
        if len(seen) > cap:  # drop the least recently seen
            del seen[min(seen, key=lambda k: seen[k][1])]
        profile[field] = seen

    def _learn(self, profile: dict[str, Any], message: Message, ctx: Context,
               session: dict[str, Any] | None) -> None:
        """A clean message; its session's network and app too when it went to the
        account's own contacts or correspondents (``session`` given)."""
        assert ctx.view is not None
        profile["msgs"] = profile.get("msgs", 0) + 1
        if session is not None:
            self._remember(profile, "nets", session.get("net", ""), message.ts,
                           self.cfg.max_networks)
            self._remember(profile, "clients", session.get("client", ""), message.ts,
                           self.cfg.max_clients)
        tags = list(profile.get("domains", []))
        for domain in ctx.view.domains:
            tag = _domain_tag(domain)
            if tag not in tags:
                tags.append(tag)
        profile["domains"] = tags[-self.cfg.max_domains:]
        code = script(ctx.view.text)
        if code and code not in profile.get("scripts", ""):
            profile["scripts"] = profile.get("scripts", "") + code
        hours = list(profile.get("hours", [0] * 24))
        hours[int(message.ts // 3600 % 24)] += 1
        if sum(hours) > self.cfg.hour_decay:
            hours = [h // 2 for h in hours]
        profile["hours"] = hours


def build(given: dict[str, Any], config: Config) -> TakeoverDetector:
    return TakeoverDetector(given, config)
