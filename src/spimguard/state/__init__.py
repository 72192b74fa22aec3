"""Hot state: counters, member sets and small values in event time.

One interface (``StateBackend``) with three implementations: ``MemoryState``
(the test double, and the fastest), ``SQLiteState`` (the embedded, durable
default) and, for many nodes, a shared backend built on the same primitives.
``check_backend`` in ``conformance`` is the suite every backend must pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from .ops import (
    Contains,
    Count,
    Delete,
    Distinct,
    Get,
    Incr,
    Members,
    Put,
    Query,
    Remove,
    Replace,
    Touch,
    Write,
)


class StateBackend(Protocol):
    def read(self, queries: Sequence[Query], now: float) -> list[Any]:
        """Answers to ``queries`` in order, as of event time ``now``."""

    def write(self, writes: Sequence[Write], now: float) -> None:
        """Apply ``writes`` at event time ``now`` (durable after ``commit``)."""

    def commit(self) -> None:
        """Make every write so far durable."""

    def rollback(self) -> None:
        """Forget the writes since the last commit, where the backend can."""

    def sweep(self, now: float) -> int:
        """Drop what has expired by ``now`` and trim capped sets; returns items dropped."""

    def sweep_part(self, now: float, since_pass: int) -> int:
        """``sweep`` of the next slice of the keys, in a lap of ``ops.SWEEP_PARTS`` parts:
        what had expired by a lap's start is gone by its last part (whatever expired
        since, by the next lap's). Where the lap stands is the store's to keep, a durable
        store's in the part's own transaction: a restart resumes the lap, a part rolled
        back is redone by the next. So is ``since_pass``, the events judged since the
        last maintenance pass, for ``since_pass()`` to answer. Items dropped are
        returned; inside the open transaction of an embedded store (its next ``commit``
        makes it durable)."""

    def since_pass(self) -> int:
        """The events judged since the last maintenance pass as the last ``sweep_part``
        kept them (0 before any): where a restarted engine's count resumes."""

    def ping(self) -> None:
        """Raise ``StateUnavailable`` if the backend cannot answer now (``/healthz``)."""

    def close(self) -> None: ...


@runtime_checkable
class Holding(Protocol):
    """A backend that answers from a copy held in memory (the embedded SQLite): it can
    load the keys of many queries at once, ahead of the reads that ask them."""

    def hold(self, reads: Iterable[Sequence[Query]]) -> None:
        """Load every key the queries of ``reads`` name that is not held yet: each of
        ``reads`` the list of queries a later read asks (the same list object, unchanged)."""

    def begin(self) -> None:
        """Open the batch's transaction, before its first statement: a held copy is
        checked against what other processes committed once a batch, not at each read."""


__all__ = ["Contains", "Count", "Delete", "Distinct", "Get", "Holding", "Incr", "Members", "Put",
           "Query", "Remove", "Replace", "StateBackend", "Touch", "Write"]
