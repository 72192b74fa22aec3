"""Upkeep between events: expired state swept, old records purged, learners rebuilt.

Learners keep what they learnt in process memory, rebuilt from durable state
(``detectors.base.Learner``): at each maintenance pass, so what expired stops counting,
and when a node is further behind another node's learning than the log of learnt changes
keeps (``Engine._refresh_learners``).

The sweep is done in parts (``SWEEP_PARTS``, ``state.sweeping``), one every
``SWEEP_EVERY`` events, where it was all of it in one batch every ``MAINTAIN_EVERY``:
that batch waited for every table's scan, its deletes and the reload of the embedded
store's held copy (200-280 ms wall on a loaded host at 2,000 users and two days of the
mixed load, growing with the state). A lap of the parts is ``MAINTAIN_EVERY`` events,
so what expired is dropped within as many events as before.

The learners' rebuild stays where it was, every ``MAINTAIN_EVERY`` events: what a learner
answers depends on when it last rebuilt (content's remembered reports past
``remember_days`` keep teaching until then, ``content._Remembered``), and the same log
must give the same verdicts in any process.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import Config
from .detectors import Detector, Learner
from .records import RecordStore
from .state import StateBackend

# A part of the sweep every 1,000 events, 20 parts a lap: each part ~1/20 of the state's
# keys (crc32 spreads them evenly), its cost measured by ``benchmarks/maintenance.py``.
SWEEP_EVERY = 1_000
SWEEP_PARTS = 20
MAINTAIN_EVERY = SWEEP_EVERY * SWEEP_PARTS  # events a lap: between learner rebuilds, purges


def rebuild_learners(detectors: Sequence[Detector], state: StateBackend, now: float) -> None:
    for detector in detectors:
        if isinstance(detector, Learner):
            detector.rebuild(lambda queries: state.read(queries, now))


def due(events: int) -> bool:
    """Whether a maintenance pass follows the ``events``-th event since the last lap."""
    return events % SWEEP_EVERY == 0


def maintain(config: Config, state: StateBackend, records: RecordStore,
             detectors: Sequence[Detector], now: float, events: int) -> bool:
    """The pass after the ``events``-th event of a lap (``due``): its part of the sweep up
    to ``now`` (never past what the wall clock confirms: the caller passes the smaller);
    at the lap's end, the learners rebuilt and the records purged too. Returns whether
    the lap ended."""
    part = events // SWEEP_EVERY - 1
    state.sweep(now, part, SWEEP_PARTS)
    if part < SWEEP_PARTS - 1:
        return False
    rebuild_learners(detectors, state, now)
    records.purge(now - config.records.retention_days * 86400)
    return True
