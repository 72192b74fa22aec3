"""The lean scorer: a linear model over hashed features, no scikit-learn at run time.

p(spam) = sigmoid(bias + w·x), x as in ``features``: ``w`` is the trained part,
read-only and shipped in the package; the content detector adds the online
part learnt from user reports (``online``). Scoring one message is a gather and
a sum over its buckets, so its cost is set by the feature hashing.

The out-of-distribution guard: a message in a script or vocabulary the model
has little evidence on should not be scored by the few features that happen to
carry weight (a Thai one-time code scored as spam because its digits look like
an SMS prize). Training leaves a bucket's weight at exactly 0 only if no
training message had it, so the share of a message's buckets with a weight,
corrected for the share ``density`` that hash collisions give any unseen
feature, estimates how much of the message the model has seen. Below
``knee`` of it, the log-odds are pulled linearly toward the training prior:
neither extreme, only what the model knows. Its settings are in the card.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..text import MessageView
from .features import BITS, batch_buckets, buckets, stamp

BUNDLED = "content.npz"


@dataclass
class LinearModel:
    weights: np.ndarray  # float32, 2**bits
    bias: float
    bits: int = BITS
    card: dict[str, Any] = field(default_factory=dict)

    def margin(self, found: np.ndarray) -> float:
        """bias + w·x for one message's distinct buckets, guarded: the log-odds of spam."""
        return self.margins([found])[0]

    def margins(self, found: Sequence[np.ndarray]) -> list[float]:
        """``margin`` of many messages at once: the rows' float32 sums in one gather and
        one segmented sum (``row_sums``), the rest in Python floats, whose IEEE steps are
        numpy's on float64 (so a message scores the same alone as in any batch, and as
        before: the same sums, then the same operations in the same order).

        numpy's per-call cost is paid a few times a batch, not per message, and the
        batch of one or three that the server's group commit hands the engine at
        ordinary load pays no more calls than needed: a vector step after the sums
        costs ~1 µs a call at any size, a Python float step ~0.05 µs a message."""
        guarded = bool((self.card.get("guard") or {}).get("knee"))
        sums, nonzero = row_sums(self.weights, found, count=guarded)
        bias, root = self.bias, math.sqrt
        raw = [bias + total / root(max(len(row), 1)) for total, row in zip(sums, found,
                                                                           strict=True)]
        if not guarded:
            return raw  # the guard is off: no arrays after the sums
        sizes = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        pulled = self.guarded(np.array(raw), np.array(nonzero) / np.maximum(sizes, 1))
        return np.where(sizes > 0, pulled, raw).tolist()

    def guarded(self, raw: np.ndarray, covered: np.ndarray) -> np.ndarray:
        """Log-odds ``raw`` pulled toward the prior where the share of buckets with a
        weight (``covered``) says the model saw little of the message."""
        guard = self.card.get("guard")
        if not guard or not guard["knee"]:
            return raw
        seen = (covered - guard["density"]) / (1 - guard["density"])
        keep = np.clip(seen / guard["knee"], 0.0, 1.0)
        return guard["prior"] + keep * (raw - guard["prior"])

    def probability(self, view: MessageView) -> float:
        return sigmoid(self.margin(buckets(view, self.bits)))

    def probabilities(self, views: Sequence[MessageView]) -> np.ndarray:
        """p(spam) of many messages at once (the trained part only)."""
        if not views:
            return np.empty(0)
        docs, found = batch_buckets(views, self.bits)
        weights = self.weights[found]
        sums = np.bincount(docs, weights=weights, minlength=len(views))
        counts = np.maximum(np.bincount(docs, minlength=len(views)), 1)
        covered = np.bincount(docs, weights=weights != 0, minlength=len(views)) / counts
        return 1.0 / (1.0 + np.exp(-self.guarded(self.bias + sums / np.sqrt(counts), covered)))

    def save(self, path: Path) -> None:
        """An ``.npz`` whose bytes depend on the model alone: fixed entry order and zip
        dates (``np.savez`` stamps the time), sorted card keys, so a rebuild from the
        same data and code can be compared byte for byte."""
        arrays = {"weights": self.weights.astype(np.float16), "bias": np.float64(self.bias),
                  "bits": np.int64(self.bits),
                  "card": np.frombuffer(json.dumps(self.card, sort_keys=True).encode(),
                                        dtype=np.uint8)}
        with zipfile.ZipFile(path, "w") as archive:
            for name, array in arrays.items():
                raw = io.BytesIO()
                np.lib.format.write_array(raw, np.asanyarray(array), allow_pickle=False)
                entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, raw.getvalue(), compresslevel=9)


def row_sums(values: np.ndarray, rows: Sequence[np.ndarray], count: bool = True
             ) -> tuple[list[float], list[int]]:
    """For each index array of ``rows``: the float32 sum of ``values`` at it (as a float)
    and, if ``count``, how many of those values are not zero (else zeros); an empty row
    sums to 0. One gather and one ``reduceat`` for all rows (the non-empty ones:
    ``reduceat`` gives an empty segment the value at its start), the offsets in Python:
    at a batch of one the calls, not the arithmetic, are the cost.

    ``reduceat`` sums a segment as its first value plus numpy's pairwise sum of the rest,
    wherever the segment lies in the batch: so a row sums the same in any batch, though
    not as ``values[row].sum()`` (pairwise over all of it), which differs in the last
    bits for most rows of three or more (``test_batch_margins_are_each_rows_own_sums``)."""
    filled = [row for row in rows if len(row)]
    if not filled:
        return [0.0] * len(rows), [0] * len(rows)
    starts = list(accumulate(map(len, filled[:-1]), initial=0))
    gathered = values[filled[0] if len(filled) == 1 else np.concatenate(filled)]
    sums: list[float] = np.add.reduceat(gathered, starts).tolist()
    nonzero: list[int] = (np.add.reduceat(gathered != 0, starts, dtype=np.int64).tolist()
                          if count else [0] * len(filled))
    if len(filled) == len(rows):
        return sums, nonzero
    found, counted = iter(sums), iter(nonzero)
    return ([next(found) if len(row) else 0.0 for row in rows],
            [next(counted) if len(row) else 0 for row in rows])


def logit(p: float) -> float:
    """The log-odds of ``p``, kept finite at 0 and 1 (the inverse of ``sigmoid``)."""
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


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
            model = LinearModel(weights=data["weights"].astype(np.float32),
                                bias=float(data["bias"]), bits=int(data["bits"]),
                                card=json.loads(bytes(data["card"]).decode()))
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"cannot load the content model from {source}: {exc}") from exc
    expected = stamp()
    if model.card.get("features") != expected:
        raise ConfigError(
            f"the content model {source} was trained on features "
            f"{model.card.get('features', 'of an unstamped version')!r}, this code computes "
            f"{expected!r}: its weights would score the wrong features. Retrain it "
            f"(the card's command, e.g. `spimguard train --corpora DATASETS`).")
    return model
