"""The online part of the content model: what users' reports taught since training.

The learnt delta is a sum over reported messages:

    d = η · Σ_m  a_m · x_m,    a_m = clip(S_m − H_m, −1, 1)

where x_m is the message's vector over its teachable features (words, bigrams,
domains and shape tokens, unit length: ``features.parts``; character n-grams
are left out because they also describe the language, and a wave in one
language would otherwise drag all of that language's chat along with it),
S_m and H_m the summed weights of the spam and ham reports on it. Hence:

- a spam and a ham report of equal weight on one message cancel exactly;
- one message moves the model by at most η, however many report it, so a mob
  of reporters buys no more than one honest one;
- the delta depends only on the set of reported messages and their net
  amounts, not on their order, so it is rebuilt exactly from state after a
  restart (``rebuild``) and moves between installations as a plain file.

Each bucket of d is clipped to ±``max_delta`` when scored, so no single token
can come to dominate the trained weights.

What a report weighs (before it enters S or H) is the detector's business:
reporters past a daily cap and accounts under suspicion count less (see
``detectors/content.py``).
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

EXPORT_FORMAT = "spimguard-content-delta/1"


class Reported(msgspec.Struct, array_like=True):
    """A reported message as the online part remembers it (kept in state)."""

    buckets: list[int]
    spam: float = 0.0  # summed weight of spam reports
    ham: float = 0.0  # summed weight of ham reports
    applied: float = 0.0  # a_m currently folded into the delta


class Exported(msgspec.Struct):
    format: str
    bits: int
    rate: float
    buckets: list[int]
    values: list[float]


class OnlineDelta:
    def __init__(self, bits: int, rate: float, max_delta: float) -> None:
        self.bits = bits
        self.rate = rate
        self.max_delta = max_delta
        self.delta_ = np.zeros(2**bits, dtype=np.float32)
        self.clipped_ = self.delta_
        self.n_messages_ = 0

    @staticmethod
    def net(reported: Reported) -> float:
        return max(-1.0, min(1.0, reported.spam - reported.ham))

    def margin(self, teachable: np.ndarray) -> float:
        """d·x over a message's teachable buckets (x unit length over those buckets)."""
        if not len(teachable):
            return 0.0
        return float(self.clipped_[teachable].sum()) / math.sqrt(len(teachable))

    def apply(self, buckets: np.ndarray | list[int], amount: float) -> None:
        """Fold ``amount`` (a change of a_m) of one message into the delta."""
        if not amount or not len(buckets):
            return
        index = np.asarray(buckets, dtype=np.int64)
        self.delta_[index] += np.float32(self.rate * amount / math.sqrt(len(index)))
        self.clipped_ = np.clip(self.delta_, -self.max_delta, self.max_delta)

    def add_array(self, buckets: list[int], values: list[float]) -> None:
        index = np.asarray(buckets, dtype=np.int64)
        np.add.at(self.delta_, index, np.asarray(values, dtype=np.float32))
        self.clipped_ = np.clip(self.delta_, -self.max_delta, self.max_delta)

    def export(self) -> bytes:
        nonzero = np.flatnonzero(self.delta_)
        return msgspec.json.encode(Exported(EXPORT_FORMAT, self.bits, self.rate,
                                            nonzero.tolist(),
                                            self.delta_[nonzero].astype(float).tolist()))

    @staticmethod
    def parse(raw: bytes) -> Exported:
        exported = msgspec.json.decode(raw, type=Exported)
        if exported.format != EXPORT_FORMAT:
            raise ValueError(f"not a {EXPORT_FORMAT} file (format {exported.format!r})")
        if len(exported.buckets) != len(exported.values):
            raise ValueError("buckets and values differ in length")
        if exported.buckets and not 0 <= min(exported.buckets) <= max(exported.buckets) < (
                2**exported.bits):
            raise ValueError("bucket numbers out of range")
        return exported
