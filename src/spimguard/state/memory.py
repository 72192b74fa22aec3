"""In-process state: the reference semantics, the test double and the fastest backend.

Nothing survives the process; use SQLite (the default) when that matters.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import msgspec

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
    bucket_range,
    encode_value,
)

_SWEEP_EVERY = 50_000  # writes between automatic sweeps
_MAX_BUCKETS = 16  # a counter prunes buckets older than its TTL once it holds more


class MemoryState:
    def __init__(self) -> None:
        self._counters: dict[str, tuple[dict[int, float], float]] = {}  # key -> buckets, expiry
        self._members: dict[str, tuple[dict[str, float], float, float, int]] = {}
        self._values: dict[str, tuple[bytes, float]] = {}
        self._writes = 0
        # Members let go by a cap or a sweep, (key, member), for the durable store this
        # holds keys for to drop too (``trimmed``); None when nothing below keeps a copy.
        self.trimmed: list[tuple[str, str]] | None = None

    # -- reads -----------------------------------------------------------------------
    def read(self, queries: Sequence[Query], now: float) -> list[Any]:
        answer = self._answers
        return [answer[type(q)](self, q, now) for q in queries]

    def _count(self, query: Count, now: float) -> float:
        entry = self._counters.get(query.key)
        if entry is None or entry[1] <= now:
            return 0.0
        first, last = bucket_range(query, now)
        return sum(n for b, n in entry[0].items() if first <= b <= last)

    def _distinct(self, query: Distinct, now: float) -> int:
        # Members are kept in touch order (newest last), so counting stops at the
        # first member older than the window instead of scanning a large set.
        since, seen = now - query.window, 0
        for ts in reversed(self._live_members(query.key, now).values()):
            if ts <= since:
                break
            seen += 1
        return seen

    def _contains(self, query: Contains, now: float) -> tuple[bool, ...]:
        members = self._live_members(query.key, now)
        return tuple(m in members for m in query.members)

    def _members_of(self, query: Members, now: float) -> tuple[str, ...]:
        return tuple(self._live_members(query.key, now))

    def _get(self, query: Get, now: float) -> Any:
        entry = self._values.get(query.key)
        if entry is None or entry[1] <= now:
            return None
        return msgspec.json.decode(entry[0])

    _answers: ClassVar[dict[type, Callable[[Any, Any, float], Any]]] = {
        Count: _count, Distinct: _distinct, Contains: _contains, Members: _members_of, Get: _get}

    def _live_members(self, key: str, now: float) -> dict[str, float]:
        entry = self._members.get(key)
        if entry is None or entry[1] <= now:
            return {}
        return entry[0]

    # -- writes ----------------------------------------------------------------------
    def write(self, writes: Sequence[Write], now: float) -> None:
        # One value is often put under several keys (a bulk cluster under each of its
        # bands): encoded once per call, the keys share the bytes.
        encoded: dict[int, bytes] = {}
        for op in writes:
            if isinstance(op, Put):
                stored = encoded.get(id(op.value))
                if stored is None:
                    stored = encoded[id(op.value)] = encode_value(op.value)
                self._values[op.key] = (stored, now + op.ttl)
            else:
                self._apply(op, now)
        self._writes += len(writes)
        if self._writes >= _SWEEP_EVERY:
            self.sweep(now)

    def _apply(self, op: Write, now: float) -> None:
        if isinstance(op, Incr):
            buckets, expiry = self._counters.get(op.key, ({}, 0.0))
            if expiry <= now:
                buckets = {}
            bucket = int(now // op.bucket)
            buckets[bucket] = buckets.get(bucket, 0.0) + op.amount
            if len(buckets) > _MAX_BUCKETS:
                oldest = bucket - int(op.ttl // op.bucket)
                for stale in [b for b in buckets if b < oldest]:
                    del buckets[stale]
            self._counters[op.key] = (buckets, max(expiry, now + op.ttl))
        elif isinstance(op, Touch):
            members, expiry, _, _ = self._members.get(op.key, ({}, 0.0, op.ttl, op.cap))
            if expiry <= now:
                members = {}
            for member in sorted(op.members):
                # Re-inserting keeps the dict ordered oldest-touched first, so
                # trimming to the cap drops the stalest members; members of one
                # touch go in name order, as Redis and SQLite order equal times.
                # Members are account ids that recur in many sets (contacts lists
                # are symmetric): interned, each id is stored once.
                members.pop(member, None)
                members[sys.intern(member)] = now
            self._members[op.key] = (members, max(expiry, now + op.ttl), op.ttl, op.cap)
            if len(members) > op.cap:
                for stale in list(members)[: len(members) - op.cap]:
                    del members[stale]
                    if self.trimmed is not None:
                        self.trimmed.append((op.key, stale))
        elif isinstance(op, Replace):
            self._members[op.key] = (dict.fromkeys(map(sys.intern, sorted(op.members)), now),
                                     now + op.ttl, op.ttl,
                                     max(len(op.members), 1))
        elif isinstance(op, Remove):
            entry = self._members.get(op.key)
            if entry is not None:
                for member in op.members:
                    entry[0].pop(member, None)
        elif isinstance(op, Delete):
            self._values.pop(op.key, None)
            self._counters.pop(op.key, None)
            self._members.pop(op.key, None)

    def commit(self) -> None:
        """Nothing to make durable in memory."""

    def rollback(self) -> None:
        """Memory applies writes at once and cannot undo them (it is the test double)."""

    def sweep(self, now: float) -> int:
        dropped = 0
        for key in [k for k, (_, exp) in self._counters.items() if exp <= now]:
            del self._counters[key]
            dropped += 1
        for key, (members, expiry, ttl, _cap) in list(self._members.items()):
            if expiry <= now:
                del self._members[key]
                dropped += 1
                continue
            for member in [m for m, ts in members.items() if ts + ttl <= now]:
                del members[member]
                if self.trimmed is not None:
                    self.trimmed.append((key, member))
                dropped += 1
        for key in [k for k, (_, exp) in self._values.items() if exp <= now]:
            del self._values[key]
            dropped += 1
        self._writes = 0
        return dropped

    def ping(self) -> None:
        """Process memory is always there."""

    # -- as the cache of a durable backend (``sqlite.SQLiteState``) -------------------
    def counter(self, key: str) -> tuple[dict[int, float], float] | None:
        """A counter's buckets and expiry, as held (expired or not)."""
        return self._counters.get(key)

    def member_set(self, key: str) -> tuple[dict[str, float], float, float, int] | None:
        """A member set's members (touch order), expiry, TTL and cap, as held."""
        return self._members.get(key)

    def value(self, key: str) -> tuple[bytes, float] | None:
        """A value's stored form and expiry, as held."""
        return self._values.get(key)

    def load_counter(self, key: str, buckets: dict[int, float], expiry: float) -> None:
        self._counters[key] = (buckets, expiry)

    def load_set(self, key: str, members: dict[str, float], expiry: float, ttl: float,
                 cap: int) -> None:
        self._members[key] = ({sys.intern(m): ts for m, ts in members.items()}, expiry, ttl,
                              cap)

    def load_value(self, key: str, stored: bytes, expiry: float) -> None:
        self._values[key] = (stored, expiry)

    def forget(self, key: str) -> None:
        """Drop the key from every table (a cache eviction, not a write)."""
        self._counters.pop(key, None)
        self._members.pop(key, None)
        self._values.pop(key, None)

    def close(self) -> None:
        self._counters.clear()
        self._members.clear()
        self._values.clear()
