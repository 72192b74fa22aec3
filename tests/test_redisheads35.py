"""Session 35 (``redisheads35``): in Redis too, a sided record's side holds no expiry nor
TTL where its members and its keyspace's declared TTL give them (``stouched``: its head
its count and oldest, 8 bytes where 20; 5 since session 37), every answer the memory
backend's; a head of the earlier layout is rewritten so at its next touch; a dead guest
whose heads are derived is purged as one whose heads hold its expiry."""

from __future__ import annotations

import random
import struct
import sys

import pytest

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.detectors.takeover.settings import TakeoverSettings
from spimguard.state import ops
from spimguard.state.conformance import GUEST, GUEST_SIDES, SIDED, SIDES, T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Delete, Distinct, Members, Query, Touch, Write


def _heads(raw: object, ns: str, key: str) -> bytes | None:
    """A record's heads field wherever Redis keeps it: its own hash's, or (a guest's) its
    packed field in its host's, or its fields there behind its prefix."""
    from spimguard.state.redis import _guest_field, _guest_prefix, _unpacked

    client = raw  # redis.Redis
    own = client.hget(ns + key, b"\xff")  # type: ignore[attr-defined]
    if own is not None or (place := ops.guest_of(key)) is None:
        return own  # type: ignore[no-any-return]
    host, name = place
    pre = _guest_prefix(name)
    packed = client.hget(ns + host, _guest_field(pre))  # type: ignore[attr-defined]
    if packed is not None:
        return _unpacked(packed)[0]
    return client.hget(ns + host, pre + b"\xff")  # type: ignore[attr-defined,no-any-return]


def _lengths(heads: bytes | None, sides: int) -> list[int]:
    from spimguard.state.redis import _side_head

    return [len(_side_head(heads, side) or b"") for side in range(sides)]


def test_ties_and_a_sessions_record_touched_as_the_load_does_hold_8_byte_heads(
        redis_url: str, redis_namespace: str) -> None:
    """The ties' three sides touched with ``TALKED_TTL`` and a session's two with the
    default ``session_ttl``, as the engine and the takeover detector touch them: each
    side's head is its count and oldest (8 bytes, 5 since session 37, where 20 held its
    expiry and TTL too), and every answer is the memory backend's, also past the TTL."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state, model = RedisState(redis_url, ns), MemoryState()
    ties, life = accounts.tie_record("@a:s"), keys.lifelong("@a:s", "dev1")
    talked, session = accounts.TALKED_TTL, float(TakeoverSettings().session_ttl)
    for at, people in enumerate((("@b:s", "@c:s"), ("@b:s",), ("@d:s",))):
        writes: list[Write] = [
            Touch(ties, people, talked, accounts.TALKED_CAP, accounts.TALKED),
            Touch(ties, people[:1], talked, 3, accounts.RECIPROCATED),
            Touch(ties, people, talked, accounts.TALKED_CAP, accounts.OWNER_WROTE),
            Touch(life, people, session, 5_000, keys.LIFE),
            Touch(life, people[:1], session, 5_000, keys.PALS)]
        state.write(writes, T0 + 60.0 * at)
        model.write(writes, T0 + 60.0 * at)
    side_of = ops.slot_of
    assert [_lengths(_heads(raw, ns, ties), 4)[side_of(ties, s)[0]]
            for s in (accounts.TALKED, accounts.RECIPROCATED, accounts.OWNER_WROTE)] == [5] * 3
    assert _lengths(_heads(raw, ns, life), 2) == [5, 5]
    for later in (T0 + 150.0, T0 + 60.0 + session, T0 + 120.0 + session, T0 + talked + 90.0):
        asked: list[Query] = [q for key, side in (
            (ties, accounts.TALKED), (ties, accounts.RECIPROCATED), (life, keys.LIFE),
            (life, keys.PALS)) for q in (
            Members(key, side), Distinct(key, 100.0, side), Distinct(key, 1e9, side),
            Contains(key, ("@b:s", "@c:s", "@d:s"), side))]
        assert state.read(asked, later) == model.read(asked, later), later
    state.close()


@pytest.mark.parametrize("server", ["redis_url", "compact"])
def test_redis_answers_as_memory_with_heads_derived_and_held(
        server: str, redis_namespace: str, request: pytest.FixtureRequest) -> None:
    """Random touches of a record's sides and of a guest lodged in it (the declared TTL
    mostly, others, late ones, caps of one, Deletes, the memory backend swept at the
    horizon) answer in Redis as in memory, on a server that lodges a guest field a member
    (``redis_url``: the default listpack value) and one that packs it (``compact``);
    and the records hold derived heads most of the time (the declared TTL's touches)."""
    import redis

    from spimguard.state.redis import RedisState

    url = request.getfixturevalue(server)
    raw, ns = redis.Redis.from_url(url), redis_namespace
    state, model = RedisState(url, ns), MemoryState()
    rng = random.Random(3535)
    people = [sys.intern(f"p{i}") for i in range(10)]
    host = SIDED + "h"
    guest = ops.guest_key(GUEST, "h", "g1")
    spaces = ((host, SIDES, ops.sided_space(SIDED).ttls),
              (guest, GUEST_SIDES, ops.sided_space(GUEST).ttls))
    now = newest = T0
    derived = held = 0
    for step in range(700):
        now = max(now + rng.choice([0.0, 5.0, 40.0, 150.0, -30.0, -300.0]), newest - 3_000.0)
        newest = max(newest, now)
        key, sides, ttls = rng.choice(spaces)
        side = rng.randrange(len(sides))
        roll = rng.random()
        writes: list[Write] = []
        if roll < 0.9:
            fresh = tuple(rng.sample(people, rng.choice([1, 1, 2, 4])))
            ttl = rng.choice([ttls[side] or 150.0, ttls[side] or 150.0, 60.0, 500.0])
            writes = [Touch(key, fresh, ttl, rng.choice([1, 2, 8, 8]), sides[side])]
        elif roll < 0.92:
            writes = [Delete(key)]
        state.write(writes, now)
        model.write(writes, now)
        if rng.random() < 0.05:
            model.sweep(ops.sweep_horizon(newest))
        later = now + rng.choice([0.0, 20.0, 120.0, 600.0])
        asked: list[Query] = [q for k, ss, _ in spaces for s in ss for q in (
            Members(k, s), Distinct(k, 50.0, s), Distinct(k, 1e6, s),
            Contains(k, tuple(people[:4]), s))]
        assert state.read(asked, later) == model.read(asked, later), step
        for k, ss, tt in spaces:
            for r, length in enumerate(_lengths(_heads(raw, ns, k), len(ss))):
                if tt[r]:
                    derived += length == 5  # (8 before session 37)
                    held += length == 20
    assert derived > 300 and held > 30, (derived, held)
    state.close()


def test_a_head_of_the_earlier_layout_is_derived_at_its_next_touch(
        redis_url: str, redis_namespace: str) -> None:
    """A record as the earlier release wrote it (each side's head its expiry, TTL, count
    and oldest: 20 bytes) answers as it did; a touch of it with the declared TTL reads
    the record whole once and leaves the derived head (5 bytes); one with another TTL keeps 20."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state, model = RedisState(redis_url, ns), MemoryState()
    one, two, _ = SIDES
    ttls = ops.sided_space(SIDED).ttls
    key = SIDED + "old"
    first: list[Write] = [Touch(key, ("a", "b"), ttls[0], 10, one),
                          Touch(key, ("b", "c"), ttls[1], 10, two)]
    state.write(first, T0)
    model.write(first, T0)
    # The earlier layout: both heads with their expiry, TTL, count and oldest (whole
    # seconds before the expiry), as the earlier release wrote these touches.
    earlier = b"".join(bytes((20,)) + struct.pack("<dIII", T0 + ttl, int(ttl), 2, int(ttl))
                       for ttl in (ttls[0], ttls[1]))
    # (after the base its members' first times were written with: session 36's ``sbased``)
    raw.hset(ns + key, b"\xff", raw.hget(ns + key, b"\xff")[:3] + earlier)
    assert _lengths(_heads(raw, ns, key), 3)[:2] == [20, 20]
    again: list[Write] = [Touch(key, ("a",), ttls[0], 10, one)]
    state.write(again, T0 + 5.0)
    model.write(again, T0 + 5.0)
    assert _lengths(_heads(raw, ns, key), 3)[:2] == [5, 20]
    asked: list[Query] = [q for s in (one, two) for q in (
        Members(key, s), Distinct(key, 30.0, s), Contains(key, ("a", "b", "c"), s))]
    assert state.read(asked, T0 + 10.0) == model.read(asked, T0 + 10.0)
    later: list[Write] = [Touch(key, ("c",), ttls[1], 10, two)]
    state.write(later, T0 + 20.0)
    model.write(later, T0 + 20.0)
    assert _lengths(_heads(raw, ns, key), 3)[:2] == [5, 5]
    other: list[Write] = [Touch(key, ("d",), 900.0, 10, two)]
    state.write(other, T0 + 30.0)
    model.write(other, T0 + 30.0)
    assert _lengths(_heads(raw, ns, key), 3)[:2] == [5, 20], "another TTL: held"
    for at in (T0 + 40.0, T0 + 150.0, T0 + 700.0, T0 + 1_000.0):
        assert state.read(asked, at) == model.read(asked, at), at
    state.close()


def test_a_dead_guest_of_derived_heads_is_purged_and_a_live_one_kept(
        compact: str, redis_namespace: str) -> None:
    """A guest's derived heads hold no expiry: the host's whole rewrite reads it from the
    guest's members (``spurge``), deleting the guest dead past the lateness and keeping
    the one still live."""
    import redis

    from spimguard.state.redis import RedisState, _guest_field, _guest_prefix

    raw, ns = redis.Redis.from_url(compact), redis_namespace
    state, model = RedisState(compact, ns), MemoryState()
    one = GUEST_SIDES[0]
    ttl = ops.sided_space(GUEST).ttls[0]
    host = SIDED + "p"
    dead, live = ops.guest_key(GUEST, "p", "dead"), ops.guest_key(GUEST, "p", "live")
    # Both guests enter at once: a guest entering lets the host's dead go first
    # (``gentering``, review36b), so the live one's later touch is not an entry.
    writes: list[Write] = [Touch(dead, ("x",), ttl, 10, one), Touch(live, ("z",), 1.0, 10, one),
                           Touch(host, ("a",), 50.0, 1, SIDES[0])]
    state.write(writes, T0)
    model.write(writes, T0)
    late = T0 + ttl + ops.MAX_LATENESS + 10.0
    touch: list[Write] = [Touch(live, ("y",), ttl, 10, one)]
    state.write(touch, late - 5.0)
    model.write(touch, late - 5.0)
    assert _lengths(_heads(raw, ns, dead), 2) == [5, 0]
    assert _lengths(_heads(raw, ns, live), 2) == [5, 0]
    # The host's side past its cap: its whole rewrite, which purges the dead guest.
    whole: list[Write] = [Touch(host, ("b",), 50.0, 1, SIDES[0])]
    state.write(whole, late)
    model.write(whole, late)
    assert not raw.hexists(ns + host, _guest_field(_guest_prefix("dead"))), "the dead went"
    assert raw.hexists(ns + host, _guest_field(_guest_prefix("live"))), "the live one stays"
    asked: list[Query] = [Members(live, one), Members(dead, one)]
    assert state.read(asked, late) == model.read(asked, late) == [("y",), ()]
    state.close()


def test_redis_refuses_a_store_of_other_declared_ttls(
        redis_url: str, redis_namespace: str) -> None:
    """A derived head holds no TTL, so the store records each sided keyspace's declared
    TTLs when first opened, and a node declaring others refuses it (as SQLite a file)."""
    import redis

    from spimguard.errors import StateUnavailable
    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    RedisState(redis_url, ns).close()
    name = f"{ns}sided-ttls:{SIDED}"
    # (and since session 36 a byte past them: its records may hold bases, ``_BASES``; since
    # session 37 another, ``_NAMES``: its hosts' fields of one byte)
    assert raw.get(name) == struct.pack("<3d", *ops.sided_space(SIDED).ttls) + b"\x02\x03\x04"
    raw.set(name, struct.pack("<3d", 90.0, 200.0, 0.0))
    with pytest.raises(StateUnavailable, match="declares the TTLs"):
        RedisState(redis_url, ns)
