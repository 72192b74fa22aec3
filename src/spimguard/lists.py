"""Operator lists (block, allow, popular, shorteners, attachment hashes) kept in state.

Lists live in the state backend as member sets, so every node sees an import at
once (no restart, no reload) and matching is one ``Contains`` per message,
batched with the detectors' other reads. Domains match at every level: a list
entry ``evil.example`` matches ``a.b.evil.example``.

``parse`` reads the common formats: one domain a line, hosts files
(``0.0.0.0 evil.example``), one URL a line, CSV with a ``url`` (or ``domain``)
column. Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from importlib import resources
from urllib.parse import urlsplit

from .errors import BadInput
from .state.ops import Contains
from .text import MAX_HOST_CHARS, host_key, hostname, read_host, unicode_label

NAMES = ("block", "allow", "popular", "shorteners", "sha256")
KINDS = ("domains", "hosts", "urls", "csv", "sha256")
MAX_ENTRIES = 5_000_000  # a bound on one import
# An entry's labels in punycode, each kept in both forms (``_forms``): 2**n forms for n of
# them. Entries name one or two (a name and an IDN suffix: "магазин.рф"); with more, the
# first ones past this many stay in punycode in every form.
MAX_IDN_LABELS = 4
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@cache
def well_known() -> frozenset[str]:
    """The built-in ``popular`` prior (``data/well_known_domains.txt``): sites shared so
    widely that sharing or a stray report must not make them look like a campaign's."""
    text = (resources.files("spimguard") / "data/well_known_domains.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def key(name: str) -> str:
    return f"lists:{name}"


def host_suffixes(host: str) -> tuple[str, ...]:
    """``a.b.example.com`` -> (a.b.example.com, b.example.com, example.com, com): those a
    list can name, of at most ``MAX_HOST_CHARS`` (the longest name DNS holds; ``parse``
    keeps no entry longer). Every suffix of a link's host was once made: a 64 KiB host
    ("a.a.a...") has 32,768, a gigabyte of characters, and one message cost 89 s."""
    if len(host) > MAX_HOST_CHARS:
        host = host[-MAX_HOST_CHARS - 1:].partition(".")[2]
        if not host:
            return ()
    # Each suffix is what follows the first dot of the one before (as joining the labels
    # from each on gave): a loop, where a generator made a function object and a frame
    # at each call (~2.2 an event, ``calls40``).
    found = [host]
    while "." in host:
        host = host.partition(".")[2]
        found.append(host)
    return tuple(found)


def apart_suffixes(host: str, tail: int) -> tuple[str, ...]:
    """The suffixes of a host written apart (``MessageView.apart_hosts``) that hold one of
    its joins: not the ``tail`` labels written as one name after the last (``apart_tails``).
    "lol. github.io is down" is prose's last word before a company's host as likely as one
    of its users' hosts: lol.github.io is the guess, github.io was written, not joined."""
    return host_suffixes(host)[:-tail]


def contains_any(name: str, hosts: Iterable[str],
                 apart: Iterable[tuple[str, int]] = ()) -> Contains:
    """The query that tells which suffixes of these hosts, and of the hosts written
    ``apart`` with their tails (``apart_suffixes``), are on list ``name``."""
    names = [s for h in hosts for s in host_suffixes(h)]
    names.extend(s for h, tail in apart for s in apart_suffixes(h, tail))
    return Contains(key(name), tuple(dict.fromkeys(names)))


def _host(raw: str) -> str:
    # An entry names a host and every host under it (``host_suffixes``): the wildcard
    # blocklists write for that ("*.tones-shop.com") is the entry, not a host of its own
    # that no link ever has.
    raw = raw.strip().removeprefix("*.")
    if not raw:
        return ""
    # A scheme starts the entry; a "://" further on is its path's or query's
    # ("tones-shop.com/r?to=https://x" names tones-shop.com).
    target = raw if _SCHEME.match(raw) else "http://" + raw
    try:
        read = read_host(hostname(urlsplit(target)))
    except ValueError:
        return ""
    # Read as a message's links are, so an entry matches them however either is written
    # ("1603084295" is 95.141.32.7, "shop\u3002example" is shop.example), one with a
    # deviation character as browsers read it ("faß.de" is xn--fa-hia.de, not fass.de).
    host = read[0] if read else ""
    return host if ("." in host and host.isascii() and " " not in host
                    and len(host) <= MAX_HOST_CHARS) else ""


def _forms(entry: str) -> tuple[str, ...]:
    """An entry and, if it names a host with labels in punycode, the same host with each
    of those labels in its Unicode form (``text.host_key``) or in punycode, in every mix:
    a message's host past IDNA's budget (``text.MAX_IDN_CHARS``) is read as written, each
    label Unicode or punycode ("магазин.xn--p1ai"), with no IDNA, and matches one of them.
    A label that is no punycode IDNA decodes and encodes back to itself has one form."""
    if "xn--" not in entry:
        return (entry,)
    labels = entry.split(".")
    read = [_unicode_label(label) for label in labels]
    mixed = [i for i, label in enumerate(labels) if read[i] != label][-MAX_IDN_LABELS:]
    forms: list[str] = []
    for picks in itertools.product((False, True), repeat=len(mixed)):
        form = list(labels)
        for i, pick in zip(mixed, picks, strict=True):
            if pick:
                form[i] = read[i]
        forms.append(".".join(form))
    return tuple(forms)


@lru_cache(maxsize=4096)  # an IDN suffix ("xn--p1ai") recurs in a list's entries
def _unicode_label(label: str) -> str:
    """A punycode label decoded as the view reads its host (IDNA 2003, or browsers' for one
    with a deviation character: "xn--fa-hia" is "faß"), in the form of ``text.host_key``."""
    decoded = unicode_label(label)
    return label if decoded == label else host_key(decoded)


def parse(text: str, kind: str) -> list[str]:
    """Normalised entries (hosts, or lower-case SHA-256 hex) from a list file's text."""
    if kind not in KINDS:
        raise BadInput(f"unknown list kind {kind!r}; use one of {', '.join(KINDS)}")
    # Counted as they are read: an IDN entry keeps up to 2**MAX_IDN_LABELS forms
    # (``_forms``), each label an IDNA decoding, so a file may make 16 times as many entries
    # as it has lines; the bound stops the import there, not after all of them are made.
    kept: dict[str, None] = {}
    for entry in _entries(text, kind):
        if entry and entry != "localhost":
            kept.update(dict.fromkeys(_forms(entry)))
            if len(kept) > MAX_ENTRIES:
                raise BadInput(f"more entries than the limit of {MAX_ENTRIES}")
    return list(kept)


def _entries(text: str, kind: str) -> Iterator[str]:
    """``parse``'s entries as the file gives them ("" for a line that names none)."""
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        fields = {f.lower(): f for f in reader.fieldnames or []}
        column = fields.get("url") or fields.get("domain") or fields.get("host")
        if column is None:
            raise BadInput("the CSV needs a 'url', 'domain' or 'host' column")
        yield from (_host(row[column] or "") for row in reader)
        return
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if kind == "hosts":
            yield from (_host(f) for f in line.split()[1:])
        elif kind == "sha256":
            digest = line.split()[0].lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise BadInput(f"not a SHA-256 digest: {digest[:80]!r}")
            yield digest
        else:
            yield _host(line)
