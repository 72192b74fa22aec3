"""The online part of the content model: what users' reports taught since training.

The learnt delta is a sum over reported messages:

    d = η · Σ_m  a_m · x_m

where x_m is the message's vector over its teachable features (words, bigrams,
domains and shape tokens, unit length: ``features.parts``; character n-grams
are left out because they also describe the language, and a wave in one
language would otherwise drag all of that language's chat along with it), and
a_m ∈ [−1, 1] its net label as the report-trust model weighs its reports
(``trust.py``: who may report, what a report weighs, operators outrank users; users'
reports teach ``max(a_m, 0)``, an operator's decision ±1: ``trust.taught``).

What reports can do to the score of any text t (x_t unit length too) is
bounded twice, however many features a message has:

- one message: its term has norm η·|a_m| ≤ η, so by Cauchy–Schwarz it moves
  t's log-odds by at most η·|a_m|, and a mob of reporters buys no more than
  one honest one (|a_m| ≤ 1);
- all messages together: the online margin d·x_t is clipped to ±``max_shift``
  log-odds times the share of t's teachable features that reports taught. Per-bucket
  clipping alone (``max_delta``) does not bound it: a text of n learnt features
  would move by max_delta·√n, so two reported messages sharing a harmless phrase's
  words could move that phrase by +9. And max_shift alone moves a text as far for
  the few words it shares with reports as for being the reported pitch: a pitch
  shares its greeting and the language's longer common words ("anda", "telah")
  with ordinary chat, and an operator's own activation notice sharing 9 of its 28
  features with reported promotions moved by the full +5. Reports are evidence
  about texts like the reported ones; a text is like them by the share of it they
  taught, so a text that only greets like a pitch moves little, and a copy of the
  pitch, all of whose features were taught, moves by up to max_shift. The price
  is the same dilution for a pitch padded with other words: prefixed with an
  unrelated sentence of its own, a reported Turkish pitch's copies fall from held
  to mostly warned by this part alone (they stay blocked in the engine, marked by
  the near-variant retrieval of ``detectors/waves.py``, whose Jaccard a longer
  padding would dilute too).

Each bucket of d is also clipped to ±``max_delta``, so no single token comes
to dominate the trained weights, and counts only once ``min_support``
reported messages carry it: one report, mistaken or malicious, teaches nothing
by itself, while a campaign's many messages share their words and teach them
at once. The delta depends only on the set of reported messages and their a_m,
not on their order, so it is rebuilt exactly from state after a restart
(``rebuild``) and moves between installations as a plain file. Exactly, bit for bit:
each message's term is rounded to a multiple of 2^-32 (``_units``) and the terms are
summed as integers, which no order of addition changes (float32 sums do, in their last
bits, so a node that learnt message by message and one that rebuilt from state would
score a text at a threshold differently). A move of a_m adds the difference of its
two rounded terms, so any path to the same labels gives the same delta.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import msgspec
import numpy as np

from .scorer import row_sums

EXPORT_FORMAT = "spimguard-content-delta/1"
# The delta's unit: 2^-32 log-odds, far below float32's resolution near the weights' size
# (max_delta 3: 2^-22), so rounding a term to it changes no score a float32 delta would
# give by more than float32's own rounding; 100,000 messages of η = 10 on one bucket sum
# to under 2^52 units, within int64.
_UNIT = 2.0 ** -32


def _units(rate: float, label: float, size: int) -> int:
    """A message's term on each of its ``size`` buckets, in units: η·a_m/√size rounded."""
    return round(rate * label / math.sqrt(size) / _UNIT)


class Reported(msgspec.Struct, array_like=True):
    """A reported message as the online part remembers it (kept in state)."""

    buckets: list[int]
    applied: float = 0.0  # a_m currently folded into the delta
    # When its label last moved (event time): its time in the index of remembered
    # messages, which drops the oldest past its cap. 0.0 in values stored before it was.
    at: float = 0.0


class Exported(msgspec.Struct):
    format: str
    bits: int
    rate: float
    buckets: list[int]
    values: list[float]


class OnlineDelta:
    def __init__(self, bits: int, rate: float, max_delta: float, min_support: int = 2,
                 max_shift: float = 5.0) -> None:
        if min(rate, max_delta, min_support, max_shift) < 0:
            raise ValueError("an online delta's rate, max_delta, min_support and max_shift "
                             "are bounds and counts: none is negative")
        self.bits = bits
        self.max_shift = max_shift
        self.rate = rate
        self.max_delta = max_delta
        self.min_support = min_support
        self.delta_ = np.zeros(2**bits, dtype=np.int64)  # in units of _UNIT
        self.support_ = np.zeros(2**bits, dtype=np.int32)  # reported messages per bucket
        self.imported_ = np.zeros(2**bits, dtype=np.float32)  # learnt elsewhere: trusted
        self.clipped_ = np.zeros(2**bits, dtype=np.float32)  # what scoring reads
        self.version = 0  # counts changes to ``clipped_``: a margin scored before is stale

    def margin(self, teachable: np.ndarray) -> float:
        """d·x over a message's teachable buckets (x unit length over those buckets),
        within ±max_shift times the share of those buckets that reports taught."""
        return self.margins([teachable])[0]

    def margins(self, teachable: Sequence[np.ndarray]) -> list[float]:
        """``margin`` of many messages at once (one gather and one segmented sum, then
        Python floats, as ``LinearModel.margins``); valid while ``version`` holds. The
        clip is numpy's ``maximum(-bound, minimum(bound, shift))``, which answers a tie
        with its second argument (+0.0 of ±0.0, where nothing was taught): ``min`` and
        ``max`` answer with their first, so the arguments are swapped.

        A row that sums to ±0 scores it whatever its bound (a bound is never negative:
        ``max_shift`` ≥ 0; a tie answers the sum), so its taught buckets need no count:
        nearly every message at a batch of one, where nothing it says was taught, pays one
        gather and one sum, not four numpy calls; a batch with a taught row counts them
        all."""
        shifts, taught = row_sums(self.clipped_, teachable, count=False)
        if any(shifts):
            shifts, taught = row_sums(self.clipped_, teachable)
        out = []
        most, root = self.max_shift, math.sqrt
        for shift, share, row in zip(shifts, taught, teachable, strict=True):
            size = max(len(row), 1)
            bound = most * share / size
            out.append(max(min(shift / root(size), bound), -bound))
        return out

    def apply(self, buckets: np.ndarray | list[int], before: float, after: float) -> None:
        """Move one message's a_m from ``before`` to ``after`` in the delta."""
        self.apply_many([(buckets, before, after)])

    def apply_many(self, moves: Iterable[tuple[np.ndarray | list[int], float, float]]) -> None:
        """Several messages' moves, clipped once (a rebuild from state is thousands)."""
        touched = []
        for buckets, before, after in moves:
            if before == after or not len(buckets):
                continue
            index = np.asarray(buckets, dtype=np.int64)
            self.delta_[index] += (_units(self.rate, after, len(index))
                                   - _units(self.rate, before, len(index)))
            self.support_[index] += int(after != 0) - int(before != 0)
            touched.append(index)
        if touched:
            self._refresh(np.unique(np.concatenate(touched)))

    def add_array(self, buckets: list[int], values: list[float]) -> None:
        index = np.asarray(buckets, dtype=np.int64)
        np.add.at(self.imported_, index, np.asarray(values, dtype=np.float32))
        self._refresh(np.unique(index))

    def effective(self, index: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The delta as scored (before clipping): corroborated buckets and imports."""
        return (np.where(self.support_[index] >= self.min_support,
                         self.delta_[index] * _UNIT, 0.0) + self.imported_[index])

    def _refresh(self, index: np.ndarray) -> None:
        """Recompute what scoring reads, for the buckets that changed only."""
        self.clipped_[index] = np.clip(self.effective(index), -self.max_delta, self.max_delta)
        self.version += 1

    def export(self) -> bytes:
        taught = self.effective()
        nonzero = np.flatnonzero(taught)
        return msgspec.json.encode(Exported(EXPORT_FORMAT, self.bits, self.rate,
                                            nonzero.tolist(),
                                            taught[nonzero].astype(float).tolist()))

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
