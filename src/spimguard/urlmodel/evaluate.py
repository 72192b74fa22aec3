"""The URL model on sources it never trained on.

Trained on Hannousse & Yahiouche (2020; PhishTank and OpenPhish phishing, ranked and
searched legitimate sites); tested on
- ``discord``: the Discord phishing domains (nikolaischunk, 2021-2024, MIT), each as
  ``https://<domain>`` (the list has no paths, so only the host can speak);
- ``smishing``: the links in the smishing messages of Mishra & Soni's SMS set;
- ``popular``: the OpenDNS top 10,000 domains (2014, public domain) as
  ``https://<domain>``, less every registrable domain of the training file;
- ``long tail``: real links to little-known sites (personal pages, projects,
  mailing-list archives, blogs), with paths, quoted in Debian packages' copyright
  files and changelogs and in Python packages' sources (``benchmarks/data``), at most
  three per registrable domain, less every domain of the training file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..text import UrlFact, parse_url, view
from .scorer import UrlModel

DISCORD = "discord-phishing-links-nikolaischunk/txt/domain-list.txt"
MISHRA = "sms-phishing-mishra-soni/Dataset_5971.csv"
OPENDNS = "opendns-top-domains/opendns-top-domains.txt"


@dataclass(frozen=True, slots=True)
class TestSet:
    name: str
    phishing: bool
    urls: list[UrlFact]


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _parsed(raw: list[str], trained: set[str]) -> list[UrlFact]:
    urls = (parse_url(r, explicit=True) for r in raw)
    return [u for u in urls if u is not None and u.domain not in trained]


def test_sets(root: Path, benign: Path | None, trained: set[str]) -> list[TestSet]:
    """The held-out sets; ``trained``: the registrable domains of the training file."""
    sets = [TestSet("discord phishing domains", True,
                    _parsed([f"https://{d}" for d in _lines(root / DISCORD)], trained))]
    with (root / MISHRA).open(encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.reader(f))
    smishing = sorted({u.raw for r in rows[1:] if r and r[0].lower() == "smishing"
                       for u in view(r[1]).urls})
    sets.append(TestSet("smishing links (Mishra & Soni)", True, _parsed(smishing, trained)))
    sets.append(TestSet("popular sites (OpenDNS top 10k)", False,
                        _parsed([f"https://{d}" for d in _lines(root / OPENDNS)], trained)))
    if benign is not None:
        sets.append(TestSet("long-tail sites with paths", False,
                            _parsed(_lines(benign), trained)))
    return sets


def rates(model: UrlModel, urls: list[UrlFact]) -> tuple[float, float]:
    """Shares of ``urls`` the links detector flags (at or above the model's warn_at, with
    a reason to give), and of those at or above its hold_at."""
    judged = [model.judge(u) for u in urls]
    p = np.array([j.p if j.reasons else 0.0 for j in judged])
    if not len(p):
        return 0.0, 0.0
    return float((p >= model.warn_at).mean()), float((p >= model.hold_at).mean())
