"""Session 40, ``state40``: the state layer's per-op work done once.

A speed change (every answer and stored byte as before): a lodged item's place unpacked
once; a plain set's touch telling its key's kind by one look-up where two calls did; a
counter new or expired packed without a dict (a dispatch in C, ``map`` and
``operator.call``, was tried and taken back: speed-log, thirty-sixth pass). The tests hold
each to main's spelling on hostile inputs (names with NULs, surrogates, ":" and "%",
empty; amounts of -0.0, ints and huge floats; ops in any order, repeated keys, unknown
kinds). They pass on main as on the branch.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spimguard.db import connect
from spimguard.state import conformance, ops
from spimguard.state.memory import MemoryState, pack_counter
from spimguard.state.sqlite import SQLiteState

T0 = conformance.T0
_DOUBLE = struct.Struct("d")
NAMES = st.text(st.sampled_from("ab:%\0\ud800é\u200b"), max_size=4)
IDS = st.sampled_from(["u1", "u:2", "%3A", ""])
AMOUNTS = st.sampled_from([1.0, -0.0, 0.0, 2, -3, 1e300, 0.1, 7.5])


def _incr_as_main(state: MemoryState, op: ops.Incr, now: float) -> None:
    """``MemoryState._incr`` as main spelt it for a counter new or expired (through a dict
    and ``pack_counter``); a live counter's paths are main's unchanged."""
    expiry = state._counters.get(op.key, (b"", 0.0))[1]
    if expiry > now:
        MemoryState._incr(state, op, now)
        return
    buckets: dict[int, float] = {}
    bucket = int(now // op.bucket)
    buckets[bucket] = buckets.get(bucket, 0.0) + op.amount
    state._counters[op.key] = (pack_counter(buckets), max(expiry, now + op.ttl))


class _AsMain(MemoryState):
    """The memory backend with main's counter."""

    _appliers: ClassVar[dict[type, Any]] = {**MemoryState._appliers, ops.Incr: _incr_as_main}


def _sided(account: str) -> str:
    return f"{conformance.SIDED}{account}"


OPS = st.one_of(
    st.builds(lambda k, a, b: ops.Incr(f"c:{k}", a, bucket=b, ttl=600.0), IDS, AMOUNTS,
              st.sampled_from([60.0, 7.0, 0.5])),
    st.builds(lambda k, m: ops.Touch(f"p:{k}", tuple(m), ttl=300.0, cap=3), IDS,
              st.lists(NAMES, max_size=3)),
    st.builds(lambda k, m: ops.Touch(f"{conformance.HASHED}{k}", tuple(m), ttl=300.0), IDS,
              st.lists(NAMES, max_size=3)),
    st.builds(lambda k, m, s: ops.Touch(_sided(k), tuple(m), ttl=100.0, side=s), IDS,
              st.lists(NAMES, max_size=3), st.sampled_from(conformance.SIDES[:2])),
    st.builds(lambda k, v: ops.Put(f"{conformance.LODGED}{k}", v, ttl=300.0), IDS,
              NAMES | st.integers() | st.binary(max_size=3)),
    st.builds(lambda k, v: ops.Put(f"v:{k}", v, ttl=300.0), IDS, NAMES),
    st.builds(lambda v: ops.Puts(("b:1", "b:2", f"{conformance.LODGED}u1"), v), NAMES),
    st.builds(lambda k: ops.Delete(f"{conformance.LODGED}{k}"), IDS),
)
QUERIES = st.one_of(
    st.builds(lambda k: ops.Count(f"c:{k}", 600.0, 60.0), IDS),
    st.builds(lambda k, m: ops.Tally(f"p:{k}", 300.0, tuple(m)), IDS, st.lists(NAMES, max_size=3)),
    st.builds(lambda k, m: ops.Tally(f"{conformance.HASHED}{k}", 300.0, tuple(m)), IDS,
              st.lists(NAMES, max_size=3)),
    st.builds(lambda k, m: ops.Contains(f"{conformance.HASHED}{k}", tuple(m)), IDS,
              st.lists(NAMES, max_size=3)),
    st.builds(lambda k, m, s: ops.Contains(_sided(k), tuple(m), side=s), IDS,
              st.lists(NAMES, max_size=3), st.sampled_from(conformance.SIDES[:2])),
    st.builds(lambda k, s: ops.Distinct(_sided(k), 50.0, side=s), IDS,
              st.sampled_from(conformance.SIDES[:2])),
    st.builds(lambda k: ops.Members(f"p:{k}"), IDS),
    st.builds(lambda k: ops.Get(f"{conformance.LODGED}{k}"), IDS),
    st.builds(lambda k: ops.Get(f"v:{k}"), IDS),
    st.just(ops.Gets(("b:1", "b:2", f"{conformance.LODGED}u1"))),
)
STEPS = st.lists(st.tuples(st.lists(OPS, max_size=4), st.lists(QUERIES, max_size=4),
                           st.sampled_from([0.0, 1.0, 30.0, 400.0]), st.booleans()),
                 max_size=8)


def _fields(held: Any) -> Any:
    """A held member set as plain values: its slots' (``_Held``, ``_Packed``), or a tuple."""
    if isinstance(held, tuple):
        return tuple(map(_fields, held))
    if isinstance(held, dict):  # a large set, with its tail's fields
        return (dict(held), vars(held) if hasattr(held, "__dict__") else None)
    slots = [name for cls in type(held).__mro__ for name in getattr(cls, "__slots__", ())]
    return (type(held).__name__, *(_fields(getattr(held, name)) for name in slots)) \
        if slots else held


def _stored(state: MemoryState) -> tuple[Any, ...]:
    """What a store holds, as bytes: values, counters, hashed sets, sided records' bytes."""
    return (dict(state._values), dict(state._counters), dict(state._hashed),
            {k: _fields(v) for k, v in state._members.items()},
            {name: (record.names, bytes(record.held)) for home in state._homes.values()
             for name, record in home.records.items()})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_reads_writes_and_counters_answer_and_store_as_mains_spelling(steps: Any) -> None:
    """Each step's writes, then its reads (as a tuple or a list), on the branch's store and
    on one with main's counter: the same answers, the same bytes held."""
    now, mine, main = T0, MemoryState(b"k" * 16), _AsMain(b"k" * 16)  # one hash key
    for writes, queries, later, as_tuple in steps:
        now += later
        failed = []
        for state in (mine, main):  # a surrogate put fails alike, the writes before it kept
            try:
                state.write(tuple(writes) if as_tuple else writes, now)
            except UnicodeEncodeError as exc:
                failed.append(exc.args)
        assert len(failed) in (0, 2) and failed[:1] == failed[1:]
        asked = tuple(queries) if as_tuple else queries
        assert repr(mine.read(asked, now)) == repr(main.read(asked, now))
        assert _stored(mine) == _stored(main)


@pytest.mark.parametrize("amount", [1.0, -0.0, 0.0, 3, -2, 1e300, float("inf"), 0.1])
@pytest.mark.parametrize("gap", [0.0, 59.0, 61.0, 10_000.0])
def test_a_new_or_expired_counter_packs_as_pack_counter(amount: float, gap: float) -> None:
    """A counter new or expired (``_incr``'s dict-free path) holds the bytes and expiry
    ``pack_counter`` and main's ``max`` gave, -0.0 and ints as main added them to 0.0."""
    state = MemoryState()
    state.write([ops.Incr("c", 5.0, bucket=60.0, ttl=600.0)], T0)
    state.write([ops.Incr("c", amount, bucket=60.0, ttl=600.0),
                 ops.Incr("fresh", amount, bucket=7.0, ttl=30.0)], T0 + gap)
    now = T0 + gap
    expected = pack_counter({int(now // 7.0): 0.0 + amount})
    assert state._counters["fresh"] == (expected, max(0.0, now + 30.0))
    if gap > 600.0:  # expired: begun again, one bucket
        assert state._counters["c"] == (pack_counter({int(now // 60.0): 0.0 + amount}),
                                        max(T0 + 600.0, now + 600.0))


def test_a_plain_touch_of_a_sided_key_raises_before_it_changes_anything() -> None:
    """``_touch``'s one look-up of the key's kind: a sided record's key touched without a
    side raises as ``_no_side`` did, even touching nobody; a hashed key goes hashed."""
    state = MemoryState()
    key = _sided("u1")
    for members in [("a",), ()]:
        with pytest.raises(TypeError, match="sided record"):
            state.write([ops.Touch(key, members)], T0)
    assert state.read([ops.Members(key, side=conformance.SIDES[0])], T0) == [()]
    hashed = f"{conformance.HASHED}x"
    state.write([ops.Touch(hashed, ("a\0", "\ud800"))], T0)
    assert state.read([ops.Contains(hashed, ("a\0", "\ud800", "a"))], T0) == [(True, True, False)]
    assert hashed not in state._members


def test_an_unknown_op_raises_as_before_and_earlier_writes_stay(tmp_path: Path) -> None:
    """A write list with a kind no table knows: the ops before it applied (the held
    touches too), a KeyError, as main's loop; a read of one raises so as well. SQLite's
    notes raise so too, before its held copy is written (as main's loop did)."""
    state, key, side = MemoryState(), _sided("u1"), conformance.SIDES[0]
    with pytest.raises(KeyError):
        state.write([ops.Touch(key, ("a",), ttl=100.0, side=side), ops.Put("v:1", 1),
                     object()], T0)  # type: ignore[list-item]
    with pytest.raises(KeyError):
        state.read([ops.Get("v:1"), object()], T0)  # type: ignore[list-item]
    assert state.read([ops.Get("v:1"), ops.Contains(key, ("a",), side=side)], T0) == [1, (True,)]
    stored = SQLiteState(connect(tmp_path / "s.db"))
    with pytest.raises(KeyError):
        stored.write([ops.Put("v:1", 1), object()], T0)  # type: ignore[list-item]
    stored.close()
