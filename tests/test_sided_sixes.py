"""A sided record's distinct times after its least in six bytes (``sided._SIX``; SQLite's
layout 2, and 3 since session 35): exact for any times, eight bytes each for a record whose
times do not fit, and a row of the releases before (layout 1, eight bytes a time; 2)
read as it was written."""

from __future__ import annotations

import random
import sqlite3
import struct
import sys
from pathlib import Path

import pytest

from conftest import as_session34, in_eights
from spimguard.db import connect
from spimguard.errors import StateUnavailable
from spimguard.state import sided
from spimguard.state.conformance import SIDED, SIDES, T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Distinct, Members, Query, Touch, Write, sided_space
from spimguard.state.sqlite import SQLiteState

_DAY = 86_400.0
_CARRY = struct.unpack("<d", struct.pack("<Q", (struct.unpack("<Q", struct.pack("<d", T0))[0]
                                               | (1 << 48) - 1) + 1))[0]  # low bits all 0
# Spreads of a record's distinct times (ascending), each with whether they fit six bytes.
_SPREADS = [
    ([T0], True),
    ([T0 + 0.5 * k for k in range(18)], True),
    ([T0 + k * 3 * _DAY / 17 for k in range(18)], True),  # the quiet load's three days
    ([T0, T0 + 180 * _DAY, T0 + 730 * _DAY], True),  # the ties' TTL; two years
    ([_CARRY - 3.0, _CARRY - 2**-22, _CARRY, _CARRY + 1.5], True),  # top bytes differ
    ([T0, T0 + 800 * _DAY], False),  # past 2**26 s
    ([0.0, T0], False), ([-5.0, -1.0], False), ([-1.0, 0.0, 1.0], False),
    ([1e9, 2e9, float("inf")], False), ([-3.0], True), ([0.0], True), ([], True),
]


def _packed(times: list[float]) -> bytes:
    return struct.pack(f"<{len(times)}d", *times)


@pytest.mark.parametrize(("times", "fits"), _SPREADS)
def test_a_records_times_read_back_bit_for_bit_in_six_bytes_or_eight(
        times: list[float], fits: bool) -> None:
    """Every time reads back as itself (bits, sign of zero, infinity), alone and listed;
    the times after the least take six bytes each where they are within 2**48 of its
    bits (two years and more of today's times, across the top bytes' boundary), eight
    bytes each, the first byte's bit clear, where they are not."""
    n = len(times)
    held = sided._held([T0 + 1e6, 1e6, 0.0, 0.0, *times, *[sided.ABSENT] * n], (0.0, 0.0))
    at = 1 + 1 + 16 + 2 * n  # a byte, the mask, the first side's head (held), the ranks
    assert sided.in_sixes(held) == fits
    assert len(held) - at == (6 * n + 2 if fits and n else 8 * n)
    assert _packed(sided._listed(held, at)) == _packed(times)
    assert _packed([sided._time(held, at, r) for r in range(1, n + 1)]) == _packed(times)
    assert sided._count(held, at) == n


def test_touches_across_the_top_bytes_and_past_six_bytes_leave_the_slow_paths_bytes() -> None:
    """Touched in place (``sided.touched_sides``), a record whose times cross the top
    bytes' boundary, then leap past 2**48 (held in eight), then drop the old times (in six
    again), leaves the bytes ``sided._retouched`` of each part in turn leaves, and the
    ``_held`` form of its times: one layout for a set of times, whichever way it came."""
    rng, sides = random.Random(31), 3
    declared = (1e9,) * sides  # the TTL most touches name: their heads derived
    people = [sys.intern(f"p{i}") for i in range(40)]
    record, now, seen = sided.empty(sides), _CARRY - 40.0, {True: 0, False: 0}
    for step in range(1_200):
        now += rng.choice([0.0, 0.25, 1.0, -0.5]) + (900 * _DAY if step % 200 == 99 else 0)
        parts = [(rng.randrange(sides), rng.sample(people, rng.choice([1, 2])),
                  60.0 if rng.random() < 0.02 else 1e9, 3 if rng.random() < 0.05 else 50)
                 for _ in range(rng.choice([1, 2]))]
        slow = sided.Record(record.names, record.times)
        for side, fresh, ttl, cap in parts:
            slow = sided._retouched(slow, side, declared, fresh, now, ttl, cap)
        record = sided.touched_sides(record, declared, parts, now)
        assert (record.names, record.times) == (slow.names, slow.times), step
        flat = sided._flat(record.times, len(record.names), declared)
        assert sided.Record(record.names, sided._held(flat, declared)) == record, step
        seen[sided.in_sixes(record.times)] += 1
    assert seen[True] > 500 and seen[False] > 100, seen


def _asked(key: str, now: float) -> list[Query]:
    return [q for side in SIDES for q in (Contains(key, ("a", "b", "c", "d"), side),
                                          Distinct(key, 60.0, side), Members(key, side))]


def test_sqlite_rows_of_the_release_before_read_as_written_and_change_to_six_bytes(
        tmp_path: Path) -> None:
    """A row of layout 1 (every time eight bytes, as the release before session 34's wrote
    it) answers as the memory backend, is held in six bytes from its load and written as
    layout 3 at its next change, as every record is now (in six bytes or eight); a row of
    session 34's in six bytes is layout 2, whose bytes are never read as layout 1's."""
    path, old, far = tmp_path / "s.db", f"{SIDED}old", f"{SIDED}far"
    writes: list[Write] = [Touch(old, ("a", "b"), 600.0, 10, SIDES[0]),
                           Touch(old, ("b", "c"), 300.0, 10, SIDES[1]),
                           Touch(far, ("a",), 1e10, 10, SIDES[0])]
    later: list[Write] = [Touch(old, ("c",), 600.0, 10, SIDES[0]),
                          Touch(far, ("b",), 1e10, 10, SIDES[0])]
    state, model = SQLiteState(connect(path)), MemoryState()
    for store in (state, model):
        store.write(writes, T0 - 900 * _DAY)  # far: two times past 2**26 s apart
        store.write(writes[:2], T0)
        store.write(later, T0 + 1.5)
    state.commit()
    state.close()
    raw = sqlite3.connect(path)
    rows = dict(raw.execute("SELECT key, layout FROM sided_sets").fetchall())
    assert rows == {old: 3, far: 3}
    names, times = raw.execute("SELECT names, times FROM sided_sets WHERE key = ?",
                               (old,)).fetchone()
    assert times == model.accounts()[old].times and sided.in_sixes(times)
    earlier = as_session34(sided.decode_names(names), times, sided_space(SIDED).ttls)
    eights = in_eights(sided.decode_names(names), earlier)  # as that release before held it
    assert len(eights) == len(earlier) + 2 and not sided.in_sixes(eights)
    raw.execute("UPDATE sided_sets SET times = ?, layout = 1 WHERE key = ?", (eights, old))
    raw.commit()
    reopened = SQLiteState(connect(path))
    now = T0 + 2.0
    assert reopened.read(_asked(old, now), now) == model.read(_asked(old, now), now)
    assert reopened._hot.accounts()[old].times == times, "held in six from its load"
    assert raw.execute("SELECT layout FROM sided_sets WHERE key = ?", (old,)).fetchone() == (1,)
    more: list[Write] = [Touch(old, ("d",), 600.0, 10, SIDES[2])]
    for store in (reopened, model):
        store.write(more, now)
    reopened.commit()
    reopened.close()
    assert raw.execute("SELECT times, layout FROM sided_sets WHERE key = ?", (old,)
                       ).fetchone() == (model.accounts()[old].times, 3)
    six = as_session34(sided.decode_names(names), model.accounts()[old].times,
                       sided_space(SIDED).ttls)
    raw.execute("UPDATE sided_sets SET times = ?, layout = 1 WHERE key = ?",
                (six, old))  # mislabelled
    raw.commit()
    raw.close()
    assert sided.in_sixes(six)
    again = SQLiteState(connect(path))
    with pytest.raises(StateUnavailable, match="layout 1"):
        again.read(_asked(old, now), now)
    assert again.read(_asked(far, now), now) == model.read(_asked(far, now), now)
    again.close()


def test_reads_and_touches_that_ask_the_least_first_answer_as_every_time_read() -> None:
    """A guard (main answers so too): ``contains`` and ``distinct`` asking the record's
    least before a later time, and a touch comparing now with the newest as offsets from
    the least, answer as each member-side's time read: records from 0.0 (touched earlier
    than their newest, at 0.0 beside later times), across the top bytes' boundary and in
    eight bytes."""
    rng, sides = random.Random(7), 2
    declared = (1e9,) * sides  # the TTL half the touches name: their heads derived
    people = [sys.intern(f"p{i}") for i in range(12)]
    for start in (0.0, 3.0, _CARRY - 20.0, T0):
        record, now = sided.empty(sides), start
        for step in range(150):
            now = max(0.0, now + rng.choice([0.0, 0.5, 2.0, -1.0, -7.0])
                      + (900 * _DAY if step == 90 else 0))
            parts = [(rng.randrange(sides), rng.sample(people, 2), rng.choice([4.0, 1e9]), 6)]
            slow = sided._retouched(sided.Record(record.names, record.times), *parts[0][:1],
                                    declared, *parts[0][1:2], now, *parts[0][2:])
            record = sided.touched_sides(record, declared, parts, now)
            assert (record.names, record.times) == (slow.names, slow.times), (start, step)
            n, flat = len(record.names), sided._flat(record.times, len(record.names), declared)
            for side in range(sides):
                expiry, ttl = flat[2 * side:2 * side + 2]
                column = flat[2 * sides + side * n:2 * sides + (side + 1) * n]
                for ask in (now, now + 3.0):
                    live = [t > ask - ttl and expiry > ask for t in column]
                    assert sided.contains(record, side, declared, record.names, ask) == tuple(
                        live)
                    assert sided.contains(record, side, declared, people[:1], ask) == (
                        people[0] in record.names and live[record.names.index(people[0])],)
                    assert sided.distinct(record, side, declared, 2.5, ask) == sum(
                        t > ask - min(2.5, ttl) and expiry > ask for t in column)
