"""Waves: a near variant of messages that several trusted users reported as spim.

A wave is many variants of one pitch, sent by many accounts, each copy reworded a
little so that no fingerprint repeats. Once a few of its recipients report it, the
next variants (other senders, other fingerprints) are near neighbours of what they
reported, and ordinary chat in that language is not (``neighbours.py`` says why,
and how near is near). So each message is sketched (128 bytes, kept in the verdict
log, never its words), a spam report puts the reported message's sketch in shared
state, and a message whose near neighbours carry enough report weight gets
WAVE_REPORTED: the evidence is what users said about words like these.

**What reports can do** (the attacker's seat). The weights are the report-trust
model's (``trust.py``): only a recipient's report counts, once per message, new and
restricted accounts less, and a message's net label a_m is at most 1 however many
report it. A reported message's a_m is shared among its spam reporters (pro rata to
their weights); a reporter counts once, at its largest share over the neighbours,
so one account reporting ten variants weighs what it weighs on one. A message gets
evidence only when its neighbours were reported by at least ``reporters`` distinct
reporters, and then by the summed weight W of their shares, rising from nothing at
``weight_from`` (one trusted reporter's word is not a wave) to full strength at
``weight_full`` (three trusted reporters, or ten new accounts that each received a
copy, the bar the bulk detector sets for confirming a campaign). Full strength holds
a message from a stranger; between people who converse it warns at most, like
everything the words say (group ``content``: ``policy.py``). And only texts near
the reported ones move: a whole language's chat shares no more than common words
with them, and the shingles ordinary chat uses are no evidence at all
(``neighbours.ordinary``), so reports of chat lines that repeat themselves ("I'll
call later", an OTP notice) reach none of their copies, however trusted the
reporters. An operator's decision is one reporter that outranks users: its spam
label gives full strength alone; a ham label (or user ham reports that bring a_m
to 0 or below) takes the message out.

An encrypted message has no words to sketch; the reporter's client may send them
(``report.text``), weighed like any report: words an attacker could as well send in
the clear to its own accounts and report.

A sketch is of the shingles the table in force did not drop: sketches kept before the
table changed (an upgrade, another ``ordinary``) are compared as they are, so a wave
reported before matches its new copies less until those sketches expire
(``remember_days``), and what they match is still only what reporters reported.

Memory and cost: at most ``max_remembered`` reported sketches, each for
``remember_days`` after its last report, in state (so every node and backend
rebuilds the same index) and in memory (``neighbours.Index``: a lookup is 32 dict
probes and 64 comparisons per candidate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from ..config import Config
from ..errors import ConfigError
from ..events import Report
from ..kept import UNKEPT
from ..neighbours import Entry, Index, kept_sketch, ordinary, sketch, sketches
from ..signals import Signal
from ..state.ops import Delete, Get, Members, Put, Query, Remove, Touch, Write
from ..text import names_of, view
from ..trust import OperatorDecision
from .base import (
    READS_REPORTS,
    WRITES_REPORTS,
    Context,
    Facts,
    Outcome,
    learnt,
    once,
    ramp,
    remembered_now,
    sealed,
    settings,
)


@dataclass(frozen=True, slots=True)
class WavesSettings:
    """The waves detector's settings (``detectors.waves`` in config)."""

    reporters: int = 3  # distinct reporters of a message's neighbours before they say anything
    weight_from: float = 1.0  # summed report weight where the evidence starts ...
    weight_full: float = 3.0  # ... and where it is full (holds a stranger's message)
    remember_days: int = 30  # how long a reported message is remembered after its last report
    max_remembered: int = 10_000  # reported messages remembered (oldest dropped first)
    ordinary: str = ""  # table of ordinary chat's shingles ("" the bundled one: neighbours.py)


SIGNALS = {
    "WAVE_REPORTED": "a near variant of messages several trusted users reported as spim",
}

_INDEX = "waves:reported"
_DAY = 86_400.0


def _key(message_id: str) -> str:
    return f"waves:report:{message_id}"


class Reported(msgspec.Struct):
    """A reported message as state keeps it: its sketch, its spam reporters' weights,
    its net label, when it was last reported, whether an operator decided it is spam
    (a flag of its own: no account's name can stand for an operator)."""

    sketch: list[int]
    weights: dict[str, float]
    net: float
    at: float
    operator: bool = False

    def entry(self, key: str) -> Entry:
        total = sum(self.weights.values())
        shares = {r: self.net * w / total for r, w in self.weights.items()} if total else {}
        return Entry(key, np.asarray(self.sketch, dtype=np.uint16), shares, self.at,
                     self.operator)


class WavesDetector:
    name = "waves"
    writes_for = WRITES_REPORTS  # (``base.writes_for``)
    reads_for = READS_REPORTS  # (``base.reads_for``)

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, WavesSettings, given)
        self._ttl = self.cfg.remember_days * _DAY
        try:
            self._ordinary = ordinary(self.cfg.ordinary)
        except (OSError, ValueError) as error:
            raise ConfigError(f"detectors.waves.ordinary: {error}") from None
        # Earlier texts' sketches under this table (``sketches``' ``kept``): bounded.
        self._sketched: dict[str, np.ndarray | None] = {}
        self.index = self._empty()

    def _empty(self) -> Index:
        return Index(self._ttl, self.cfg.max_remembered)

    def rebuild(self, read: Callable[[Sequence[Query]], list[Any]]) -> None:
        """The index from state (at start-up, at maintenance, after another node's report)."""
        index = self._empty()
        members = read([Members(_INDEX)])[0]
        for key, value in zip(members, read([Get(_key(m)) for m in members]), strict=True):
            if value is not None:
                index.put(msgspec.convert(value, Reported).entry(key))
        self.index = index

    def update(self, read: Callable[[Sequence[Query]], list[Any]], keys: Sequence[str]
               ) -> None:
        """Hold what state holds now of the reported messages ``keys`` (another node
        changed them), as ``rebuild`` would: one still in the index's member set at its
        stored value, one no longer there out. The index drops past ``max_remembered`` as
        the member set does (the oldest by (time, key)), and a lookup skips what is past
        ``remember_days``, so its entries are the rebuild's whatever the order."""
        for key, value in remembered_now(read, _INDEX, _key, keys):
            if value is None:
                self.index.drop(key)
            else:
                self.index.put(msgspec.convert(value, Reported).entry(key))

    # -- a batch -------------------------------------------------------------------------
    def prepare(self, batch: Sequence[Context]) -> None:
        """Sketch the batch's messages together (``Batched``, ``neighbours.sketches``): a
        sketch depends on the text and the table alone, never on what a report taught, so
        a text sketched in an earlier batch is answered as it was then (``_sketched``): a
        batch of one message, from there alone when it can (``kept_sketch``)."""
        if len(batch) == 1 and self._prepared_kept(batch[0]):
            return
        texts = [c for c in batch if self._has_text(c)]
        found = sketches([(c.view, c.names) for c in texts],  # type: ignore[misc]
                         self._ordinary, self._sketched)
        for ctx, values in zip(texts, found, strict=True):
            ctx.scratch[self.name] = values

    def _prepared_kept(self, ctx: Context) -> bool:
        """``prepare`` of one message whose sketch needs no hashing (none to make, or
        kept); False, nothing made, when it needs one."""
        if not self._has_text(ctx):
            return True
        found = kept_sketch(ctx.view, ctx.names, self._sketched)  # type: ignore[arg-type]
        if found is UNKEPT:
            return False
        ctx.scratch[self.name] = found
        return True

    @staticmethod
    def _has_text(ctx: Context) -> bool:
        """Whether the event has words to sketch: a message in the clear."""
        message = ctx.message
        return message is not None and not message.encrypted and ctx.view is not None

    # -- one event ---------------------------------------------------------------------
    def reads(self, ctx: Context) -> Sequence[Query]:
        # A message first, by ``ctx.message``: a failing isinstance on an event class costs
        # ~0.3 µs (``engine.py``), and nearly every event is one.
        if ctx.message is None and isinstance(ctx.event, Report):
            return (Get(_key(ctx.event.message_id)),)
        return ()

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        if not self._has_text(ctx):
            return []
        values = once(ctx, self.name, sketch, ctx.view, ctx.names, self._ordinary)
        if values is None:
            return []
        ctx.keep[self.name] = values.tobytes()
        return self._evidence(self.index.near(values, ctx.event.ts))

    def _evidence(self, near: Iterable[Entry]) -> list[Signal]:
        cfg = self.cfg
        best: dict[str, float] = {}
        messages = 0
        decided = False
        for entry in near:
            messages += 1
            decided = decided or entry.operator
            for reporter, share in entry.shares.items():
                best[reporter] = max(best.get(reporter, 0.0), share)
        if decided:
            strength = 1.0
        elif len(best) >= cfg.reporters:
            strength = ramp(sum(best.values()), cfg.weight_from, cfg.weight_full)
        else:
            return []
        if strength <= 0:
            return []
        return [Signal("WAVE_REPORTED", strength,
                       f"a near variant of {messages} messages that {len(best)} users "
                       "reported as spim")]

    def _sketch(self, report: Report, ctx: Context, stored: Reported | None) -> list[int]:
        """The reported message's sketch: stored, kept when it was judged, or, for an
        encrypted one, that of the words its reporter's client sent."""
        if stored is not None:
            return stored.sketch
        kept = ctx.reported.keep.get(self.name) if ctx.reported else None
        if kept:
            return np.frombuffer(kept, dtype=np.uint16).tolist()
        if sealed(ctx.reported) and report.text.strip():
            values = sketch(view(report.text), names_of((report.reporter,)), self._ordinary)
            return [] if values is None else values.tolist()
        return []

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        report, weighing = ctx.event, ctx.trust
        if weighing is None:  # no report (only a report is weighed): asked first, cheaply
            return ()
        decision = isinstance(report, OperatorDecision)
        if not isinstance(report, Report) or not weighing.weight or (
                weighing.before == weighing.after and not decision):
            # The trust model's rule: learners move by a change of a_m only; an operator's
            # decision also when users' reports had brought a_m where it says.
            return ()
        key = _key(report.message_id)
        raw = facts[Get(key)]
        stored = msgspec.convert(raw, Reported) if raw is not None else None
        if weighing.after <= 0:
            if stored is None:
                return ()
            self.index.drop(report.message_id)
            return [Delete(key), Remove(_INDEX, (report.message_id,)),
                    learnt(self.name, (report.message_id,))]
        values = self._sketch(report, ctx, stored)
        if not values:
            return ()
        weights = dict(stored.weights) if stored else {}
        operator = decision or (stored is not None and stored.operator)  # after > 0: spam
        if report.label == "spam" and not decision:
            weights[report.reporter] = weighing.weight
        if not weights and not operator:
            return ()
        # As the member set: a report that arrives late never moves the time back.
        at = max(stored.at, report.ts) if stored else report.ts
        reported = Reported(values, weights, weighing.after, at, operator)
        self.index.put(reported.entry(report.message_id))
        return [Put(key, reported, at + self._ttl - report.ts),
                Touch(_INDEX, (report.message_id,), self._ttl, self.cfg.max_remembered),
                learnt(self.name, (report.message_id,))]


def build(given: dict[str, Any], config: Config) -> WavesDetector:
    return WavesDetector(given, config)
