"""Upkeep between events: expired state swept, old records purged, learners rebuilt.

Learners keep what they learnt in process memory, rebuilt from durable state
(``detectors.base.Learner``): after a sweep, so what expired stops counting, and
when a node is further behind another node's learning than the log of learnt changes
keeps (``Engine._refresh_learners``).
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import Config
from .detectors import Detector, Learner
from .records import RecordStore
from .state import StateBackend
from .state.ops import sweep_horizon

MAINTAIN_EVERY = 20_000  # events between sweeps of expired state and old records


def rebuild_learners(detectors: Sequence[Detector], state: StateBackend, now: float) -> None:
    for detector in detectors:
        if isinstance(detector, Learner):
            detector.rebuild(lambda queries: state.read(queries, now))


def maintain(config: Config, state: StateBackend, records: RecordStore,
             detectors: Sequence[Detector], now: float) -> None:
    """Sweep state of what no event still judged can read (``sweep_horizon`` of ``now``,
    never past what the wall clock confirms: the caller passes the smaller), rebuild the
    learners and purge records older than their retention."""
    state.sweep(sweep_horizon(now))
    rebuild_learners(detectors, state, now)
    records.purge(now - config.records.retention_days * 86400)
