"""Leave-one-corpus-out (LOCO): what the content model does on a platform it never saw.

A model that is 96 % on held-out SMS and 10 % on the next platform has learnt the
SMS corpora, not spam; a random split of the training sets cannot tell the two
apart, so every figure here comes from a corpus the model was not trained on:

- for each openly licensed corpus, train on all the others and score it;
  an evaluation-only corpus (no licence) is scored by a model trained on all
  openly licensed ones, and never trains anything;
- messages are grouped by their number-masked fingerprint (``text.view``): a
  left-out message whose fingerprint is in the training data is dropped (the
  model has seen that pitch), and a fingerprint counts once (a templated
  corpus's thousand OTP codes are one message, not a thousand);
- a corpus marked ``reserve`` (Janitr X) trains only on the half of its
  fingerprints ``reserved`` does not pick (a hash of its own, not the
  validation/test one): the simulator's ``hard-ham`` scenario takes its ordinary
  chat from the reserved half, which no model, shipped or left-one-out, trained
  on. Left out, the corpus is scored whole;
- each left-out corpus is halved by fingerprint: the *validation* half is
  where settings and thresholds may be chosen, the *test* half is what is
  reported. The halves are fixed by the fingerprint's hash, not by a seed
  someone could try until the table looks good.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from ..text import MessageView, view
from .datasets import CORPORA, Corpus, Sample, dedupe
from .evaluate import Thresholds, auc, ece, recall_at_ham_rates

VALIDATION, TEST = 0, 1


class Scorer(Protocol):
    def probabilities(self, views: Sequence[MessageView]) -> np.ndarray: ...


Recipe = Callable[[Sequence[Sample]], Scorer]


def half(fingerprint: str) -> int:
    """VALIDATION or TEST, fixed by the fingerprint alone."""
    return hashlib.blake2b(f"half:{fingerprint}".encode(), digest_size=1).digest()[0] & 1


def reserved(fingerprint: str) -> bool:
    """Whether a message of a ``reserve`` corpus is kept out of every training set."""
    return bool(hashlib.blake2b(f"reserve:{fingerprint}".encode(), digest_size=1
                                ).digest()[0] & 1)


def unseen_half(samples: Sequence[Sample]) -> list[Sample]:
    """The messages of a ``reserve`` corpus that no model trains on (the ``hard-ham``
    scenario's texts)."""
    return [s for s in samples if reserved(view(s.text).fingerprint)]


def one_per_fingerprint(samples: Sequence[Sample]) -> list[Sample]:
    """The first message of each fingerprint; a fingerprint seen under both labels is
    dropped (its label is unknowable)."""
    first: dict[str, Sample] = {}
    conflicting: set[str] = set()
    for sample in samples:
        fp = view(sample.text).fingerprint
        seen = first.setdefault(fp, sample)
        if seen.spam != sample.spam:
            conflicting.add(fp)
    return [s for fp, s in first.items() if fp not in conflicting]


@dataclass(frozen=True)
class Held:
    """One left-out corpus, scored by a model that never trained on it."""

    corpus: Corpus
    labels: np.ndarray
    p: np.ndarray
    halves: np.ndarray

    def part(self, which: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = self.halves == which
        return self.labels[chosen], self.p[chosen]


def load(root: Path, corpora: Sequence[Corpus] = CORPORA) -> dict[str, list[Sample]]:
    return {c.name: dedupe(c.load(root)) for c in corpora}


def training_set(loaded: dict[str, list[Sample]], leave_out: str | None = None
                 ) -> list[Sample]:
    """Every openly licensed corpus but ``leave_out`` (of a ``reserve`` corpus, its
    unreserved half), duplicates removed."""
    return dedupe(s for c in CORPORA if c.trainable and c.name != leave_out
                  for s in loaded.get(c.name, ())
                  if not (c.reserve and reserved(view(s.text).fingerprint)))


def leave_one_out(loaded: dict[str, list[Sample]], recipe: Recipe,
                  progress: Callable[[str], None] | None = None) -> list[Held]:
    """Each corpus in ``loaded`` scored by ``recipe`` trained without it."""
    out: list[Held] = []
    everything: Scorer | None = None
    for corpus in CORPORA:
        if corpus.name not in loaded:
            continue
        if progress:
            progress(corpus.name)
        train = training_set(loaded, corpus.name)
        if corpus.trainable:
            model = recipe(train)
        else:
            everything = everything or recipe(train)
            model = everything
        out.append(score(corpus, loaded[corpus.name], train, model))
    return out


def score(corpus: Corpus, samples: Sequence[Sample], train: Sequence[Sample],
          model: Scorer) -> Held:
    """``samples`` not seen in ``train`` (by fingerprint), one per fingerprint, scored."""
    seen = {view(s.text).fingerprint for s in train}
    test = [s for s in one_per_fingerprint(samples) if view(s.text).fingerprint not in seen]
    views = [view(s.text) for s in test]
    return Held(corpus, np.array([s.spam for s in test], dtype=int),
                model.probabilities(views),
                np.array([half(v.fingerprint) for v in views], dtype=int))


def never_trained(loaded: dict[str, list[Sample]], model: Scorer, trained: set[str]
                  ) -> list[Held]:
    """``model`` on what it never trained on: the corpora outside ``trained``, and the
    reserved half of a ``reserve`` corpus it trained on."""
    out = []
    for corpus in CORPORA:
        if corpus.name not in loaded:
            continue
        if corpus.name not in trained:
            out.append(score(corpus, loaded[corpus.name], [], model))
        elif corpus.reserve:
            name = f"{corpus.name} (reserved half)"
            out.append(score(replace(corpus, name=name), unseen_half(loaded[corpus.name]),
                             [], model))
    return out


@dataclass(frozen=True)
class Row:
    corpus: str
    spam: int
    ham: int
    spam_held: float  # hold or block, content alone
    spam_flagged: float  # warn, hold or block
    ham_held: float
    ham_flagged: float
    recall_at_01: float  # spam recall at ≤ 0.1 % of this corpus's ham
    auc: float
    ece: float

    @staticmethod
    def header() -> tuple[str, ...]:
        return ("left-out corpus", "spam", "ham", "spam held", "spam held/warned",
                "ham held", "ham held/warned", "recall@0.1% ham", "AUC", "ECE")

    def cells(self) -> tuple[str, ...]:
        def pct(x: float, spam: bool) -> str:
            if np.isnan(x):
                return "—"
            return f"{x:.1%}" if spam else f"{x:.2%}"
        return (self.corpus, str(self.spam), str(self.ham), pct(self.spam_held, True),
                pct(self.spam_flagged, True), pct(self.ham_held, False),
                pct(self.ham_flagged, False), pct(self.recall_at_01, True),
                "—" if np.isnan(self.auc) else f"{self.auc:.3f}", f"{self.ece:.3f}")


def row(name: str, labels: np.ndarray, p: np.ndarray, limits: Thresholds) -> Row:
    actions = limits.actions(p)
    spam, ham = labels == 1, labels == 0

    def share(mask: np.ndarray, least: int) -> float:
        return float((actions[mask] >= least).mean()) if mask.any() else float("nan")

    both = spam.any() and ham.any()
    return Row(name, int(spam.sum()), int(ham.sum()), share(spam, 2), share(spam, 1),
               share(ham, 2), share(ham, 1),
               recall_at_ham_rates(labels, p, (0.001,))[0][2] if both else float("nan"),
               auc(labels, p) if both else float("nan"), ece(labels, p))


def table(held: Sequence[Held], limits: Thresholds, which: int = TEST) -> list[Row]:
    """One row per left-out corpus (on its ``which`` half), then the macro mean over
    the corpora that are not SMS in English (the "other platform" of the issue)."""
    rows = [row(h.corpus.name, *h.part(which), limits) for h in held]
    other = [r for r, h in zip(rows, held, strict=True)
             if not (h.corpus.platform == "SMS" and h.corpus.language == "en")]
    if other:
        def mean(values: list[float]) -> float:
            kept = [v for v in values if not np.isnan(v)]
            return float(np.mean(kept)) if kept else float("nan")
        rows.append(Row("mean, not English SMS", sum(r.spam for r in other),
                        sum(r.ham for r in other),
                        *(mean([getattr(r, f) for r in other]) for f in (
                            "spam_held", "spam_flagged", "ham_held", "ham_flagged",
                            "recall_at_01", "auc", "ece"))))
    return rows


def budget_threshold(held: Sequence[Held], budget: float, which: int = VALIDATION) -> float:
    """The lowest p at or above which at most ``budget`` of ordinary messages fall, on
    the ``which`` halves of the left-out corpora that have ham, each corpus weighing
    the same (a platform is not safer for having fewer messages in the table).
    ``budget`` 0: just above every such message."""
    hams = [np.sort(h.part(which)[1][h.part(which)[0] == 0]) for h in held]
    hams = [h for h in hams if len(h)]
    candidates = np.nextafter(np.unique(np.concatenate(hams)), 1.0)
    share = np.mean([(len(h) - np.searchsorted(h, candidates, side="left")) / len(h)
                     for h in hams], axis=0)
    return float(candidates[np.argmax(share <= budget)])
