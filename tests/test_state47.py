"""state47: a small record's touch (``sided._touched_small``) counts a side's members only
where the count can matter and drops the times no member-side holds with no ``_kept``
call; the memory state holds a one-name sided touch with no ``_fresh`` call and keeps a
plain set's touch with no ``_held`` call. Every stored byte and answer is the general
loop's (``touched_sides`` with the small way shut), as random steps show."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from spimguard.state import memory, sided
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    Contains,
    Delete,
    Distinct,
    LastTouch,
    Members,
    Query,
    Tally,
    Touch,
    Write,
    sided_keyspace,
)

T0 = 1_700_000_000.0
_TTL = 900.0
_TIES = sided_keyspace("t47-ties:", {"t47-a": "", "t47-b": "", "t47-c": ""},
                       ttls=dict.fromkeys(("t47-a", "t47-b", "t47-c"), _TTL))
_SIDES = ("t47-a", "t47-b", "t47-c")
_NAMES = tuple(f"n{i}" for i in range(7))


@contextmanager
def _counted(holder: Any, name: str) -> Iterator[list[int]]:
    """``holder.name`` counting its calls (in ``calls[0]``) while the block runs."""
    calls, step = [0], getattr(holder, name)

    def counting(*a: Any, **k: Any) -> Any:
        calls[0] += 1
        return step(*a, **k)

    setattr(holder, name, counting)
    try:
        yield calls
    finally:
        setattr(holder, name, step)


@contextmanager
def _general() -> Iterator[None]:
    """The general loop for every touch: the small record's way shut."""
    small = sided._touched_small
    sided._touched_small = lambda *_: False
    try:
        yield
    finally:
        sided._touched_small = small


def _steps(seed: int, count: int) -> list[tuple[float, list[sided.Part]]]:
    """Random touches of one record of three sides: times mostly later, some equal, a few
    late or past the TTL; one name a part mostly, new and known; the declared TTL mostly,
    caps of one to four and past the names."""
    rng, now, out = random.Random(seed), T0, []
    for _ in range(count):
        now += rng.choice((0.0, 1.0, 1.0, 7.0, 60.0, 0.25, -3.0, _TTL * 0.6))
        parts: list[sided.Part] = []
        for side in rng.sample(range(3), rng.choice((1, 1, 2, 2, 3))):
            fresh = rng.sample(_NAMES, 1 if rng.random() < 0.9 else 2)
            ttl = _TTL if rng.random() < 0.93 else rng.choice((_TTL * 2, 30.0))
            parts.append((side, fresh, ttl, rng.choice((1, 2, 3, 4, 2_000))))
        out.append((now, parts))
    return out


def _answers(record: sided.Record, now: float) -> list[Any]:
    ttls = (_TTL,) * 3
    return [(sided.contains(record, s, ttls, _NAMES, now),
             [sided.last(record, s, ttls, m, now) for m in _NAMES]) for s in range(3)]


def test_a_small_records_touches_leave_the_general_loops_bytes() -> None:
    """4 × 1,500 random touches, each of a record copied: touched the fast way and by the
    general loop, the two records' names and times (every byte) and every side's answers
    for every name are the same after each; a fifth go the small way, and none of those calls
    ``_kept`` (fails on base: its small way ends in a ``_kept`` call)."""
    ttls = (_TTL,) * 3
    small_runs = kept_in_small = steps = 0
    for seed in range(4):
        fast: sided.Record | None = None
        slow: sided.Record | None = None
        for now, parts in _steps(seed, 1_500):
            before = None if fast is None else (fast.names, fast.times)
            made: list[bool] = []
            small = sided._touched_small

            def watched(*a: Any, small: Callable[..., bool] = small,
                        made: list[bool] = made) -> bool:
                made.append(small(*a))
                return made[-1]

            sided._touched_small = watched  # type: ignore[assignment]
            try:
                with _counted(sided, "_kept") as kept:
                    fast = sided.touched_sides(
                        None if before is None else sided.Record(*before), ttls, parts, now)
            finally:
                sided._touched_small = small
            with _general():
                slow = sided.touched_sides(slow, ttls, parts, now)
            assert (fast.names, fast.times) == (slow.names, slow.times), (seed, now, parts)
            assert _answers(fast, now) == _answers(slow, now)
            steps += 1
            if made == [True]:  # (not after a part the general way: ``_onward``)
                small_runs += 1
                kept_in_small += kept[0]
    assert small_runs > steps // 6  # (~19 %: the rest late, of two names, past a TTL)
    assert kept_in_small == 0


def _writes(rng: random.Random, now: float) -> list[Write]:
    """A write call: sided touches of a few records (one name or two, a cap that drops at
    times), plain sets' touches (a TTL of their own, a cap), now and then a Delete."""
    out: list[Write] = []
    for _ in range(rng.randint(1, 5)):
        roll = rng.random()
        if roll < 0.6:
            out.append(Touch(f"t47-ties:{rng.choice('pqr')}",
                             tuple(rng.sample(_NAMES, 1 if rng.random() < 0.85 else 2)),
                             _TTL, rng.choice((1, 3, 2_000)), rng.choice(_SIDES)))
        elif roll < 0.95:
            out.append(Touch(f"t47-set:{rng.choice('xy')}",
                             tuple(rng.sample(_NAMES, rng.choice((1, 1, 2, 3)))),
                             rng.choice((60.0, 600.0)), rng.choice((2, 5, 50))))
        else:
            out.append(Delete(rng.choice(("t47-ties:p", "t47-set:x"))))
    return out


def _queries(rng: random.Random) -> list[Query]:
    key, side = f"t47-ties:{rng.choice('pqr')}", rng.choice(_SIDES)
    name = rng.choice(_NAMES)
    plain = f"t47-set:{rng.choice('xy')}"
    return [Contains(key, (name,), side), LastTouch(key, name, 400.0, side),
            Contains(key, _NAMES[:4], side), Distinct(key, 300.0, side),
            Tally(key, _TTL, _NAMES[2:5], side), Contains(plain, _NAMES),
            Distinct(plain, 600.0), Members(plain)]


def _stored(state: MemoryState) -> list[Any]:
    return ([None if (r := state.sided_record(f"t47-ties:{k}")) is None
             else (r.names, r.times) for k in "pqr"]
            + [None if (m := state.member_set(f"t47-set:{k}")) is None
               else (tuple(m[0].items()), m[1:]) for k in "xy"])


def _run(seed: int) -> list[Any]:
    """Every answer and stored value along 600 random write calls, each read after."""
    rng, state, now, seen = random.Random(seed), MemoryState(b"state47-test-key"), T0, []
    for _ in range(600):
        now += rng.choice((0.0, 1.0, 5.0, 90.0, 0.5, _TTL * 0.7))
        state.write(_writes(rng, now), now)
        seen.append(state.read(_queries(rng), now + rng.choice((0.0, 10.0))))
        seen.append(_stored(state))
    return seen


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_memory_states_answers_and_values_are_the_general_loops(seed: int) -> None:
    """The store's reads and stored records and sets along random write calls are the
    same with the small way as with the general loop for every touch (the old bytes),
    and each touch the small way took is one ``_kept`` call fewer than the general loop
    made (fails on base: as many)."""
    small, done = sided._touched_small, [0]

    def watched(*a: Any) -> bool:
        took = small(*a)
        done[0] += took
        return took

    sided._touched_small = watched  # type: ignore[assignment]
    try:
        with _counted(sided, "_kept") as kept_fast:
            fast = _run(seed)
    finally:
        sided._touched_small = small
    with _general(), _counted(sided, "_kept") as kept_slow:
        slow = _run(seed)
    assert fast == slow
    assert done[0] > 100
    assert kept_fast[0] + done[0] == kept_slow[0]


def test_a_one_name_sided_touch_and_a_plain_sets_touch_make_no_call_of_their_own() -> None:
    """A one-name sided touch finds its name with no ``_fresh`` call, a plain set's touch is
    kept with no ``_held`` call (fails on base: one each), and both are stored as before."""
    state = MemoryState(b"state47-test-key")
    with _counted(MemoryState, "_fresh") as fresh:
        state.write([Touch("t47-ties:p", ("n1",), _TTL, 3, "t47-a")], T0)
    with _counted(memory, "_held") as held:
        state.write([Touch("t47-set:x", ("n2",), 60.0, 5)], T0)
    assert (fresh[0], held[0]) == (0, 0)
    assert state.read([Contains("t47-ties:p", ("n1", "n2"), "t47-a"),
                       Members("t47-set:x")], T0) == [(True, False), ("n2",)]
