"""Redis's sided records: a member's later time whose top two bytes are the time before's
is stored in its low six (``redis._time``'s code 3), exactly, in records of at most four
places; wider records, and times across a change of those bytes, keep eight (session 35)."""

from __future__ import annotations

import random
import struct

from spimguard import accounts
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Distinct, Members, Query, Touch, sided_keyspace

NS = "guests35:"
SIDES = (accounts.TALKED, accounts.OWNER_WROTE, accounts.RECIPROCATED)
# Five places: its members' codes take two bytes, so its times keep eight bytes each.
_WIDE_SIDES = tuple(f"g35-w{i}" for i in range(5))
_WIDE = sided_keyspace("guests35-wide:", dict.fromkeys(_WIDE_SIDES, ""))
# Where a time's top two bytes change: the exponent at 2**30 s (2004), and the mantissa's
# top four bits every 2**26 s (~777 days) above it.
_EDGES = (2.0 ** 30, 2.0 ** 30 + 11 * 2.0 ** 26)


def _top(t: float) -> bytes:
    return struct.pack("<d", t)[6:]


def _reads(key: str, sides: tuple[str, ...], people: list[str]) -> list[Query]:
    return [q for side in sides for q in (
        Members(key, side), Distinct(key, 40.0, side), Distinct(key, 4_000.0, side),
        Contains(key, tuple(people), side))]


def test_a_later_time_of_the_same_top_two_bytes_takes_six(compact: str) -> None:
    """A tie touched on its three sides at three times stores its first in eight bytes and
    the two after in six (21 bytes where 25), and answers as the memory backend does."""
    import redis

    from spimguard.state.redis import RedisState

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    key, t0 = accounts.tie_record("@a:s"), 1_700_000_000.125
    for i, side in enumerate(SIDES):
        touch = [Touch(key, ("@b:s",), 3_000.0, 10, side)]
        state.write(touch, t0 + 1.5 * i)
        model.write(touch, t0 + 1.5 * i)
    value = raw.hget(NS + key, "@b:s")
    # Session 36's: the first in six too, its top two bytes the record's base's (``sbased``).
    assert value == bytes((0b11110011,)) + b"".join(
        struct.pack("<d", t0 + 1.5 * i)[:6] for i in (0, 1, 2))
    assert len(value) == 19
    reads = _reads(key, SIDES, ["@b:s", "@c:s"])
    for now in (t0 + 4.0, t0 + 100.0, t0 + 2_999.0, t0 + 3_001.0):
        assert state.read(reads, now) == model.read(reads, now), now
    state.close()


def test_times_across_their_top_bytes_change_and_wide_records_keep_eight(compact: str) -> None:
    """Around each edge where a time's top two bytes change, a time whose top two differ
    from the time before's is stored in eight bytes, one whose match in six; a record of
    five places keeps eight for every time. Random touches of a few people on every side,
    at fractional times either side of the edges, answer as the memory backend does, in a
    session's record lodged in the ties too."""
    import redis

    from spimguard.detectors.takeover import keys
    from spimguard.state.redis import RedisState

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    rng = random.Random(35)
    people = [f"@p{i}:s" for i in range(6)]
    sessions = (keys.LIFE, keys.PALS)
    for edge in _EDGES:
        tie, wide = accounts.tie_record(f"@e{edge}:s"), f"{_WIDE}e{edge}"
        session = keys.lifelong(f"@e{edge}:s", "s1")
        now = edge - 400.0
        for _ in range(150):
            now += rng.choice((0.0, 2.0 ** -20, 0.5, 3.25, 17.0))
            for key, sides in ((tie, SIDES), (wide, _WIDE_SIDES), (session, sessions)):
                touch = [Touch(key, tuple(rng.sample(people, rng.randint(1, 3))),
                               rng.choice((60.0, 300.0, 1_000.0)), 4, rng.choice(sides))]
                state.write(touch, now)
                model.write(touch, now)
            for key, sides in ((tie, SIDES), (wide, _WIDE_SIDES), (session, sessions)):
                reads = _reads(key, sides, people)
                assert state.read(reads, now) == model.read(reads, now), (edge, now, key)
        assert now > edge + 100.0
        sizes = {len(v) % 8 for f, v in raw.hgetall(NS + wide).items() if f[:1] != b"\xff"}
        assert sizes <= {2}, "two code bytes, then times of eight bytes each"
    # A tie's times either side of an edge: eight bytes for the second, whose top differs.
    edge, key = _EDGES[0], accounts.tie_record("@x:s")
    assert _top(edge - 0.5) != _top(edge) == _top(edge + 0.25)
    for side, at in zip(SIDES, (edge - 0.5, edge + 0.25, edge + 0.75), strict=True):
        state.write([Touch(key, ("@b:s",), 3_000.0, 10, side)], at)
    # (the first in six since session 36: the record's base is its first touch's top two)
    assert raw.hget(NS + key, "@b:s") == bytes((0b11010011,)) + struct.pack(
        "<d", edge - 0.5)[:6] + struct.pack("<d", edge + 0.25) + struct.pack(
        "<d", edge + 0.75)[:6]
    state.close()


def test_a_value_of_the_previous_release_is_read_and_packed_at_its_next_touch(
        compact: str) -> None:
    """A member's value as the previous release wrote it (each distinct time a double
    after its code byte, code 1) answers as before; its member's next touch rewrites it
    with the later times in six bytes, and the answers stay the memory backend's."""
    import redis

    from spimguard.state.redis import RedisState

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    key, t0 = accounts.tie_record("@a:s"), 1_700_000_000.0
    times = (t0, t0 + 2.5, t0 + 7.75)
    for side, at in zip(SIDES, times, strict=True):
        touch = [Touch(key, ("@b:s", "@c:s"), 3_000.0, 10, side)]
        state.write(touch, at)
        model.write(touch, at)
    # The previous release's value of each: TALKED place 0, OWNER_WROTE 2, RECIPROCATED 3.
    previous = bytes((0b01010001,)) + struct.pack("<ddd", *times)
    raw.hset(NS + key, mapping={"@b:s": previous, "@c:s": previous})
    reads = _reads(key, SIDES, ["@b:s", "@c:s", "@d:s"])
    assert state.read(reads, t0 + 8.0) == model.read(reads, t0 + 8.0)
    touch = [Touch(key, ("@b:s",), 3_000.0, 10, accounts.TALKED)]
    state.write(touch, t0 + 9.0)
    model.write(touch, t0 + 9.0)
    assert raw.hget(NS + key, "@b:s") == bytes((0b11110011,)) + b"".join(
        struct.pack("<d", t)[:6] for t in (t0 + 9.0, *times[1:]))
    assert raw.hget(NS + key, "@c:s") == previous, "untouched: as it was"
    assert state.read(reads, t0 + 10.0) == model.read(reads, t0 + 10.0)
    state.close()
