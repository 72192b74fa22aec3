"""Upkeep between events: expired state swept, old records purged, learners rebuilt.

Learners keep what they learnt in process memory, rebuilt from durable state
(``detectors.base.Learner``): every ``MAINTAIN_EVERY`` events, so what expired stops
counting, and when a node is further behind another node's learning than the log of
learnt changes keeps (``Engine._refresh_learners``).

The sweep goes in parts (``StateBackend.sweep_part``), one at the end of a batch once
``SWEEP_EVERY`` events have passed since the last, in that batch's commit: a lap of
``ops.SWEEP_PARTS`` parts every ~20,000 events, where the whole sweep in one batch cost
that batch ~80 ms (issue 18: one stalled batch sets a p99; a part of a lap of 50, up to
16 ms: session 33). Where the lap stands is the store's: SQLite keeps, by table, the
parts swept and the key the next part starts at (a row of ``sweep_lap``, in the part's
own transaction), and cuts each part from there, a share of the rows ahead on; the
memory store holds its lap's keys and the next part. So a restart resumes the lap (it
began again at each start: a process restarted more often than once a lap never swept
its later parts), a part rolled back with its batch is redone by the next (it waited a
lap), and no part cuts the whole lap at once (the first part cut every table for all
the lap's parts). A process starts owing a part: the events its predecessor judged
since the last part are not kept, and one restarted more often than every
``SWEEP_EVERY`` events would never sweep. The learners' rebuild and the
purge stay every ``MAINTAIN_EVERY`` events, at the event that reaches it: content's
answers depend on when it last rebuilt (``content._Remembered``), and both are a few ms.

The count of events since the last pass is the store's too, kept with each part
(``StateBackend.sweep_part``'s ``since_pass``: SQLite's in the part's transaction) and
resumed at start (``since_pass()``): it began at 0 in each process, so one restarted more
often than every ``MAINTAIN_EVERY`` events (a crash loop, frequent deploys) never purged.
A restart loses the events since the last part, at most ~``SWEEP_EVERY`` (a process
starts owing one). A pass owes its batch a part, which keeps the count at 0 in that
batch's commit: kept only at the next part, a process restarted before it resumed the
count from before the pass and passed again at every start. Within a process the passes
fall where they did (the count starts at 0 on a new store), so no answer of one run moves.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import Config
from .detectors import Detector, Learner
from .records import RecordStore
from .state import StateBackend
from .state.ops import sweep_horizon

MAINTAIN_EVERY = 20_000  # events between rebuilds of the learners and purges of old records
SWEEP_EVERY = 100  # events between parts of the sweep (``MAINTAIN_EVERY / ops.SWEEP_PARTS``)


def sweep_part(state: StateBackend, now: float, since_pass: int) -> int:
    """Sweep the lap's next slice of the state of what no event still judged can read
    (``sweep_horizon`` of ``now``, never past what the wall clock confirms), keeping with
    it ``since_pass``, the events judged since the last maintenance pass."""
    return state.sweep_part(sweep_horizon(now), since_pass)


def rebuild_learners(detectors: Sequence[Detector], state: StateBackend, now: float) -> None:
    for detector in detectors:
        if isinstance(detector, Learner):
            detector.rebuild(lambda queries: state.read(queries, now))


def maintain(config: Config, state: StateBackend, records: RecordStore,
             detectors: Sequence[Detector], now: float) -> None:
    """Rebuild the learners and purge records older than their retention (``now``: never
    past what the wall clock confirms, the caller passes the smaller). The state commits
    first: the embedded records' purge commits the connection they share, and what the
    batch has judged so far goes with it whole, never its records without its state."""
    state.commit()
    rebuild_learners(detectors, state, now)
    records.purge(now - config.records.retention_days * 86400)
