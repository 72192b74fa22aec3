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
  three per registrable domain.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..text import UrlFact, parse_url, view
from . import train as training
from .scorer import UrlModel

MISHRA = "sms-phishing-mishra-soni/Dataset_5971.csv"
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
    return sets


def rates(model: UrlModel, urls: list[UrlFact]) -> tuple[float, float]:
    """Shares of ``urls`` the links detector flags (at or above the model's warn_at, with
    a reason to give), and of those at or above its hold_at."""
    judged = [model.judge(u) for u in urls]
    p = np.array([j.p if j.reasons else 0.0 for j in judged])
    if not len(p):
        return 0.0, 0.0
    return float((p >= model.warn_at).mean()), float((p >= model.hold_at).mean())
