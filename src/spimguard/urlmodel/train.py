"""Training the URL model from the Hannousse & Yahiouche phishing-URL set, reproducibly.

Data: ``web-page-phishing-hannousse-yahiouche/dataset_phishing.csv`` (CC BY 4.0; 5,715
phishing and 5,715 legitimate URLs of 2020), its ``url`` and ``status`` columns only.
Its phishing URLs cluster on a few hosts (one host 214 times), so the split is by
registrable domain: a quarter of the domains, chosen by a hash of the name, are the
validation set, never trained on, on which the thresholds are chosen. The shipped
model is the one trained on the other three quarters, so that its thresholds were
chosen on URLs it never saw.

Thresholds, from a stated budget on the validation set's legitimate URLs:
- ``warn_at``: at most ``WARN_BUDGET`` of them would be warned;
- ``hold_at``: above every one of them ("near certainty"): the signal's full weight,
  which alone still only warns; any other kind of evidence then holds, except between
  friends, where the policy bounds it like their words (see ``data/scores.toml``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from ..errors import BadInput
from ..text import UrlFact, parse_url
from .features import NAMES, PATH_FEATURES, VERSION, shape
from .scorer import OTHER_TLD

HANNOUSSE = "web-page-phishing-hannousse-yahiouche/dataset_phishing.csv"
HANNOUSSE_SHA256 = "21093e2902e5441c86a6daf95e86e7c332046e477fdf109a579d7bd81e586d6c"
C = 0.5  # inverse L2 strength (scikit-learn's default is 1; see CARD.md)
VALIDATION_SHARE = 4  # one registrable domain in 4 is validation
WARN_BUDGET = 0.01  # share of validation legitimate URLs the warn threshold may reach
MIN_TLD = 20  # a suffix gets a weight of its own once the training set has this many URLs
DIGITS = 6  # significant digits kept in the artefact: the same bytes on any machine


@dataclass(frozen=True, slots=True)
class Labelled:
    url: UrlFact
    phishing: int


def read_hannousse(root: Path) -> tuple[list[Labelled], str]:
    """The labelled URLs (duplicates dropped, unparsable ones skipped) and the file's
    SHA-256, which must be the one PROVENANCE.md records."""
    path = root / HANNOUSSE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != HANNOUSSE_SHA256:
        raise BadInput(f"{path} is not the recorded file (sha256 {digest}, expected "
                       f"{HANNOUSSE_SHA256})")
    rows = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
    next(rows)
    seen: set[str] = set()
    out: list[Labelled] = []
    for row in rows:
        text, status = row[0].strip(), row[-1]
        if text in seen:
            continue
        seen.add(text)
        url = parse_url(text, explicit=True)
        if url is not None:
            out.append(Labelled(url, int(status == "phishing")))
    return out, digest


def is_validation(domain: str) -> bool:
    return hashlib.sha256(domain.encode()).digest()[0] % VALIDATION_SHARE == 0


def _round(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def matrix(urls: list[UrlFact], tlds: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The feature rows, and which of them have a path."""
    index = {t: i for i, t in enumerate(tlds)}
    other = index[OTHER_TLD]
    rows = np.zeros((len(urls), len(NAMES) + len(tlds)))
    has_path = np.zeros(len(urls), dtype=bool)
    for i, url in enumerate(urls):
        seen = shape(url)
        rows[i, : len(NAMES)] = seen.values
        rows[i, len(NAMES) + index.get(seen.tld, other)] = 1.0
        has_path[i] = seen.has_path
    return rows, has_path


@dataclass(frozen=True)
class Design:
    """How training rows become the model's inputs: suffixes with a weight of their own,
    and the standardisation (path features from URLs that have a path)."""

    tlds: list[str]
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, train: list[UrlFact]) -> Design:
        counts: dict[str, int] = {}
        for url in train:
            tld = shape(url).tld
            counts[tld] = counts.get(tld, 0) + 1
        tlds = [*sorted(t for t, n in counts.items() if n >= MIN_TLD and t), OTHER_TLD]
        x, has_path = matrix(train, tlds)
        path = np.array([n in PATH_FEATURES for n in NAMES])
        x = x[:, : len(NAMES)]
        mean = np.where(path, x[has_path].mean(axis=0), x.mean(axis=0))
        scale = np.where(path, x[has_path].std(axis=0), x.std(axis=0))
        scale[scale == 0] = 1.0
        return cls(tlds, mean, scale)

    def inputs(self, urls: list[UrlFact]) -> np.ndarray:
        x, has_path = matrix(urls, self.tlds)
        x[:, : len(NAMES)] = (x[:, : len(NAMES)] - self.mean) / self.scale
        path = np.array([*(n in PATH_FEATURES for n in NAMES), *[False] * len(self.tlds)])
        x[np.ix_(~has_path, path)] = 0.0  # a bare host's path features abstain
        return x


def fit(train: list[Labelled], c: float = C) -> dict[str, Any]:
    """The artefact (without thresholds) of a model trained on ``train``."""
    design = Design.of([s.url for s in train])
    tlds, mean, scale = design.tlds, design.mean, design.scale
    x = design.inputs([s.url for s in train])
    y = np.array([s.phishing for s in train])
    model = LogisticRegression(C=c, max_iter=5000, solver="lbfgs").fit(x, y)
    coef = model.coef_[0]
    return {
        "features": VERSION, "names": list(NAMES),
        "mean": [_round(v) for v in mean], "scale": [_round(v) for v in scale],
        "coef": [_round(v) for v in coef[: len(NAMES)]],
        "tld": {t: _round(w) for t, w in zip(tlds, coef[len(NAMES):], strict=True)},
        "intercept": _round(model.intercept_[0]), "c": c,
    }


def families(root: Path, sets: list[tuple[str, list[UrlFact]]]) -> list[tuple[str, list[float]]]:
    """The shipped family (logistic regression) against gradient-boosted trees on the same
    inputs: recall on the validation phishing at 1 % of its legitimate URLs, then the share
    of each of ``sets`` above that same threshold (raw p, no reason required)."""
    data, _ = read_hannousse(root)
    train = [s for s in data if not is_validation(s.url.domain)]
    valid = [s for s in data if is_validation(s.url.domain)]
    design = Design.of([s.url for s in train])
    x, y = design.inputs([s.url for s in train]), np.array([s.phishing for s in train])
    xv, yv = design.inputs([s.url for s in valid]), np.array([s.phishing for s in valid])
    out = []
    for name, model in (
            ("logistic regression (shipped)", LogisticRegression(C=C, max_iter=5000)),
            *((f"logistic regression, C = {c}", LogisticRegression(C=c, max_iter=5000))
              for c in (0.05, 5.0)),
            ("gradient-boosted trees", HistGradientBoostingClassifier(
                max_iter=300, learning_rate=0.1, random_state=0))):
        model.fit(x, y)
        p = model.predict_proba(xv)[:, 1]
        legit = np.sort(p[yv == 0])[::-1]
        cut = legit[math.floor(WARN_BUDGET * len(legit))]
        row = [float((p[yv == 1] > cut).mean())]
        row += [float((model.predict_proba(design.inputs(urls))[:, 1] > cut).mean())
                for _, urls in sets]
        out.append((name, row))
    return out


def thresholds(legitimate: np.ndarray) -> dict[str, float]:
    """``warn_at`` and ``hold_at`` from the validation set's legitimate URLs' scores."""
    ranked = np.sort(legitimate)[::-1]
    allowed = math.floor(WARN_BUDGET * len(ranked))
    warn = float(ranked[allowed]) if allowed < len(ranked) else 0.5
    hold = float(ranked[0])
    # Just above the highest score the budget allows, rounded up to 3 decimals.
    return {"warn_at": max(0.5, math.ceil(warn * 1000 + 1e-9) / 1000),
            "hold_at": min(0.999, max(0.95, math.ceil(hold * 1000 + 1e-9) / 1000))}


def shipped(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bundled artefact (byte-for-byte what ``spimguard train-urls`` writes) and the
    validation figures it was chosen on."""
    from .scorer import UrlModel

    data, digest = read_hannousse(root)
    train = [s for s in data if not is_validation(s.url.domain)]
    valid = [s for s in data if is_validation(s.url.domain)]
    artefact = fit(train)
    artefact["thresholds"] = {"warn_at": 0.5, "hold_at": 0.999}
    model = UrlModel(artefact)
    judged = [model.judge(s.url) for s in valid]
    p = np.array([j.p for j in judged])
    y = np.array([s.phishing for s in valid])
    artefact["thresholds"] = thresholds(p[y == 0])
    p = np.where([bool(j.reasons) for j in judged], p, 0.0)  # flagged only with a reason
    artefact["data"] = {"file": HANNOUSSE, "sha256": digest, "licence": "CC BY 4.0",
                        "doi": "10.17632/c2gw7fy2j4.3",
                        "train": {"phishing": sum(s.phishing for s in train),
                                  "legitimate": sum(1 - s.phishing for s in train)},
                        "validation": {"phishing": int(y.sum()),
                                       "legitimate": int((y == 0).sum())}}
    warn, hold = artefact["thresholds"]["warn_at"], artefact["thresholds"]["hold_at"]
    figures = {"validation_phishing_flagged": float((p[y == 1] >= warn).mean()),
               "validation_phishing_high": float((p[y == 1] >= hold).mean()),
               "validation_legitimate_flagged": float((p[y == 0] >= warn).mean()),
               "validation_legitimate_high": float((p[y == 0] >= hold).mean())}
    artefact["validation"] = {k: round(v, 4) for k, v in figures.items()}
    return artefact, figures
