"""Session 35 (``review35c``): Redis's derived heads (``redisheads35``, ``stouched``) attacked
where the load's keyspaces cannot reach: a host keyspace and the guests lodged in it whose
records keep retired places (``ops.Sided.retired``) and whose sides declare different TTLs,
so that a side's declared TTL read by its slot instead of its index, or a guest's spec
(``spurge``) shifted by a retired place, would answer wrongly. Memory, SQLite (reopened)
and Redis (a new ``RedisState`` now and then) answer every read as plain sets do, at the
instants a derived side ends (its newest member's time plus its declared TTL, one ulp
either side), after late touches up to ``MAX_LATENESS``, touches with other TTLs then the
declared one, caps of one and Deletes, at times either side of 2**30 and 2**31 s."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from sided_diff import renewed, written
from spimguard.db import connect
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    MAX_LATENESS,
    Contains,
    Delete,
    Distinct,
    Members,
    Touch,
    Write,
    guest_key,
    guest_keyspace,
    sided_keyspace,
)
from spimguard.state.sqlite import SQLiteState

# Places 0 and 2 retired: the live sides sit at slots 1, 3 and 4, each its own TTL.
_HOST_SIDES = ("r35c-h-one", "r35c-h-two", "r35c-h-three")
_HOST_TTLS = dict(zip(_HOST_SIDES, (100.0, 200.0, 300.0), strict=True))
_HOST = sided_keyspace("review35c-host:", dict.fromkeys(_HOST_SIDES, ""), retired=(0, 2),
                       ttls=_HOST_TTLS)
# Lodged in the host's records; place 1 retired: its live sides at slots 0 and 2. Their TTLs
# pass ``MAX_LATENESS``, so a guest purged early (``spurge``, at a host's whole rewrite)
# would answer empty where it is live.
_GUEST_SIDES = ("r35c-g-one", "r35c-g-two")
_GUEST_TTLS = dict(zip(_GUEST_SIDES, (4_000.0, 8_000.0), strict=True))
_GUEST = guest_keyspace(
    sided_keyspace("review35c-guest:", dict.fromkeys(_GUEST_SIDES, ""), retired=(1,),
                   ttls=_GUEST_TTLS), _HOST)
_TTLS = {**_HOST_TTLS, **_GUEST_TTLS}  # each side's declared TTL
_DECLARED = (100.0, 200.0, 300.0, 4_000.0, 8_000.0)
_RECORDS = ((_HOST + "a", _HOST_SIDES), (guest_key(_GUEST, "a", "s1"), _GUEST_SIDES),
            (guest_key(_GUEST, "a", "s\u00ff"), _GUEST_SIDES), (_HOST + "b", _HOST_SIDES))
_PEOPLE = ("p0", "p1", "p2", "p3", "\u00ff", "", "x" * 300)
# 2**30 s and 2**31 s: where a time plus a TTL crosses a binade (``sided._ends_with``).
_STARTS = (1_700_000_000.0, 2.0 ** 30 - 250.0, 2.0 ** 31 - 150.0, 2.0 ** 31 + 2.0 ** 27)


def _derived_heads(raw: object, ns: str) -> int:
    """How many sides of the host's records, guests' included, hold a derived head
    (5, 8 or 12 bytes: ``stouched``)."""
    from spimguard.state.redis import _side_head, _unpacked

    seen = 0
    for key in (_HOST + "a", _HOST + "b"):
        fields = raw.hgetall(ns + key)  # type: ignore[attr-defined]
        heads = [fields.get(b"\xff")]
        for name, value in fields.items():
            if name[:1] == b"\xfe":  # a guest: packed (``ppack``), or its fields
                heads.append(_unpacked(value)[0])
            elif name.startswith(b"\xff\xfe") and name.endswith(b":\xff"):
                heads.append(value)
        for held in heads:
            for slot in range(5):
                seen += len(_side_head(held, slot) or b"") in (5, 8, 12)
    return seen


@pytest.mark.parametrize("server", ["redis_url", "compact"])
@pytest.mark.parametrize("seed", [3, 11])
def test_derived_heads_at_retired_places_and_different_ttls_answer_as_plain_sets(
        request: pytest.FixtureRequest, server: str, seed: int, tmp_path: Path,
        redis_namespace: str) -> None:
    """A random log (its seed's) of touches of a host's records and of two guests lodged
    in them: every read of every side by memory, SQLite and Redis equals plain sets', and
    Redis held derived heads at retired-shifted places (so those are what is checked)."""
    import redis

    from spimguard.state.redis import RedisState

    url, ns = request.getfixturevalue(server), redis_namespace
    raw = redis.Redis.from_url(url)
    rng = random.Random(seed)
    mem, model = MemoryState(), MemoryState()
    sq, rd = SQLiteState(connect(tmp_path / "s.db")), RedisState(url, ns)
    now = swept = newest = rng.choice(_STARTS)
    derived = 0
    try:
        for step in range(360):
            jump = rng.choice((0.0, 0.5, 1.0, 7.0, 30.0, 90.0, 1e-6, -40.0)) * rng.choice((1, 10))
            if rng.random() < 0.08:  # to a side's end, or just short of or past it
                jump = rng.choice(_DECLARED) + rng.choice((-1e-6, 0.0, 1e-6, -1.0))
            if rng.random() < 0.08:  # late, as far as an event may be
                jump = -rng.choice((MAX_LATENESS, 1800.0, 150.0))
            now = max(now + jump, swept, newest - MAX_LATENESS)
            newest = max(newest, now)
            key, sides = rng.choice(_RECORDS)
            side = rng.choice(sides)
            writes: list[Write]
            if rng.random() < 0.9:
                members = tuple(rng.sample(_PEOPLE, rng.choice((1, 1, 2, 3))))
                ttl = _TTLS[side] if rng.random() < 0.8 else rng.choice((60.0, 500.0, 100.5))
                cap = rng.choice((1, 2, 10))
                writes = [Touch(key, members, ttl, cap, side)]
                plain: list[Write] = [Touch(f"plain:{key}/{side}", members, ttl, cap)]
            else:
                writes, plain = [Delete(key)], [Delete(f"plain:{key}/{s}") for s in sides]
            if written(rng, (mem, sq, rd), model, writes, plain, now):
                swept = now
            sq, rd = renewed(rng, sq, rd, 0.05, tmp_path / "s.db", url, ns)
            later = now + rng.choice((0.0, 20.0, 99.0, 1e-6))
            if rng.random() < 0.4:  # where a side's end is, by its newest member
                end = newest + rng.choice(_DECLARED)
                later = max(now, rng.choice((end, math.nextafter(end, 0.0),
                                             math.nextafter(end, math.inf))))
            asked = tuple(rng.sample(_PEOPLE, 3))
            window = rng.choice((10.0, 120.0, 1e12))
            for other, other_sides in _RECORDS:
                for s in other_sides:
                    queries = [Contains(other, asked, s), Distinct(other, window, s),
                               Members(other, s)]
                    p = f"plain:{other}/{s}"
                    expected = model.read([Contains(p, asked), Distinct(p, window), Members(p)],
                                          later)
                    got = [state.read(queries, later) for state in (mem, sq, rd)]
                    assert got == [expected] * 3, (step, other, s, now, later)
            derived = max(derived, _derived_heads(raw, ns))
    finally:
        sq.close()
        rd.close()
    assert derived >= 3
