"""Learnt domain reputation: what the network has seen a domain do, in event time.

A spim campaign's domain is typically new, pushed by many accounts at once, and
reported or held soon after; a site friends share has been around and is
rarely reported. Per registrable domain the state keeps when it was first
seen, which accounts sent it (last ``spread_window``), user reports on
messages carrying it, and which accounts sent it in messages that were held or
blocked. On shared infrastructure (a shortener, ``data/shorteners.txt``, or a user's
page on a free host, form service or dynamic DNS name, ``urlmodel/hosts.txt``) the
registrable domain is everyone's, and the path is the destination: reputation is kept
for the link itself (host and path), so spam through bit.ly marks its own short
links, not every bit.ly link.

LINK_REPUTATION's strength is the strongest of: reports (full strength at
``reports_hard`` reported messages' worth of spam weight, as the report-trust
model weighs them: ``trust.py``), held verdicts (up to 0.8), and, for a fresh domain only,
the spread of senders (up to 0.6, so spread alone warns but never holds) times
its shape, as the bulk detector judges it: the larger of the reach per sender
(distinct recipients over distinct senders: friends pass a link on to two or
three each, a campaign pushes it to many each) and the share of recipients who
were strangers to their sender (``accounts.strangers``, judged on each message alone).
A held verdict is evidence against a link only as independent voices are: held senders
are counted, not held messages (one throwaway sending twenty pitches that carry a
bakery's domain is one voice, as one reporter is), from ``held_soft`` to ``held_hard``
of them, times their share of the domain's senders since it was first held (a site
many people share is not "often held" because a few spammers' messages carried it).
A group conversation is one recipient, the conversation, as it is one target for
velocity (``velocity.py``): a message to a 10,000-member room is one write per domain,
not 10,000, and none of its members counts as a stranger.
Domains on the ``popular`` list (the built-in ``lists.well_known`` sites, and any
top-domain list imported as ``popular``) or the ``allow`` list are never judged:
an allowlist wins over learnt reputation, and a site everyone shares cannot
become "held often" because some of the messages carrying it were held for
other reasons.

A message's recipients are named, per domain, only as far as its ties are read: the first
``accounts.MAX_TIES`` (64) distinct ones. Those past them are strangers by rule already
(``accounts.standing``: nobody has that many people in one chat, so their ties are not
looked up), and each domain keeps only their number (``rep:unnamed:``, a counter over
``spread_window``), added to both its recipients and its strangers. Naming them cost a
message recipients × domains members (8 links to 10,000 people: 160,000 members, 0.6 s of
CPU on SQLite, blocked or not); counting them costs one write a domain, and a message at
most 2 × 64 members a domain. Every other way weighed moves an answer a campaign or a
friend gets: the message's recipients kept once, under a key its domains share, leave a
domain's distinct recipients a union of sets no read can ask; a cap past which a message
adds nothing makes a broadcast look like sharing beside many small senders (the reach per
sender is a mean over them all); every recipient counted, none named, makes friends who
send a link to the same two people all day a push. The count is exact but for repeats: a
person past the cap is counted once a message, where a name is counted once. That raises
only the reach of a domain some sender broadcast, to more than 64 people at once, a push
on any reading; nobody lowers a figure by it, and a message to at most 64 (every one the
simulator makes, every friend's) is answered as before. Nor does anyone raise one past the
ceiling the names had: the people counted add at most what the named sets could still hold
(``recipients_cap``), so one sender repeating a broadcast cannot make a domain that
thousands of friends share look pushed, as distinct names could not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgspec

from .. import accounts, lists
from ..config import Config
from ..signals import Signal
from ..state.ops import Contains, Count, Distinct, Get, Incr, Put, Query, Touch, Write
from ..text import UrlFact
from ..urlmodel import features as url_features
from .base import Context, Facts, Outcome, Planning, ramp, settings, shared_ties
from .links import shorteners


@dataclass(frozen=True, slots=True)
class ReputationSettings:
    """The reputation detector's settings (``detectors.reputation`` in config)."""

    fresh_hours: int = 48  # a domain first seen this recently is fresh
    spread_window: int = 21_600  # seconds over which distinct senders are counted
    spread_soft: int = 4  # distinct senders of a fresh domain where evidence starts
    spread_hard: int = 30  # ... and reaches its cap (0.6)
    reports_window: int = 2_592_000  # seconds user reports on a domain are remembered
    reports_soft: int = 0  # reports above this count as evidence
    reports_hard: int = 3  # ... full strength
    held_window: int = 604_800  # seconds held verdicts are remembered
    # Distinct senders of held messages (one sender is one voice): the bar the count of held
    # messages had (session 11's red team, H2: one throwaway's twenty pitches reached it).
    held_soft: int = 2
    held_hard: int = 20
    max_domains: int = 8  # domains judged per message
    senders_cap: int = 2_000  # senders remembered per domain
    reach_soft: int = 3  # recipients per sender up to which spread is sharing, not a push ...
    reach_hard: int = 8  # ... and from which it is a push in full
    recipients_cap: int = 20_000  # recipients remembered per domain


SIGNALS = {
    "LINK_REPUTATION": "a linked domain is fresh and pushed by many accounts, or reported, or "
                       "often held",
}

_DAY = 86_400.0
_FIRST_SEEN_TTL = 400 * _DAY  # a domain unseen this long is new again


def _first(domain: str) -> str:
    return f"rep:first:{domain}"


def _senders(domain: str) -> str:
    return f"rep:senders:{domain}"


def _recipients(domain: str) -> str:
    return f"rep:recipients:{domain}"


def _strangers(domain: str) -> str:
    return f"rep:strangers:{domain}"


def _unnamed(domain: str) -> str:
    return f"rep:unnamed:{domain}"  # recipients past the ties cap, counted (all strangers)


def _reports(domain: str) -> str:
    return f"rep:reports:{domain}"


def _held(domain: str) -> str:
    return f"rep:heldby:{domain}"  # senders of held messages ("rep:held" counted messages)


def _since_held(domain: str) -> str:
    return f"rep:sinceheld:{domain}"


# A shared link's key (host and path) is cut to this many characters: a bounded key, and
# the paths shorteners and free hosts give are far shorter (bit.ly's are 7 characters).
_LINK_CHARS = 200


@lru_cache(maxsize=4_096)
def _shared_link(host: str, path: str) -> str:
    """What names the sender's own page on shared infrastructure, else '': on a bundled
    shortener, or a page named by its path on a service's host (``forms.gle/abc``), the
    host and path; on a user's own name under a free host or dynamic DNS
    (``x.duckdns.org``, ``x.github.io``: ``urlmodel.features.service``), the host, whatever
    path follows, since the name is what the user chose and the path is free to vary."""
    if not shorteners().intersection(lists.host_suffixes(host)):
        kind, name = url_features.service(host, path.lower())
        if not kind:
            return ""
        if host.removeprefix("www.") != name:
            return host[:_LINK_CHARS]
    return f"{host}{path.rstrip('/')}"[:_LINK_CHARS]


def _key(url: UrlFact) -> str:
    """What reputation is kept for: the link on shared infrastructure, else its domain."""
    return _shared_link(url.host, url.path[:_LINK_CHARS]) or url.domain


@lru_cache(maxsize=4_096)
def _domain_reads(domain: str, spread: int, reports: int, held: int) -> tuple[Query, ...]:
    """A domain's reads, made once while it recurs (a campaign's domain in every copy): the
    reads, ``detect`` and ``writes`` of each message ask the same query objects, whose
    hashes are computed once as the engine and the state look them up."""
    return (Get(_first(domain)), Distinct(_senders(domain), spread),
            Count(_reports(domain), reports, _DAY), Distinct(_held(domain), held),
            Distinct(_recipients(domain), spread), Distinct(_strangers(domain), spread),
            Distinct(_since_held(domain), held), Count(_unnamed(domain), spread))


class _Plan(msgspec.Struct, frozen=True):
    """An event's reads, by part: a struct, made in C (``calls41``: a NamedTuple's
    ``__new__`` is a Python lambda's frame)."""

    domains: tuple[str, ...]  # what reputation is kept for (``_key``): domains and links
    owners: tuple[str, ...]  # each one's registrable domain, what popular and allow judge
    popular: Contains
    allowed: Contains
    # The recipients named (the first ``accounts.MAX_TIES`` distinct: the ties' people), or
    # the group conversation (one target)
    people: tuple[str, ...]
    unnamed: int  # distinct recipients past those named (strangers by rule)
    ties: tuple[Contains, Contains] | None  # messages: ``accounts.ties``
    back: tuple[Contains, ...]  # messages: ``accounts.listed_back``


class ReputationDetector(Planning[_Plan | None]):
    name = "reputation"

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, ReputationSettings, given)

    def _domains(self, ctx: Context) -> dict[str, str]:
        """The event's keys (``_key``), each with its registrable domain. A report's are
        those its message's verdict kept (``keep``), or the log's domains (a log entry
        with no shared link, or one written before links were keyed)."""
        # A message is told by ``ctx.message``, a report by what only a report has: a
        # failing isinstance on an event class costs ~0.3 µs (``engine.py``).
        if ctx.message is not None:
            if ctx.view is None or not ctx.view.urls:
                return {}
            keys = {_key(u): u.domain for u in ctx.view.urls if "." in u.domain}
            return dict(list(keys.items())[: self.cfg.max_domains])
        if ctx.reported is not None:
            kept = ctx.reported.keep.get(self.name)
            named = kept.decode().split("\n") if kept else ctx.reported.domains
            return {k: k for k in named[: self.cfg.max_domains]}  # a report reads no list
        return {}

    def _make_plan(self, ctx: Context) -> _Plan | None:
        keys = self._domains(ctx)
        if not keys:
            return None
        event = ctx.message
        owners = tuple(keys.values())
        unique = tuple(dict.fromkeys(owners))
        people: tuple[str, ...] = ()
        unnamed = 0
        ties = None
        back: tuple[Contains, ...] = ()
        if event is not None:
            if accounts.in_room(event):
                people = (f"conv:{event.conversation}",)
            else:
                ties, back = shared_ties(ctx, event)
                people = ties[0].members
                if len(ctx.to) > len(people):  # past the cap, or a name listed twice
                    unnamed = len(set(ctx.to)) - len(people)
        return _Plan(tuple(keys), owners, Contains(lists.key("popular"), unique),
                     lists.contains_any("allow", unique), people, unnamed, ties, back)

    def _queries(self, domain: str) -> tuple[Query, ...]:
        """The domain's eight reads (``_domain_reads``): first seen, senders, reports, held
        senders, recipients named, strangers named, senders since held, recipients
        counted."""
        cfg = self.cfg
        return _domain_reads(domain, cfg.spread_window, cfg.reports_window, cfg.held_window)

    def reads(self, ctx: Context) -> Sequence[Query]:
        plan = self._plan(ctx)
        if plan is None or ctx.message is None:
            return ()
        out: list[Query] = [plan.popular, plan.allowed, *(plan.ties or ()), *plan.back]
        for domain in plan.domains:
            out.extend(self._queries(domain))
        return out

    def _judged(self, plan: _Plan, facts: Facts) -> list[str]:
        allowed = {s for s, hit in zip(plan.allowed.members, facts[plan.allowed], strict=True)
                   if hit}
        popular = {d for d, hit in zip(plan.popular.members, facts[plan.popular], strict=True)
                   if hit}
        known = lists.well_known()
        return [k for k, d in zip(plan.domains, plan.owners, strict=True)
                if d not in popular and d not in known
                and not allowed.intersection(lists.host_suffixes(d))]

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        plan = self._plan(ctx)
        message = ctx.message
        if plan is None or message is None:
            return []
        if plan.domains != plan.owners:  # a shared link: what a later report is about
            ctx.keep[self.name] = "\n".join(plan.domains).encode()
        cfg = self.cfg
        best: tuple[float, str] | None = None
        for domain in self._judged(plan, facts):
            first, senders, reports, held, named, strange, since_held, unnamed = (
                facts[q] for q in self._queries(domain))
            # The people counted add at most what the named sets could still hold: repeats
            # of one broadcast (counted again, where a name is not) cannot take a domain's
            # reach past ``recipients_cap``, the ceiling naming everyone had.
            unnamed = min(unnamed, max(0, cfg.recipients_cap - named))
            reached, pushed = named + unnamed, strange + unnamed
            age_h = (message.ts - first) / 3600 if first is not None else 0.0
            fresh = age_h < cfg.fresh_hours
            each = reached / max(1, senders)
            shape = max(ramp(each, cfg.reach_soft, cfg.reach_hard),
                        pushed / reached if reached else 0.0)
            spread = 0.6 * ramp(senders, cfg.spread_soft, cfg.spread_hard) * shape if (
                fresh) else 0
            share = held / max(held, since_held, 1)
            strength = max(ramp(reports, cfg.reports_soft, cfg.reports_hard),
                           0.8 * ramp(held, cfg.held_soft, cfg.held_hard) * share, spread)
            if strength > 0 and (best is None or strength > best[0]):
                facts_said = [f"first seen {age_h:.0f} h ago" if first is not None else
                              "never seen before", f"sent by {senders} accounts to "
                              f"{each:.1f} recipients each ({shape:.0%} push) in "
                              f"{cfg.spread_window // 3600} h"]
                if reports:
                    facts_said.append(f"{reports:.0f} user reports")
                if held:
                    facts_said.append(f"{held} of its {max(held, since_held)} senders "
                                      "held")
                best = (strength, f"{domain}: {', '.join(facts_said)}")
        return [Signal("LINK_REPUTATION", best[0], best[1])] if best else []

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        plan = self._plan(ctx)
        if plan is None:
            return ()
        event = ctx.message
        if event is None:  # a report (the only other event with a plan)
            # Spam evidence only, by the change the report made to its own message's net
            # label (``trust.py``): at most one per message, from its recipients, and a ham
            # report cancels what was reported on that message, not on other copies.
            step = ctx.trust.spam_after - ctx.trust.spam_before if ctx.trust else 0.0
            return [Incr(_reports(d), step, _DAY, self.cfg.reports_window)
                    for d in plan.domains] if step else []
        out: list[Write] = []
        strangers = tuple(accounts.strangers(plan.people, plan.ties, facts, plan.back)
                          ) if plan.ties else ()
        spread = self.cfg.spread_window
        held = outcome.action in ("hold", "block")
        for domain in plan.domains:
            first, _, _, ever_held, *_ = self._queries(domain)
            if facts[first] is None:
                out.append(Put(_first(domain), event.ts, _FIRST_SEEN_TTL))
            out.append(Touch(_senders(domain), (event.sender,), spread,
                             self.cfg.senders_cap))
            out.append(Touch(_recipients(domain), plan.people, spread,
                             self.cfg.recipients_cap))
            if strangers:
                out.append(Touch(_strangers(domain), strangers, spread,
                                 self.cfg.recipients_cap))
            if plan.unnamed:
                out.append(Incr(_unnamed(domain), plan.unnamed, ttl=spread))
            if held:
                out.append(Touch(_held(domain), (event.sender,), self.cfg.held_window,
                                 self.cfg.senders_cap))
            # The share's denominator: the domain's senders once it has been held (only
            # then: no state for the many domains no held message carried).
            if held or facts[ever_held]:
                out.append(Touch(_since_held(domain), (event.sender,), self.cfg.held_window,
                                 self.cfg.senders_cap))
        return out


def build(given: dict[str, Any], config: Config) -> ReputationDetector:
    return ReputationDetector(given, config)
