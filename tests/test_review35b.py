"""Session 35's review (``review35b``): the stored layouts of ``heads35`` (a side's head
held only where not derived), ``guests35`` (Redis: a time's low six bytes, code 3) and
``record35`` (the takeover record's v5) attacked with the input an attacker controls.

A log of touches (crafted member and session names, a 300-character name, late events
within the lateness, TTLs other than the declared, caps of one, deletes, sweeps) at times
either side of the edges where a double's top two bytes change, applied to the memory
backend, to SQLite with its file closed and reopened and to Redis with a new
``RedisState`` on the same namespace: every answer must be every other backend's and a
plain set's. The forms under attack must be the ones written, or the check proves nothing:
SQLite's rows are all layout 3 and some hold no head; some Redis value holds a code-3
time."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from sided_diff import renewed, written
from spimguard import accounts
from spimguard.db import connect
from spimguard.detectors.takeover import keys
from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.settings import TakeoverSettings
from spimguard.state.conformance import GUEST, GUEST_SIDES, SIDED, SIDES
from spimguard.state.memory import MemoryState
from spimguard.state.ops import MAX_LATENESS, Contains, Delete, Distinct, Members, Query, Touch
from spimguard.state.ops import Write as StateWrite
from spimguard.state.redis import RedisState
from spimguard.state.sqlite import SQLiteState

_SESSION_TTL = float(TakeoverSettings().session_ttl)
_TIES = (accounts.TALKED, accounts.OWNER_WROTE, accounts.RECIPROCATED)
# Each record with its sides and the TTLs its touches name: the declared first (no head
# held), then others (a head held, the slow path).
_RECORDS = (
    (keys.lifelong("@a:s", "dev1"), (keys.LIFE, keys.PALS), (_SESSION_TTL,)),
    (keys.lifelong("@a:s", "d:e\u00ff"), (keys.LIFE, keys.PALS), (_SESSION_TTL, 60.0)),
    (SIDED + "x", SIDES, (100.0, 200.0, 60.0, 500.0)),
    (SIDED + "y", SIDES, (100.0, 200.0)),
    (GUEST + "x:s1", GUEST_SIDES, (200.0, 60.0)),
    (accounts.tie_record("@a:s"), _TIES, (accounts.TALKED_TTL,)),
)
_PEOPLE = [f"p{i}" for i in range(6)] + ["\u00ff", "", "x" * 300, "1.2.3.0"]
# Where a time's top two bytes change (the exponent at 2**30 s and 2**31 s, the mantissa's
# top four bits at 2**30 + k * 2**26), and an ordinary time.
_EDGES = (2.0 ** 30, 2.0 ** 30 + 11 * 2.0 ** 26, 2.0 ** 31, 1_700_000_000.0)


def _answers(state: object, plain: MemoryState | None, later: float,
             asked: tuple[str, ...], window: float) -> list[object]:
    out: list[object] = []
    for key, sides, _ in _RECORDS:
        for side in sides:
            if plain is None:
                queries: list[Query] = [Contains(key, asked, side), Distinct(key, window, side),
                                        Members(key, side)]
                out.append(state.read(queries, later))  # type: ignore[attr-defined]
            else:
                name = f"plain:{key}/{side}"
                out.append(plain.read([Contains(name, asked), Distinct(name, window),
                                       Members(name)], later))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_backends_and_restarts_answer_alike_at_the_time_edges(
        seed: int, tmp_path: Path, compact: str) -> None:
    """The log above answers alike in memory, SQLite (reopened now and then), Redis (a new
    ``RedisState`` now and then) and plain sets, step by step; and the forms session 35
    writes are the ones under test (SQLite layout 3 with headless sides, a code-3 time in
    Redis).
    Fails on main at 5b0cae0: its rows are layout 2 and its Redis values hold no code 3
    (the answers agree there too: ``/tmp/r35b/diff.py`` on base)."""
    import redis

    rng = random.Random(seed)
    path, namespace = tmp_path / "s.db", f"review35b-{seed}:"
    memory, plain = MemoryState(), MemoryState()
    on_disk, shared = SQLiteState(connect(path)), RedisState(compact, namespace)
    now = swept = newest = rng.choice(_EDGES) - rng.choice([0.0, 150.0, 199.5, 1_000.0])
    for step in range(250):
        scale = rng.choice([1.0, 1.0, 10.0, 100.0])
        now = max(now + scale * rng.choice([0.0, 0.5, 1.0, 7.0, 30.0, -40.0, 90.0, 1e-6]),
                  swept, newest - MAX_LATENESS + 100.0)
        newest = max(newest, now)
        key, sides, ttls = rng.choice(_RECORDS)
        side, roll = rng.choice(sides), rng.random()
        writes: list[StateWrite] = []
        expected: list[StateWrite] = []
        if roll < 0.88:
            members = tuple(rng.sample(_PEOPLE, rng.choice([0, 1, 1, 2, 3])))
            ttl = ttls[0] if rng.random() < 0.7 else rng.choice((*ttls, 100.5))
            cap = rng.choice([1, 2, 3, 10])
            writes, expected = ([Touch(key, members, ttl, cap, side)],
                                [Touch(f"plain:{key}/{side}", members, ttl, cap)])
        elif roll < 0.93:
            writes, expected = [Delete(key)], [Delete(f"plain:{key}/{s}") for s in sides]
        if written(rng, (memory, on_disk, shared), plain, writes, expected, now):
            swept = now
        on_disk, shared = renewed(rng, on_disk, shared, 0.06, path, compact, namespace)
        later = now + rng.choice([0.0, 20.0, 99.0, 100.0, 199.999, 200.0])
        asked = tuple(rng.sample(_PEOPLE, 3))
        window = rng.choice([10.0, 100.0, 1e12])
        expect = _answers(None, plain, later, asked, window)
        for name, state in (("memory", memory), ("sqlite", on_disk), ("redis", shared)):
            assert _answers(state, None, later, asked, window) == expect, (seed, step, name)
    on_disk.close()
    shared.close()
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT layout, times FROM sided_sets").fetchall()
    assert rows and {layout for layout, _ in rows} == {3}
    assert any(times[1] == 0 for _, times in rows), "some record holds no head"
    values = [v for k in redis.Redis.from_url(compact).scan_iter(match=namespace + "*")
              if redis.Redis.from_url(compact).type(k) == b"hash"
              for f, v in redis.Redis.from_url(compact).hgetall(k).items()
              if not f.startswith(b"\xff") and len(v) % 8]
    assert any(any(v[0] >> 2 * r & 3 == 3 for r in range(4)) for v in values), \
        "some time stored in its low six bytes"


# Network texts an attacker's login can bring, and look-alikes; each must read back as
# written in every network field, and only a network's canonical text be stored as bytes.
_NETWORKS = ("1.2.3.0", "1.2.3.00", "::ffff:1.2.3.0", "1.2.3.0%eth0", "fe80::%eth0",
             "FE80::", "fe80::", "0.0.0.0", "", "9" * 300, "\u0661.2.3.0", "1.2.3.0\n",
             "1_0.2.3.0", "+1.2.3.0", "-0.2.3.0", "::", "0::", "2001:db8::", "2001:db8:0::")


@pytest.mark.parametrize("first", [0.0, 1e-300, -1.5, 2.0 ** 26, 2.0 ** 30 - 0.5, 2.0 ** 31,
                                   4_102_444_799.0])
def test_a_hostile_record_reads_back_as_written_and_again_after_a_second_put(
        first: float) -> None:
    """A takeover record whose every network field holds the texts above, sessions named
    like them, and a first number (``pt``) anywhere an event's time can be: decoded as
    written, put again and decoded as written; each canonical network in 3 or 6 bytes.
    Fails on main at 5b0cae0: its records store every network as text (v4)."""
    import msgspec

    ttls = (30 * 86_400.0, 12 * 3_600.0, 7 * 86_400.0)
    now = max(first, 1_767_000_000.0)
    record = {"p": {"msgs": 1, "nets": {t: [first, now, 1] for t in _NETWORKS}},
              "pt": first if first > now - 86_400.0 else now,
              "s": {t: ["app", t, now - 1.0, 0, 0.0, 0, 0, now, 0] for t in _NETWORKS},
              "l": dict.fromkeys(_NETWORKS, now),
              "n": {"1.2.3.0": [[int(now // 3_600), 2]]}}
    stored = takeover_record._encode(record, now, *ttls)[0]
    again = takeover_record._encode(takeover_record.decode(stored), now, *ttls)[0]
    assert again == stored
    back = takeover_record.decode(stored)
    assert back["s"] == record["s"] and back["l"] == record["l"]
    assert back["p"]["nets"] == record["p"]["nets"] and back["n"] == record["n"]
    names = msgspec.msgpack.decode(stored[1:])[1]  # (v6: after its lead byte)
    assert sorted(takeover_record._name(n) for n in names if isinstance(n, bytes)) == sorted(
        ["1.2.3.0", "0.0.0.0", "::", "2001:db8::", "fe80::"])


def test_a_headless_side_ends_at_the_instant_a_held_head_ends(tmp_path: Path,
                                                               compact: str) -> None:
    """A tie touched with its declared TTL at a time whose end (t + TTL) rounds is gone at
    exactly that end in every backend, as a plain set touched alike is (found by the
    differential of the three backends above: seed 136 of its random run)."""
    key, side, ttl = accounts.tie_record("@a:s"), accounts.TALKED, accounts.TALKED_TTL
    t = 2147482647.7  # 2038-01-19, a microsecond time: (t + TTL) - TTL < t
    assert (t + ttl) - ttl < t
    plain, memory = MemoryState(), MemoryState()
    on_disk, shared = SQLiteState(connect(tmp_path / "s.db")), RedisState(compact, "r35b-end:")
    for state in (memory, on_disk, shared):
        state.write([Touch(key, ("@b:s",), ttl, 10, side)], t)
    plain.write([Touch("plain", ("@b:s",), ttl, 10)], t)
    on_disk.commit()
    end = t + ttl
    expect = plain.read([Contains("plain", ("@b:s",)), Distinct("plain", 1e12),
                         Members("plain")], end)
    assert expect == [(False,), 0, ()]
    asked: list[Query] = [Contains(key, ("@b:s",), side), Distinct(key, 1e12, side),
                          Members(key, side)]
    assert [s.read(asked, end) for s in (shared, memory, on_disk)] == [expect] * 3
