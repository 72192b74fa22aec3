"""Shared hot state in Redis, for many spimguard processes on many machines.

Every primitive is a Redis command, and one call of ``read`` or ``write`` is one
pipelined round trip, whatever the number of queries or writes.

==========  =========================================================================
primitive   layout
==========  =========================================================================
counter     a hash, one field per bucket (HINCRBYFLOAT); read with HMGET of the window
member set  a sorted set, member -> last event time (ZADD GT), with two marker members
            of its own: ``\\xff`` scored with its event-time expiry (always the highest
            score) and ``\\xfe`` with minus its TTL (the lowest: event times are never
            negative, ``events.parse_ts``), so a set past its TTL reads as empty in event
            time and a member past the TTL reads as gone before the next touch removes
            it, as in the other backends. Markers are not UTF-8, so no member (a ``str``)
            can be one; one ZMSCORE answers a Contains with its expiry and TTL
value       a string holding {"v": value, "e": event-time expiry}
==========  =========================================================================

Time is event time, as everywhere; Redis's own EXPIRE is set too, in wall-clock
seconds from now (the TTL plus an hour's slack, so a node running behind event time
never loses a key early), only as a safety net that frees memory. Redis keeps hot state:
what must never be lost (the verdict log, reports, campaigns) is in the record
store, so a Redis restart costs recent counters, not data.

A set's expiry and TTL were once a field each of two shared structures (an expiry
index sorted set and a TTL hash): ~245 bytes a set, more than its markers' ~45, and
two more commands a query. A set past its event-time expiry now waits for Redis's own
EXPIRE (an hour past it) instead of the index's sweep, reading as empty meanwhile.
Stores in that layout are converted when opened (``_convert_indexed``).
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
# A member set's own markers (never UTF-8, so never a member's name): its expiry and TTL.
_EXPIRES, _TTL = b"\xff", b"\xfe"


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
# The earlier layout's sets, converted (``RedisState._convert_indexed``).
_CONVERT = """
for i, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'zset' then
    redis.call('ZADD', key, 'GT', ARGV[2 * i - 1], '\\255')
    redis.call('ZADD', key, 'NX', ARGV[2 * i], '\\254')
  end
end
return 1
"""
_CONVERT_CHUNK = 1_000
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


def _zadd(key: str, flags: tuple[str, ...], members: Sequence[str], now: float,
          marks: tuple[tuple[float, bytes], ...]) -> list[tuple[Any, ...]]:
    """ZADD of every member at ``now``, and of the set's markers at their scores (so they
    are there before a cap counts ranks), in chunks a Lua script can unpack."""
    stamp, unique = repr(float(now)), list(dict.fromkeys(members))
    head = [x for score, mark in marks for x in (repr(float(score)), mark)]
    return [("ZADD", key, *flags, *(head if i == 0 else ()),
             *(x for m in unique[i:i + _CHUNK] for x in (stamp, m)))
            for i in range(0, max(len(unique), 1), _CHUNK)]


def _after(since: float) -> str:
    """ZCOUNT's lower bound for the members touched after ``since``: never the TTL marker
    (below every event time), so a count less one, the expiry marker, is the members'."""
    return f"({since!r}" if since >= 0 else "0"


def _trimmed(key: str, ttl: float, cap: int, cutoff: float) -> list[tuple[Any, ...]]:
    """After a touch added its members and moved the expiry: the TTL marker set (it may
    move down, so not in the touch's ZADD GT), then the members at or before ``cutoff``,
    then the stalest beyond ``cap`` dropped (ranks 1 to -cap-2: all but the markers')."""
    floor = repr(-float(ttl))
    return [("ZADD", key, floor, _TTL),
            ("ZREMRANGEBYSCORE", key, f"({floor}", repr(float(cutoff))),
            ("ZREMRANGEBYRANK", key, 1, -cap - 2)]


class RedisState:
    def __init__(self, url: str = "redis://127.0.0.1:6379/0", namespace: str = "spimguard:",
                 client: redis.Redis | None = None) -> None:
        self.ns = namespace
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
        self._convert_indexed()

    def _k(self, key: str) -> str:
        return self.ns + key

    def _convert_indexed(self) -> None:
        """Give the member sets of the earlier layout (expiry in ``<ns>expiry``, TTL in
        ``<ns>ttl``) their markers, a chunk at a time, each chunk then struck from both:
        resumable, and safe beside nodes already writing markers (the expiry only moves
        forward, a TTL marker already there stays). A set without a TTL field predates
        it: nothing in it is past a TTL (``-inf``), as before."""
        index, ttls = f"{self.ns}expiry", f"{self.ns}ttl"
        convert = self._redis.register_script(_CONVERT)
        try:
            while chunk := self._redis.zrange(index, 0, _CONVERT_CHUNK - 1, withscores=True):
                keys = [key for key, _ in chunk]
                floors = [b"-inf" if ttl is None else repr(-float(ttl)).encode()
                          for ttl in self._redis.hmget(ttls, keys)]
                convert(keys=keys, args=[x for (_, expiry), floor in zip(
                    chunk, floors, strict=True) for x in (repr(expiry), floor)])
                self._redis.zrem(index, *keys)
                self._redis.hdel(ttls, *keys)
            self._redis.delete(ttls)
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot convert the member sets' layout: {exc}") from exc

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
                pipe.zcount(key, _after(now - query.window), "+inf")
                pipe.zrange(key, 1, 1, withscores=True)  # the oldest: is any past the TTL?
                pipe.zmscore(key, [_EXPIRES, _TTL])
                plans.append((query, None))
            elif isinstance(query, Contains):
                pipe.zmscore(key, [_EXPIRES, _TTL, *query.members])
                plans.append((query, None))
            elif isinstance(query, Members):
                pipe.zrange(key, 0, -1, withscores=True)
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
            if isinstance(query, Members):
                marks = dict(reply)
                expiry, ttl = marks.get(_EXPIRES), marks.get(_TTL)
            elif isinstance(query, Contains):
                expiry, ttl, *reply = reply
            else:
                oldest, (expiry, ttl) = next(replies), next(replies)
            if expiry is None or expiry <= now:  # past its event-time expiry, or none
                if isinstance(query, Distinct):
                    return 0
                return (False,) * len(reply) if isinstance(query, Contains) else ()
            # Members touched at or before the cutoff are past the set's TTL: gone in
            # event time, whether or not a touch has removed them yet.
            # The TTL marker holds minus the TTL (none yet: a pipeline half applied).
            cutoff = now + ttl if ttl is not None else -math.inf
            if isinstance(query, Distinct):
                if cutoff > now - query.window and oldest and oldest[0][1] <= cutoff:
                    # A window longer than the TTL, and members past it not removed yet.
                    return self._count_since(query.key, cutoff)
                return int(reply) - 1  # the expiry marker is in every window
            if isinstance(query, Members):
                return tuple(m.decode() for m, ts in reply
                             if ts > cutoff and m not in (_EXPIRES, _TTL))
            return tuple(score is not None and score > cutoff for score in reply)
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
            return int(self._redis.zcount(self._k(key), _after(cutoff), "+inf")) - 1
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
                # GT adds new members and moves existing ones (and the expiry) only forward.
                out.extend(_zadd(key, ("GT",), op.members, now, ((now + op.ttl, _EXPIRES),)))
                out.extend(_trimmed(key, op.ttl, op.cap, now - op.ttl))
                out.append(("EXPIRE", key, _seconds(op.ttl)))
            elif isinstance(op, Replace):
                out.append(("DEL", key))
                out.extend(_zadd(key, (), op.members, now,
                                 ((now + op.ttl, _EXPIRES), (-op.ttl, _TTL))))
                out.append(("EXPIRE", key, _seconds(op.ttl)))
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
        """Nothing to drop: what is past its event-time expiry reads as gone and Redis's
        own EXPIRE frees it; caps are kept at each touch."""
        return 0

    def close(self) -> None:
        self._redis.close()
