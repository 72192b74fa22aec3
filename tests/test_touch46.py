"""touch46: a read's ``LastTouch`` of a name that its one-name sided ``Contains`` asked is
answered by the time that ``Contains`` read (``MemoryState._contains``, ``_last_touch``),
never by one read before a write; a hashed set's key of no lodged keyspace is asked of
its table without the lodged sets' memo or a find (``MemoryState._set_read``)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from spimguard.state import sided
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    Contains,
    Delete,
    Distinct,
    LastTouch,
    Query,
    Replace,
    Tally,
    Touch,
    hashed_keyspace,
    sided_keyspace,
    sided_space,
)

T0 = 1_700_000_000.0
_TIES = sided_keyspace("t46-ties:", {"t46-talked": "", "t46-wrote": ""},
                       ttls={"t46-talked": 900.0, "t46-wrote": 4_000.0})
_SIDES = ("t46-talked", "t46-wrote")
_SET = hashed_keyspace("t46-set:")  # a hashed keyspace of its own: its sets in the table


def _stored(state: MemoryState, key: str, side: str, member: str, now: float
            ) -> float | None:
    """``member``'s live time on ``side`` as the record's stored times give it: every time
    and head unpacked by the general decoding (``sided._flat``), no rank read as the
    reads read it."""
    record = state.sided_record(key)
    if record is None:
        return None
    ttls, index, n = sided_space(_TIES).ttls, _SIDES.index(side), len(record.names)
    if member not in record.names:
        return None
    flat = sided._flat(record.times, n, ttls)
    expiry, ttl = flat[2 * index], flat[2 * index + 1]
    ts = flat[2 * len(ttls) + index * n + list(record.names).index(member)]
    return ts if ts != sided.ABSENT and expiry > now and ts > now - ttl else None


def _expected(state: MemoryState, query: Query, now: float) -> Any:
    """What the stored bytes answer to a ``Contains`` or ``LastTouch`` of a side."""
    if isinstance(query, Contains):
        return tuple(_stored(state, query.key, query.side, m, now) is not None
                     for m in query.members)
    assert isinstance(query, LastTouch)
    ts = _stored(state, query.key, query.side, query.member, now)
    return ts if ts is not None and ts + query.window > now else None


def _reads(rng: random.Random, keys: list[str], people: list[str]) -> list[Query]:
    """A read's asks: mostly a one-name Contains then the LastTouch of the same key, side
    and name (takeover's plan of a message to one), also of another name, side or key,
    the LastTouch alone or first, a Contains of several names between."""
    queries: list[Query] = []
    for _ in range(rng.choice([1, 2, 3])):
        key, side, member = rng.choice(keys), rng.choice(_SIDES), rng.choice(people)
        window = rng.choice([60.0, 600.0, 5_000.0])
        shape = rng.choice(["pair"] * 4 + ["other name", "other side", "other key",
                                           "alone", "first", "crowd between"])
        ask = Contains(key, (member,), side)
        asked = LastTouch(key, member, window, side)
        if shape == "other name":
            asked = LastTouch(key, rng.choice(people), window, side)
        elif shape == "other side":
            asked = LastTouch(key, member, window, _SIDES[1 - _SIDES.index(side)])
        elif shape == "other key":
            asked = LastTouch(rng.choice(keys), member, window, side)
        if shape == "alone":
            queries.append(asked)
        elif shape == "first":
            queries += [asked, ask]
        elif shape == "crowd between":
            queries += [ask, Contains(key, tuple(rng.sample(people, 3)), side), asked]
        else:
            queries += [ask, asked]
    return queries


def test_a_last_touch_after_its_contains_answers_as_the_stored_bytes() -> None:
    """Random touches of four accounts' two sides (their declared TTLs and others, which
    hold a head; caps that drop; one account a crowd of 300 names at as many times, whose
    ranks are wider than a byte), records deleted, time jumping past the TTLs, and reads
    between: every Contains and LastTouch answers as the record's stored times do, and
    the LastTouch asks after their Contains find no record again (fails on base: every
    ask finds its record, ``MemoryState._side``)."""
    rng = random.Random(46)
    state = MemoryState(b"u" * 16)
    keys = [f"{_TIES}a{i}" for i in range(4)]
    people = [f"p{i}" for i in range(12)]
    crowd = [f"c{i}" for i in range(300)]
    now, asked, found, calls = T0, 0, 0, [0]
    side_of = MemoryState._side

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return side_of(*args)

    for name in crowd:  # a crowd's record: 300 distinct times, ranks of two bytes
        now += 1.0
        state.write([Touch(keys[3], (name,), 900.0, 10_000, "t46-talked")], now)
    record = state.sided_record(keys[3])
    assert record is not None and record.held[0] & 3, "the crowd's ranks are a byte"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MemoryState, "_side", counted)
        for _ in range(3_000):
            now += rng.choice([0.0, 1.0, 40.0, 300.0, 1_000.0])
            if rng.random() < 0.5:
                side = rng.choice(_SIDES)
                declared = sided_space(_TIES).ttls[_SIDES.index(side)]
                ttl = rng.choice([declared, declared, declared, 200.0])
                members = tuple(rng.sample(people, rng.choice([1, 1, 1, 2, 4])))
                op: Any = Touch(rng.choice(keys), members, ttl, rng.choice([2, 3, 10_000]),
                                side)
                if rng.random() < 0.02:
                    op = Delete(rng.choice(keys[:3]))
                state.write([op], now)
                continue
            queries = _reads(rng, keys, people + crowd[-3:])
            before = calls[0]
            answers = state.read(queries, now)
            assert answers == [_expected(state, q, now) for q in queries]
            asked += len(queries)
            found += calls[0] - before
    assert asked > 3_000
    assert found < asked * 0.85  # (here 0.74: a pair is 4 in 10 of the shapes)


def _counted(monkeypatch: pytest.MonkeyPatch, method: str) -> list[int]:
    """A one-item list counting the calls of ``MemoryState.<method>`` from here on."""
    calls = [0]
    original = getattr(MemoryState, method)

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return original(*args)

    monkeypatch.setattr(MemoryState, method, counted)
    return calls


def test_the_pair_finds_its_record_once_and_no_time_outlives_its_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Takeover's pair of a message to one (whether the recipient wrote to the sender, and
    when) finds the sender's ties record once (fails on base: twice); the time its
    Contains read is its read's alone: the LastTouch of a later read, after a touch of the
    name or the record's deletion, reads the record as it is then."""
    state = MemoryState(b"w" * 16)
    key = _TIES + "c"
    state.write([Touch(key, ("p",), 900.0, 10, "t46-talked")], T0)
    calls = _counted(monkeypatch, "_side")
    assert state.read([Contains(key, ("p",), "t46-talked"),
                       LastTouch(key, "p", 600.0, "t46-talked")], T0 + 1) == [(True,), T0]
    assert calls == [1]
    state.write([Touch(key, ("p",), 900.0, 10, "t46-talked")], T0 + 5)
    assert state.read([LastTouch(key, "p", 600.0, "t46-talked")], T0 + 6) == [T0 + 5]
    state.read([Contains(key, ("p",), "t46-talked")], T0 + 7)
    state.write([Delete(key)], T0 + 8)
    assert state.read([LastTouch(key, "p", 600.0, "t46-talked")], T0 + 9) == [None]
    assert state.read([Contains(key, ("q",), "t46-talked"),
                       LastTouch(key, "q", 600.0, "t46-talked")], T0 + 10) == [(False,), None]


def test_a_set_of_its_own_is_asked_of_its_table_alone(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """A hashed set of no lodged keyspace, there or not (most asks: ``vel:`` sets not made,
    ``lists:``), answers as its stored bytes do with no find of a lodged set's bytes
    (fails on base: ``_hashed_at`` asked each time); a sided record's key asked with no
    side still raises."""
    state = MemoryState(b"x" * 16)
    key, none = _SET + "a", _SET + "b"
    state.write([Replace(key, ("p", "q"), 900.0)], T0)
    finds = _counted(monkeypatch, "_hashed_at")
    asked: list[Query] = [Contains(key, ("p", "r")), Distinct(key, 600.0),
                          Tally(key, 600.0, ("q",)), Contains(none, ("p",)),
                          Distinct(none, 600.0), Tally(none, 600.0, ("p",))]
    assert state.read(asked, T0 + 1) == [(True, False), 2, (2, (True,)), (False,), 0,
                                         (0, (False,))]
    assert state.read([Contains(key, ("p",))], T0 + 901) == [(False,)]
    assert finds == [0]
    with pytest.raises(TypeError):
        state.read([Contains(_TIES + "c", ("p",))], T0)
