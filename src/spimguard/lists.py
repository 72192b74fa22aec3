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
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from .errors import BadInput
from .state.ops import Contains
from .text import MAX_HOST_CHARS, read_host

NAMES = ("block", "allow", "popular", "shorteners", "sha256")
KINDS = ("domains", "hosts", "urls", "csv", "sha256")
MAX_ENTRIES = 5_000_000  # a bound on one import
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
    labels = host.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


def contains_any(name: str, hosts: Iterable[str]) -> Contains:
    """The query that tells which suffixes of these hosts are on list ``name``."""
    return Contains(key(name), tuple(dict.fromkeys(s for h in hosts for s in host_suffixes(h))))


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
        read = read_host(urlsplit(target).hostname or "")
    except ValueError:
        return ""
    # Read as a message's links are, so an entry matches them however either is written
    # ("1603084295" is 95.141.32.7, "shop\u3002example" is shop.example).
    host = read[0] if read else ""
    return host if ("." in host and host.isascii() and " " not in host
                    and len(host) <= MAX_HOST_CHARS) else ""


def parse(text: str, kind: str) -> list[str]:
    """Normalised entries (hosts, or lower-case SHA-256 hex) from a list file's text."""
    if kind not in KINDS:
        raise BadInput(f"unknown list kind {kind!r}; use one of {', '.join(KINDS)}")
    entries: list[str] = []
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        fields = {f.lower(): f for f in reader.fieldnames or []}
        column = fields.get("url") or fields.get("domain") or fields.get("host")
        if column is None:
            raise BadInput("the CSV needs a 'url', 'domain' or 'host' column")
        entries = [_host(row[column] or "") for row in reader]
    else:
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if kind == "hosts":
                fields = line.split()
                entries.extend(_host(f) for f in fields[1:])
            elif kind == "sha256":
                digest = line.split()[0].lower()
                if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                    raise BadInput(f"not a SHA-256 digest: {digest[:80]!r}")
                entries.append(digest)
            else:
                entries.append(_host(line))
    kept = list(dict.fromkeys(e for e in entries if e and e not in ("localhost",)))
    if len(kept) > MAX_ENTRIES:
        raise BadInput(f"{len(kept)} entries exceed the limit of {MAX_ENTRIES}")
    return kept
