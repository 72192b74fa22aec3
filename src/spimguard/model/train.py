"""Training and cross-validation of the content model (scikit-learn, fixed seed).

The classifier is L2-regularised logistic regression (liblinear) on the hashed
features: linear, so it exports to ``LinearModel`` as one weight per bucket,
and its probabilities are well calibrated out of the box, which the policy's
thresholds rely on. The weights ship as float16 (2 MiB for 2**20 buckets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..text import view
from .datasets import CORPORA, Sample
from .features import BITS, buckets
from .scorer import LinearModel

if TYPE_CHECKING:  # SciPy and scikit-learn load only to train: a second at start-up
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

SEED = 20261129
C = 3000.0  # inverse regularisation strength, chosen by 5-fold CV on UCI (see the card)


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


def train(samples: Sequence[Sample], bits: int = BITS, c: float = C,
          progress: Callable[[int], None] | None = None) -> LinearModel:
    labels = np.array([s.spam for s in samples])
    model = fit(matrix(samples, bits, progress), labels, c)
    card = {"trained": dt.date.today().isoformat(), "seed": SEED, "C": c, "bits": bits,
            "samples": len(samples), "spam": int(labels.sum()),
            "ham": int(len(labels) - labels.sum())}
    return export(model, bits, card)


def trained_on(card: dict[str, object]) -> set[str]:
    """The corpora (``datasets.CORPORA`` names) a model's card says it was trained on."""
    if isinstance(card.get("corpora"), list):
        return set(card["corpora"])  # type: ignore[arg-type]
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
