"""Model families for the content model, compared where it matters: on a corpus they
never trained on.

    python benchmarks/content_families.py [--datasets ../shared/datasets]

Each family runs the leave-one-corpus-out of ``model/crosscorpus.py`` (trained on
every openly licensed corpus but one, Janitr's reserved half never; grouped by
fingerprint), then the ham budget of ``card.BUDGETS`` sets its thresholds on the
validation halves. Printed per family: the mean over the corpora that are not
English SMS, validation and test halves. The families:

- ``hashed LR C=…``: the shipped recipe (``train.train``) at two settings of C,
  and with the out-of-distribution guard on (``scorer``);
- ``hashed LR + cue block``: the same hashed features plus the cue and script
  indicators of ``cues.dense`` as a block of their own, not scaled down by the
  message's length as hashed features are (the cues weigh as much in a long
  post as in a short SMS);
- ``GBM on cues``: gradient-boosted trees (scikit-learn's histogram GBM) on the
  cue and script indicators alone, no words: how far what a pitch *does* carries
  without any vocabulary.

The families are chosen by the validation halves' recall at 0.1 % of ham (the
threshold-free form of the issue's goal); the test halves are what is reported.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spimguard.model import card, crosscorpus, cues
from spimguard.model import train as training
from spimguard.model.datasets import Sample
from spimguard.model.evaluate import Thresholds
from spimguard.text import MessageView, view
from table import Rows, run_with_datasets

if TYPE_CHECKING:
    import scipy.sparse as sp


def _dense(views: Sequence[MessageView]) -> np.ndarray:
    return np.array([cues.dense(v) for v in views])


class _Block:
    """Logistic regression over [hashed features | cue block]."""

    def __init__(self, samples: Sequence[Sample], c: float) -> None:
        labels = np.array([s.spam for s in samples])
        self.model = training.fit(self._rows(samples), labels, c)

    @staticmethod
    def _rows(samples: Sequence[Sample]) -> sp.csr_matrix:
        import scipy.sparse as sp

        dense = sp.csr_matrix(_dense([view(s.text) for s in samples]))
        return sp.hstack([training.matrix(samples), dense]).tocsr()

    def probabilities(self, views: Sequence[MessageView]) -> np.ndarray:
        samples = [Sample(v.text, 0, "") for v in views]
        return self.model.predict_proba(self._rows(samples))[:, 1]


class _Trees:
    """Histogram gradient boosting on the cue and script indicators alone."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        self.model = HistGradientBoostingClassifier(max_iter=200, random_state=training.SEED)
        self.model.fit(_dense([view(s.text) for s in samples]),
                       np.array([s.spam for s in samples]))

    def probabilities(self, views: Sequence[MessageView]) -> np.ndarray:
        return self.model.predict_proba(_dense(views))[:, 1]


FAMILIES: dict[str, crosscorpus.Recipe] = {
    "hashed LR C=3000": lambda s: training.train(s, c=3000.0),
    "hashed LR C=30": lambda s: training.train(s, c=30.0),
    "hashed LR C=30, guard knee 0.3": lambda s: training.train(s, c=30.0, knee=0.3),
    "hashed LR + cue block C=30": lambda s: _Block(s, 30.0),
    "GBM on cues": _Trees,
}


def main(root: Path) -> Rows:
    loaded = crosscorpus.load(root)
    rows: Rows = []
    for name, recipe in FAMILIES.items():
        started = time.perf_counter()
        held = crosscorpus.leave_one_out(loaded, recipe)
        limits = Thresholds(*card.derived(held).values())
        rows.append((f"{name}: budget thresholds warn/hold/block",
                     f"{limits.warn}/{limits.hold}/{limits.block}"))
        for which, half in ((crosscorpus.VALIDATION, "val"), (crosscorpus.TEST, "test")):
            mean = crosscorpus.table(held, limits, which)[-1]
            rows.append((f"{name}, {half}: spam held / held or warned / ham held",
                         f"{mean.spam_held:.1%} / {mean.spam_flagged:.1%} / "
                         f"{mean.ham_held:.2%}"))
            rows.append((f"{name}, {half}: recall at 0.1 % ham / AUC / ECE",
                         f"{mean.recall_at_01:.1%} / {mean.auc:.3f} / {mean.ece:.3f}"))
        rows.append((f"{name}: seconds", f"{time.perf_counter() - started:.0f}"))
    return rows


if __name__ == "__main__":
    run_with_datasets(main, __doc__)
