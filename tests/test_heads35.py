"""Session 35 (``heads35``): a sided record holds a side's expiry and TTL only where its
members and its keyspace's declared TTL do not give them (``sided._derived``), every
answer as before; SQLite's layout 3, rows of session 34's read and rewritten, a file of
other declared TTLs refused."""

from __future__ import annotations

import random
import sqlite3
import sys
from pathlib import Path

import msgspec
import pytest

from conftest import as_session34, in_eights
from spimguard import accounts
from spimguard.db import connect
from spimguard.detectors.takeover import keys
from spimguard.detectors.takeover.settings import TakeoverSettings
from spimguard.errors import StateUnavailable
from spimguard.state import ops, sided
from spimguard.state.conformance import SIDED, SIDES, T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Delete, Distinct, Members, Query, Touch, Write
from spimguard.state.sqlite import SQLiteState

_DAY = 86_400.0


def test_ties_and_a_sessions_record_touched_as_the_load_does_hold_no_head() -> None:
    """The ties' three sides touched with ``TALKED_TTL`` and a session's two with the
    default ``session_ttl`` (as the engine and the takeover detector touch them): each
    record is its byte, a mask of no side, its ranks and its times, where session 34's
    held 16 bytes of head a side (48 an account, 32 a session's record)."""
    state, ties = MemoryState(), accounts.tie_record("@a:s")
    life = keys.lifelong("@a:s", "dev1")
    talked, session = accounts.TALKED_TTL, float(TakeoverSettings().session_ttl)
    for at, people in enumerate((("@b:s", "@c:s"), ("@b:s",), ("@d:s",))):
        now = T0 + 60.0 * at
        state.write([Touch(ties, people, talked, accounts.TALKED_CAP, accounts.TALKED),
                     Touch(ties, people[:1], talked, 3, accounts.RECIPROCATED),
                     Touch(ties, people, talked, accounts.TALKED_CAP, accounts.OWNER_WROTE),
                     Touch(life, people, session, 5_000, keys.LIFE),
                     Touch(life, people[:1], session, 5_000, keys.PALS)], now)
    for key, sides in ((ties, 3), (life, 2)):
        record = state.sided_record(key)
        assert record is not None
        # byte, mask (no head), a rank a member-side, 3 times (8 + 6 + 6)
        assert record.times[1] == 0, key
        assert len(record.times) == 2 + sides * len(record.names) + 20, key
    asked: list[Query] = [Members(ties, accounts.TALKED), Distinct(ties, 100.0, accounts.TALKED),
                          Contains(ties, ("@b:s", "@c:s"), accounts.RECIPROCATED),
                          Members(life, keys.LIFE)]
    assert state.read(asked, T0 + 150.0) == [("@c:s", "@b:s", "@d:s"), 2, (True, False),
                                             ("@c:s", "@b:s", "@d:s")]


def test_a_head_is_held_exactly_where_members_do_not_give_it() -> None:
    """Random touches of a record's sides (the declared TTL mostly, others, late ones, caps
    of one, touches of no one, Deletes, sweeps) answer as a plain set of each side's own
    (the memory backend's sets), and the record holds a side's head exactly where the
    side's TTL is not the declared one or its expiry not its newest member's time plus
    it (nor 0, 0 for a side with no member)."""
    ttls, rng = ops.sided_space(SIDED).ttls, random.Random(35)
    people = [sys.intern(f"p{i}") for i in range(12)]
    state, model, key = MemoryState(), MemoryState(), SIDED + "heads"
    now, newest = T0, T0
    seen = [0, 0]  # the declared sides, after a step: with a head held, derived with members

    def plain(side: str) -> str:
        return f"plain:{side}"

    for step in range(3_000):
        # Late by up to 3,000 s (an engine judges an event older than ``MAX_LATENESS``
        # as of that lag), and swept up to the latest time less it (``sweep_horizon``).
        now = max(now + rng.choice([0.0, 5.0, 40.0, 150.0, -30.0, -300.0]), newest - 3_000.0)
        newest = max(newest, now)
        side = rng.randrange(len(SIDES))
        roll = rng.random()
        if roll < 0.85:
            fresh = tuple(rng.sample(people, rng.choice([0, 1, 1, 2, 4])))
            ttl = rng.choice([ttls[side] or 150.0, ttls[side] or 150.0, 60.0, 500.0])
            cap = rng.choice([1, 2, 8, 8])
            writes: list[Write] = [Touch(key, fresh, ttl, cap, SIDES[side])]
            expected: list[Write] = [Touch(plain(SIDES[side]), fresh, ttl, cap)]
        elif roll < 0.88:
            writes, expected = [Delete(key)], [Delete(plain(s)) for s in SIDES]
        else:
            writes = expected = []
        state.write(writes, now)
        model.write(expected, now)
        if rng.random() < 0.05:
            assert state.sweep(ops.sweep_horizon(newest)) >= 0
        later = now + rng.choice([0.0, 20.0, 120.0, 600.0])
        for s in SIDES:
            asked: list[Query] = [Members(key, s), Distinct(key, 50.0, s),
                                  Contains(key, tuple(people[:4]), s)]
            plainly: list[Query] = [Members(plain(s)), Distinct(plain(s), 50.0),
                                    Contains(plain(s), tuple(people[:4]))]
            assert state.read(asked, later) == model.read(plainly, later), (step, s)
        record = state.sided_record(key)
        if record is None:
            continue
        flat, n = sided._flat(record.times, len(record.names), ttls), len(record.names)
        for r in range(len(SIDES)):
            expiry, ttl = flat[2 * r:2 * r + 2]
            column = [t for t in flat[2 * len(SIDES) + r * n:2 * len(SIDES) + (r + 1) * n]
                      if t != sided.ABSENT]
            derived = ((expiry, ttl) == (max(column) + ttls[r], ttls[r]) if column
                       else (expiry, ttl) == (0.0, 0.0))
            assert bool(record.times[1] >> r & 1) == (not derived), (step, r)
            if ttls[r]:
                seen[0] += not derived
                seen[1] += derived and bool(column)
    assert seen[0] > 500 and seen[1] > 500, seen


def test_sqlite_reads_session_34s_rows_and_rewrites_them_without_derived_heads(
        tmp_path: Path) -> None:
    """A row of session 34's layouts (2: every head held, times in six bytes; 1: in
    eight) answers as the memory backend's record of the same touches, is held without
    the heads its members give from its load, and is written as layout 3 at its next
    change, 16 bytes shorter a derived head."""
    one, two, three = SIDES
    ttls = ops.sided_space(SIDED).ttls
    writes: list[Write] = [Touch(SIDED + "k", ("a", "b"), ttls[0], 10, one),
                           Touch(SIDED + "k", ("b", "c"), 900.0, 10, two)]
    model = MemoryState()
    model.write(writes, T0)
    held = model.sided_record(SIDED + "k")  # (changed in place by a touch: copied)
    assert held is not None and held.times[1] == 0b10  # side two's TTL is not declared
    record = sided.Record(held.names, held.times)
    earlier = as_session34(record.names, record.times, ttls)
    assert len(earlier) == len(record.times) + 16 * 2 - 1  # side one's and three's heads
    for layout, times in ((2, earlier), (1, in_eights(record.names, earlier))):
        path = tmp_path / f"s{layout}.db"
        SQLiteState(connect(path)).close()
        with sqlite3.connect(path) as raw:
            raw.execute("INSERT INTO sided_sets (key, names, times, exp, layout) VALUES "
                        "(?, ?, ?, ?, ?)", (SIDED + "k", sided.encode_names(record.names),
                                            times, record.due(ttls), layout))
        state = SQLiteState(connect(path))
        asked: list[Query] = [q for s in (one, two, three) for q in (
            Members(SIDED + "k", s), Contains(SIDED + "k", ("a", "b", "c"), s))]
        for now in (T0 + 50.0, T0 + 150.0):
            assert state.read(asked, now) == model.read(asked, now), (layout, now)
        assert state._hot.sided_record(SIDED + "k") == record, "held as this release holds it"
        more: list[Write] = [Touch(SIDED + "k", ("d",), ttls[0], 10, one)]
        for store in (state, model):
            store.write(more, T0 + 60.0)
        state.commit()
        state.close()
        with sqlite3.connect(path) as raw:
            row = raw.execute("SELECT times, layout FROM sided_sets").fetchone()
        changed = model.sided_record(SIDED + "k")
        assert changed is not None and row == (changed.times, 3), layout
        model = MemoryState()
        model.write(writes, T0)


def test_sqlite_refuses_a_file_written_with_other_declared_ttls(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file records each sided keyspace's declared TTLs; a release declaring others
    refuses it, naming both, rather than read its headless sides with them."""
    path = tmp_path / "s.db"
    state = SQLiteState(connect(path))
    state.write([Touch(SIDED + "k", ("a",), ops.sided_space(SIDED).ttls[0], 10, SIDES[0])], T0)
    state.commit()
    state.close()
    from spimguard.state import sqlite

    spaces = ops.sided_keyspaces()
    monkeypatch.setattr(sqlite, "sided_keyspaces", lambda: tuple(
        msgspec.structs.replace(s, ttls=(50.0, *s.ttls[1:])) if s.prefix == SIDED else s
        for s in spaces))
    with pytest.raises(StateUnavailable, match="conformance-sided"):
        SQLiteState(connect(path))
    monkeypatch.undo()
    again = SQLiteState(connect(path))
    assert again.read([Members(SIDED + "k", SIDES[0])], T0 + 1.0) == [("a",)]
    again.close()


def test_a_late_touch_with_a_longer_ttl_keeps_the_expiry_its_head_holds() -> None:
    """Why a head is held where its expiry is sooner than the newest member's time plus
    the TTL (``sided._derived``: equality, not a bound): a member touched with a TTL a
    tenth of the declared one, then another touched late with the declared one, the
    side's TTL then the declared one and its expiry the late touch's time plus it, sooner
    than the newest's plus it; past it the side is empty, where a head derived from the
    newest member would still show both. (The conformance suite asks every backend the
    same: ``check_sided``.)"""
    ttls, key = ops.sided_space(SIDED).ttls, SIDED + "late"
    state, model = MemoryState(), MemoryState()
    for store, k, side in ((state, key, SIDES[0]), (model, "plain", "")):
        store.write([Touch(k, ("a",), ttls[0] / 10, 10, side)], T0)
        store.write([Touch(k, ("b",), ttls[0], 10, side)], T0 - ttls[0] / 2)
    record = state.sided_record(key)
    assert record is not None and record.times[1] & 1, "the head is held"
    for now in (T0 + ttls[0] * 0.4, T0 + ttls[0] * 0.6, T0 + ttls[0] * 2):
        assert state.read([Members(key, SIDES[0])], now) == model.read([Members("plain")],
                                                                       now), now
    assert state.read([Members(key, SIDES[0])], T0 + ttls[0] * 0.4) == [("b", "a")]
    assert state.read([Members(key, SIDES[0])], T0 + ttls[0] * 0.6) == [()]
