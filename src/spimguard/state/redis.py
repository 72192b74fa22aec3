"""Shared hot state in Redis, for many spimguard processes on many machines.

Every primitive is a Redis command, and one call of ``read`` or ``write`` is one
pipelined round trip, whatever the number of queries or writes.

==========  =========================================================================
primitive   layout
==========  =========================================================================
counter     a hash, one field per bucket (HINCRBYFLOAT); read with HMGET of the window
member set  a sorted set, member -> last event time (ZADD GT); its event-time expiry
            is a score in one index sorted set (``<ns>expiry``), so a set past its TTL
            reads as empty in event time, as in the other backends
value       a string holding {"v": value, "e": event-time expiry}
==========  =========================================================================

Time is event time, as everywhere; Redis's own EXPIRE is set too, in wall-clock
seconds from now, only as a safety net that frees memory. Redis keeps hot state:
what must never be lost (the verdict log, reports, campaigns) is in the record
store, so a Redis restart costs recent counters, not data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import msgspec
import redis

from ..errors import StateUnavailable
from .ops import (
    Contains,
    Count,
    Delete,
    Distinct,
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

_MAX_BUCKETS = 256  # a Count over more buckets than this reads the whole hash


class _Value(msgspec.Struct):
    v: Any
    e: float


def _seconds(ttl: float) -> int:
    return max(1, math.ceil(ttl))


class RedisState:
    def __init__(self, url: str = "redis://127.0.0.1:6379/0", namespace: str = "spimguard:",
                 client: redis.Redis | None = None) -> None:
        self.ns = namespace
        self._expiry = f"{namespace}expiry"
        try:
            self._redis = client or redis.Redis.from_url(url, socket_timeout=5,
                                                         socket_connect_timeout=5)
            self._redis.ping()
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot reach Redis at {url}: {exc}") from exc

    def _k(self, key: str) -> str:
        return self.ns + key

    # -- reads -------------------------------------------------------------------------
    def read(self, queries: Sequence[Query], now: float) -> list[Any]:
        pipe = self._redis.pipeline(transaction=False)
        plans: list[tuple[Query, Any]] = []
        for query in queries:
            key = self._k(query.key)
            if isinstance(query, Count):
                first, last = bucket_range(query, now)
                if last - first < _MAX_BUCKETS:
                    fields = list(range(first, last + 1))
                    pipe.hmget(key, fields)
                    plans.append((query, None))
                else:
                    pipe.hgetall(key)
                    plans.append((query, (first, last)))
            elif isinstance(query, Distinct):
                pipe.zcount(key, f"({now - query.window}", "+inf")
                pipe.zscore(self._expiry, key)
                plans.append((query, None))
            elif isinstance(query, Contains):
                if query.members:
                    pipe.zmscore(key, list(query.members))
                else:
                    pipe.exists(key)
                pipe.zscore(self._expiry, key)
                plans.append((query, None))
            elif isinstance(query, Members):
                pipe.zrange(key, 0, -1)
                pipe.zscore(self._expiry, key)
                plans.append((query, None))
            else:
                pipe.get(key)
                plans.append((query, None))
        try:
            replies = iter(pipe.execute())
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis read failed: {exc}") from exc
        return [self._answer(query, extra, replies, now) for query, extra in plans]

    def _answer(self, query: Query, extra: Any, replies: Any, now: float) -> Any:
        reply = next(replies)
        if isinstance(query, Count):
            if extra is None:
                return float(sum(float(v) for v in reply if v is not None))
            first, last = extra
            return float(sum(float(v) for f, v in reply.items() if first <= int(f) <= last))
        if isinstance(query, Distinct | Contains | Members):
            expiry = next(replies)
            alive = expiry is not None and float(expiry) > now
            if isinstance(query, Distinct):
                return int(reply) if alive else 0
            if isinstance(query, Members):
                return tuple(m.decode() for m in reply) if alive else ()
            if not query.members:
                return ()
            return tuple(alive and score is not None for score in reply)
        if reply is None:
            return None
        value = msgspec.json.decode(reply, type=_Value)
        return value.v if value.e > now else None

    # -- writes ------------------------------------------------------------------------
    def write(self, writes: Sequence[Write], now: float) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for op in writes:
            key = self._k(op.key)
            if isinstance(op, Incr):
                pipe.hincrbyfloat(key, str(int(now // op.bucket)), op.amount)
                pipe.expire(key, _seconds(op.ttl))
            elif isinstance(op, Touch):
                if not op.members:
                    continue
                # GT adds new members and moves existing ones only forward in time.
                pipe.zadd(key, dict.fromkeys(op.members, now), gt=True)
                pipe.zremrangebyscore(key, "-inf", f"({now - op.ttl}")
                pipe.zremrangebyrank(key, 0, -op.cap - 1)
                pipe.zadd(self._expiry, {key: now + op.ttl}, gt=True)
                pipe.expire(key, _seconds(op.ttl))
            elif isinstance(op, Replace):
                pipe.delete(key)
                if op.members:
                    pipe.zadd(key, dict.fromkeys(op.members, now))
                    pipe.expire(key, _seconds(op.ttl))
                pipe.zadd(self._expiry, {key: now + op.ttl})
            elif isinstance(op, Remove):
                if op.members:
                    pipe.zrem(key, *op.members)
            elif isinstance(op, Put):
                body = b'{"v":' + encode_value(op.value) + b',"e":' + repr(
                    float(now + op.ttl)).encode() + b"}"
                pipe.set(key, body, ex=_seconds(op.ttl))
            elif isinstance(op, Delete):
                pipe.delete(key)
                pipe.zrem(self._expiry, key)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis write failed: {exc}") from exc

    def commit(self) -> None:
        """Each write is applied when sent; nothing is pending."""

    def rollback(self) -> None:
        """Redis applied each write when sent; a failed request's counts stay (hot state)."""

    def sweep(self, now: float) -> int:
        """Drop member sets whose event-time TTL has passed (Redis frees the rest)."""
        try:
            stale = self._redis.zrangebyscore(self._expiry, "-inf", now, start=0, num=10_000)
            if stale:
                pipe = self._redis.pipeline(transaction=False)
                pipe.delete(*stale)
                pipe.zrem(self._expiry, *stale)
                pipe.execute()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis sweep failed: {exc}") from exc
        return len(stale)

    def close(self) -> None:
        self._redis.close()
