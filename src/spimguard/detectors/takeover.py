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
   one text and often a link;
3. it **read the contact list** first (``contacts_read`` against the list size).

ACCOUNT_HIJACK_BURST needs 1 and 2; 3, one text, dormant ties and a link make
it stronger. Its notices speak of the session's app, network and messages.

The account profile (COMPA-style, kept under 1 KiB) also yields
BEHAVIOUR_CHANGE: a first link ever, a script the account never writes in, an
hour it never writes at. Profiles learn only from messages that raised no
takeover evidence, so an attacker cannot teach the profile its own habits.

The owner passes the challenge by signing in with an official client from a
network the account used at least a day before the incident: the restrictions
are lifted (CHALLENGE_PASSED), as ``POST /v1/accounts/{id}/restore`` does.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from .. import accounts
from ..config import Config
from ..events import ContactsRead, Login, Message
from ..signals import Signal
from ..state.ops import (
    FOREVER,
    Contains,
    Count,
    Delete,
    Distinct,
    Get,
    Incr,
    Put,
    Query,
    Touch,
    Write,
)
from .base import Context, Facts, Outcome, ramp, settings

DEFAULTS: dict[str, Any] = {
    "familiar_after": 86_400,  # seconds a client or network must be known to be familiar
    "dormant_after": 2_592_000,  # a sign-in after this long without one is unfamiliar too
    "burst_window": 600,  # seconds over which a session's contacts written to are counted
    "burst_soft": 1,  # distinct contacts where burst evidence starts ...
    "burst_hard": 4,  # ... and is full
    "scraped_share": 0.5,  # share of the contact list a session must read to count
    "mature_messages": 30,  # messages before the profile judges behaviour change
    "reply_window": 1_800,  # seconds within which answering a message counts as a reply
    "replies_trusted": 2,  # replies that make a session a conversing one (its burst halves)
    "trusted_messages": 20,  # clean messages before the account's usual session is trusted
    "hour_messages": 100,  # messages in the hour histogram before an hour can be unusual
    "max_networks": 6,  # networks kept in a profile (least recently seen dropped)
    "max_clients": 4,  # clients kept in a profile
    "max_domains": 16,  # domains kept in a profile
    "session_ttl": 2_592_000,  # seconds session facts are kept
}

SIGNALS = {
    "LOGIN_UNFAMILIAR": "a sign-in from a client or network the account does not use",
    "CONTACTS_SCRAPED": "an unfamiliar session read most of the contact list",
    "ACCOUNT_HIJACK_BURST": "an unfamiliar session is writing to many of the account's own "
                            "contacts, often one text with a link",
    "BEHAVIOUR_CHANGE": "the account does what it never did: a first link, another script, "
                        "an unusual hour",
    "CHALLENGE_PASSED": "the owner signed in from an official app on a known network: "
                        "restrictions lifted",
    "FAMILIAR_SENDER": "the account's usual app on its usual network, writing to its own "
                       "contacts (counts against the other evidence)",
}

_PROFILE_TTL = 400 * 86_400.0  # a profile unused this long is dropped
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
        return "L" if any(c.isalpha() for c in text) else ""
    for code, pattern in _SCRIPTS:
        if len(pattern.findall(text)) * 3 >= len(text.replace(" ", "")) > 0:
            return code
    return ""


def _domain_tag(domain: str) -> str:
    return f"{zlib.crc32(domain.encode()):08x}"


def _profile_key(account: str) -> str:
    return f"prof:{account}"


def _heard_key(account: str) -> str:
    return f"tk:heard:{account}"


def _session_key(account: str, session: str) -> str:
    return f"sess:{account}:{session}"


class _Plan(NamedTuple):
    profile: Get
    session: Get
    contacts_n: Distinct
    restrictions: Get
    burst: Distinct | None = None
    known_burst: Contains | None = None
    contacts: Contains | None = None
    talked: Contains | None = None
    same_text: Count | None = None
    sent: Count | None = None
    heard: Contains | None = None  # recipients who wrote to the account just before


class TakeoverDetector:
    name = "takeover"

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, DEFAULTS, given)
        self.official = frozenset(config.official_clients)

    # -- what to read --------------------------------------------------------------------
    def _plan(self, ctx: Context) -> _Plan | None:
        if self.name in ctx.scratch:
            return ctx.scratch[self.name]
        event = ctx.event
        if not isinstance(event, Message | Login | ContactsRead):
            ctx.scratch[self.name] = None
            return None
        account, session = event.account, event.session
        common = (Get(_profile_key(account)), Get(_session_key(account, session)),
                  Distinct(accounts.contacts(account), FOREVER),
                  Get(accounts.restrictions(account)))
        if isinstance(event, Message) and session:
            people = tuple(dict.fromkeys(event.recipients))[:500]
            burst = f"tk:to:{account}:{session}"
            fingerprint = ctx.view.fingerprint if ctx.view else ""
            plan = _Plan(*common, Distinct(burst, self.cfg["burst_window"]),
                         Contains(burst, people), Contains(accounts.contacts(account), people),
                         Contains(accounts.talked(account), people),
                         Count(f"tk:fp:{account}:{session}:{fingerprint}",
                               self.cfg["burst_window"], 60.0),
                         Count(f"tk:sent:{account}:{session}", 86_400.0, 3600.0),
                         Contains(_heard_key(account), people))
        else:
            plan = _Plan(*common)
        ctx.scratch[self.name] = plan
        return plan

    def reads(self, ctx: Context) -> Sequence[Query]:
        plan = self._plan(ctx)
        return tuple(q for q in plan if q is not None) if plan else ()

    # -- the session ---------------------------------------------------------------------
    def _familiar(self, seen: dict[str, list[float]], key: str, before: float) -> bool:
        entry = seen.get(key)
        return entry is not None and entry[0] <= before - self.cfg["familiar_after"]

    def unfamiliar(self, profile: dict[str, Any], client: str, ip_net: str, now: float) -> float:
        """0 for the account's usual client and network, up to 1 for both new."""
        nets, clients = profile.get("nets", {}), profile.get("clients", {})
        if not nets or min(first for first, _ in nets.values()) > now - self.cfg[
                "familiar_after"]:
            return 0.0  # too little history to compare with: new accounts are velocity's
        known_net = not ip_net or self._familiar(nets, ip_net, now)
        known_client = self._familiar(clients, client, now)
        official = client in self.official
        dormant = now - profile.get("last", now) >= self.cfg["dormant_after"]
        if known_net and (known_client or official):
            return 0.4 if dormant else 0.0  # the first sign-in in a month: check the burst
        if known_net:
            return 0.4  # a third-party app new to this account, at home
        if official or known_client:
            return 0.6  # a familiar app on a new network: travel, or a spoofed client id
        return 1.0

    def _scraped(self, read: int, size: int) -> bool:
        """Whether a session read most of a contact list worth the name."""
        return size >= 5 and read >= self.cfg["scraped_share"] * size

    @staticmethod
    def _dormant_ties(plan: _Plan, facts: Facts) -> list[str]:
        """The recipients who are contacts the account has not been writing with: only
        these make a burst (an owner on a new network chats with the friends it always
        writes to; a harvester writes to the whole list, most of it dormant)."""
        assert plan.known_burst is not None
        return [p for p, contact, talked in zip(plan.known_burst.members, facts[plan.contacts],
                                                facts[plan.talked], strict=True)
                if contact and not talked]

    def _trusted(self, profile: dict[str, Any], session: dict[str, Any], now: float) -> bool:
        """The owner's own habit: an established account on its own app and network.

        A chain letter or an announcement to all contacts from there is the owner's
        doing; content alone should warn about it, not hold it."""
        return (profile.get("msgs", 0) >= self.cfg["trusted_messages"]
                and bool(session.get("net")) and bool(session.get("client"))
                and self._familiar(profile.get("nets", {}), session["net"], now)
                and self._familiar(profile.get("clients", {}), session["client"], now))

    def _session(self, ctx: Context, facts: Facts, plan: _Plan) -> dict[str, Any]:
        """The session's facts: from its login when we saw one, else from the message.

        Computed once per event (detect and writes both need it)."""
        memo = f"{self.name}:session"
        if memo not in ctx.scratch:
            ctx.scratch[memo] = self._session_facts(ctx, facts, plan)
        return ctx.scratch[memo]

    def _session_facts(self, ctx: Context, facts: Facts, plan: _Plan) -> dict[str, Any]:
        event = ctx.event
        stored = facts[plan.session]
        if stored and not isinstance(event, Login):
            return stored
        client = getattr(event, "client", None)
        ip = getattr(event, "ip", "") or (client.ip if client else "")
        client_id = client.id if client else ""
        profile = facts[plan.profile] or {}
        net = network(ip)
        return {"client": client_id, "net": net, "login": event.ts, "read": 0,
                "risk": self.unfamiliar(profile, client_id, net, event.ts)}

    # -- signals -------------------------------------------------------------------------
    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        plan = self._plan(ctx)
        if plan is None:
            return []
        event = ctx.event
        profile = facts[plan.profile] or {}
        session = self._session(ctx, facts, plan)
        risk = session["risk"]
        if isinstance(event, Login):
            return self._login(event, facts, plan, profile, session)
        if isinstance(event, ContactsRead):
            size = facts[plan.contacts_n]
            if risk and self._scraped(event.count, size):
                return [Signal("CONTACTS_SCRAPED", risk, f"session '{event.session}' read "
                               f"{event.count} of {size} contacts")]
            return []
        assert isinstance(event, Message)
        found = self._behaviour(ctx, event, profile)
        if not risk and self._trusted(profile, session, event.ts) and plan.contacts and all(
                facts[plan.contacts]):
            found.append(Signal("FAMILIAR_SENDER", 1.0, f"its usual app "
                                f"'{session.get('client')}' on its usual network, to its "
                                "contacts"))
        if not risk or plan.burst is None:
            return found
        size = facts[plan.contacts_n]
        scraped = self._scraped(session.get("read", 0), size)
        client = session.get("client") or "an unknown app"
        if risk >= 1.0 and scraped:
            # A new app on a new network that read the whole contact list: every message
            # it sends carries a warning, before any burst can be counted.
            found.append(Signal("LOGIN_UNFAMILIAR", risk, f"sent from a session that signed "
                                f"in from '{client}' on a new network"))
            found.append(Signal("CONTACTS_SCRAPED", 1.0, f"... which read {session['read']} "
                                f"of its {size} contacts"))
        dormant = self._dormant_ties(plan, facts)
        assert plan.known_burst is not None
        seen = dict(zip(plan.known_burst.members, facts[plan.known_burst], strict=True))
        burst = facts[plan.burst] + sum(1 for p in dormant if not seen[p])
        strength = ramp(burst, self.cfg["burst_soft"], self.cfg["burst_hard"])
        if not strength:
            return found
        contacts_now = sum(facts[plan.contacts])
        same_text = facts[plan.same_text] >= 1
        link = bool(ctx.view and ctx.view.urls)
        strength *= min(1.0, 0.45 + 0.25 * risk + 0.1 * scraped
                        + 0.1 * (same_text or len(dormant) * 2 >= max(contacts_now, 1))
                        + 0.1 * link)
        parts = [f"{burst} of its contacts it had not been writing to, in "
                 f"{self.cfg['burst_window'] // 60} min"]
        replies = session.get("replies", 0)
        if replies >= self.cfg["replies_trusted"]:
            # It has been answering its friends' messages: people chat, spam software
            # blasts. On the account's own app too, it is most likely the owner on the road.
            own_app = self._familiar(profile.get("clients", {}), session.get("client", ""),
                                     event.ts)
            strength *= 0.25 if own_app else 0.5
            parts.append(f"but it had replied to {replies} messages before")
        if same_text:
            parts.append("with one text")
        if scraped:
            parts.append(f"after reading {session.get('read')} of {size} contacts")
        login = dt.datetime.fromtimestamp(session.get("login", event.ts), dt.UTC)
        where = "a network it used before" if risk == 0.4 else "a new network"
        about = {"topic": "hijack", "client": client, "time": login.strftime("%H:%M UTC"),
                 "network": where, "count": str(int(facts[plan.sent]) + 1)}
        found.append(Signal("ACCOUNT_HIJACK_BURST", strength,
                            f"a session from '{client}' on {where} wrote to " + ", ".join(parts),
                            about=about))
        return found

    def _login(self, event: Login, facts: Facts, plan: _Plan, profile: dict[str, Any],
               session: dict[str, Any]) -> list[Signal]:
        if not event.success:
            return []
        restrict = facts[plan.restrictions]
        if restrict and event.client.id in self.official:
            since = min(entry["since"] for _, _, entry in accounts.in_force(restrict))
            if self._familiar(profile.get("nets", {}), network(event.ip), since):
                return [Signal("CHALLENGE_PASSED", 0.0, "signed in from an official app on a "
                               "network used before the incident")]
        risk = session["risk"]
        if not risk:
            return []
        what = "a new network" if risk >= 0.6 else "a network it used before"
        client = event.client.id or "an unknown app"
        gap = (event.ts - profile.get("last", event.ts)) / 86_400
        since = f", {gap:.0f} days after its last sign-in" if gap >= 1 else ""
        return [Signal("LOGIN_UNFAMILIAR", risk, f"signed in from '{client}' on {what}{since}")]

    def _behaviour(self, ctx: Context, message: Message, profile: dict[str, Any]) -> list[Signal]:
        if profile.get("msgs", 0) < self.cfg["mature_messages"] or ctx.view is None:
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
        if (len(hours) == 24 and sum(hours) >= self.cfg["hour_messages"]
                and not any(hours[(hour + d) % 24] for d in (-1, 0, 1))):
            changes.append(f"at {hour:02d}h, when it never writes")
        if not changes:
            return []
        return [Signal("BEHAVIOUR_CHANGE", min(1.0, 0.35 * len(changes)),
                       "the account sent " + ", ".join(changes))]

    # -- what to remember ----------------------------------------------------------------
    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        plan = self._plan(ctx)
        if plan is None:
            return ()
        event = ctx.event
        cfg = self.cfg
        profile = dict(facts[plan.profile] or {})
        session = self._session(ctx, facts, plan)
        skey = _session_key(event.account, event.session)
        out: list[Write] = []
        if isinstance(event, Login):
            if not event.success:
                return ()
            if "CHALLENGE_PASSED" in outcome.signals:
                out.append(Delete(accounts.restrictions(event.account)))
            session = {**session, "login": event.ts, "client": event.client.id}
            profile["last"] = event.ts
            self._remember(profile, "nets", network(event.ip), event.ts, cfg["max_networks"])
            self._remember(profile, "clients", event.client.id, event.ts, cfg["max_clients"])
            out.append(Put(_profile_key(event.account), profile, _PROFILE_TTL))
        elif isinstance(event, ContactsRead):
            session = {**session, "read": max(session.get("read", 0), event.count)}
        elif isinstance(event, Message):
            if plan.burst is not None:
                dormant = self._dormant_ties(plan, facts)
                if dormant:
                    out.append(Touch(plan.burst.key, tuple(dormant), cfg["burst_window"], 5000))
                assert plan.same_text is not None and plan.sent is not None
                out.append(Incr(plan.same_text.key, 1.0, 60.0, cfg["burst_window"]))
                out.append(Incr(plan.sent.key, 1.0, 3600.0, 86_400.0))
                if plan.heard is not None and any(facts[plan.heard]):
                    session = {**session, "replies": session.get("replies", 0) + 1}
                assert plan.known_burst is not None
                out.extend(Touch(_heard_key(r), (event.account,), cfg["reply_window"], 64)
                           for r in plan.known_burst.members[:50])
            clean = outcome.action in ("deliver", "warn") and not (
                outcome.signals & {"ACCOUNT_HIJACK_BURST", "BEHAVIOUR_CHANGE"})
            if clean and ctx.view is not None:
                self._learn(profile, event, ctx)
                out.append(Put(_profile_key(event.account), profile, _PROFILE_TTL))
        if event.session:
            out.append(Put(skey, session, cfg["session_ttl"]))
        return out

    @staticmethod
    def _remember(profile: dict[str, Any], field: str, key: str, now: float, cap: int) -> None:
        if not key:
            return
        seen = dict(profile.get(field, {}))
        first = seen.get(key, [now, now])[0]
        seen[key] = [first, now]
        if len(seen) > cap:  # drop the least recently seen
            del seen[min(seen, key=lambda k: seen[k][1])]
        profile[field] = seen

    def _learn(self, profile: dict[str, Any], message: Message, ctx: Context) -> None:
        assert ctx.view is not None
        profile["msgs"] = profile.get("msgs", 0) + 1
        if message.client.ip or message.client.id:
            self._remember(profile, "nets", network(message.client.ip), message.ts,
                           self.cfg["max_networks"])
            self._remember(profile, "clients", message.client.id, message.ts,
                           self.cfg["max_clients"])
        tags = list(profile.get("domains", []))
        for domain in ctx.view.domains:
            tag = _domain_tag(domain)
            if tag not in tags:
                tags.append(tag)
        profile["domains"] = tags[-self.cfg["max_domains"]:]
        code = script(ctx.view.text)
        if code and code not in profile.get("scripts", ""):
            profile["scripts"] = profile.get("scripts", "") + code
        hours = list(profile.get("hours", [0] * 24))
        hours[int(message.ts // 3600 % 24)] += 1
        if sum(hours) > 400:  # decay: recent habits count more
            hours = [h // 2 for h in hours]
        profile["hours"] = hours


def build(given: dict[str, Any], config: Config) -> TakeoverDetector:
    return TakeoverDetector(given, config)
