"""Sided records: the plain sets a store held before (``talked:A``, ``tk:recip:A``,
``tk:wrote:A``) become the sides of ``ties:A`` when it opens, and answer as they did."""

from __future__ import annotations

import random
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import forget_conversions
from spimguard import accounts
from spimguard.db import connect
from spimguard.state import StateBackend
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    FOREVER,
    Contains,
    Delete,
    Distinct,
    Members,
    Put,
    Query,
    Touch,
    Write,
)
from spimguard.state.sqlite import SQLiteState

_FORMER = {accounts.TALKED: "talked:", accounts.RECIPROCATED: "tk:recip:",
           accounts.OWNER_WROTE: "tk:wrote:"}
_PEOPLE = ("@a:s", "@b:s", "@c:s", "@d:s", "@e:s")


def _old_touches() -> list[tuple[float, Touch]]:
    """Touches of the plain sets as the earlier release made them: each side's own TTL and
    cap, events late now and then, some accounts on one side only."""
    rng = random.Random(11)
    ttls = {accounts.TALKED: 300.0, accounts.RECIPROCATED: 120.0, accounts.OWNER_WROTE: 300.0}
    touches, now = [], T0
    for _ in range(300):
        now += rng.choice([1.0, 5.0, 20.0, -15.0])
        side = rng.choice(list(_FORMER))
        owner = rng.choice(_PEOPLE[:3] if side == accounts.TALKED else _PEOPLE[:2])
        people = tuple(rng.sample(_PEOPLE, rng.choice([1, 2])))
        touches.append((now, Touch(_FORMER[side] + owner, people, ttls[side], 3)))
    return touches


def _answers(state: StateBackend, sided: bool, now: float) -> list[object]:
    reads: list[Query] = []
    for owner in _PEOPLE:
        for side, former in _FORMER.items():
            key, name = ((accounts.tie_record(owner), side) if sided
                         else (former + owner, ""))
            reads += [Contains(key, _PEOPLE, name), Distinct(key, 30.0, name),
                      Distinct(key, FOREVER, name), Members(key, name)]
    return state.read(reads, now)


def _check_converted(make: Callable[[], StateBackend], forget_done: Callable[[], None]) -> None:
    """Plain sets written through ``make()``'s store, the store's conversion mark dropped
    (as a store of the earlier release has none), then the store opened again."""
    model, old = MemoryState(), make()
    for now, touch in _old_touches():
        writes: list[Write] = [touch]
        old.write(writes, now)
        model.write(writes, now)
    old.commit()
    old.close()
    forget_done()
    state = make()
    last = _old_touches()[-1][0]
    for now in (last, last + 60.0, last + 200.0):
        assert _answers(state, True, now) == _answers(model, False, now), now
    state.close()


def test_sqlite_sets_of_the_three_sides_convert_when_the_file_opens(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _check_converted(lambda: SQLiteState(connect(path)),
                     lambda: forget_conversions(path, "sided:%"))
    state = SQLiteState(connect(path))
    left = state._conn.execute("SELECT count(*) FROM members WHERE key LIKE 'talked:%' OR "
                               "key LIKE 'tk:recip:%' OR key LIKE 'tk:wrote:%'").fetchone()
    assert left == (0,), "the plain sets' rows went"


def test_redis_sets_of_the_three_sides_convert_when_a_node_opens(
        redis_url: str, redis_namespace: str) -> None:
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace

    def forget_done() -> None:
        raw.delete(*raw.keys(f"{ns}state-key:member-hash:converted:ties:*"))

    _check_converted(lambda: RedisState(redis_url, ns), forget_done)
    assert not raw.keys(f"{ns}talked:*") and not raw.keys(f"{ns}tk:wrote:*")
    assert raw.ttl(f"{ns}ties:@a:s") > 0, "the safety-net EXPIRE is kept"


def test_redis_conversion_merges_what_a_node_of_this_release_wrote(
        redis_url: str, redis_namespace: str) -> None:
    """A node of this release may have touched a record before the sets of an earlier
    release's node are converted: each member keeps its later time."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    tied, talked = accounts.tie_record("@a:s"), accounts.TALKED
    state.write([Touch(tied, ("@b:s",), 100.0, 10, talked)], T0 + 50)
    raw.zadd(f"{ns}talked:@a:s", {"@b:s": T0, "@c:s": T0 + 10, b"\xff": T0 + 110,
                                  b"\xfe": -100.0})
    raw.delete(*raw.keys(f"{ns}state-key:member-hash:converted:*"))
    again = RedisState(redis_url, ns)
    assert again.read([Members(tied, talked), Contains(tied, ("@b:s", "@c:s"), talked)],
                      T0 + 120) == [("@b:s",), (True, False)]
    assert again.read([Members(tied, talked)], T0 + 60) == [("@c:s", "@b:s")]


def test_a_question_without_a_side_fails_clearly() -> None:
    with pytest.raises(TypeError, match="sided record"):
        MemoryState().read([Contains(accounts.tie_record("@a:s"), ("@b:s",))], T0)


def _stored(flat: list[float]) -> bytes:
    return struct.pack(f"<{len(flat)}d", *flat)


def test_redis_member_values_hold_a_time_once_and_read_the_earlier_layout(
        redis_url: str, redis_namespace: str) -> None:
    """One event touching a member on two sides stores one double after its codes; a value
    of the earlier layout (a double a side) answers as before, and its member's next touch
    rewrites it. The ties' places: TALKED 0, the retired "wrote" 1 (its time in a value
    of before is never read, and goes at the rewrite), OWNER_WROTE 2, RECIPROCATED 3."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state, key = RedisState(redis_url, ns), accounts.tie_record("@a:s")
    state.write([Touch(key, ("@b:s",), 300.0, 10, accounts.TALKED),
                 Touch(key, ("@b:s",), 300.0, 10, accounts.OWNER_WROTE)], T0)
    # Its one time in its low six bytes (code 3): its top two are the record's base's
    # (session 36's, ``sbased``), the heads field's first two bytes after its marker.
    assert raw.hget(ns + key, "@b:s") == bytes((0b100011,)) + struct.pack("<d", T0)[:6]
    assert raw.hget(ns + key, b"\xff")[:3] == b"\x02" + struct.pack("<d", T0)[6:]
    raw.hset(ns + key, "@b:s", struct.pack("<ddd", T0, T0 - 5.0, T0 - 1.0))
    sides = (accounts.TALKED, accounts.OWNER_WROTE, accounts.RECIPROCATED)
    asked: list[Query] = [Contains(key, ("@b:s",), side) for side in sides]
    assert state.read(asked, T0 + 1.0) == [(True,), (True,), (False,)]
    state.write([Touch(key, ("@b:s",), 300.0, 10, accounts.RECIPROCATED)], T0 + 2.0)
    # Every time in its low six bytes (code 3): their top two are the base's, T0's.
    assert raw.hget(ns + key, "@b:s") == bytes((0b11110011,)) + b"".join(
        struct.pack("<d", t)[:6] for t in (T0, T0 - 1.0, T0 + 2.0))
    assert state.read(asked, T0 + 3.0) == [(True,), (True,), (True,)]
    assert state.read([Members(key, accounts.RECIPROCATED)], T0 + 3.0) == [("@b:s",)]
    state.close()


def test_a_name_on_no_side_leaves_the_record() -> None:
    """A side's cap drops its stalest member from the record when no other side holds it,
    and keeps in it one that another side holds: in a small record and a large one
    (``sided._Index``)."""
    from spimguard.state.conformance import SIDED, SIDES

    one, two, _ = SIDES
    for crowd in (5, 40):
        state, key = MemoryState(), f"{SIDED}cap{crowd}"
        friends = [f"p{i}" for i in range(crowd)]
        state.write([Touch(key, tuple(friends), 1_000.0, 100, two)], T0)
        for i, member in enumerate([*friends[:4], "q0", "q1", "q2", "q3", "q4"]):
            state.write([Touch(key, (member,), 1_000.0, 3, one)], T0 + 1 + i)
        assert state.read([Members(key, one)], T0 + 20) == [("q2", "q3", "q4")]
        assert state.accounts()[key].names == (*friends, "q2", "q3", "q4"), crowd


def test_redis_side_heads_are_20_bytes_and_read_the_earlier_layout(
        redis_url: str, redis_namespace: str) -> None:
    """A side's head holds its TTL, count and oldest as whole numbers (20 bytes, where 32
    before), the oldest rounded to no later than it; a TTL that is no whole number keeps
    the 32-byte layout; a head of the earlier layout answers as before and the side's next
    touch rewrites it. Whatever the rounding, every answer is the memory backend's."""
    import redis

    from spimguard.state.redis import RedisState, _side_head

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state, model = RedisState(redis_url, ns), MemoryState()
    key, talked = accounts.tie_record("@a:s"), accounts.TALKED

    def head(side: int) -> bytes:
        """A side's head, from the record's one heads field."""
        return _side_head(raw.hget(ns + key, b"\xff"), side) or b""

    def both(writes: list[Write], now: float) -> None:
        state.write(writes, now)
        model.write(writes, now)

    both([Touch(key, ("@b:s",), 300.0, 10, talked)], T0 + 0.75)
    stored = head(0)  # the TALKED side's (its index 0)
    assert len(stored) == 20
    expiry, ttl, count, age = struct.unpack("<dIII", stored)
    assert (expiry, ttl, count) == (T0 + 300.75, 300, 1) and expiry - age <= T0 + 0.75
    # (after the base its member's first time was written with: session 36's ``sbased``)
    raw.hset(ns + key, b"\xff", raw.hget(ns + key, b"\xff")[:3] + b"\x20" + struct.pack(
        "<dddd", T0 + 300.75, 300.0, 1.0, T0 + 0.75))
    asked: list[Query] = [Contains(key, _PEOPLE, talked), Distinct(key, 30.0, talked),
                          Members(key, talked)]
    assert state.read(asked, T0 + 1.0) == model.read(asked, T0 + 1.0)
    both([Touch(key, ("@c:s",), 300.0, 10, talked)], T0 + 2.0)
    assert len(head(0)) == 20, "rewritten at the next touch"
    both([Touch(key, ("@d:s",), 300.5, 10, accounts.RECIPROCATED)], T0 + 3.0)
    assert len(head(3)) == 32, "a TTL of no whole seconds (RECIPROCATED's place: 3)"
    rng = random.Random(5)
    now = T0 + 3.0
    for _ in range(120):
        now += rng.choice([0.25, 0.5, 7.125, 40.0, -3.5])
        side = rng.choice([talked, accounts.RECIPROCATED])
        both([Touch(key, tuple(rng.sample(_PEOPLE, 2)), rng.choice([60.0, 300.0, 90.5]), 3,
                    side)], now)
        later = now + rng.choice([0.0, 0.3, 20.0])
        reads: list[Query] = [q for s in (talked, accounts.RECIPROCATED) for q in (
            Contains(key, _PEOPLE, s), Distinct(key, rng.choice([0.5, 10.0, 59.9, 1e6]), s),
            Members(key, s))]
        assert state.read(reads, later) == model.read(reads, later), now
    state.close()


def test_a_held_record_keeps_each_time_once_and_only_those_held() -> None:
    """In memory a record holds each distinct time once and a rank a member-side: one
    double for three members touched on two sides at one event, a time no member-side
    holds dropped; over random touches (late ones, caps, TTL drops, a crowd's index and
    ranks of two bytes past 255 times) the held form is the one its stored times make (the
    times after the least in six bytes each: they are minutes apart),
    and its ``due`` (read from ranks) is the one they give."""
    from spimguard.state import sided
    from spimguard.state.conformance import SIDED, SIDES
    from spimguard.state.ops import sided_space

    one, two, _ = SIDES
    ttls = sided_space(SIDED).ttls
    state, key = MemoryState(), f"{SIDED}held"
    state.write([Touch(key, ("a", "b", "c"), 600.0, 50, one),
                 Touch(key, ("a", "b", "c"), 600.0, 50, two)], T0)
    record = state.accounts()[key]
    # A byte, the mask, the two heads touched with a TTL not declared, the ranks.
    body = 1 + 1 + 16 * 2 + len(SIDES) * 3
    assert record.times[body:] == struct.pack("<d", T0)
    state.write([Touch(key, ("a", "b", "c"), 600.0, 50, one),
                 Touch(key, ("a", "b", "c"), 600.0, 50, two)], T0 + 0.5)
    assert record.times[body:] == struct.pack("<d", T0 + 0.5), "T0 is held by none"
    rng, now = random.Random(3), T0 + 1.0
    crowd = [f"p{i}" for i in range(300)]
    widest = 1
    for step in range(1_500):
        now += rng.choice([0.125, 1.0, 3.5, 0.0, -2.25])
        people = tuple(rng.sample(crowd[:40] if step < 900 else crowd, rng.choice([1, 1, 3])))
        ttl, cap = (rng.choice([60.0, 900.0, 1e6]), rng.choice([5, 200])) if step < 900 else (
            1e6, 300)
        state.write([Touch(key, people, ttl, cap, rng.choice(SIDES))], now)
        record = state.accounts()[key]
        stored = _stored(sided._flat(record.times, len(record.names), ttls))
        assert sided.loaded(record.names, stored, ttls) == record, step
        flat = struct.unpack(f"<{len(stored) // 8}d", stored)[2 * len(SIDES):]
        held = len(set(flat) - {float("-inf")})
        width = 1 if held < 256 else 2
        n, due, heads = len(record.names), float("inf"), 0
        for r in range(len(SIDES)):
            expiry, side_ttl = struct.unpack_from("<dd", stored, 16 * r)
            live = [t for t in flat[r * n:(r + 1) * n] if t != float("-inf")]
            if expiry > 0.0:
                due = min(due, expiry, min(live, default=float("inf")) + side_ttl)
            # A head is held unless the declared TTL and the newest's time give it.
            heads += (expiry, side_ttl) != ((max(live) + ttls[r], ttls[r]) if live
                                            else (0.0, 0.0))
        assert record.times[1].bit_count() == heads, step
        assert len(record.times) == (2 + 16 * heads + width * len(flat)
                                     + (6 * held + 2 if held else 0)), step  # six bytes
        assert record.due(ttls) == due, step
        widest = max(widest, width)
    assert widest == 2, "the load passes 255 distinct times"


def test_sqlite_rows_hold_the_held_layout_as_it_is(tmp_path: Path) -> None:
    """A row of this release keeps the bytes the memory holds (layout 3: a head held only
    where it is not derived, its times after the least in six bytes each), none
    converted, and a file reopened answers as the memory backend."""
    from spimguard.state.conformance import SIDED, SIDES

    one, two, three = SIDES
    path, key = tmp_path / "s.db", f"{SIDED}held"
    state, model = SQLiteState(connect(path)), MemoryState()
    writes: list[Write] = [Touch(key, ("a", "b"), 600.0, 10, one),
                           Touch(key, ("b",), 300.0, 10, two)]
    later: list[Write] = [Touch(key, ("c",), 600.0, 10, one)]
    for store in (state, model):
        store.write(writes, T0)
        store.write(later, T0 + 1.5)
    state.commit()
    state.close()
    row = connect(path).execute("SELECT times, layout FROM sided_sets WHERE key = ?",
                                (key,)).fetchone()
    assert row == (model.accounts()[key].times, 3)
    reopened = SQLiteState(connect(path))
    asked: list[Query] = [q for side in (one, two, three) for q in (
        Contains(key, ("a", "b", "c"), side), Distinct(key, 10.0, side), Members(key, side))]
    assert reopened.read(asked, T0 + 2.0) == model.read(asked, T0 + 2.0)
    reopened.close()


def _earlier_file(path: Path,
                  rows: dict[str, tuple[tuple[str, ...], list[float], float]]) -> None:
    """A state file as the release before ``sided_sets.layout`` left it: that table
    without the column, each row's times a double a member-side (built here by hand), its
    ``exp`` when the sweep first has something to drop."""
    SQLiteState(connect(path)).close()  # its other tables and marks, as that release's
    raw = connect(path)
    raw.executescript("""
        DROP TABLE sided_sets;
        CREATE TABLE sided_sets (key TEXT PRIMARY KEY, names BLOB NOT NULL,
            times BLOB NOT NULL, exp REAL NOT NULL) WITHOUT ROWID;
    """)
    raw.executemany("INSERT INTO sided_sets VALUES (?, ?, ?, ?)",
                    [(key, b"".join(struct.pack("<I", len(m)) + m.encode() for m in names),
                      _stored(flat), exp) for key, (names, flat, exp) in rows.items()])
    raw.commit()
    raw.close()


def test_sqlite_rows_of_the_earlier_layout_read_as_written_and_change_to_the_held(
        tmp_path: Path) -> None:
    """A file of the release before: it opens with no pass over its rows (the column added,
    NULL in each), its records answer as the memory backend's of the same touches, and a
    record is written in the held layout at its next change, or sweep, and not before."""
    from spimguard.state.conformance import SIDED, SIDES

    one, two, three = SIDES
    path, gone = tmp_path / "old.db", float("-inf")
    changed, kept, swept = f"{SIDED}changed", f"{SIDED}kept", f"{SIDED}swept"
    # Each key: a, b touched on one at T0 (TTL 600), b on two at T0 (300), c on one at
    # T0 + 1.5; the swept one's side one of TTL 1.0 (a and b past it at T0 + 1.0).
    heads = [T0 + 601.5, 600.0, T0 + 300.0, 300.0, 0.0, 0.0]
    flat = [T0, T0, T0 + 1.5, gone, T0, gone, gone, gone, gone]
    _earlier_file(path, {key: (("a", "b", "c"), [*heads, *flat], T0 + 300.0)
                         for key in (changed, kept)}
                  | {swept: (("a", "b", "c"), [T0 + 2.5, 1.0, *heads[2:], *flat], T0 + 1.0)})
    model = MemoryState()
    for key in (changed, kept, swept):
        ttl = 1.0 if key == swept else 600.0
        model.write([Touch(key, ("a", "b"), ttl, 10, one), Touch(key, ("b",), 300.0, 10, two)],
                    T0)
        model.write([Touch(key, ("c",), ttl, 10, one)], T0 + 1.5)
    state = SQLiteState(connect(path))
    layouts = "SELECT key, layout FROM sided_sets ORDER BY key"
    assert state._conn.execute(layouts).fetchall() == [(changed, None), (kept, None),
                                                       (swept, None)]

    def asked(now: float) -> list[Query]:
        return [q for key in (changed, kept, swept) for side in (one, two, three) for q in (
            Contains(key, ("a", "b", "c"), side), Distinct(key, 10.0, side),
            Members(key, side))]

    assert state.read(asked(T0 + 2.0), T0 + 2.0) == model.read(asked(T0 + 2.0), T0 + 2.0)
    more: list[Write] = [Touch(changed, ("d",), 600.0, 10, three)]
    for store in (state, model):
        store.write(more, T0 + 3.0)
    state.commit()
    rows = dict(state._conn.execute("SELECT key, times FROM sided_sets").fetchall())
    assert state._conn.execute(layouts).fetchall() == [(changed, 3), (kept, None),
                                                       (swept, None)]
    assert rows[changed] == model.accounts()[changed].times
    assert rows[kept] == _stored([*heads, *flat]), "a record read is not written"
    assert state.sweep(T0 + 3.0) == model.sweep(T0 + 3.0)
    assert state._conn.execute(layouts).fetchall() == [(changed, 3), (kept, None),
                                                       (swept, 3)]
    state.close()
    reopened = SQLiteState(connect(path))
    for now in (T0 + 3.0, T0 + 200.0, T0 + 400.0):
        assert reopened.read(asked(now), now) == model.read(asked(now), now), now
    reopened.close()


def test_sqlite_refuses_a_sided_row_of_a_layout_it_does_not_know(tmp_path: Path) -> None:
    """A row of a later release's layout is refused, never read as another."""
    from spimguard.errors import StateUnavailable
    from spimguard.state.conformance import SIDED, SIDES

    path, key = tmp_path / "s.db", f"{SIDED}later"
    state = SQLiteState(connect(path))
    state.write([Touch(key, ("a",), 600.0, 10, SIDES[0])], T0)
    state.commit()
    state._conn.execute("UPDATE sided_sets SET layout = 4")
    state._conn.commit()
    state.close()
    reopened = SQLiteState(connect(path))
    with pytest.raises(StateUnavailable, match="layout 4"):
        reopened.read([Members(key, SIDES[0])], T0 + 1.0)
    reopened.close()


def test_contains_makes_no_cells_at_each_call() -> None:
    """A generator or comprehension inside ``contains`` would make its locals cells, built
    at every call, the one-name ask included (~1,800 instructions of ~11,000: speed-log,
    "bytesfast"); a wide record's ranks are read in the same loop (session 25)."""
    from spimguard.state.sided import contains

    assert contains.__code__.co_cellvars == ()
    assert contains.__code__.co_freevars == ()



def test_a_touch_leaves_the_bytes_the_slow_path_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every touch, the fast ones (a side's cap dropping its stalest in the bytes,
    ``sided._capped``: members leaving the record, times no member-side holds going) and
    the rest, leaves exactly the names and times ``sided._retouched`` (every time unpacked
    and packed again) leaves from the same record: over random touches of small records
    with small caps, and of a crowd's (its index kept as one made afresh would be)."""
    from spimguard.state import sided

    capped, dropped = sided._capped, [0, 0]  # touches capped in the bytes, names dropped

    def counted(times: bytearray, names: tuple[str, ...], *rest: object) -> tuple[str, ...]:
        left = capped(times, names, *rest)  # type: ignore[arg-type]
        dropped[0] += 1
        dropped[1] += left is not names
        return left

    monkeypatch.setattr(sided, "_capped", counted)
    rng, sides = random.Random(17), 4
    declared = (1e6,) * sides  # the TTL most touches name: their heads derived
    wide, crowds = (2_000,), ((2_000,), (2_000,), (5, 2_000), (3,))  # a side's caps
    for crowd, caps, ttls in ((6, [(1, 2, 3, 50)] * sides, (45.0, 1e6, 1e6)),
                              (12, [(3, 4, 200)] * sides, (45.0, 1e6, 1e6)),
                              (80, crowds, (1e6,)), (80, [wide] * 3 + [(3,)], (1e6,))):
        people = [sys.intern(f"p{i}") for i in range(crowd)]
        record: sided.Record | None = None
        now = T0
        for _ in range(1_200):
            now += rng.choice([0.0, 0.5, 1.0, 7.0, 30.0, -2.0])
            side, fresh = rng.randrange(sides), rng.sample(people, rng.choice([1, 1, 2, 4]))
            ttl, cap = rng.choice(ttls), rng.choice(caps[side])
            copy = sided.Record(record.names, record.times) if record else sided.empty(sides)
            slow = sided._retouched(copy, side, declared, fresh, now, ttl, cap)
            record = sided.touched(record, side, declared, fresh, now, ttl, cap)
            assert (record.names, record.times) == (slow.names, slow.times), now
            if record.index is not None:  # where names are, and each side's count and bound
                made = sided._Index(record.names, record.times, sides)
                assert ({m: record.position(m) for m in record.names}, record.index.on
                        ) == (made.at, made.on), now
                assert all(map(float.__le__, record.index.low, made.low)), now
    assert dropped[0] > 500 and dropped[1] > 100, dropped


def test_touches_of_several_sides_at_once_leave_the_bytes_each_in_turn_leaves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``sided.touched_sides`` (a message's touches of its sender's ties, one pass) leaves
    exactly the names and times ``sided._retouched`` of each part in turn leaves: over
    random parts (a side touched twice among them, names one part adds and the next
    touches, caps that take names out of the record between parts, parts that must go
    the slow way after others went the fast one), of small records and of a crowd's."""
    from spimguard.state import sided

    capped, kept, onward = sided._capped, sided._kept, sided._onward
    seen, written = [0, 0, 0, 0], [False]  # written: parts kept before a slow one

    def counted(times: bytearray, names: tuple[str, ...], *rest: object) -> tuple[str, ...]:
        left = capped(times, names, *rest)  # type: ignore[arg-type]
        seen[0] += left is not names
        return left

    def keeping(*args: object) -> None:
        kept(*args)  # type: ignore[arg-type]
        written[0] = True

    def slowly(record: sided.Record, ttls: tuple[float, ...], parts: list[sided.Part],
               now: float) -> sided.Record:
        seen[2 if written[0] else 1] += 1
        written[0] = False
        return onward(record, ttls, parts, now)

    monkeypatch.setattr(sided, "_capped", counted)
    monkeypatch.setattr(sided, "_kept", keeping)
    monkeypatch.setattr(sided, "_onward", slowly)
    rng, sides = random.Random(23), 4
    declared = (1e6,) * sides  # the TTL most touches name: their heads derived
    for crowd, caps, ttls in ((6, (1, 2, 3, 50), (45.0, 1e6, 1e6)),
                              (12, (3, 4, 200), (45.0, 1e6, 1e6)),
                              (80, (3, 5, 2_000, 2_000, 2_000), (1e6,))):
        people = [sys.intern(f"p{i}") for i in range(crowd)]
        record = sided.empty(sides)
        now = T0
        for _ in range(1_500):
            now += rng.choice([0.0, 0.5, 1.0, 7.0, 30.0, -2.0])
            folded = [(rng.randrange(sides), rng.sample(people, rng.choice([1, 1, 2, 4])),
                       rng.choice(ttls), rng.choice(caps)) for _ in range(rng.choice([2, 3, 4]))]
            slow = sided.Record(record.names, record.times)
            for side, fresh, ttl, cap in folded:
                slow = sided._retouched(slow, side, declared, fresh, now, ttl, cap)
            written[0], slowed = False, seen[1] + seen[2]
            record = sided.touched_sides(record, declared, folded, now)
            seen[3] += slowed == seen[1] + seen[2]  # every part the fast way
            assert (record.names, record.times) == (slow.names, slow.times), now
            if record.index is not None:  # where names are, and each side's count and bound
                made = sided._Index(record.names, record.times, sides)
                assert ({m: record.position(m) for m in record.names}, record.index.on
                        ) == (made.at, made.on), now
                assert all(map(float.__le__, record.index.low, made.low)), now
    # names taken out by a part; parts gone the slow way first, and after fast ones; folds
    # gone the fast way throughout
    assert seen[0] > 1_000 and seen[1] > 1_000 and seen[2] > 100 and seen[3] > 1_000, seen


def test_a_records_touches_in_one_write_are_applied_in_one_pass(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory backend (and SQLite's copy) holds a sided record's touches of one write
    until another record's write or the call's end, and applies them in one
    ``sided.touched_sides``: a message's three of its sender's ties, past other keys'
    writes between; a value lodged in a record, or a Delete, applies those held first.
    Counted where the memory state applies what it held (``MemoryState._touch_held``, the
    parts it hands to ``sided`` at once): which of ``sided``'s ways takes them (its small
    record's ``_touched_small``, asked with no ``touched_sides`` frame since ``ties49``, or
    the general loop) is ``sided``'s, and its one pass over the parts is
    ``test_touches_of_several_sides_at_once_leave_the_bytes_each_in_turn_leaves``'."""
    calls: list[tuple[str, ...]] = []
    together = MemoryState._touch_held

    def counted(self: MemoryState) -> None:
        calls.append(tuple(m for _, fresh, _, _ in self._parts for m in fresh))
        together(self)

    monkeypatch.setattr(MemoryState, "_touch_held", counted)
    state, a, b = MemoryState(), accounts.tie_record("@a:s"), accounts.tie_record("@b:s")
    ttl = accounts.TALKED_TTL  # the declared one: no part goes the slow way (``_onward``)
    state.write([Touch(b, ("@a:s",), ttl, side=accounts.TALKED),
                 Touch(a, ("@b:s",), ttl, side=accounts.RECIPROCATED),
                 Touch(a, ("@b:s",), ttl, side=accounts.OWNER_WROTE),
                 Touch("velocity:x", ("@b:s",)),
                 Touch(a, ("@b:s", "@c:s"), ttl, side=accounts.TALKED)], T0)
    assert calls == [("@a:s",), ("@b:s", "@b:s", "@b:s", "@c:s")]
    assert state.read([Members(a, accounts.TALKED), Members(a, accounts.OWNER_WROTE)],
                      T0) == [("@b:s", "@c:s"), ("@b:s",)]
    calls.clear()
    state.write([Touch(a, ("@d:s",), ttl, side=accounts.TALKED), Delete(a),
                 Touch(a, ("@e:s",), ttl, side=accounts.TALKED), Put("acct:@a:s", 1),
                 Touch(a, ("@f:s",), ttl, side=accounts.TALKED)], T0 + 1)
    assert calls == [("@d:s",), ("@e:s",), ("@f:s",)]
    assert state.read([Members(a, accounts.TALKED)], T0 + 1) == [("@e:s", "@f:s")]


def test_a_crowds_record_is_touched_in_place_as_the_slow_path_leaves_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A record of ranks wider than a byte (past 255 distinct times: an account writing
    to, or written to by, thousands) is touched in place (``sided.touched_sides``: ranks
    widened as the 256th time comes and narrowed as it goes, names leaving at a side's cap
    marked gone in the index, session 25), and leaves exactly the names and times
    ``sided._retouched`` of each part in turn leaves; fails on main, where every touch of
    such a record was ``_retouched``."""
    from spimguard.state import sided

    onward, rewidth = sided._onward, sided._rewidth
    seen = {"slow": 0, "wide": 0, "widened": 0, "narrowed": 0}

    def slowly(record: sided.Record, *rest: object) -> sided.Record:
        seen["slow"] += 1
        return onward(record, *rest)  # type: ignore[arg-type]

    def counted(times: bytearray, sides: int, n: int, code: int) -> None:
        seen["widened" if code > times[0] & 3 else "narrowed"] += 1
        rewidth(times, sides, n, code)

    monkeypatch.setattr(sided, "_onward", slowly)
    monkeypatch.setattr(sided, "_rewidth", counted)
    rng, sides = random.Random(29), 3
    declared = (1e6,) * sides  # the TTL most touches name: their heads derived
    people = [sys.intern(f"p{i}") for i in range(700)]
    record, now = sided.empty(sides), T0
    for _ in range(2_500):
        now += rng.choice([0.001] * 12 + [0.0, 1.0, -0.0005])
        parts = [(rng.randrange(sides), rng.sample(people, rng.choice([1, 1, 2, 5])),
                  1e6, 40 if rng.random() < 0.004 else rng.choice([400, 400, 2_000]))
                 for _ in range(rng.choice([1, 1, 2, 3]))]
        slow = sided.Record(record.names, record.times)
        for side, fresh, ttl, cap in parts:
            slow = sided._retouched(slow, side, declared, fresh, now, ttl, cap)
        seen["wide"] += bool(record.times[0] & 3)
        record = sided.touched_sides(record, declared, parts, now)
        assert (record.names, record.times) == (slow.names, slow.times), now
        if record.index is not None:
            made = sided._Index(record.names, record.times, sides)
            assert ({m: record.position(m) for m in record.names}, record.index.on
                    ) == (made.at, made.on), now
            assert all(map(float.__le__, record.index.low, made.low)), now
    assert seen["wide"] > 1_000 and seen["slow"] < seen["wide"] // 3, seen
    assert seen["widened"] >= 3 and seen["narrowed"] >= 3, seen


def test_a_name_leaving_a_crowds_record_moves_no_other_names_place() -> None:
    """A name a side's cap takes out of a large record marks its slot gone
    (``sided._Index.gone``): the index is made places again once an eighth of the names
    have gone, not at every drop (each new correspondent of an account at its cap of 2,000
    made the index afresh, 3.9 ms a message; fails on main)."""
    from spimguard.state import sided

    record: sided.Record | None = None
    for i in range(300):
        record = sided.touched(record, 0, (1e6, 1e6), (f"s{i}",), T0 + i, 1e6, 300)
    assert record is not None and record.index is not None
    index = record.index
    slots = dict(index.at)
    for i in range(300, 330):
        record = sided.touched(record, 0, (1e6, 1e6), (f"s{i}",), T0 + i, 1e6, 300)
    assert record.index is index and len(index.gone) == 30
    assert all(index.at[m] == slots[m] for m in record.names if m in slots)
    assert [record.position(m) for m in record.names] == list(range(300))
    for i in range(330, 340):
        record = sided.touched(record, 0, (1e6, 1e6), (f"s{i}",), T0 + i, 1e6, 300)
    assert len(index.gone) < 300 // 8
    assert [record.position(m) for m in record.names] == list(range(300))
