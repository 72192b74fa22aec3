"""An account's ties written before session 24 hold a fourth side at place 1, the
relationship detector's "wrote" (``accounts``: retired, ``ops.Sided.retired``). Every
backend reads such a record as the three sides kept now, the old side's times never
read and what only it held gone, and its next write drops the side."""

from __future__ import annotations

import math
import sqlite3
import struct
from pathlib import Path

from conftest import as_session34, in_eights
from spimguard import accounts
from spimguard.db import connect
from spimguard.state import StateBackend, sided
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Distinct, Members, Query, Touch
from spimguard.state.sqlite import SQLiteState

KEY = accounts.tie_record("@a:s")
TTL, CAP = 3_000.0, 100
# The record of before, side by side: b wrote to @a:s (TALKED) and was reciprocated; @a:s
# wrote to c and d (the retired side, place 1); the owner wrote to d (OWNER_WROTE).
_OLD = [(0, ("@b:s",)), (1, ("@c:s", "@d:s")), (2, ("@d:s",)), (3, ("@b:s",))]
_LIVE = (accounts.TALKED, accounts.OWNER_WROTE, accounts.RECIPROCATED)
_BEFORE = (0.0,) * 4  # the record of before declared no TTL: every side's head held


def _old_record() -> sided.Record:
    record = None
    for at, (side, people) in enumerate(_OLD):
        record = sided.touched_sides(record, _BEFORE, [(side, people, TTL, CAP)], T0 + at)
    assert record is not None and record.sides() == 4
    return record


def _reads() -> list[Query]:
    people = ("@b:s", "@c:s", "@d:s")
    return [q for side in _LIVE for q in (Members(KEY, side), Contains(KEY, people, side),
                                          Distinct(KEY, 60.0, side))]


# What the three sides held: the retired one read by none of them.
_EXPECTED = [("@b:s",), (True, False, False), 1,
             ("@d:s",), (False, False, True), 1,
             ("@b:s",), (True, False, False), 1]


def _check(state: StateBackend) -> None:
    assert state.read(_reads(), T0 + 10) == _EXPECTED
    state.write([Touch(KEY, ("@e:s",), TTL, CAP, accounts.TALKED)], T0 + 20)
    assert state.read([Members(KEY, accounts.TALKED), Members(KEY, accounts.OWNER_WROTE)],
                      T0 + 21) == [("@b:s", "@e:s"), ("@d:s",)]


def test_memory_holds_a_record_of_before_without_its_retired_side() -> None:
    state = MemoryState()
    state.load_sided(KEY, _old_record())
    held = state.accounts()[KEY]
    assert held.sides() == 3 and "@c:s" not in held.names, "c was on the retired side alone"
    _check(state)


def _sqlite_with(path: Path, layout: int | None) -> None:
    """A file whose one ties row is the record of before, in ``layout``."""
    SQLiteState(connect(path)).close()
    record = _old_record()
    flat = sided._flat(record.times, len(record.names), _BEFORE)  # the stored layout's doubles
    times = (in_eights(record.names, as_session34(record.names, record.times, _BEFORE))
             if layout is not None else struct.pack(f"<{len(flat)}d", *flat))  # that release's
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO sided_sets (key, names, times, exp, layout) "
                     "VALUES (?, ?, ?, ?, ?)",
                     (KEY, sided.encode_names(record.names), times, record.due(_BEFORE),
                      layout))


def _row(path: Path) -> tuple[tuple[str, ...], bytes, int | None]:
    with sqlite3.connect(path) as conn:
        names, times, layout = conn.execute(
            "SELECT names, times, layout FROM sided_sets WHERE key = ?", (KEY,)).fetchone()
    return sided.decode_names(names), times, layout


def test_sqlite_reads_a_row_of_before_in_either_layout_and_writes_it_without_the_side(
        tmp_path: Path) -> None:
    for layout in (None, 1):
        path = tmp_path / f"old-{layout}.db"
        _sqlite_with(path, layout)
        state = SQLiteState(connect(path))
        _check(state)
        state.commit()
        state.close()
        names, times, written = _row(path)
        assert written == 3 and times[0] >> 2 & 31 == 3, "written back with three sides"
        assert names == ("@b:s", "@d:s", "@e:s"), layout
        again = SQLiteState(connect(path))
        assert again.read([Members(KEY, side) for side in _LIVE], T0 + 21) == [
            ("@b:s", "@e:s"), ("@d:s",), ("@b:s",)]
        again.close()


def test_redis_reads_a_hash_of_before_and_its_touches_drop_the_side(
        redis_url: str, redis_namespace: str) -> None:
    """The hash of before: each member's times a double a side up to its last (the
    earlier value layout), the heads of four sides. A touch drops the retired side's head;
    a rewrite of the whole record (a side past its cap) its times, and c with them."""
    import redis

    from spimguard.state.redis import RedisState, _side_head

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    gone = -math.inf
    at = {side: T0 + i for i, (side, _) in enumerate(_OLD)}
    values = {"@b:s": (at[0], gone, gone, at[3]), "@c:s": (gone, at[1]),
              "@d:s": (gone, at[1], at[2])}
    heads = b"".join(bytes((32,)) + struct.pack("<dddd", at[side] + TTL, TTL, len(people),
                                                 at[side]) for side, people in _OLD)
    raw.hset(ns + KEY, mapping={**{name: struct.pack(f"<{len(t)}d", *t)
                                   for name, t in values.items()}, b"\xff": heads})
    raw.expire(ns + KEY, 86_400)
    _check(state)
    assert _side_head(raw.hget(ns + KEY, b"\xff"), 1) is None, "the retired head went"
    assert raw.hexists(ns + KEY, "@c:s"), "a touch of others rewrites them alone"
    state.write([Touch(KEY, ("@e:s",), TTL, 1, accounts.OWNER_WROTE)], T0 + 30)
    assert not raw.hexists(ns + KEY, "@c:s"), "the whole rewrite drops c"
    assert state.read(_reads()[:6], T0 + 31) == [
        ("@b:s", "@e:s"), (True, False, False), 2, ("@e:s",), (False, False, False), 1]
    state.close()
