"""Learnt domain reputation: what the network has seen a domain do, in event time.

A spim campaign's domain is typically new, pushed by many accounts at once, and
reported or held soon after; a site friends share has been around and is
rarely reported. Per registrable domain the state keeps when it was first
seen, which accounts sent it (last ``spread_window``), user reports on
messages carrying it, and messages with it that were held or blocked.

LINK_REPUTATION's strength is the strongest of: reports (full strength at
``reports_hard`` reported messages' worth of spam weight, as the report-trust
model weighs them: ``trust.py``), held verdicts (up to 0.8), and, for a fresh domain only,
the spread of senders (up to 0.6, so spread alone warns but never holds) times
its shape, as the bulk detector judges it: the larger of the reach per sender
(distinct recipients over distinct senders: friends pass a link on to two or
three each, a campaign pushes it to many each) and the share of recipients who
were strangers to their sender.
Domains on the ``popular`` list (the built-in ``lists.well_known`` sites, and any
top-domain list imported as ``popular``) or the ``allow`` list are never judged:
an allowlist wins over learnt reputation, and a site everyone shares cannot
become "held often" because some of the messages carrying it were held for
other reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import accounts, lists
from ..config import Config
from ..events import Message, Report
from ..signals import Signal
from ..state.ops import Contains, Count, Distinct, Get, Incr, Put, Query, Touch, Write
from .base import Context, Facts, Outcome, once, ramp, settings


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


def _reports(domain: str) -> str:
    return f"rep:reports:{domain}"


def _held(domain: str) -> str:
    return f"rep:held:{domain}"


class _Plan(NamedTuple):
    domains: tuple[str, ...]
    popular: Contains
    allowed: Contains
    ties: tuple[Contains, Contains] | None  # messages: ``accounts.ties``
    back: tuple[Contains, ...]  # messages: ``accounts.listed_back``


class ReputationDetector:
    name = "reputation"

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, ReputationSettings, given)

    def _domains(self, ctx: Context) -> tuple[str, ...]:
        if isinstance(ctx.event, Message) and ctx.view is not None:
            return tuple(d for d in ctx.view.domains if "." in d)[: self.cfg.max_domains]
        if isinstance(ctx.event, Report) and ctx.reported is not None:
            return ctx.reported.domains[: self.cfg.max_domains]
        return ()

    def _plan(self, ctx: Context) -> _Plan | None:
        """The event's plan, once per event (None, for the most, which carry no domain)."""
        return once(ctx, self.name, self._make_plan, ctx)

    def _make_plan(self, ctx: Context) -> _Plan | None:
        domains = self._domains(ctx)
        if not domains:
            return None
        event = ctx.event
        return _Plan(domains, Contains(lists.key("popular"), domains),
                     lists.contains_any("allow", domains),
                     accounts.ties(event.sender, event.recipients)
                     if isinstance(event, Message) else None,
                     accounts.listed_back(event.sender, event.recipients)
                     if isinstance(event, Message) else ())

    def _queries(self, domain: str) -> tuple[Query, ...]:
        cfg = self.cfg
        return (Get(_first(domain)), Distinct(_senders(domain), cfg.spread_window),
                Count(_reports(domain), cfg.reports_window, _DAY),
                Count(_held(domain), cfg.held_window, 3600.0),
                Distinct(_recipients(domain), cfg.spread_window),
                Distinct(_strangers(domain), cfg.spread_window))

    def reads(self, ctx: Context) -> Sequence[Query]:
        plan = self._plan(ctx)
        if plan is None or not isinstance(ctx.event, Message):
            return ()
        out: list[Query] = [plan.popular, plan.allowed, *(plan.ties or ()), *plan.back]
        for domain in plan.domains:
            out.extend(self._queries(domain))
        return out

    def _judged(self, plan: _Plan, facts: Facts) -> list[str]:
        allowed = {s for s, hit in zip(plan.allowed.members, facts[plan.allowed], strict=True)
                   if hit}
        known = lists.well_known()
        return [d for d, popular in zip(plan.domains, facts[plan.popular], strict=True)
                if not popular and d not in known
                and not allowed.intersection(lists.host_suffixes(d))]

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        plan = self._plan(ctx)
        message = ctx.message
        if plan is None or message is None:
            return []
        cfg = self.cfg
        best: tuple[float, str] | None = None
        for domain in self._judged(plan, facts):
            first, senders, reports, held, reached, pushed = (
                facts[q] for q in self._queries(domain))
            age_h = (message.ts - first) / 3600 if first is not None else 0.0
            fresh = age_h < cfg.fresh_hours
            each = reached / max(1, senders)
            shape = max(ramp(each, cfg.reach_soft, cfg.reach_hard),
                        pushed / reached if reached else 0.0)
            spread = 0.6 * ramp(senders, cfg.spread_soft, cfg.spread_hard) * shape if (
                fresh) else 0
            strength = max(ramp(reports, cfg.reports_soft, cfg.reports_hard),
                           0.8 * ramp(held, cfg.held_soft, cfg.held_hard), spread)
            if strength > 0 and (best is None or strength > best[0]):
                facts_said = [f"first seen {age_h:.0f} h ago" if first is not None else
                              "never seen before", f"sent by {senders} accounts to "
                              f"{each:.1f} recipients each ({shape:.0%} push) in "
                              f"{cfg.spread_window // 3600} h"]
                if reports:
                    facts_said.append(f"{reports:.0f} user reports")
                if held:
                    facts_said.append(f"{held:.0f} messages held")
                best = (strength, f"{domain}: {', '.join(facts_said)}")
        return [Signal("LINK_REPUTATION", best[0], best[1])] if best else []

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        plan = self._plan(ctx)
        if plan is None:
            return ()
        event = ctx.event
        if isinstance(event, Report):
            # Spam evidence only, by the change the report made to its own message's net
            # label (``trust.py``): at most one per message, from its recipients, and a ham
            # report cancels what was reported on that message, not on other copies.
            step = ctx.trust.spam_after - ctx.trust.spam_before if ctx.trust else 0.0
            return [Incr(_reports(d), step, _DAY, self.cfg.reports_window)
                    for d in plan.domains] if step else []
        assert isinstance(event, Message)
        out: list[Write] = []
        assert plan.ties is not None
        strangers = tuple(accounts.strangers(event.recipients, plan.ties, facts, plan.back))
        for domain in plan.domains:
            if facts[Get(_first(domain))] is None:
                out.append(Put(_first(domain), event.ts, _FIRST_SEEN_TTL))
            out.append(Touch(_senders(domain), (event.sender,), self.cfg.spread_window,
                             self.cfg.senders_cap))
            out.append(Touch(_recipients(domain), tuple(event.recipients),
                             self.cfg.spread_window, self.cfg.recipients_cap))
            if strangers:
                out.append(Touch(_strangers(domain), strangers, self.cfg.spread_window,
                                 self.cfg.recipients_cap))
            if outcome.action in ("hold", "block"):
                out.append(Incr(_held(domain), 1.0, 3600.0, self.cfg.held_window))
        return out


def build(given: dict[str, Any], config: Config) -> ReputationDetector:
    return ReputationDetector(given, config)
