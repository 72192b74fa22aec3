"""The lean scorer: a linear model over hashed features, no scikit-learn at run time.

p(spam) = sigmoid(bias + w·x), x as in ``features``: ``w`` is the trained part,
read-only and shipped in the package; the content detector adds the online
part learnt from user reports (``online``). Scoring one message is a gather and
a sum over its buckets, so its cost is set by the feature hashing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..text import MessageView
from .features import BITS, batch_buckets, buckets

BUNDLED = "content.npz"


@dataclass
class LinearModel:
    weights: np.ndarray  # float32, 2**bits
    bias: float
    bits: int = BITS
    card: dict[str, Any] = field(default_factory=dict)

    def margin(self, found: np.ndarray) -> float:
        """bias + w·x for one message's distinct buckets: the log-odds of spam."""
        if not len(found):
            return self.bias
        return self.bias + float(self.weights[found].sum()) / math.sqrt(len(found))

    def probability(self, view: MessageView) -> float:
        return sigmoid(self.margin(buckets(view, self.bits)))

    def probabilities(self, views: Sequence[MessageView]) -> np.ndarray:
        """p(spam) of many messages at once (the trained part only)."""
        if not views:
            return np.empty(0)
        docs, found = batch_buckets(views, self.bits)
        sums = np.bincount(docs, weights=self.weights[found], minlength=len(views))
        counts = np.maximum(np.bincount(docs, minlength=len(views)), 1)
        return 1.0 / (1.0 + np.exp(-(self.bias + sums / np.sqrt(counts))))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, weights=self.weights.astype(np.float16),
                            bias=np.float64(self.bias), bits=np.int64(self.bits),
                            card=np.frombuffer(json.dumps(self.card).encode(), dtype=np.uint8))


def sigmoid(margin: float) -> float:
    if margin >= 0:
        return 1.0 / (1.0 + math.exp(-margin))
    z = math.exp(margin)
    return z / (1.0 + z)


def load(path: str | Path | None = None) -> LinearModel:
    """A saved model, or the one bundled in the package when ``path`` is None."""
    source = Path(path) if path else resources.files("spimguard.model").joinpath(BUNDLED)
    try:
        with source.open("rb") as handle, np.load(handle) as data:
            return LinearModel(weights=data["weights"].astype(np.float32),
                               bias=float(data["bias"]), bits=int(data["bits"]),
                               card=json.loads(bytes(data["card"]).decode()))
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"cannot load the content model from {source}: {exc}") from exc
