"""The words a URL's host and path are made of, for the URL model's word weights.

A phishing campaign names its hosts after what it promises and whom it impersonates
("discord-nitro-gift", "steamcommunnity-trade", "airdrop-claim") and writes its kit's
path the same way ("/secure/webscr/update"), so the words of a host are evidence a
hand-written feature list cannot keep up with. Hosts run words together
("freenitrogift"), so a host's letter runs are cut into the words of a vocabulary
learnt from training names (the fewest words that spell it whole); a path's words are
its tokens of letters.

Word weights are fitted at zero or above (``train.fit_monotone``) and only those above
zero are shipped: every character of a URL is the sender's choice, so a word that made
a link look safer is one an attacker would add ("/wiki/" in a kit's path). The words of
a brand's own registrable name ("discord" in discord.com) are not counted: the site
naming itself is no lure.

Hostile input: at most ``MAX_PIECES`` runs of at most 63 letters from the host (a DNS
label's length), at most ``MAX_PATH_WORDS`` from 1 KiB of the path and query (the first
and last halves of each: ``features.ends``); the cut into words tries at most
``MAX_WORD`` starts at each letter.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable

from ..text import UrlFact
from .features import MAX_PATH, ends, path_text, service

# A path's words are delimited by its author; a host's are cut from runs of letters, where
# a short word ("uni", "bot", "mee") is an abbreviation of too many things to be evidence.
MIN_WORD = 3
MIN_HOST_WORD = 4
MAX_WORD = 20
MAX_PIECES = 16
MAX_PATH_WORDS = 64
_LETTERS = re.compile(r"[a-z]+")
# A longest run of letters and digits of MIN_WORD to MAX_WORD letters and no digit, found
# by one scan: at most MAX_WORD letters tried at each start.
_WORDS = re.compile(rf"(?<![a-z0-9])[a-z]{{{MIN_WORD},{MAX_WORD}}}(?![a-z0-9])")


def host_pieces(url: UrlFact, brands: frozenset[str] = frozenset(),
                found: dict[str, str] | None = None) -> list[str]:
    """The letter runs of the host left of its public suffix ('www' dropped) that its
    owner chose: less the registrable label when it is one of ``brands`` (a site naming
    itself), less a hosting service's name (``weebly.com`` in ``x.weebly.com``).
    ``found``: ``features.services`` of the host and the path's first ``MAX_PATH``
    characters, when the caller has it already."""
    if url.is_ip:
        return []
    host, domain = url.host[:253], url.domain[:253]
    label, _, suffix = domain.partition(".")
    _, hosting = service(host, url.path[:MAX_PATH].lower(), found)
    if hosting:
        name = host[: -len(hosting)].rstrip(".")
    elif suffix and host.endswith("." + suffix):
        name = host[: len(host) - len(suffix) - 1]
        if name.rsplit(".", 1)[-1] == label and label in brands:
            name = name[: -len(label)]
    else:
        name = host
    labels = name.split(".")
    pieces = [p for lab in labels if lab != "www" for p in _LETTERS.findall(lab)]
    return [p[:63] for p in pieces[:MAX_PIECES]]


def path_words(url: UrlFact, text: str | None = None,
               found: dict[str, str] | None = None) -> list[str]:
    """The words of the path and query (lower-cased): its tokens of letters only, three
    or more ('c587898f59edf6c', a kit's session id, is no word and holds none).
    ``text`` and ``found``: ``features.path_text`` and ``host_pieces``'s ``found``, when
    the caller has them already."""
    if service(url.host[:253], url.path[:MAX_PATH].lower(), found)[0] == "form":
        return []  # a form's address is the service's ('/forms/d/e/<id>/viewform')
    return ends(_WORDS.findall(path_text(url) if text is None else text), MAX_PATH_WORDS)


def segment(piece: str, vocabulary: Container[str]) -> list[str]:
    """``piece`` itself when the vocabulary has it, else the fewest vocabulary words that
    spell it whole ('freenitrogift': free, nitro, gift), or none: a word found inside a
    name that does not read as words ('form' in 'informatik') is a coincidence."""
    if piece in vocabulary:
        return [piece]
    if len(piece) < 2 * MIN_HOST_WORD:
        return []
    # best[i]: the fewest words spelling piece[:i], as the start of the last one. Filled
    # forward from each start a word ends at (a name that reads as no words has few),
    # the starts in increasing order: each end keeps its first start of the fewest words.
    best: list[tuple[int, int] | None] = [(0, 0), *[None] * len(piece)]
    for start in range(len(piece) - MIN_HOST_WORD + 1):
        before = best[start]
        if before is None:
            continue
        count = before[0] + 1
        for end in range(start + MIN_HOST_WORD, min(start + MAX_WORD, len(piece)) + 1):
            now = best[end]
            if (now is None or count < now[0]) and piece[start:end] in vocabulary:
                best[end] = (count, start)
    out: list[str] = []
    end = len(piece)
    while end and best[end] is not None:
        start = best[end][1]  # type: ignore[index]
        out.append(piece[start:end])
        end = start
    return out[::-1] if end == 0 else []


def host_words(pieces: list[str], vocabulary: Container[str]
               ) -> list[str]:
    """The vocabulary's words in a host's ``pieces`` (``host_pieces``), each once, in order
    of appearance."""
    found = (w for p in pieces for w in segment(p, vocabulary))
    return list(dict.fromkeys(found))


def vocabulary(hosts: Iterable[tuple[str, list[str]]], min_domains: int,
               shortest: int) -> list[str]:
    """Words (whole letter runs of ``shortest`` to ``MAX_WORD`` letters) that
    ``min_domains`` registrable domains or more use: one campaign's hundred hosts under
    one domain count once. ``hosts``: (registrable domain, its pieces)."""
    seen: dict[str, set[str]] = {}
    for domain, pieces in hosts:
        for piece in pieces:
            if shortest <= len(piece) <= MAX_WORD:
                seen.setdefault(piece, set()).add(domain)
    return sorted(w for w, domains in seen.items() if len(domains) >= min_domains)
