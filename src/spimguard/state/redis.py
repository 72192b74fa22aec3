"""Shared hot state in Redis, for many spimguard processes on many machines.

Every primitive is a Redis command, and one call of ``read`` or ``write`` is one
pipelined round trip, whatever the number of queries or writes.

==========  =========================================================================
primitive   layout
==========  =========================================================================
counter     a hash, one field per bucket (HINCRBYFLOAT); read with HMGET of the window
member set  a sorted set, member -> last event time (ZADD GT); its event-time expiry
            is a score in one index sorted set (``<ns>expiry``), so a set past its TTL
            reads as empty in event time, as in the other backends; its TTL is a field
            of one hash (``<ns>ttl``), so a member past it reads as gone although
            only the next touch of the set removes it
value       a string holding {"v": value, "e": event-time expiry}
==========  =========================================================================

Time is event time, as everywhere; Redis's own EXPIRE is set too, in wall-clock
seconds from now (the TTL plus an hour's slack, so a node running behind event time
never loses a key early), only as a safety net that frees memory. Redis keeps hot state:
what must never be lost (the verdict log, reports, campaigns) is in the record
store, so a Redis restart costs recent counters, not data.
"""

from __future__ import annotations

import contextlib
import math
import secrets
from collections.abc import Sequence
from typing import Any

import msgspec
import redis

from ..errors import Contention, StateUnavailable
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
from .shared import LEASE_MS, Claim

_MAX_BUCKETS = 256  # a Count over more buckets than this reads the whole hash
_CHUNK = 2_000  # members per ZADD/ZREM (Lua's unpack takes under 8,000 values)


_IN_FLIGHT_MS = 3_600_000  # an unfinished claim outlives its lease, for the digest check
_FINISHED_MS = 3_600_000  # a finished claim keeps its answer until its records are committed
_SETTLED_MS = 60_000  # ... and this long after: waiting duplicates read it from the claim
_MAX_UNSETTLED = 10_000  # settled claims kept for the next read before a trip of their own

# Claim an event id: free, ours, or a lease run out with the same body -> ours now.
# A finished claim answers with its outbox. Time is Redis's own, the same for every node.
_CLAIM = """
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local c = redis.call('HMGET', KEYS[1], 'o', 'd', 'at', 'r')
if c[1] and c[4] then return {0, c[2], c[4]} end
if (not c[1]) or c[1] == ARGV[1]
    or (c[2] == ARGV[2] and ms - tonumber(c[3]) > tonumber(ARGV[3])) then
  redis.call('HSET', KEYS[1], 'o', ARGV[1], 'd', ARGV[2], 'at', ms)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, ARGV[2], ''}
end
return {0, c[2], ''}
"""
# Apply an event's writes if we hold its claim and no value read has changed since.
_COMMIT = """
local c = redis.call('HMGET', KEYS[1], 'o', 'r')
if c[1] ~= ARGV[1] or c[2] then return 0 end
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  if (redis.call('GET', ARGV[i]) or '') ~= ARGV[i + 1] then return -1 end
  i = i + 2
end
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
redis.call('HSET', KEYS[1], 'r', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
_RELEASE = """
for _, key in ipairs(KEYS) do
  local c = redis.call('HMGET', key, 'o', 'r')
  if c[1] == ARGV[1] and not c[2] then redis.call('DEL', key) end
end
return 1
"""


class _Value(msgspec.Struct):
    v: Any
    e: float


# Redis's own EXPIRE counts wall-clock seconds: a node or a replay running behind event
# time (a backlog, a slow disk, a log replayed slower than it happened) would lose a key
# before its event-time expiry and judge differently from a run that kept up. The
# safety net therefore outlasts the event-time TTL by this much lag.
_EXPIRE_SLACK = 3_600


def _seconds(ttl: float) -> int:
    """Wall-clock seconds for Redis's EXPIRE of a key whose event-time TTL is ``ttl``."""
    return max(1, math.ceil(ttl + _EXPIRE_SLACK))


def _zadd(key: str, flags: tuple[str, ...], members: Sequence[str],
          now: float) -> list[tuple[Any, ...]]:
    """ZADD of every member at ``now``, in chunks a Lua script can unpack."""
    stamp, unique = repr(float(now)), list(dict.fromkeys(members))
    return [("ZADD", key, *flags, *(x for m in unique[i:i + _CHUNK] for x in (stamp, m)))
            for i in range(0, len(unique), _CHUNK)]


class RedisState:
    def __init__(self, url: str = "redis://127.0.0.1:6379/0", namespace: str = "spimguard:",
                 client: redis.Redis | None = None) -> None:
        self.ns = namespace
        self._expiry = f"{namespace}expiry"
        self._ttls = f"{namespace}ttl"
        self.owner = secrets.token_hex(8)  # this process, as the holder of claims
        # Raw values that the last claimed read saw: its writes apply only if unchanged.
        self._seen: dict[str, bytes] = {}
        self._unsettled: list[str] = []  # claim keys whose records have committed
        try:
            self._redis = client or redis.Redis.from_url(url, socket_timeout=5,
                                                         socket_connect_timeout=5)
            self._redis.ping()
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot reach Redis at {url}: {exc}") from exc
        self._claim = self._redis.register_script(_CLAIM)
        self._commit = self._redis.register_script(_COMMIT)

    def _k(self, key: str) -> str:
        return self.ns + key

    # -- reads -------------------------------------------------------------------------
    def read(self, queries: Sequence[Query], now: float) -> list[Any]:
        pipe = self._redis.pipeline(transaction=False)
        plans = self._queue(pipe, queries, now)
        try:
            replies = iter(pipe.execute())
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis read failed: {exc}") from exc
        return [self._answer(query, extra, replies, now) for query, extra in plans]

    def _queue(self, pipe: Any, queries: Sequence[Query], now: float) -> list[tuple[Query, Any]]:
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
                pipe.zcount(key, f"({now - query.window!r}", "+inf")
                pipe.zrange(key, 0, 0, withscores=True)  # the oldest: is any past the TTL?
                pipe.zscore(self._expiry, key)
                pipe.hget(self._ttls, key)
                plans.append((query, None))
            elif isinstance(query, Contains):
                if query.members:
                    pipe.zmscore(key, list(query.members))
                else:
                    pipe.exists(key)
                pipe.zscore(self._expiry, key)
                pipe.hget(self._ttls, key)
                plans.append((query, None))
            elif isinstance(query, Members):
                pipe.zrange(key, 0, -1, withscores=True)
                pipe.zscore(self._expiry, key)
                pipe.hget(self._ttls, key)
                plans.append((query, None))
            else:
                pipe.get(key)
                plans.append((query, None))
        return plans

    def _answer(self, query: Query, extra: Any, replies: Any, now: float,
                seen: dict[str, bytes] | None = None) -> Any:
        reply = next(replies)
        if isinstance(query, Count):
            if extra is None:
                return float(sum(float(v) for v in reply if v is not None))
            first, last = extra
            return float(sum(float(v) for f, v in reply.items() if first <= int(f) <= last))
        if isinstance(query, Distinct | Contains | Members):
            oldest = next(replies) if isinstance(query, Distinct) else None
            expiry, ttl = next(replies), next(replies)
            alive = expiry is not None and float(expiry) > now
            # Members touched at or before the cutoff are past the set's TTL: gone in
            # event time, whether or not a touch has removed them yet.
            cutoff = now - float(ttl) if ttl is not None else -math.inf
            if isinstance(query, Distinct):
                if not alive:
                    return 0
                if cutoff > now - query.window and oldest and oldest[0][1] <= cutoff:
                    # A window longer than the TTL, and members past it not removed yet.
                    return self._count_since(query.key, cutoff)
                return int(reply)
            if isinstance(query, Members):
                return tuple(m.decode() for m, ts in reply if ts > cutoff) if alive else ()
            if not query.members:
                return ()
            return tuple(alive and score is not None and score > cutoff for score in reply)
        if seen is not None:
            seen[self._k(query.key)] = reply or b""
        if reply is None:
            return None
        value = msgspec.json.decode(reply, type=_Value)
        return value.v if value.e > now else None

    def _count_since(self, key: str, cutoff: float) -> int:
        """Members touched after ``cutoff``: a trip of its own, for the rare Distinct whose
        window outlasts its set's TTL while members past the TTL wait for the set's next
        touch (the pipelined count used the window)."""
        try:
            return int(self._redis.zcount(self._k(key), f"({cutoff!r}", "+inf"))
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis read failed: {exc}") from exc

    # -- writes ------------------------------------------------------------------------
    def _commands(self, writes: Sequence[Write], now: float) -> list[tuple[Any, ...]]:
        """Each write as the Redis commands that apply it, in order."""
        out: list[tuple[Any, ...]] = []
        for op in writes:
            key = self._k(op.key)
            if isinstance(op, Incr):
                out.append(("HINCRBYFLOAT", key, str(int(now // op.bucket)), repr(op.amount)))
                out.append(("EXPIRE", key, _seconds(op.ttl)))
            elif isinstance(op, Touch):
                if not op.members:
                    continue
                # GT adds new members and moves existing ones only forward in time.
                out.extend(_zadd(key, ("GT",), op.members, now))
                out.append(("ZREMRANGEBYSCORE", key, "-inf", repr(float(now - op.ttl))))
                out.append(("ZREMRANGEBYRANK", key, 0, -op.cap - 1))
                out.append(("ZADD", self._expiry, "GT", repr(float(now + op.ttl)), key))
                out.append(("HSET", self._ttls, key, repr(float(op.ttl))))
                out.append(("EXPIRE", key, _seconds(op.ttl)))
            elif isinstance(op, Replace):
                out.append(("DEL", key))
                if op.members:
                    out.extend(_zadd(key, (), op.members, now))
                    out.append(("EXPIRE", key, _seconds(op.ttl)))
                out.append(("ZADD", self._expiry, repr(float(now + op.ttl)), key))
                out.append(("HSET", self._ttls, key, repr(float(op.ttl))))
            elif isinstance(op, Remove):
                members = list(op.members)
                out.extend(("ZREM", key, *members[i:i + _CHUNK])
                           for i in range(0, len(members), _CHUNK))
            elif isinstance(op, Put):
                body = b'{"v":' + encode_value(op.value) + b',"e":' + repr(
                    float(now + op.ttl)).encode() + b"}"
                out.append(("SET", key, body, "EX", _seconds(op.ttl)))
            elif isinstance(op, Delete):
                out.append(("DEL", key))
                out.append(("ZREM", self._expiry, key))
                out.append(("HDEL", self._ttls, key))
        return out

    def write(self, writes: Sequence[Write], now: float) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for command in self._commands(writes, now):
            pipe.execute_command(*command)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis write failed: {exc}") from exc

    # -- claims: exactly once per event id across nodes --------------------------------
    def _claim_key(self, event_id: str) -> str:
        return f"{self.ns}claim:{event_id}"

    def claim_read(self, event_id: str, digest: str, queries: Sequence[Query],
                   now: float) -> tuple[Claim, list[Any]]:
        """Claim the event id and read, in one round trip (the reads are wasted if the
        claim is someone else's: reads change nothing)."""
        def queue(pipe: Any) -> list[tuple[Query, Any]]:
            # EVALSHA, not the Script object: in a pipeline that would first ask Redis
            # whether the script exists, one more round trip each time.
            pipe.evalsha(self._claim.sha, 1, self._claim_key(event_id), self.owner, digest,
                         LEASE_MS, _IN_FLIGHT_MS)
            plans = self._queue(pipe, queries, now)
            for key in settling:  # the last batch's claims, at no extra round trip
                pipe.pexpire(key, _SETTLED_MS)
            return plans

        self._seen = {}
        settling, self._unsettled = self._unsettled, []
        try:
            pipe = self._redis.pipeline(transaction=False)
            plans = queue(pipe)
            try:
                replies = iter(pipe.execute())
            except redis.exceptions.NoScriptError:  # a restarted Redis forgot the scripts
                self._claim.sha = self._redis.script_load(_CLAIM)
                pipe = self._redis.pipeline(transaction=False)
                plans = queue(pipe)
                replies = iter(pipe.execute())
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis read failed: {exc}") from exc
        mine, held, outbox = next(replies)
        claim = Claim(bool(mine), held.decode(), bytes(outbox))
        return claim, [self._answer(query, extra, replies, now, self._seen)
                       for query, extra in plans]

    def write_claimed(self, event_id: str, writes: Sequence[Write], now: float,
                      outbox: bytes) -> None:
        """Apply the writes and finish the claim with ``outbox`` in one atomic script, if
        this process still holds the claim and no value it read and rewrites has changed
        since (else ``Contention``: nothing was applied, judge the event again)."""
        commands = self._commands(writes, now)
        rewritten = {c[1] for c in commands if c[0] in ("SET", "DEL")}
        checks = [(k, v) for k, v in self._seen.items() if k in rewritten]
        args: list[Any] = [self.owner, outbox, _FINISHED_MS, len(checks)]
        for key, expected in checks:
            args += [key, expected]
        for command in commands:
            args += [len(command), *command]
        try:
            done = self._commit(keys=[self._claim_key(event_id)], args=args)
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis write failed: {exc}") from exc
        if done == -1:
            raise Contention(f"state read for event {event_id} changed before its write")
        if done != 1:
            raise StateUnavailable(f"the claim on event {event_id} was taken over (this node "
                                   "was too slow); the event is judged elsewhere")

    def settle(self, event_ids: Sequence[str]) -> None:
        """The records of these events are committed: their claims may go soon. Sent with
        the next claimed read (a claim left unsettled expires within the hour anyway)."""
        self._unsettled.extend(self._claim_key(i) for i in event_ids)
        if len(self._unsettled) > _MAX_UNSETTLED:
            keys, self._unsettled = self._unsettled, []
            pipe = self._redis.pipeline(transaction=False)
            for key in keys:
                pipe.pexpire(key, _SETTLED_MS)
            try:
                pipe.execute()
            except redis.RedisError as exc:
                raise StateUnavailable(f"Redis write failed: {exc}") from exc

    def release(self, event_ids: Sequence[str]) -> None:
        """Give up this process's unfinished claims (a failed batch), best effort."""
        keys = [self._claim_key(i) for i in event_ids]
        with contextlib.suppress(redis.RedisError):  # unreachable: the lease runs out instead
            self._redis.eval(_RELEASE, len(keys), *keys, self.owner)

    def ping(self) -> None:
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis is unreachable: {exc}") from exc

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
                pipe.hdel(self._ttls, *stale)
                pipe.execute()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis sweep failed: {exc}") from exc
        return len(stale)

    def close(self) -> None:
        self._redis.close()
