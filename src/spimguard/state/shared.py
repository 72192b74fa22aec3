"""The seam a shared state backend adds: claims that make an event id count once.

Many nodes share hot state (Redis) and records (PostgreSQL), two stores that
commit separately. An event id is therefore first *claimed* in the hot state,
with the digest of its body, in the same round trip as the event's reads; its
writes are applied together with the claim's *outbox* (the records and the
answer) in one atomic step that checks the claim is still ours; the records
commit follows. ``engine.py`` explains what a crash between the steps does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from .ops import Query, Write

LEASE_MS = 10_000  # a claim whose holder has not finished within this may be taken over


class Claim(NamedTuple):
    mine: bool  # this process holds it (fresh, or a lease taken over): judge the event
    digest: str  # the body digest of the event that claimed the id first
    outbox: bytes  # the finished event's answer and records; b"" while in flight


@runtime_checkable
class Claiming(Protocol):
    def claim_read(self, event_id: str, digest: str, queries: Sequence[Query],
                   now: float) -> tuple[Claim, list[Any]]: ...

    def read_claimed(self, queries: Sequence[Query], now: float) -> list[Any]: ...

    def write_claimed(self, event_id: str, writes: Sequence[Write], now: float,
                      outbox: bytes) -> None: ...

    def settle(self, event_ids: Sequence[str]) -> None: ...

    def release(self, event_ids: Sequence[str]) -> None: ...
