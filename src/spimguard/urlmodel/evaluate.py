"""The URL model on URLs it never trained on.

Held out of the training sources (same sources, families never trained on; see
``train.split``): Hannousse & Yahiouche's phishing and legitimate URLs, the Discord
phishing domains, the OpenDNS top domains (bare names, ``https://<domain>``).

Other sources, never trained on (every registrable domain of the training half removed):
- ``smishing``: the links in the smishing messages of Mishra & Soni's SMS set (no
  licence verified: evaluation only);
- ``long tail``: real links to little-known sites (personal pages, projects,
  mailing-list archives, blogs), with paths, quoted in Debian packages' copyright
  files and changelogs and in Python packages' sources (``benchmarks/data``), at most
  three per registrable domain;
- ``X scams``: the links in the Janitr X/Twitter posts labelled ``scam`` or
  ``phishing`` (2025-2026: crypto drainers' "claim" pages, fake support), and ``X and
  SMS ham``: the links in its ``clean`` posts and in the legitimate messages of the
  Thai, Indonesian and UCI SMS sets (posts and texts people sent, not ranked sites),
  at most three per registrable domain. Evaluation only: these sets are not among
  the training sources, so they grade the model on a platform, a year and a lure it
  never saw.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..text import UrlFact, parse_url, view
from . import train as training
from .scorer import UrlModel

MISHRA = "sms-phishing-mishra-soni/Dataset_5971.csv"
JANITR = "janitr-x-crypto-scam/data/sample.jsonl"
THAI = "thai-sms-spam-ssivakorn/data/raw_data"
INDONESIAN = "indonesian-sms-spam-rahmi-wibisono/dataset_sms_spam_v1.csv"
UCI = "sms-spam-collection/SMSSpamCollection"
PER_DOMAIN = 3  # one site's many links weigh as a few
HELD_OUT = (("Hannousse", "hannousse", 1), ("Hannousse", "hannousse", 0),
            ("Discord phishing names", "discord", 1),
            ("OpenDNS popular names", "opendns", 0))


@dataclass(frozen=True, slots=True)
class TestSet:
    name: str
    phishing: bool
    urls: list[UrlFact]
    same_source: bool  # held out of a training source (else a source never trained on)


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _parsed(raw: list[str], trained: set[str]) -> list[UrlFact]:
    urls = (parse_url(r, explicit=True) for r in raw)
    return [u for u in urls if u is not None and u.domain not in trained]


def _few_per_domain(urls: list[UrlFact]) -> list[UrlFact]:
    seen: dict[str, int] = {}
    out = []
    for url in sorted({u.raw: u for u in urls}.values(), key=lambda u: u.raw):
        seen[url.domain] = seen.get(url.domain, 0) + 1
        if seen[url.domain] <= PER_DOMAIN:
            out.append(url)
    return out


def _janitr(root: Path) -> Iterator[tuple[bool | None, str]]:
    """(scam, text) of each Janitr post: True for a scam or phishing post, False for a
    clean one, None for the rest (spam, promotions, topics only)."""
    with (root / JANITR).open(encoding="utf-8") as f:
        for line in f:
            post = json.loads(line)
            labels = set(post["labels"])
            scam = True if labels & {"scam", "phishing"} else (
                False if labels == {"clean"} else None)
            yield scam, " ".join([post["text"], *(post.get("urls") or [])])


def _ham(root: Path) -> Iterator[str]:
    """The legitimate messages of the Thai, Indonesian and UCI SMS sets."""
    for path in sorted((root / THAI).glob("*.txt")):
        for line in path.read_text("utf-8", errors="replace").splitlines():
            label, _, text = line.partition("|")
            if label.strip() in ("OK", "OTP"):
                yield text
    with (root / INDONESIAN).open(encoding="utf-8", errors="replace", newline="") as f:
        yield from (r[0] for r in csv.reader(f) if len(r) >= 2 and r[-1] == "0")
    for line in (root / UCI).read_text("utf-8", errors="replace").splitlines():
        label, _, text = line.partition("\t")
        if label == "ham":
            yield text


def _links(texts: Iterator[str], trained: set[str]) -> list[UrlFact]:
    return _few_per_domain([u for t in texts for u in view(t).urls if u.domain not in trained])


def test_sets(root: Path, benign: Path | None) -> list[TestSet]:
    """Every held-out set, same-source ones first."""
    data, _ = training.read_all(root)
    train, held = training.split(data)
    trained = {s.url.domain for s in train}
    sets = [TestSet(f"{name} ({'phishing' if label else 'benign'})", bool(label),
                    [s.url for s in held if s.source == source and s.phishing == label], True)
            for name, source, label in HELD_OUT]
    with (root / MISHRA).open(encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.reader(f))
    smishing = sorted({u.raw for r in rows[1:] if r and r[0].lower() == "smishing"
                       for u in view(r[1]).urls})
    sets.append(TestSet("smishing links of Mishra & Soni (phishing)", True,
                        _parsed(smishing, trained), False))
    if benign is not None:
        sets.append(TestSet("long-tail sites with paths (benign)", False,
                            _parsed(_lines(benign), trained), False))
    posts = list(_janitr(root))
    sets.append(TestSet("links in X scam posts (phishing)", True,
                        _links((t for s, t in posts if s), trained), False))
    sets.append(TestSet("links in X and SMS ham (benign)", False,
                        _links(iter([*(t for s, t in posts if s is False), *_ham(root)]),
                               trained), False))
    return sets


def rates(model: UrlModel, urls: list[UrlFact]) -> tuple[float, float]:
    """Shares of ``urls`` the links detector flags (at or above the model's warn_at, with
    a reason to give), and of those at or above its hold_at."""
    judged = [model.judge(u) for u in urls]
    p = np.array([j.p if j.reasons else 0.0 for j in judged])
    if not len(p):
        return 0.0, 0.0
    return float((p >= model.warn_at).mean()), float((p >= model.hold_at).mean())
