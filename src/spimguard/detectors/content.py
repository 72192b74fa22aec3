"""Content: how spammy a message's words are, by a trained model that keeps learning.

The model (``model/``) gives p(spam) from hashed, disguise-proof features. The
detector turns p into points on the policy's own scale, so operators think in
probabilities: content alone warns at p ≥ warn_at, holds at p ≥ hold_at and
blocks at p ≥ block_at (points interpolated linearly in log-odds between those
anchors, zero below evidence_from). Other evidence adds to those points.
evidence_from is by default the model's training base rate (its card's prior): a
message the model scores no higher than one it knows nothing about says nothing
about spam, so everyday chat carries no content points to add to other evidence
(a model trained on more spam has a higher base rate, and a fixed floor would have
given every "see you at 7" a point or two). The
three anchors come with the model (its card's ``thresholds``; ``model/CARD.md``
says where they came from and what a ham budget would set), because they are a
property of its probabilities; an operator's setting overrides them.

User reports teach the online part (``model/online.py``) at once, no retrain:
a reported message's features, kept in the verdict log, move the model by the
message's net label as the report-trust model (``trust.py``) weighs its
reports (users' reports teach only spam, ``max(a_m, 0)``: a ham report takes back
spam reported on its own message; only an operator's decision teaches ham,
``trust.taught``): one message moves the model by at most ``learn_rate``, however many
report it, and what all reports together can do to any text is bounded by
``max_shift`` times the share of the text's teachable features they taught. An
encrypted message, never seen, teaches through the words its reporter's client
sends in the report's ``text``, so later copies in the clear are caught.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from .. import trust
from ..config import Config
from ..errors import ConfigError
from ..events import Report
from ..kept import UNKEPT, answers, touched
from ..model import scorer
from ..model.features import batch_parts, kept_parts, parts
from ..model.online import Exported, OnlineDelta, Reported
from ..signals import Signal
from ..state.ops import FOREVER, Get, Members, Put, Query, Touch, Write
from ..text import names_of, view
from .base import (
    READS_REPORTS,
    WRITES_REPORTS,
    Context,
    Facts,
    Outcome,
    learnt,
    remembered_now,
    sealed,
    settings,
)


@dataclass(frozen=True, slots=True)
class ContentSettings:
    """The content detector's settings (``detectors.content`` in config)."""

    model: str = ""  # path of a model file; "" = the model bundled in the package
    evidence_from: float = 0.0  # p(spam) where CONTENT_SPAM starts to count (0: model's prior)
    warn_at: float = 0.0  # p(spam) at which content alone reaches the warn threshold (0: model's)
    hold_at: float = 0.0  # ... the hold threshold (0: the model's)
    block_at: float = 0.0  # ... the block threshold (0: the model's)
    learn_rate: float = 10.0  # how far one reported message moves the model (log-odds)
    max_delta: float = 3.0  # cap on the learnt weight of any one feature bucket
    min_support: int = 2  # reported messages a feature needs before what they taught counts
    max_shift: float = 5.0  # what reports move a text made of taught features (log-odds)
    remember_days: int = 90  # how long a reported message keeps teaching
    max_remembered: int = 100_000  # reported messages remembered (oldest dropped first)


SIGNALS = {
    "CONTENT_SPAM": "the words look like spam to the content model (probability in the detail)",
}

_INDEX = "content:reported"
# How far below the evidence floor a margin is surely below it as ``logit(sigmoid(margin))``
# too, the figure the floor is compared with: that round trip moves a margin by at most
# ~5e-7 (``logit`` keeps p within 1e-9 of 0 and 1, where 1 - p's rounding is largest), so a
# message this far below is judged without it, and one nearer as before.
_SURELY_BELOW = 1e-4
_IMPORTED = "content:imported"
_DAY = 86_400.0
_KEPT_MARGINS = 8_192  # texts whose trained margin is kept (``_trained``: a few MB at most)


def _report_key(message_id: str) -> str:
    return f"content:report:{message_id}"


_ANCHORS = ("warn_at", "hold_at", "block_at")


def thresholds(cfg: ContentSettings, model: scorer.LinearModel) -> tuple[float, float, float]:
    """(warn_at, hold_at, block_at): the operator's where set, else the model's."""
    carried = model.card.get("thresholds") or {}
    given = (cfg.warn_at, cfg.hold_at, cfg.block_at)
    found = tuple(float(v or carried.get(k, 0.0)) for k, v in zip(_ANCHORS, given, strict=True))
    if not all(found):
        raise ConfigError("detectors.content: the model carries no thresholds; set "
                          "warn_at, hold_at and block_at")
    return found  # type: ignore[return-value]


def base_rate(model: scorer.LinearModel) -> float:
    """The share of spam the model was trained on (its card's prior log-odds)."""
    guard = model.card.get("guard") or {}
    if "prior" not in guard:
        raise ConfigError("detectors.content: the model carries no prior; set evidence_from")
    return scorer.sigmoid(float(guard["prior"]))


class ContentDetector:
    name = "content"
    writes_for = WRITES_REPORTS  # (``base.writes_for``)
    reads_for = READS_REPORTS  # (``base.reads_for``)

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        cfg = self.cfg = settings(self.name, ContentSettings, given)
        negative = [key for key in ("learn_rate", "max_delta", "min_support", "max_shift",
                                    "remember_days", "max_remembered") if getattr(cfg, key) < 0]
        if negative:
            raise ConfigError(f"detectors.content: {', '.join(negative)} cannot be negative "
                              "(bounds, counts and a time)")
        self.model = scorer.load(cfg.model or None)
        anchors = [cfg.evidence_from or base_rate(self.model), *thresholds(cfg, self.model)]
        if not all(0 < p < 1 for p in anchors) or anchors != sorted(set(anchors)):
            raise ConfigError("detectors.content: need 0 < evidence_from < warn_at < hold_at "
                              f"< block_at < 1, got {anchors} (evidence_from 0 is the "
                              "model's training base rate)")
        policy = config.policy
        self._x = np.array([scorer.logit(p) for p in anchors])
        self._floor = float(self._x[0])  # log-odds at and below which content adds nothing
        self._points = np.array([0.0, policy.warn, policy.hold, policy.block])
        self._weight = config.weight("CONTENT_SPAM") or 1.0
        self._remembered = _Remembered(self._online(), cfg.max_remembered)
        self._ttl = cfg.remember_days * _DAY
        # Margins kept across batches (``kept.answers``): the trained part's by text, and the
        # online part's by teachable buckets while the delta they were scored by holds.
        self._margins: dict[str, float] = {}
        self._online_margins: dict[bytes, float] = {}
        self._online_of: OnlineDelta | None = None  # the delta they were scored by ...
        self._online_version = -1  # ... at this version

    # -- learnt state ------------------------------------------------------------------
    @property
    def online(self) -> OnlineDelta:
        """The online part: the delta of the reported messages held (``_Remembered``)."""
        return self._remembered.online

    def _online(self) -> OnlineDelta:
        cfg = self.cfg
        return OnlineDelta(self.model.bits, cfg.learn_rate, cfg.max_delta,
                           cfg.min_support, cfg.max_shift)

    def rebuild(self, read: Callable[[Sequence[Query]], list[Any]]) -> None:
        """Recompute the online part from state (at start-up and at each maintenance)."""
        online = self._online()
        members, imported = read([Members(_INDEX), Get(_IMPORTED)])
        remembered = _Remembered(online, self.cfg.max_remembered)
        for rank, (key, value) in enumerate(zip(
                members, read([Get(_report_key(m)) for m in members]), strict=True)):
            if value is not None:
                found = msgspec.convert(value, Reported)
                if not found.at:
                    # Stored before its time was (``Reported.at``): older than every message
                    # that has one, and in the index's order (``Members``: oldest first), so
                    # the cap drops it when the index does; event times are never negative.
                    found.at = float(rank - len(members))
                remembered.hold(key, found)
        remembered.fold()
        if imported:
            online.add_array(imported["buckets"], imported["values"])
        self._remembered = remembered

    def update(self, read: Callable[[Sequence[Query]], list[Any]], keys: Sequence[str]
               ) -> None:
        """Hold what state holds now of the reported messages ``keys`` (another node
        changed them), as ``rebuild`` would: one still in the index, with its value, at
        its stored a_m, one no longer there at none (``_Remembered``). The delta is a sum
        of integer terms (``OnlineDelta``), so the result is the rebuild's bit for bit."""
        for key, value in remembered_now(read, _INDEX, _report_key, keys):
            self._remembered.hold(key, None if value is None
                                  else msgspec.convert(value, Reported))
        self._remembered.fold()

    def imported(self, exported: Exported) -> Put:
        """The write that makes learnt weights from another installation count here."""
        return Put(_IMPORTED, {"buckets": exported.buckets, "values": exported.values},
                   FOREVER)

    def probability(self, found: np.ndarray, teachable: np.ndarray) -> tuple[float, float]:
        """(p with what reports taught, p of the trained model alone)."""
        trained = self.model.margin(found)
        return scorer.sigmoid(trained + self.online.margin(teachable)), scorer.sigmoid(trained)

    # -- a batch -------------------------------------------------------------------------
    def prepare(self, batch: Sequence[Context]) -> None:
        """Score the batch's messages together (``Batched``): their features hashed at once
        (``features.batch_parts``), both parts of the model as one sparse product each
        (``LinearModel.margins``, ``OnlineDelta.margins``).

        The trained part never changes while the engine runs. The online part does, when
        a report in the batch teaches it: the next message judged finds the delta's
        ``version`` moved and the online margins of the batch's messages from it on are
        scored again, in one product (``_Shifts``), so each sees what the reports before
        it taught, as it would have one event at a time. A batch of n messages and r
        teaching reports costs O(r) products over at most n rows each. Margins of texts
        scored in earlier batches are kept (``kept.answers``): a batch of one scores only what is
        new to it."""
        if len(batch) == 1 and (not self._scores(batch[0]) or self._prepared_kept(batch[0])):
            return
        scored = [c for c in batch if self._scores(c)]
        if not scored:
            return
        split = batch_parts([(c.view, c.names) for c in scored],  # type: ignore[misc]
                            self.model.bits)
        texts = [c.view.text for c in scored]  # type: ignore[union-attr]
        teachable = [taught for _, taught in split]
        sizes = [len(t) for t in texts]
        trained = answers(self._margins, texts, sizes,  # type: ignore[arg-type]
                          lambda new: self.model.margins([split[at][0] for at in new]),
                          _KEPT_MARGINS)
        shifts = _Shifts(teachable, self.online, self._shifts(sizes, teachable))
        for at, (ctx, taught, base) in enumerate(zip(scored, teachable, trained,
                                                     strict=True)):
            ctx.scratch[self.name] = _Scored(taught, base, shifts, at)

    def _shifts(self, sizes: list[int], teachable: list[np.ndarray]) -> list[float]:
        """The online part's margins of the messages whose texts (``sizes`` long) and
        teachable buckets are these, as it is now: those of the same buckets scored since
        it last changed answered as then (``_online_margins``, ``kept.answers``).

        A margin is a function of the buckets and of the delta as scored, which changes
        only with its ``version`` (or a rebuild: another delta, whose count starts again),
        so the kept ones go when either moves. Kept by the buckets' bytes (the names a
        text greets change them: ``batch_parts``)."""
        online = self._online_now()
        return answers(self._online_margins,  # type: ignore[arg-type]
                       [t.tobytes() for t in teachable], sizes,
                       lambda new: online.margins([teachable[at] for at in new]),
                       _KEPT_MARGINS)

    def _online_now(self) -> OnlineDelta:
        """The online part, the margins kept of it let go if it moved since they were
        scored (``_shifts``)."""
        online = self.online
        if self._online_of is not online or self._online_version != online.version:
            self._online_margins.clear()
            self._online_of, self._online_version = online, online.version
        return online

    def _prepared_kept(self, ctx: Context) -> bool:
        """``prepare`` of a batch of one message whose parts and both margins are kept
        (``features.kept_parts``, ``_margins``, ``_online_margins``): its ``_Scored`` made
        of them, each touched as ``kept.answers`` touches it; False (nothing made) when
        any is not.

        Why: the server's ordinary load hands the engine batches of one, most of them a
        text seen before, and the batch's path built a list, a look-up and a put for each
        of its one item (~500 bytecodes, ~63,000 instructions; ``batch41``). The same
        floats: the caches' own."""
        view = ctx.view
        found = kept_parts(view, self.model.bits, ctx.names)  # type: ignore[arg-type]
        if found is None:
            return False
        trained = touched(self._margins, view.text)  # type: ignore[union-attr]
        if trained is UNKEPT:
            return False
        teachable, online = found[1], self._online_now()
        shift = touched(self._online_margins, teachable.tobytes())
        if shift is UNKEPT:  # the trained margin's touch: ``answers`` makes the same
            return False
        ctx.scratch[self.name] = _Scored(teachable, trained, _Shifts([teachable], online,
                                                                      [shift]), 0)
        return True

    @staticmethod
    def _scores(ctx: Context) -> bool:
        """Whether the event has words to score: a message in the clear (kinds told by the
        context's ``message``: a failing ``isinstance`` on an event class costs a metaclass
        call, ``test_engine_kinds``)."""
        message = ctx.message
        return message is not None and ctx.view is not None and not message.encrypted

    def _scored(self, ctx: Context) -> tuple[np.ndarray, float, float]:
        """(teachable buckets, margin with what reports taught, margin of the trained model
        alone): from ``prepare``, else computed now."""
        done: _Scored | None = ctx.scratch.get(self.name)
        if done is None:
            found, teachable = parts(ctx.view, self.model.bits, ctx.names)  # type: ignore[arg-type]
            base, shift = self.model.margin(found), self.online.margin(teachable)
        else:
            teachable, base = done.teachable, done.trained
            shift = done.shifts.shift(done.at, self.online)
        return teachable, base + shift, base

    # -- one event ---------------------------------------------------------------------
    def reads(self, ctx: Context) -> Sequence[Query]:
        # A message first, by ``ctx.message``: a failing isinstance on an event class costs
        # ~0.3 µs (``engine.py``). ``isinstance``, not ``type() is``: an operator's decision
        # is a report (``trust.OperatorDecision``) and teaches as one.
        event = ctx.event
        if ctx.message is not None or not isinstance(event, Report):
            return ()
        return (Get(_report_key(event.message_id)),)

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        if not self._scores(ctx):
            return []  # no words (an encrypted message): no evidence either way
        teachable, margin, trained_margin = self._scored(ctx)
        ctx.keep[self.name] = teachable.tobytes()
        if margin < self._floor - _SURELY_BELOW:  # most messages: no points (below)
            return []
        p = scorer.sigmoid(margin)
        z = scorer.logit(p)
        if z <= self._floor:  # no points, as ``np.interp`` gives (left=0)
            return []
        trained = scorer.sigmoid(trained_margin)
        points = float(np.interp(z, self._x, self._points, left=0.0, right=self._points[-1]))
        if points <= 0:
            return []
        detail = f"spam probability {p:.2f}"
        if abs(p - trained) >= 0.01:
            detail += f" ({trained:.2f} before user reports)"
        return [Signal("CONTENT_SPAM", points / self._weight, detail)]

    def _taught(self, report: Report, ctx: Context) -> list[int]:
        """The reported message's teachable features: those kept when it was judged, or,
        for an encrypted one, those of the report's own ``text``.

        That text is the reporter's word, not the sender's: weighed like any report
        (only a recipient's counts, bounded per message), it can teach nothing an
        attacker could not teach by sending those words in the clear and reporting them."""
        kept = ctx.reported.keep.get(self.name) if ctx.reported else None
        if kept:
            return np.frombuffer(kept, dtype=np.uint32).tolist()
        if sealed(ctx.reported) and report.text.strip():
            _, teachable = parts(view(report.text), self.model.bits,
                                 names_of((report.reporter,)))
            return teachable.tolist()
        return []

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        report, weighing = ctx.event, ctx.trust
        # ``weighing`` first: only a report (an operator's decision too) is weighed.
        if weighing is None or not isinstance(report, Report) or (
                weighing.before == weighing.after):
            return ()
        stored = facts[Get(_report_key(report.message_id))]
        label = trust.taught(report, weighing)  # users' ham reports only cancel spam
        if stored is not None:
            reported = msgspec.convert(stored, Reported)
        elif label and (taught := self._taught(report, ctx)):
            reported = Reported(taught)
        else:
            return ()
        if label == reported.applied:
            return ()
        # As the index's member: a report that arrives late never moves the time back.
        reported.applied, reported.at = label, max(reported.at, report.ts)
        self._remembered.hold(report.message_id, reported)
        self._remembered.fold()
        return [Put(_report_key(report.message_id), reported, self._ttl),
                Touch(_INDEX, (report.message_id,), self._ttl, self.cfg.max_remembered),
                learnt(self.name, (report.message_id,))]


class _Remembered:
    """The reported messages the online part holds, as the state's index of them keeps
    them (``content:reported``): at most ``cap``, the oldest by (time, id) dropped first
    (a member set's order), each folded into the delta at its a_m.

    A node that learns a change (its own report, or another node's from the log) takes
    it here, and when the index passes its cap the message the index drops leaves the
    delta here too, from the buckets kept with it: the same messages at the same a_m as a
    rebuild from state reads, in any order of changes, where a node that could not tell
    which message left would have to rebuild at every report once the cap is reached
    (a capped index, ``max_remembered``, is what an attacker's throwaways can fill).
    Messages past ``remember_days`` leave at the next rebuild (maintenance), as before.
    Memory: a message's buckets as 4-byte integers and its time, ~300 bytes, at most
    ``cap`` of them (30 MB at the default 100,000)."""

    def __init__(self, online: OnlineDelta, cap: int) -> None:
        self.online = online
        self.cap = cap
        # id -> its time, a_m and buckets (packed: ~150 bytes less a message than an array)
        self.held: dict[str, tuple[float, float, bytes]] = {}
        self._order: list[tuple[float, str]] = []  # (at, id), a heap; stale ones skipped
        self._moves: list[tuple[np.ndarray, float, float]] = []  # not yet in the delta

    def hold(self, key: str, reported: Reported | None) -> None:
        """The message as state now keeps it (None: not remembered)."""
        before = self.held.pop(key, None)
        if before is not None:
            self._moves.append((np.frombuffer(before[2], dtype=np.uint32), before[1], 0.0))
        if reported is not None:
            buckets = np.asarray(reported.buckets, dtype=np.uint32)
            self.held[key] = (reported.at, reported.applied, buckets.tobytes())
            heapq.heappush(self._order, (reported.at, key))
            self._moves.append((buckets, 0.0, reported.applied))

    def fold(self) -> None:
        """Drop the oldest past the cap, then fold every move into the delta at once."""
        held, order = self.held, self._order
        while len(held) > self.cap:
            at, key = heapq.heappop(order)
            if key in held and held[key][0] == at:
                self.hold(key, None)
        if len(order) > 2 * len(held) + 64:  # times since moved on: let them go
            self._order = order = [(at, key) for key, (at, _, _) in held.items()]
            heapq.heapify(order)
        moves, self._moves = self._moves, []
        self.online.apply_many(moves)


class _Shifts:
    """The online margins of a prepared batch's messages, in order, as of one version of
    the online part (``values``, as it was when prepared): those from ``start`` on are
    current while that version holds."""

    def __init__(self, teachable: list[np.ndarray], online: OnlineDelta,
                 values: list[float]) -> None:
        self.teachable = teachable
        self.online = online
        self.version = online.version
        self.start = 0
        self.values = values

    def shift(self, at: int, online: OnlineDelta) -> float:
        """Message ``at``'s online margin under ``online`` as it is now."""
        if online is not self.online or online.version != self.version or at < self.start:
            self.values[at:] = online.margins(self.teachable[at:])
            self.online, self.version, self.start = online, online.version, at
        return self.values[at]


class _Scored(msgspec.Struct, frozen=True):
    """A message's scores from ``ContentDetector.prepare``: a struct, made in C (a
    NamedTuple's ``__new__`` is a Python lambda's frame)."""

    teachable: np.ndarray
    trained: float  # the trained part's margin
    shifts: _Shifts  # the batch's online margins ...
    at: int  # ... of which this message's is this one


def build(given: dict[str, Any], config: Config) -> ContentDetector:
    return ContentDetector(given, config)
