"""Look-alike domains of protected brands, judged from the name alone.

A registrable domain that is not one of the protected domains looks like one when

1. its label folds to the brand's label: confusables (Cyrillic "а"), digits
   ("paypa1", "g00gle"), "rn" for "m", "vv" for "w", doubled letters and hyphens
   are folded away on both sides, so "xn--pypal-4ve.com" (pаypal) and
   "faceb00k.com" match;
2. or, for labels of five letters or more, the folded labels are one edit
   apart: a look-alike letter changed ("paypai", "amazom"), a letter dropped or
   added ("paypl", "googlle"), or two swapped ("appel");
3. or the host carries the brand as a whole label or hyphenated word together
   with a lure word ("login-live.com", "paypal.com.account-verify.info",
   "secure-netflix-billing.com") or right before its own TLD ("paypal.com.evil.info").

The brand's own label under a country-code suffix or a legacy generic one
("google.de", "amazon.co.uk", "facebook.net") is taken as the brand's, which
brands register defensively; under the newer generic suffixes ("paypal.xyz") it
is not. The one-edit test needs five letters on both sides and a label without
hyphens ("mail.ru" is not "gmail", "s-microsoft.com" is Microsoft's CDN);
hyphenated labels are judged word by word (rule 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .text import skeleton, unicode_label

LURE_WORDS = frozenset({
    "login", "logon", "signin", "sign", "verify", "verification", "account", "accounts",
    "secure", "security", "update", "support", "auth", "authenticate", "wallet", "billing",
    "confirm", "password", "recovery", "recover", "unlock", "service", "services", "help",
    "id", "webscr", "customer", "payment", "pay", "reset", "validate", "alert", "online",
    "portal", "access", "session", "device", "safety", "team", "center", "centre", "notice",
})
_DIGITS = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                         "9": "g", "-": None, "_": None})
_DOUBLED = re.compile(r"(.)\1+")
_WORDS = re.compile(r"[.\-_]+")


@lru_cache(maxsize=65536)
def fold(label: str) -> str:
    """A label with every look-alike trick undone (for comparison only)."""
    folded = skeleton(label).translate(_DIGITS)
    folded = folded.replace("rn", "m").replace("vv", "w")
    return _DOUBLED.sub(r"\1", folded)


# Letters a reader mistakes for each other at a glance; a one-letter change
# between them is a look-alike ("paypai"), between others a different name
# ("icloud" and "ccloud").
_SIMILAR = ("ilj", "mnr", "oae", "ce", "uvw", "gq", "bdh", "sz", "kx")
_SIMILAR_PAIRS = frozenset((x, y) for group in _SIMILAR for x in group for y in group if x != y)


def one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one look-alike letter, one letter more or less, or a swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return (a[diff[0]], b[diff[0]]) in _SIMILAR_PAIRS
        return (len(diff) == 2 and diff[1] == diff[0] + 1
                and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1:]


@dataclass(frozen=True)
class Brand:
    domain: str  # e.g. paypal.com
    label: str  # paypal
    folded: str  # fold(label)


_LEGACY = frozenset({"com", "net", "org", "edu", "gov", "int", "mil", "co", "io"})


def _brand_owned_suffix(suffix: str) -> bool:
    last = suffix.rsplit(".", 1)[-1]
    return len(last) == 2 or last in _LEGACY


class Brands:
    def __init__(self, domains: Iterable[str]) -> None:
        self.domains = frozenset(d.strip(".").lower() for d in domains if d.strip())
        self.brands = tuple(Brand(d, d.split(".", 1)[0], fold(d.split(".", 1)[0]))
                            for d in sorted(self.domains))
        self._by_fold = {b.folded: b for b in self.brands}
        self._by_label = {b.label: b for b in self.brands}

    def match(self, host: str, host_unicode: str, domain: str) -> str | None:
        """Why ``host`` (registrable ``domain``) looks like a protected brand, or None."""
        if domain in self.domains:
            return None
        label, _, suffix = domain.partition(".")
        brand = self._by_label.get(label)
        if brand is not None:
            if _brand_owned_suffix(suffix):
                return None  # the brand's own (google.de, amazon.co.uk, facebook.net)
            return f"{domain} uses the name of {brand.domain} under another suffix"
        folded = fold(unicode_label(label))
        brand = self._by_fold.get(folded)
        if brand is not None:
            return f"{host_unicode} is disguised as {brand.domain}"
        if "-" not in label and len(label) >= 5:
            for brand in self.brands:
                if len(brand.label) >= 5 and one_edit(folded, brand.folded):
                    return f"{host_unicode} is one letter away from {brand.domain}"
        words = [w for w in _WORDS.split(host) if w]
        for position, word in enumerate(words):
            brand = self._by_label.get(word)
            if brand is None:
                continue
            tld = brand.domain.split(".", 1)[1].split(".")[0]
            next_word = words[position + 1] if position + 1 < len(words) else ""
            if next_word == tld and position + 2 < len(words):
                return f"{host} starts like {brand.domain} but is another site"
            lures = LURE_WORDS.intersection(words)
            if lures:
                return (f"{host} pairs the name of {brand.domain} with "
                        f"'{sorted(lures)[0]}'")
        return None
