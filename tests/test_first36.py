"""Redis's sided records: a member's *first* time in six bytes where its top two are its
record's base's (session 36's ``sbased``: the heads field's ``\\x02`` and two bytes), exact
for any times; a record of before (no base, every first time eight bytes) reads as written
and gets a base at its next touch, which no member of it reads otherwise."""

from __future__ import annotations

import math
import random
import struct

import pytest

from spimguard import accounts
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Distinct, Members, Query, Touch, Write

NS = "first36:"
SIDES = (accounts.TALKED, accounts.OWNER_WROTE, accounts.RECIPROCATED)
T0 = 1_700_000_000.125


def _top(t: float) -> bytes:
    return struct.pack("<d", t)[6:]


def _reads(key: str, people: list[str]) -> list[Query]:
    return [q for side in SIDES for q in (
        Members(key, side), Distinct(key, 40.0, side), Distinct(key, 4_000.0, side),
        Contains(key, tuple(people), side))]


def test_a_first_time_takes_six_bytes_after_the_records_base(compact: str) -> None:
    """A tie touched once stores its one time in six bytes (7 where 9), its top two the
    record's base's, the heads field's first three bytes; a session's record lodged in the
    ties (``ppack``) keeps a base of its own in its packed heads."""
    import redis

    from spimguard.detectors.takeover import keys
    from spimguard.state.redis import RedisState, _unpacked

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    key = accounts.tie_record("@a:s")
    touch: list[Write] = [Touch(key, ("@b:s", "@c:s"), 3_000.0, 10, accounts.TALKED)]
    state.write(touch, T0)
    model.write(touch, T0)
    assert raw.hget(NS + key, "@b:s") == bytes((0b11,)) + struct.pack("<d", T0)[:6]
    assert raw.hget(NS + key, b"\xff")[:3] == b"\x02" + _top(T0)
    session = keys.lifelong("@a:s", "s1")
    touch = [Touch(session, ("@b:s",), 3_000.0, 10, keys.LIFE)]
    state.write(touch, T0 + 1.0)
    model.write(touch, T0 + 1.0)
    field = next(v for f, v in raw.hgetall(NS + key).items() if f.startswith(b"\xfe"))
    heads, members = _unpacked(field)
    assert heads[:3] == b"\x02" + _top(T0 + 1.0)
    assert members == {b"@b:s": bytes((0b11,)) + struct.pack("<d", T0 + 1.0)[:6]}
    people = ["@b:s", "@c:s", "@d:s"]
    for now in (T0 + 2.0, T0 + 2_999.0, T0 + 3_001.0):
        assert state.read(_reads(key, people), now) == model.read(_reads(key, people), now)
    state.close()


def test_a_record_of_before_reads_as_written_and_takes_a_base_at_its_next_touch(
        compact: str) -> None:
    """A record as session 35 wrote it (no base; each member's first time a double, code
    1) answers as before; its next touch gives it a base and writes the touched member's
    first time in six, the untouched one stays as it was and still answers alike."""
    import redis

    from spimguard.state.redis import RedisState

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    key = accounts.tie_record("@a:s")
    touch: list[Write] = [Touch(key, ("@b:s", "@c:s"), 3_000.0, 10, accounts.TALKED)]
    state.write(touch, T0)
    model.write(touch, T0)
    before = bytes((0b01,)) + struct.pack("<d", T0)
    heads = raw.hget(NS + key, b"\xff")
    raw.hset(NS + key, mapping={b"\xff": heads[3:], "@b:s": before, "@c:s": before})
    people = ["@b:s", "@c:s", "@d:s"]
    assert state.read(_reads(key, people), T0 + 1.0) == model.read(_reads(key, people), T0 + 1.0)
    touch = [Touch(key, ("@b:s",), 3_000.0, 10, accounts.OWNER_WROTE)]
    state.write(touch, T0 + 2.0)
    model.write(touch, T0 + 2.0)
    assert raw.hget(NS + key, b"\xff")[:3] == b"\x02" + _top(T0 + 2.0)
    assert raw.hget(NS + key, "@b:s") == bytes((0b110011,)) + b"".join(
        struct.pack("<d", t)[:6] for t in (T0, T0 + 2.0))
    assert raw.hget(NS + key, "@c:s") == before, "untouched: as it was"
    for now in (T0 + 3.0, T0 + 2_999.0, T0 + 3_001.0):
        assert state.read(_reads(key, people), now) == model.read(_reads(key, people), now)
    state.close()


# Where a time's top two bytes change (2**30 s, 2**31 s, and every 2**26 s between), and
# times near zero, where they change at every power of two.
_EDGES = (2.0 ** 30, 2.0 ** 31, 2.0 ** 30 + 11 * 2.0 ** 26, 4.0)


@pytest.mark.parametrize("edge", _EDGES)
def test_times_either_side_of_the_top_bytes_answer_as_memory(compact: str, edge: float) -> None:
    """Random touches of a few people on every side at fractional times either side of an
    edge where the top two bytes change, with TTLs short enough that whole rewrites (which
    may move the base) come often: every answer is the memory backend's, in the ties and
    a session's record lodged in them; first times of code 3 are written, and some of
    eight bytes (their top two differ from the base)."""
    import redis

    from spimguard.detectors.takeover import keys
    from spimguard.state.redis import RedisState, _base, _unpacked

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    rng = random.Random(int(edge) % 1_000 + 36)
    people = [f"@p{i}:s" for i in range(6)]
    tie, session = accounts.tie_record("@e:s"), keys.lifelong("@e:s", "s1")
    step = max(edge / 2 ** 20, 2.0 ** -20)
    now, codes, bases = edge - 100 * step, {1: 0, 3: 0}, set()
    for _ in range(200):
        now += rng.choice((0.0, step / 64, step / 2, step, 4 * step))
        for key, sides in ((tie, SIDES), (session, (keys.LIFE, keys.PALS))):
            touch: list[Write] = [Touch(key, tuple(rng.sample(people, rng.randint(1, 3))),
                                        rng.choice((3 * step, 40 * step, 1_000.0)), 4,
                                        rng.choice(sides))]
            state.write(touch, now)
            model.write(touch, now)
        reads = _reads(tie, people) + [q for side in (keys.LIFE, keys.PALS) for q in (
            Members(session, side), Contains(session, tuple(people), side))]
        assert state.read(reads, now) == model.read(reads, now), now
        fields = raw.hgetall(NS + tie)
        bases.add(_base(fields[b"\xff"]))
        for name, value in fields.items():
            if name[:1] < b"\xf5":  # a member's (``redis._FIRST_NAMED``)
                codes[next(c for r in range(4) if (c := value[0] >> 2 * r & 3) in (1, 3))] += 1
        packed = next((v for f, v in fields.items() if f.startswith(b"\xfe")), None)
        if packed is not None:
            assert len(_base(_unpacked(packed)[0])) == 2
    assert now > edge
    assert codes[3] and codes[1], codes
    assert len(bases) >= 2 and b"" not in bases, "the base moved across the edge"
    state.close()


def test_any_double_packs_and_reads_back_exactly(compact: str) -> None:
    """The Lua writer (``spacked``) and the Python reader (``_time``) with a base: every
    time's very bits back, first or later, of code 3 or 1, whatever the times (negative,
    zero, fractions, the binade edges, subnormal), and the Lua reader (``stimes``) too."""
    import redis

    from spimguard.state.redis import _HASHED, _time

    raw = redis.Redis.from_url(compact)
    script = raw.register_script(_HASHED + """
local base, n = ARGV[1] ~= '' and ARGV[1] or nil, #ARGV - 1
local t = {}
for r = 1, n do t[r] = ARGV[r + 1] == 'x' and ABSENT or tonumber(ARGV[r + 1]) end
local value = spacked(t, base)
local back = stimes(value, n, base)
for r = 1, n do back[r] = back[r] == ABSENT and 'x' or string.format('%.17g', back[r]) end
return {value, back}
""")
    rng = random.Random(36)
    # (not -0.0 beside 0.0: equal, so code 2 reads it as the time before, as it always has)
    special = [0.0, 0.5, -1.5, 2.0 ** 30, 2.0 ** 30 - 2.0 ** -22, 2.0 ** 31,
               2.0 ** 31 - 2.0 ** -21, -(2.0 ** 31), 5e-324, T0, T0 + 0.1, T0 + 2.0 ** 26]
    sixes = 0
    for _ in range(300):
        times = [rng.choice([*special, math.nan, rng.uniform(2 ** 30, 2 ** 31)])
                 for _ in range(4)]
        times = ["x" if math.isnan(t) else t for t in times]
        if all(t == "x" for t in times):
            continue
        first_time = next(t for t in times if t != "x")
        base = rng.choice([b"", _top(rng.choice(special)), _top(first_time)])
        value, back = script(args=[base, *(t if t == "x" else repr(t) for t in times)])
        for r, t in enumerate(times):
            read = _time(value, r, 4, base)
            assert (read == -math.inf) if t == "x" else (
                struct.pack("<d", read) == struct.pack("<d", t)), (times, base, r)
            assert back[r] == (b"x" if t == "x" else repr(float(t)).encode()) or float(
                back[r]) == t, (times, r)
        first = next(value[0] >> 2 * r & 3 for r in range(4) if value[0] >> 2 * r & 3)
        sixes += first == 3
        assert first in (1, 3) and (first == 3) == (
            base != b"" and _top(first_time) == base)
    assert sixes > 60


def test_a_distinct_read_again_takes_the_base_of_its_own_read(
        redis_url: str, redis_namespace: str) -> None:
    """A Distinct whose members it reads in a trip of its own (``_members_at``) reads them
    with the base that trip finds: a whole rewrite between its two reads may have moved
    it, and the first read's would misread every first time of code 3."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state, key = RedisState(redis_url, ns), accounts.tie_record("@a:s")
    state.write([Touch(key, ("@b:s",), 3_000.0, 10, accounts.TALKED)], T0)
    held = ns + key
    base, members = state._members_at(((held, b""),), (held, b""))
    assert base == _top(T0) and set(members) == {b"@b:s"}
    raw.hset(held, b"\xff", raw.hget(held, b"\xff")[3:])
    raw.hset(held, "@b:s", bytes((0b01,)) + struct.pack("<d", T0))
    assert state._members_at(((held, b""),), (held, b""))[0] == b""
    state.close()


def test_a_first_time_of_code_3_without_a_base_is_refused() -> None:
    """A value no writer makes (a first time of code 3 in a record with no base: a node of
    another release wrote the heads) fails loudly, never reads as some other time."""
    from spimguard.errors import StateUnavailable
    from spimguard.state.redis import _time

    value = bytes((0b11,)) + struct.pack("<d", T0)[:6]
    assert _time(value, 0, 4, _top(T0)) == T0
    with pytest.raises(StateUnavailable):
        _time(value, 0, 4)


def test_a_store_of_before_is_marked_and_a_node_of_before_refuses_it(
        redis_url: str, redis_namespace: str) -> None:
    """The store's record of a keyspace's declared TTLs (session 35's, the doubles alone)
    gets the byte that says its records may hold bases when a node of this release opens
    it; session 35's check of that value (``sided.check_ttls`` on the value as it is)
    refuses it loudly rather than read the bases as heads."""
    import redis

    from spimguard.state import ops, sided
    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    ties = ops.space_of(accounts.tie_record("@a:s"))
    name = f"{ns}sided-ttls:{ties.prefix}"
    raw.set(name, sided.packed_ttls(ties.ttls))
    RedisState(redis_url, ns).close()
    assert raw.get(name) == sided.packed_ttls(ties.ttls) + b"\x02\x03\x04"  # (and 37's, 38's)
    RedisState(redis_url, ns).close()  # opened again: as it is
    assert raw.get(name) == sided.packed_ttls(ties.ttls) + b"\x02\x03\x04"  # (and session 38's)
    with pytest.raises(ValueError):
        sided.check_ttls(ties.prefix, ties.ttls, raw.get(name), "Redis store")
