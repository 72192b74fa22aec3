"""The shipped URL model: a logistic regression over ``features.shape`` and the words of
the host and path (``words``), stored as JSON.

JSON rather than pickle: an artefact is data a reviewer can read and diff, and loading
it runs no code. The artefact names the feature version it was trained on; a model of
other features is refused at load instead of scoring features it never saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import compress
from operator import itemgetter, mul, sub, truediv
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..model.scorer import sigmoid
from ..text import UrlFact
from . import features, words
from .features import BRANDS, LURES, NAMES, PAGES, PHRASES, SCRIPTS, VERSION, Shape, shape

BUNDLED = "urls.json"
OTHER_TLD = "(other)"
# A feature is a reason when it added this much to the log-odds (its odds × 1.28 or more):
# less is a nudge no person would call the reason.
REASON = 0.25
_BRANDS = frozenset(BRANDS)
_NAMED = _BRANDS | LURES | {e.strip(".") for e in (*SCRIPTS, *PAGES)}


@dataclass(frozen=True, slots=True)
class Reading:
    """What the model reads of a URL, whatever its weights: its shape, the letter runs of
    its host and the words of its path. Training reads each URL once and weighs the
    reading under every fit it tries (a shape is most of the cost of a judgement)."""

    shape: Shape
    pieces: list[str]  # ``words.host_pieces``
    path: list[str]  # ``words.path_words``


def read(url: UrlFact) -> Reading:
    """The path's text and the hosting services read once for the three readers. The
    features read the services against the path's ``ends``, the words against its first
    ``MAX_PATH`` characters: the same text when the path is no longer."""
    text = features.path_text(url)
    found = features.services(url.host[:features.MAX_HOST],
                              url.path[:features.MAX_PATH].lower())
    seen = shape(url, text, found if len(url.path) <= features.MAX_PATH else None)
    return Reading(seen, words.host_pieces(url, _BRANDS, found),
                   words.path_words(url, text, found))


@dataclass(frozen=True, slots=True)
class Judgement:
    p: float  # probability that the link is a phishing page, from its text alone
    margin: float  # the same as log-odds
    reasons: tuple[str, ...]  # the facts that weighed most toward phishing, in words


class UrlModel:
    def __init__(self, artefact: dict[str, Any]) -> None:
        if artefact.get("features") != VERSION or artefact.get("names") != list(NAMES):
            raise ConfigError(f"the URL model was trained on other features "
                              f"(version {artefact.get('features')!r}, this code reads "
                              f"{VERSION}). Retrain it: spimguard train-urls")
        self.artefact = artefact
        self.mean = [float(v) for v in artefact["mean"]]
        self.scale = [float(v) for v in artefact["scale"]]
        self.coef = [float(v) for v in artefact["coef"]]
        self.tld = {str(k): float(v) for k, v in artefact["tld"].items()}
        # Only words that weighed toward phishing are shipped (see words.py).
        self.host_words = {str(k): float(v) for k, v in artefact["host_words"].items()}
        self.path_words = {str(k): float(v) for k, v in artefact["path_words"].items()}
        if not len(self.mean) == len(self.scale) == len(self.coef) == len(NAMES):
            raise ConfigError(f"the URL model's mean, scale and coef must hold one number "
                              f"a feature ({len(NAMES)})")
        self.intercept = float(artefact["intercept"])
        self.warn_at = float(artefact["thresholds"]["warn_at"])
        self.hold_at = float(artefact["thresholds"]["hold_at"])
        # A host's words weighed once a host: a campaign's copies share their host.
        self._host_found = lru_cache(maxsize=4096)(self._weigh_host)
        # The phrased features' places in ``NAMES`` and their phrases: a phrase without a
        # fact to quote is its own wording (``str.format`` of it returns it).
        phrased = [i for i, name in enumerate(NAMES) if name in PHRASES]
        self._phrased = itemgetter(*phrased)
        self._phrases = tuple((PHRASES[NAMES[i]], "{" in PHRASES[NAMES[i]]) for i in phrased)

    def _weigh_host(self, pieces: tuple[str, ...]) -> tuple[tuple[float, str], ...]:
        """Each of the host's words the model weighs (``words.host_words``), with its
        weight."""
        return tuple((self.host_words[w], w) for w in words.host_words(list(pieces),
                                                                        self.host_words))

    def margin(self, reading: Reading) -> tuple[float, list[tuple[float, str]]]:
        """Log-odds of phishing, and each phrased feature's share of it.

        z = intercept + tld + sum of w_i * (x_i - mean_i) / scale_i over ``NAMES`` in order:
        each share by ``map`` over ``operator``'s float operations and summed left to right
        by a loop (not ``functools.reduce``: ``benchmarks/batch_split.py`` counts a step by
        it), the same operations in the same order as a loop a feature (floats: that order
        is the sum's value). A phrase is built only for a phrased feature whose value is not
        zero (``compress``), a few a link."""
        seen = reading.shape
        shares = list(map(truediv, map(mul, self.coef, map(sub, seen.values, self.mean)),
                          self.scale))
        z = self.intercept + self.tld.get(seen.tld, self.tld[OTHER_TLD])
        for share in shares:
            z += share
        parts = [(share, phrase.format_map(seen.facts) if quotes else phrase)
                 for share, (phrase, quotes) in compress(
                     zip(self._phrased(shares), self._phrases, strict=True),
                     self._phrased(seen.values))]
        found = self._host_found(tuple(reading.pieces))
        path = dict.fromkeys(w for w in reading.path if w in self.path_words)
        found_path = [(self.path_words[w], w) for w in path]
        for weighed, where in ((found, "name"), (found_path, "path")):
            if weighed:
                share = sum(w for w, _ in weighed)
                z += share
                # Words another reason already names ('login', 'paypal', 'php') are left
                # out of this one's wording (and with none left, of the reasons), not of
                # its weight.
                shown = [w for _, w in sorted(weighed, reverse=True) if w not in _NAMED]
                if shown:
                    named = ", ".join(f"'{w}'" for w in shown[:3])
                    noun = "words" if len(shown) > 1 else "word"
                    parts.append((share, f"the {noun} {named} in its {where}"))
        return z, parts

    def judge(self, url: UrlFact) -> Judgement:
        return self.judge_reading(read(url))

    def judge_reading(self, reading: Reading) -> Judgement:
        z, parts = self.margin(reading)
        weighed = sorted((share, phrase) for share, phrase in parts if share >= REASON)
        return Judgement(sigmoid(z), z, tuple(phrase for _, phrase in reversed(weighed[-3:])))


def load(path: str | Path | None = None) -> UrlModel:
    """The model at ``path``, or the one shipped with the package."""
    try:
        if path:
            text = Path(path).read_text("utf-8")
        else:
            text = resources.files(__package__).joinpath(BUNDLED).read_text("utf-8")
        return UrlModel(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the URL model {path or BUNDLED}: {exc}") from None


@cache
def bundled() -> UrlModel:
    return load(None)


def dumps(artefact: dict[str, Any]) -> str:
    """The artefact's bytes: sorted keys, one float format, so a rebuild compares equal."""
    return json.dumps(artefact, sort_keys=True, indent=1, ensure_ascii=True) + "\n"
