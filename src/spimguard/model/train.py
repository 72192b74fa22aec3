"""Training and cross-validation of the content model (scikit-learn, fixed seed).

The classifier is L2-regularised logistic regression (liblinear) on the hashed
features: linear, so it exports to ``LinearModel`` as one weight per bucket.
The weights ship as float16 (2 MiB for 2**20 buckets).

``shipped`` is the recipe of the model bundled in the package: the openly
licensed corpora in ``SHIPPED``, these settings and thresholds, and nothing
else (no date, no machine), so ``spimguard train --corpora DATASETS`` rebuilds
it byte for byte (``tests/test_model_rebuild.py``). Where each setting came
from is in ``CARD.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..text import view
from . import crosscorpus
from .datasets import CORPORA, Sample, corpus
from .features import BITS, buckets, stamp
from .scorer import LinearModel
from .stack import numeric_stack

if TYPE_CHECKING:  # SciPy and scikit-learn load only to train: a second at start-up
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

SEED = 20261129
C = 30.0  # inverse regularisation strength (see the card for where it came from)
# Every openly licensed labelled set (Janitr X without its reserved half, see
# ``crosscorpus.reserved``): a model of one platform's vocabulary is what failed
# on the next platform.
SHIPPED = ("uci-sms", "indonesian-sms", "thai-sms", "janitr-x")
# p(spam) at which content alone warns, holds and blocks: the content detector
# uses these unless the operator sets its own. They are what the ham budget of
# ``card.BUDGETS`` gives on the leave-one-corpus-out validation halves of this
# recipe (the card re-derives them on every run and says whether they agree).
THRESHOLDS = {"warn_at": 0.7066, "hold_at": 0.9109, "block_at": 0.9654}
THRESHOLDS_SOURCE = "the ham budget of `card.BUDGETS` on the validation halves"
# The out-of-distribution guard's knee (``scorer``); 0 = off. See the card.
KNEE = 0.0


def matrix(samples: Sequence[Sample], bits: int = BITS,
           progress: Callable[[int], None] | None = None) -> sp.csr_matrix:
    """Rows of x_b = 1/sqrt(U) over each message's U distinct buckets."""
    import scipy.sparse as sp

    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for number, sample in enumerate(samples, 1):
        found = buckets(view(sample.text), bits)
        indices.append(found)
        data.append(np.full(len(found), 1.0 / np.sqrt(max(len(found), 1)), dtype=np.float32))
        indptr.append(indptr[-1] + len(found))
        if progress and number % 500 == 0:
            progress(500)
    rows = sp.csr_matrix((np.concatenate(data), np.concatenate(indices).astype(np.int64),
                          np.array(indptr)), shape=(len(samples), 2 ** bits))
    return rows


def fit(rows: sp.csr_matrix, labels: np.ndarray, c: float = C) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, solver="liblinear", random_state=SEED, max_iter=1000)
    return model.fit(rows, labels)


def export(model: LogisticRegression, bits: int, card: dict[str, object]) -> LinearModel:
    weights = model.coef_.ravel().astype(np.float16).astype(np.float32)
    return LinearModel(weights=weights, bias=float(model.intercept_[0]), bits=bits, card=card)


def train(samples: Sequence[Sample], bits: int = BITS, c: float = C, knee: float = KNEE,
          progress: Callable[[int], None] | None = None) -> LinearModel:
    labels = np.array([s.spam for s in samples])
    spam = int(labels.sum())
    model = export(fit(matrix(samples, bits, progress), labels, c), bits, {})
    model.card.update({
        "seed": SEED, "C": c, "bits": bits, "features": stamp(), "thresholds": THRESHOLDS,
        "samples": len(samples), "spam": spam, "ham": len(labels) - spam,
        "guard": {"knee": knee, "prior": round(float(np.log(max(spam, 1) / max(
            len(labels) - spam, 1))), 4),
                  "density": round(float(np.count_nonzero(model.weights) / len(model.weights)),
                                   4)}})
    return model


def data_hash(root: Path, name: str) -> str:
    """sha256 of a corpus's file, or of its folder's ``*.txt`` joined in name order (as
    its PROVENANCE.md states it)."""
    path = root / corpus(name).spec.partition("=")[0]
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def shipped(root: Path, progress: Callable[[int], None] | None = None) -> LinearModel:
    """The bundled model, rebuilt from the public datasets folder ``root``."""
    loaded = crosscorpus.load(root, [corpus(name) for name in SHIPPED])
    model = train(crosscorpus.training_set(loaded), progress=progress)
    model.card.update({"corpora": list(SHIPPED),
                       "sha256": {name: data_hash(root, name) for name in SHIPPED},
                       "command": "spimguard train --corpora DATASETS",
                       "built_with": numeric_stack()})
    return model


def trained_on(card: dict[str, object]) -> set[str]:
    """The corpora (``datasets.CORPORA`` names) a model's card says it was trained on."""
    corpora = card.get("corpora")
    if isinstance(corpora, list):
        return set(corpora)
    files = card.get("sources") or {}
    return {c.name for c in CORPORA
            if Path(c.spec.partition("=")[0]).name in files}  # type: ignore[operator]


def cross_validate(samples: Sequence[Sample], folds: int = 5, bits: int = BITS,
                   c: float = C) -> np.ndarray:
    """Out-of-fold spam probabilities (stratified, seeded), in the order of ``samples``.

    Folds are grouped by number-masked fingerprint: personalised copies of one pitch
    in both the training and the held-out fold would score the model on what it
    memorised.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    labels = np.array([s.spam for s in samples])
    rows = matrix(samples, bits)
    out = np.zeros(len(samples))
    groups = [view(s.text).fingerprint for s in samples]
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train_idx, test_idx in splitter.split(rows, labels, groups):
        model = export(fit(rows[train_idx], labels[train_idx], c), bits, {})
        margins = model.bias + rows[test_idx] @ model.weights
        out[test_idx] = 1 / (1 + np.exp(-margins))
    return out
