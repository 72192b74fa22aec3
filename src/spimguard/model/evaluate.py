"""How well p(spam) separates spam from ham: operating points, actions, curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Config
from ..detectors import content
from ..detectors.base import settings
from . import scorer

ACTIONS = ("deliver", "warn", "hold", "block")


@dataclass(frozen=True)
class Thresholds:
    warn: float
    hold: float
    block: float

    def actions(self, p: np.ndarray) -> np.ndarray:
        """0 deliver, 1 warn, 2 hold, 3 block, by content alone."""
        return (p >= self.warn).astype(int) + (p >= self.hold) + (p >= self.block)


def thresholds(config: Config, model: scorer.LinearModel | None = None) -> Thresholds:
    """The content detector's thresholds as ``config`` sets them for ``model`` (default:
    the model the configuration names)."""
    cfg = settings("content", content.ContentSettings, config.detectors.get("content", {}))
    return Thresholds(*content.thresholds(cfg, model or scorer.load(cfg.model or None)))


def recall_at_ham_rates(labels: np.ndarray, p: np.ndarray,
                        rates: Sequence[float] = (0.001, 0.002, 0.005, 0.01)
                        ) -> list[tuple[float, float, float]]:
    """(ham rate, threshold, spam recall): the best recall with at most that share of ham
    at or above the threshold."""
    ham = np.sort(p[labels == 0])[::-1]
    spam = p[labels == 1]
    out = []
    for rate in rates:
        allowed = int(np.floor(rate * len(ham)))
        threshold = float(np.nextafter(ham[allowed], 1.0)) if allowed < len(ham) else 0.0
        out.append((rate, threshold, float((spam >= threshold).mean())))
    return out


def auc(labels: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney, ties counted half)."""
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    _, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    positives = labels == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ece(labels: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the message-weighted gap between the mean p and the
    share of spam in ten equal-width bins of p. Thresholds set in probabilities mean
    what they say only where this is small."""
    if not len(p):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, weights=p, minlength=bins)
                 - np.bincount(which, weights=labels.astype(float), minlength=bins))
    return float(gap.sum() / counts.sum())


def confusion(labels: np.ndarray, p: np.ndarray, thresholds: Thresholds) -> dict[str, list[int]]:
    actions = thresholds.actions(p)
    return {name: [int(((labels == value) & (actions == a)).sum()) for a in range(4)]
            for name, value in (("spam", 1), ("ham", 0))}


def plot(labels: np.ndarray, p: np.ndarray, folder: Path) -> list[Path]:
    """ROC and precision-recall curves as PNG files in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    folder.mkdir(parents=True, exist_ok=True)
    fpr, tpr, _ = roc_curve(labels, p)
    precision, recall, _ = precision_recall_curve(labels, p)
    written = []
    for name, xs, ys, xlabel, ylabel, log in (
            ("roc.png", fpr, tpr, "share of ham at or above threshold", "spam recall", True),
            ("precision-recall.png", recall, precision, "recall", "precision", False)):
        figure, axes = plt.subplots(figsize=(6, 4.5), dpi=110)
        axes.plot(xs, ys, lw=1.8)
        if log:
            axes.set_xscale("log")
            axes.set_xlim(1e-4, 1)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.grid(alpha=0.3)
        axes.set_title(name.removesuffix(".png"))
        figure.tight_layout()
        path = folder / name
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written
