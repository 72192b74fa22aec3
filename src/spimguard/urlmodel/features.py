"""What a URL's text alone shows of where it leads: host and path features, never fetched.

A phishing page has to live somewhere its author can put it up in minutes and
lose without regret (a free site builder, a dynamic-DNS name, a compromised
site's ``wp-content`` folder, a fresh name under a cheap suffix), and it has to
persuade at a glance (a brand's name in a subdomain or the path, ``login`` and
``verify`` in a long path). A friend's link shows none of that on purpose: a
news article's dated path, a personal page's ``~user``, a shop's product page.
Each feature here is one such fact, a number with a phrase for people, so that
the model's reasons can be read back from the features that weighed most.

Hostile input: everything is computed from at most ``MAX_PATH`` characters each of
the path and the query (their first and last halves, ``ends``) and the host (at most 253
characters in DNS; longer ones are cut), with plain string operations and one linear
regular expression pass, so a 64 KiB link costs what a 1 KiB one does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import repeat
from operator import mul, truediv
from typing import NamedTuple, TypeVar

from ..lookalike import fold, one_edit
from ..text import UrlFact

VERSION = 4  # bump when a feature changes meaning: the artefact records it, the scorer checks
MAX_HOST = 253
MAX_PATH = 1024

# Brands whose names phishing borrows (the links detector's protected brands), with the
# product names people sign in to them under; "live" and "office" are left to their
# products' names, being words every site uses.
BRANDS = (
    "microsoft", "outlook", "hotmail", "msn", "office365", "onedrive",
    "sharepoint", "skype", "paypal", "apple", "appleid", "icloud", "itunes", "google",
    "gmail", "youtube", "facebook", "instagram", "whatsapp", "messenger", "amazon",
    "netflix", "linkedin", "twitter", "yahoo", "dropbox", "discord", "steam",
    "steamcommunity", "steampowered", "telegram", "coinbase", "binance", "chase",
    "wellsfargo", "bankofamerica", "dhl", "fedex", "ebay", "spotify", "adobe",
)
# What a credential page calls itself (the look-alike checker's lure words without the
# ones every site's paths use: "id", "help", "online", "team", "center", "service").
LURES = frozenset({
    "login", "logon", "signin", "verify", "verification", "secure", "security", "update",
    "auth", "authenticate", "wallet", "billing", "confirm", "password", "recovery",
    "unlock", "webscr", "validate", "reset", "suspended", "locked", "unusual", "banking",
    "account", "accounts", "authorize", "credential", "credentials", "sso", "2fa",
})
# Extensions of server-side scripts: a kit's ``login.php`` on somebody else's server.
SCRIPTS = (".php", ".asp", ".aspx", ".cgi", ".jsp", ".pl")
PAGES = (".html", ".htm", ".shtml")
_TOKENS = re.compile(r"[a-z0-9]+")
_HOST_WORDS = re.compile(r"[.\-_]")
_LETTERS = re.compile(r"[a-z]+")
_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")
# Generic suffixes that, as a label left of the registrable name, spell another address
# ("paypal.com.secure-update.xyz"); country codes are left out, being language
# subdomains too ("de.wikipedia.org").
_WWW = re.compile(r"www\d*")
_GENERIC = frozenset({"com", "net", "org", "info", "biz", "gov", "edu"})
_DATE = re.compile(r"/(?:19|20)\d\d/(?:[01]?\d)(?:/|$)|/(?:19|20)\d\d-[01]\d-[0-3]\d")
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
# Compromised WordPress and Joomla sites: kits are dropped into their upload folders.
_CMS = ("wp-content", "wp-includes", "wp-admin", "/components/", "/modules/", "/plugins/")
_CMS_HINT = re.compile(r"wp-|/(?:components|modules|plugins)/")  # in any path _CMS names

# Suffixes given away free or for cents, which the abuse reports of 2020-2024 (Spamhaus's
# most-abused TLDs, Interisle's phishing landscape studies) rank first for phishing.
CHEAP_TLDS = frozenset({
    "tk", "ml", "ga", "cf", "gq", "xyz", "top", "icu", "buzz", "club", "online", "site",
    "shop", "live", "work", "click", "link", "rest", "fit", "cyou", "bar", "monster", "sbs",
    "cfd", "quest", "cam", "surf",
})

NAMES: tuple[str, ...] = (
    "free_host", "dyn_dns", "ip_host", "userinfo", "punycode", "cheap_tld",
    "brand_in_host", "brand_in_path", "lure_in_host", "lure_in_path", "address_in_host",
    "subdomains", "host_length", "host_hyphens", "host_digits", "label_entropy",
    "path_length", "path_depth", "query_length", "query_params", "script_page",
    "static_page", "double_slash", "percent_escapes", "cms_folder",
    "tilde", "dated_path", "long_token",
)
# Why a feature weighed toward phishing, in words (a feature with no phrase never
# appears in a reason: "a long host" or "three levels of subdomains" is not something a
# person can hold against a link; plenty of sites have both).
PHRASES = {
    "free_host": "on the free site host {free_host}",
    "dyn_dns": "on the dynamic-DNS name {dyn_dns}",
    "ip_host": "a bare IP address",
    "userinfo": "a name shown before '@'",
    "punycode": "an international (punycode) name",
    "cheap_tld": "a name under a cheap suffix (.{tld})",
    "brand_in_host": "under the name '{brand_in_host}' on another's host",
    "brand_in_path": "'{brand_in_path}' named in its path",
    "lure_in_host": "'{lure_in_host}' in its host",
    "lure_in_path": "a '{lure_in_path}' page",
    "address_in_host": "another address spelt in its name ({address_in_host})",
    "script_page": "a server script ({script_page})",
    "double_slash": "a '//' redirect in its path",
    "percent_escapes": "percent-escaped text",
    "cms_folder": "inside a site's {cms_folder} folder",
    "long_token": "a long random-looking token",
}


_Seq = TypeVar("_Seq", str, list[str])


def ends(items: _Seq, size: int) -> _Seq:
    """The first and last ``size // 2`` of ``items`` (all of them when they are no more
    than ``size``). A bound must not be a hiding place: padding pushed into the middle of
    a long path hides neither its start (the kit's folder, a service's prefix) nor its
    end (the page and its extension)."""
    if len(items) <= size:
        return items
    return items[: size // 2] + items[len(items) - size // 2:]


@cache
def _hosts() -> dict[str, dict[str, tuple[str, ...]]]:
    """The free-host, form and dynamic-DNS entries (``hosts.txt``) by kind, as host ->
    path prefixes ('' for the whole host)."""
    text = resources.files(__package__).joinpath("hosts.txt").read_text("utf-8")
    kinds: dict[str, dict[str, tuple[str, ...]]] = {"free": {}, "form": {}, "dyn": {}}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            kind, entry = line.split()
            host, slash, prefix = entry.partition("/")
            kinds[kind][host] = (*kinds[kind].get(host, ()), slash + prefix)
    return kinds


_BRAND_SET = frozenset(BRANDS)

# A name within one edit of a word: (its place in the order the names are tried, the
# folded name, the brand).
_Near = tuple[tuple[int, str, str], ...]


@dataclass(frozen=True, slots=True)
class _Brands:
    exact: dict[str, str]  # folded name -> brand
    inside: re.Pattern[str]  # a folded name of five letters or more within a word
    # Names of 7+ letters a word of a length may be one edit from (one letter shorter,
    # as long, one longer), by the word's length and its first two letters (``heads``)
    # or its last two (``tails``): one edit of a 7+ letter name leaves one pair or the
    # other. Each name's place orders them by length, then by folded name.
    heads: dict[tuple[int, str], _Near]
    tails: dict[tuple[int, str], _Near]


@cache
def _brands() -> _Brands:
    folded = sorted({(fold(b), b) for b in BRANDS})
    long = [(k, b) for k, b in folded if len(k) >= 5]
    tried = sorted(((k, b) for k, b in folded if len(k) >= 7), key=lambda kb: len(kb[0]))
    heads: dict[tuple[int, str], _Near] = {}
    tails: dict[tuple[int, str], _Near] = {}
    for place, (key, brand) in enumerate(tried):
        for size in (len(key) - 1, len(key), len(key) + 1):
            heads[size, key[:2]] = (*heads.get((size, key[:2]), ()), (place, key, brand))
            tails[size, key[-2:]] = (*tails.get((size, key[-2:]), ()), (place, key, brand))
    pattern = "|".join(re.escape(k) for k, _ in sorted(long, key=lambda kb: -len(kb[0])))
    return _Brands(dict(folded), re.compile(pattern), heads, tails)


@cache
def _entries() -> dict[str, tuple[tuple[str, str], ...]]:
    """``_hosts``'s entries of every kind under one key, host -> (kind, path prefix), each
    kind's prefixes in the file's order: one look-up a suffix finds all three kinds."""
    merged: dict[str, tuple[tuple[str, str], ...]] = {}
    for kind, table in _hosts().items():
        for host, prefixes in table.items():
            merged[host] = (*merged.get(host, ()), *((kind, p) for p in prefixes))
    return merged


def services(host: str, path: str) -> dict[str, str]:
    """Each kind's entry ("free", "form", "dyn") that ``host`` (and, for entries with a
    path, ``path``) falls under, the longest suffix's first; a kind under none is absent.
    A whole-host entry matches the names under it and its own paths, not its bare name:
    ``https://weebly.com`` is the service's home page, ``x.weebly.com`` and
    ``forms.gle/abc`` are a user's."""
    entries = _entries()
    labels = host.removeprefix("www.").split(".")[-8:]  # no entry is deeper than this
    found: dict[str, str] = {}
    for i in range(len(labels) - 1):
        suffix = ".".join(labels[i:])
        for kind, prefix in entries.get(suffix, ()):
            if kind not in found and ((not prefix and (i > 0 or path.strip("/"))) or (
                    prefix and ("/" + path.lstrip("/")).startswith(prefix))):
                found[kind] = suffix + prefix
    return found


def service(host: str, path: str,
            found: dict[str, str] | None = None) -> tuple[str, str]:
    """The kind ("free", "form", "dyn") and name of the service ``host`` (and ``path``) is a
    user's page on, or ('', ''): that name is the service's, not the sender's choice.
    ``found``: ``services(host, path)`` when the caller has it already."""
    if found is None:
        found = services(host, path)
    for kind in ("free", "form", "dyn"):
        if kind in found:
            return kind, found[kind].split("/", 1)[0]
    return "", ""


def _brand_in(words: Sequence[str], own: str, inside: bool) -> str:
    """The first brand one of ``words`` names (folded, so 'paypa1' counts; with ``inside``,
    also within a word, 'paypalsecure', or one letter off a long name, 'steamcommunnitty':
    short names are too close to ordinary words for that, 'team', 'mail'), other than the
    brand whose registrable label ``own`` is (a site naming itself)."""
    brands = _brands()
    own_key = fold(own) if own in _BRAND_SET else ""
    for word in words:
        if len(word) < 3 or len(word) > (64 if inside else 16):  # no name is longer than 14
            continue
        folded = fold(word)
        brand = brands.exact.get(folded)
        if brand is not None and folded != own_key:
            return brand
        if not inside:
            continue
        for found in brands.inside.finditer(folded):
            if found.group(0) != own_key:
                return brands.exact[found.group(0)]
        # The names one letter shorter, as long or one longer sharing the word's first
        # two or last two letters, in their order: two look-ups, not a loop over them.
        near = brands.heads.get((len(folded), folded[:2]))
        far = brands.tails.get((len(folded), folded[-2:]))
        if near and far:
            near = tuple(sorted({*near, *far}))
        for _, key, brand in near or far or ():
            if key != own_key and one_edit(folded, key):
                return brand
    return ""


def _entropy(label: str) -> float:
    """Shannon's entropy of the label's letters, in bits, each letter counted by
    ``str.count`` (in C) in first-seen order, the order its terms are added in (floats:
    that order is the sum's value)."""
    if not label:
        return 0.0
    # -sum(p * log2(p)) by ``map`` over C's functions: the same products summed from 0 in
    # the same order as a list of them.
    shares = list(map(truediv, map(label.count, dict.fromkeys(label)), repeat(len(label))))
    return -sum(map(mul, shares, map(math.log2, shares)))


def path_text(url: UrlFact) -> str:
    """The path and query as a reader sees them: percent escapes decoded ('My%20Login'
    is 'my login'), lower-cased, at most ``MAX_PATH`` characters each."""
    raw = f"{ends(url.path, MAX_PATH)} {ends(url.query, MAX_PATH)}"
    if "%" in raw:
        raw = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)
    return raw.lower()


def _address_in(labels: Sequence[str]) -> str:
    """The part of a host's subdomain labels that spells another address: a generic
    suffix as a label ('paypal.com.x.example'), or 'www' anywhere but as the first label
    ('www-bancochile.cl.x.example', 'login.www.x.example'; 'www2.x.example' is fine)."""
    for i, label in enumerate(labels):
        if label in _GENERIC or ("www" in label and (i or not _WWW.fullmatch(label))):
            return ".".join(labels[: i + 1])[:60]
    return ""


@dataclass(frozen=True, slots=True)
class Shape:
    """A URL's features: ``values`` in ``NAMES`` order, ``tld`` for the suffix's own
    weight, ``facts`` the matched names that the phrases quote."""


    values: tuple[float, ...]
    tld: str
    facts: dict[str, str]


class _Host(NamedTuple):
    """What a link's host alone shows: ``shape``'s host features (``head`` the punycode,
    cheap-suffix and brand-in-host values, ``tail`` the address-in-host to label-entropy
    ones, in ``NAMES`` order) and the names its phrases quote."""

    tld: str
    own: str  # the registrable label
    brand: str
    lure: str
    address: str
    head: tuple[float, float, float]
    tail: tuple[float, ...]


@lru_cache(maxsize=4096)
def _host(host: str, domain: str, is_ip: bool, hosting: str) -> _Host:
    """A host's features, cached: a campaign's copies share their host (and its hosting
    service's name, ``hosting``) and differ in the path, where each carries its code."""
    tld = "" if is_ip else domain.rsplit(".", 1)[-1]
    sub = host[: -len(domain)].rstrip(".") if host.endswith(domain) else ""
    sub_labels = [s for s in sub.split(".") if s and s != "www"]
    own = domain.split(".", 1)[0]
    # On a hosting service, only the user's part of the name is the sender's choice
    # ('topreviews' in topreviews.s3.amazonaws.com names no brand).
    mine = host[: -len(hosting)].rstrip(".") if hosting and host.endswith(hosting) else host
    host_words = [w for w in _HOST_WORDS.split(mine) if w] if not is_ip else []
    # The labels the sender named: a hosting service's user's labels, else the registrable
    # label and its subdomains. Their most digits and most random-looking one count, so a
    # machine-made name ('u805924gc4', 'betasus199' on blogspot.com) shows wherever it
    # sits, and another label added beside it never lowers either.
    if is_ip or mine == host:
        named = [own, *sub_labels][:32]
    else:
        named = [lab for lab in mine.split(".") if lab][:32] or [""]
    # The registrable label counts only when the site is not the brand's own.
    brand = _brand_in(host_words[:32], own, inside=True)
    lure = next((w for w in host_words if w in LURES), "")
    address = _address_in(sub_labels)
    head = (float("xn--" in host), float(tld in CHEAP_TLDS), float(bool(brand)))
    tail = (float(bool(address)), float(min(len(sub_labels), 5)), math.log1p(len(host)),
            float(min(host.count("-"), 5)),
            float(min(max(sum(map(str.isdigit, lab)) for lab in named), 8)),
            max(_entropy(lab[:64]) for lab in named))
    return _Host(tld, own, brand, lure, address, head, tail)


def shape(url: UrlFact, text: str | None = None,
          found: dict[str, str] | None = None) -> Shape:
    """``text``: ``path_text(url)``, and ``found``: ``services`` of the host and the path's
    ``ends``, when the caller has them already (``scorer.read``)."""
    host = url.host[:MAX_HOST]
    path = ends(url.path, MAX_PATH).lower()
    query = ends(url.query, MAX_PATH).lower()
    if found is None:
        found = services(host, path)
    free = found.get("free", "")
    dyn = found.get("dyn", "")
    seen = _host(host, url.domain[:MAX_HOST], url.is_ip, (free or dyn).split("/", 1)[0])
    if text is None:
        text = path_text(url)
    path_words = ends(_TOKENS.findall(text), 64)
    brand_path = "" if seen.brand else _brand_in(path_words, seen.own, inside=False)
    # Digits glued to a word leave it the word ('update2018').
    lures_path = [w for w in ends(_LETTERS.findall(text), 64) if w in LURES]
    # The first of SCRIPTS and _CMS the path shows, each asked only of a path that shows one.
    script = next((e for e in SCRIPTS if path.endswith(e)), "") if path.endswith(SCRIPTS) \
        else ""
    cms = next((c.strip("/") for c in _CMS if c in path), "") if _CMS_HINT.search(path) \
        else ""
    segments = path.split("/")
    longest = max(map(len, path_words), default=0)
    values = (
        float(bool(free)), float(bool(dyn)), float(url.is_ip), float(bool(url.userinfo)),
        *seen.head, float(bool(brand_path)), float(bool(seen.lure)),
        float(min(len(lures_path), 3)), *seen.tail,
        math.log1p(len(path)), float(min(len(segments) - segments.count(""), 10)),
        math.log1p(len(query)),
        float(min(query.count("&") + bool(query), 10)), float(bool(script)),
        float(path.endswith(PAGES)), float("//" in path), float(min(len(_PERCENT.findall(
            path + query)), 10)), float(bool(cms)), float("~" in path),
        float(bool(_DATE.search(path))), float(longest >= 24),
    )
    facts = {"free_host": free, "dyn_dns": dyn,
             "brand_in_host": seen.brand, "brand_in_path": brand_path,
             "lure_in_host": seen.lure, "lure_in_path": "/".join(dict.fromkeys(lures_path[:2])),
             "address_in_host": seen.address,
             "script_page": script, "cms_folder": cms, "tld": seen.tld}
    return Shape(values, seen.tld, facts)
