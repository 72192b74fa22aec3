"""The words people send: ham and spam from a labelled set, links to well-known sites.

By default the bundled ``data/sim/chat.tsv`` (short everyday lines and spam
written for this project, in the UCI format); ``--texts`` takes any set that
``spimguard train`` reads, such as the UCI SMS Spam Collection, for realistic
variety.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from importlib import resources

from ..errors import BadInput
from ..model import datasets

BENIGN_SITES = ("https://www.youtube.com/watch?v={n}", "https://en.wikipedia.org/wiki/{n}",
                "https://www.bbc.co.uk/news/{n}", "https://github.com/{n}",
                "https://open.spotify.com/track/{n}", "https://www.imdb.com/title/tt{n}",
                "https://www.reddit.com/r/{n}", "https://www.instagram.com/p/{n}")


# What makes ordinary chat look like an advert to a content model: money and numbers,
# shouting, or another script than Latin.
_COMMERCIAL = (re.compile(r"[$£€¥₹]|\d{2,}|\b(?:rs|usd|eur|rp|baht)\b", re.IGNORECASE),
               re.compile(r"\b[A-Z]{3,}\b.*\b[A-Z]{3,}\b|!!"),
               re.compile(r"[^\x00-\u024f\s\d\W]"))


def looks_commercial(text: str) -> bool:
    return any(pattern.search(text) for pattern in _COMMERCIAL)


@dataclass(frozen=True)
class Texts:
    hams: tuple[str, ...]
    spams: tuple[str, ...]
    commercial: tuple[str, ...] = field(default=())  # the hams that look commercial

    def __post_init__(self) -> None:
        if not self.commercial:
            picked = tuple(h for h in self.hams if looks_commercial(h))
            object.__setattr__(self, "commercial", picked or self.hams)

    def ham(self, rng: random.Random) -> str:
        return rng.choice(self.hams)

    def commercial_ham(self, rng: random.Random) -> str:
        return rng.choice(self.commercial)

    def spam(self, rng: random.Random) -> str:
        return rng.choice(self.spams)

    @staticmethod
    def benign_link(rng: random.Random) -> str:
        return rng.choice(BENIGN_SITES).format(n=rng.randrange(10**6))


def load(spec: str | None = None) -> Texts:
    """Texts from a labelled set (any format ``spimguard train`` reads), or the bundled one."""
    if spec is None:
        bundled = resources.files("spimguard") / "data/sim/chat.tsv"
        with resources.as_file(bundled) as path:
            samples = datasets.read(str(path))
    else:
        samples = datasets.read(spec)
    hams = tuple(s.text for s in samples if not s.spam and s.text.strip())
    spams = tuple(s.text for s in samples if s.spam and s.text.strip())
    if not hams or not spams:
        raise BadInput(f"{spec or 'the bundled texts'}: needs both ham and spam messages")
    return Texts(hams, spams)
