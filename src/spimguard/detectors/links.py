"""Links: where a message wants to send people, judged without ever visiting it.

Spim exists to move people to a site: a seller's promo pages, or a look-alike
login page that harvests more accounts. Every link is judged from its text
alone (never fetched, never resolved): operator block and allow lists (state,
``lists.py``), look-alikes of protected brands (``lookalike.py``), credential
bait next to a link (word lists per language in ``data/bait/``), user-info
tricks (``https://live.com@evil.example``), IP-literal hosts and shorteners
(``data/shorteners.txt``, flagged and never expanded), and the shape of the URL
itself (``urlmodel``: a login page on a free site builder, a brand's name in a
subdomain, a kit in a compromised site's upload folder), which carries evidence
even when the words around it are neutral, except on a popular site's own pages
(their names are one big operator's). An allowlisted host is exempt from every
check here but the operator's block list. Hosts written apart ("tones-shop. com/new":
``MessageView.apart_hosts``) are a reader's guess that chat makes too ("yes, no/maybe"):
the block list alone reads them, since a name the operator listed is no accident (the names
that hold one of the guess's joins: ``lists.apart_suffixes``), and no other check here counts
them as links (nor any other detector but the takeover's pitch, which reads those written as
a site for the reader to retype: ``MessageView.apart_sites``). The block list reads every
host the view found, typed or written apart; ``max_urls`` bounds the costly checks only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from .. import lists
from ..config import Config
from ..errors import ConfigError
from ..lookalike import Brands
from ..model.scorer import logit
from ..signals import Signal
from ..state.ops import Contains, Query, Write
from ..text import CACHED_URL_CHARS, UrlFact, skeleton
from ..urlmodel import features as url_features
from ..urlmodel import scorer as url_scorer
from .base import WRITES_NONE, Context, Facts, Outcome, first_per_code, once, settings, shared


@dataclass(frozen=True, slots=True)
class LinksSettings:
    """The links detector's settings (``detectors.links`` in config)."""

    # Brands whose look-alikes are phishing: the most-phished, plus platform_domains.
    protected_domains: tuple[str, ...] = (
        "live.com", "microsoft.com", "outlook.com", "hotmail.com", "msn.com", "office.com",
        "skype.com", "paypal.com", "apple.com", "icloud.com", "google.com", "gmail.com",
        "youtube.com", "facebook.com", "instagram.com", "whatsapp.com", "messenger.com",
        "amazon.com", "netflix.com", "linkedin.com", "twitter.com", "yahoo.com",
        "dropbox.com", "discord.com", "steamcommunity.com", "steampowered.com",
        "telegram.org", "coinbase.com", "binance.com", "chase.com", "wellsfargo.com",
        "bankofamerica.com", "dhl.com", "fedex.com", "ebay.com", "spotify.com", "adobe.com",
    )
    platform_domains: tuple[str, ...] = ()  # the platform's own domains: protected like the brands
    bait_languages: tuple[str, ...] = ("en", "ru", "es", "pt", "id")  # word lists in data/bait/
    extra_bait: tuple[str, ...] = ()  # more credential-bait phrases, any language
    max_urls: int = 16  # links examined per message
    url_model: str = ""  # the URL model's file; "" = the one shipped, "off" = none


SIGNALS = {
    "LINK_BLOCKLISTED": "a link's host is on the operator's block list (override: block)",
    "PHISH_LOOKALIKE": "a link's domain imitates a protected brand",
    "PHISH_CREDENTIALS": "asks for a password, login or verification, next to a link",
    "LINK_USERINFO": "a link hides its real host behind user-info (brand.com@evil.example)",
    "LINK_IP_HOST": "a link points at a bare IP address",
    "LINK_SHORTENER": "a link goes through a URL shortener that hides where it leads",
    "LINK_PHISHY": "a link shaped like a phishing page (the URL model, from its text alone)",
}


_LISTS = ("block", "allow", "shorteners", "popular")
_JUDGED = 4_096  # the URL model's judgements kept (links of at most CACHED_URL_CHARS)


def _data_lines(name: str) -> list[str]:
    text = resources.files("spimguard").joinpath(f"data/{name}").read_text("utf-8")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@cache
def shorteners() -> frozenset[str]:
    """The bundled shorteners (``data/shorteners.txt``), as registrable domains or hosts."""
    return frozenset(_data_lines("shorteners.txt"))


class LinksDetector:
    name = "links"
    writes_for = WRITES_NONE  # (``base.writes_for``)

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        cfg = self.cfg = settings(self.name, LinksSettings, given)
        self.brands = Brands([*cfg.protected_domains, *cfg.platform_domains])
        phrases: list[str] = list(cfg.extra_bait)
        for language in cfg.bait_languages:
            try:
                phrases += _data_lines(f"bait/{language}.txt")
            except FileNotFoundError:
                raise ConfigError(f"detectors.links.bait_languages: no word list for "
                                  f"{language!r} in data/bait/") from None
        self.bait = tuple(dict.fromkeys((p, skeleton(p)) for p in phrases if p.strip()))
        self.shorteners = shorteners()
        self.url_model = (None if cfg.url_model == "off" else
                          url_scorer.load(cfg.url_model) if cfg.url_model else
                          url_scorer.bundled())
        # Strength maps the model's log-odds onto the policy's scale: the warn points at
        # the model's warn_at, rising to the signal's full weight at its hold_at (above
        # every legitimate URL of its validation set), which alone stays under a hold.
        if self.url_model is not None:
            self._warn_z = logit(self.url_model.warn_at)
            self._hold_z = logit(self.url_model.hold_at)
            # A wave repeats its links message after message, and judging one costs
            # tens of µs: the judgements of links short enough for ``text``'s own link
            # cache are kept.
            self._judge = lru_cache(maxsize=_JUDGED)(self.url_model.judge)
        self._low = min(1.0, config.policy.warn / (config.weight("LINK_PHISHY") or 1.0))

    def _urls(self, ctx: Context) -> tuple[UrlFact, ...]:
        return ctx.view.urls[: self.cfg.max_urls] if ctx.view else ()

    @staticmethod
    def _listed(ctx: Context) -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]]:
        """The hosts the block list reads: every link the view read and every host of a link
        typed past the view's caps, not the first ``max_urls``, and IDNA 2003's reading of
        those written with a deviation character (``MessageView.transitional_hosts``); and
        every host written apart, with its tail (``lists.apart_suffixes``). A cap there
        would let a text choose which of its hosts escape the list (sixteen of chat's "ok.
        so", or 64 links, before the listed one); a look-up is a set's, and a text of
        ``max_text_bytes`` bounds how many."""
        if ctx.view is None:
            return (), ()
        view = ctx.view
        return (tuple([u.host for u in view.urls]) + view.unread_hosts
                + view.transitional_hosts,
                tuple(zip(view.apart_hosts, view.apart_tails, strict=True)))

    def _lists(self, ctx: Context) -> dict[str, Contains]:
        """The list look-ups of the message's hosts, built once per event, and once a batch
        for its messages with the same hosts (``shared``: a wave repeats its links)."""
        return once(ctx, self.name, self._shared_lists, ctx)

    def _shared_lists(self, ctx: Context) -> dict[str, Contains]:
        hosts = tuple([u.host for u in self._urls(ctx)])
        listed, apart = self._listed(ctx)
        return (shared(ctx, (self.name, hosts, listed, apart), self._make_lists, hosts,
                       listed, apart) if listed or apart else {})

    @staticmethod
    def _make_lists(hosts: tuple[str, ...], listed: tuple[str, ...],
                    apart: tuple[tuple[str, int], ...]) -> dict[str, Contains]:
        """Every list for the links judged; the block list for every host (``_listed``):
        nothing else here judges the rest, so an allow list has nothing to spare them."""
        looked = {name: lists.contains_any(name, hosts) for name in _LISTS} if hosts else {}
        if listed != hosts or apart:
            looked["block"] = lists.contains_any("block", listed, apart)
        return looked

    def reads(self, ctx: Context) -> Sequence[Query]:
        if not _hosts_in(ctx):
            return ()  # most messages: no link, nothing to look up
        return tuple(self._lists(ctx).values())

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        if ctx.view is None or not _hosts_in(ctx):
            return []  # most messages: asked before ``_urls``, a call that finds none
        urls = self._urls(ctx)
        on: dict[str, set[str]] = {name: set() for name in _LISTS}
        on.update({name: {s for s, hit in zip(query.members, facts[query], strict=True) if hit}
                   for name, query in self._lists(ctx).items()})
        found: list[Signal] = []
        judged: list[UrlFact] = []
        for position, url in enumerate(ctx.view.urls):
            suffixes = lists.host_suffixes(url.host)
            blocked = on["block"].intersection(suffixes)
            if blocked:
                found.append(Signal("LINK_BLOCKLISTED", 1.0, f"link to {url.host}, on the "
                                    f"block list ({min(blocked, key=len)})", "block"))
            elif position < len(urls) and not on["allow"].intersection(suffixes):
                judged.append(url)
        view = ctx.view
        others = [(f"{host} written apart", lists.apart_suffixes(host, tail))
                  for host, tail in zip(view.apart_hosts, view.apart_tails, strict=True)
                  ] if on["block"] else []  # nothing listed: no suffixes to read
        others += [(f"link to {host}, past the links read", lists.host_suffixes(host))
                   for host in (view.unread_hosts if on["block"] else ())]
        others += [(f"link to {host}, as IDNA 2003 reads a host written with ß or ς",
                    lists.host_suffixes(host))
                   for host in (view.transitional_hosts if on["block"] else ())]
        for what, names in others:
            blocked = on["block"].intersection(names)
            if blocked:
                found.append(Signal("LINK_BLOCKLISTED", 1.0, f"{what}, on the block list "
                                    f"({min(blocked, key=len)})", "block"))
        phishy: list[Signal] = []
        for url in judged:
            reason = None if url.is_ip else self.brands.match(url.host, url.host_unicode,
                                                              url.domain)
            if reason:
                found.append(Signal("PHISH_LOOKALIKE", 1.0, reason))
            if url.userinfo and "." in url.userinfo:
                found.append(Signal("LINK_USERINFO", 1.0, f"the link shows "
                                    f"'{url.userinfo[:60]}' but goes to {url.host}"))
            if url.is_ip:
                found.append(Signal("LINK_IP_HOST", 1.0, f"link to the bare address {url.host}"))
            suffixes = lists.host_suffixes(url.host)
            if self.shorteners.intersection(suffixes) or on["shorteners"].intersection(suffixes):
                found.append(Signal("LINK_SHORTENER", 1.0, f"link through the shortener "
                                    f"{url.domain}, which hides where it leads"))
            elif not url.is_ip and not reason and not self._owned(url, on["popular"]):
                phishy.extend(self._shape(url))
        if phishy:  # the most phishing-like of the message's links speaks for them
            found.append(max(phishy, key=lambda s: s.strength))
        if judged:
            text = ctx.view.skeleton
            bait = next((phrase for phrase, skel in self.bait if skel in text), None)
            if bait:
                found.append(Signal("PHISH_CREDENTIALS", 1.0, f"asks '{bait}' next to a link "
                                    f"to {judged[0].host}"))
        return first_per_code(found)

    @staticmethod
    def _owned(url: UrlFact, popular: set[str]) -> bool:
        """A popular site's own page (the built-in well-known sites and the operator's
        ``popular`` list): its names are one big operator's, not a throwaway's, so the
        shape of the link says nothing (``login.microsoftonline.com`` reads as a brand
        on another's host). Users' pages on a hosting service under it
        (``sites.google.com``, ``*.blogspot.com``) are still judged."""
        known = url.domain in lists.well_known() or bool(
            popular.intersection(lists.host_suffixes(url.host)))
        path = url.path[: url_features.MAX_PATH].lower()
        return known and not url_features.service(url.host, path)[0]

    def _shape(self, url: UrlFact) -> list[Signal]:
        """LINK_PHISHY when the URL model finds the link shaped like a phishing page for
        reasons a person can check (not a long host or an unusual suffix alone); a
        shortener's path and a look-alike's host are judged by their own signals."""
        if self.url_model is None:
            return []
        judge = self._judge if len(url.raw) <= CACHED_URL_CHARS else self.url_model.judge
        judged = judge(url)
        z = judged.margin
        if z < self._warn_z or not judged.reasons:  # evidence is what a person can check
            return []
        rise = min(1.0, (z - self._warn_z) / max(self._hold_z - self._warn_z, 1e-9))
        strength = self._low + (1.0 - self._low) * rise
        why = ", ".join(judged.reasons)
        return [Signal("LINK_PHISHY", round(strength, 3), f"{url.host[:80]} is shaped like a "
                       f"phishing page (p={judged.p:.3f}): {why}")]

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        return ()


def build(given: dict[str, Any], config: Config) -> LinksDetector:
    return LinksDetector(given, config)


def _hosts_in(ctx: Context) -> bool:
    """Whether the message has a host any list reads (``LinksDetector._listed``)."""
    view = ctx.view
    return view is not None and bool(view.urls or view.apart_hosts or view.unread_hosts
                                     or view.transitional_hosts)
