"""ties49: the ties' applications cheaper. The memory state asks a small record's way
(``sided._touched_small``) with no ``touched_sides`` frame between; that way copies an
account's held bytes once (its lodged tail riding in the copy), finds a member once for
the parts that name it, and packs a time once for the records one write touches at it.
Every stored byte (the account's whole ``held``: times, lodged items, guests) and every
answer is the general loop's, along random writes."""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state import sided
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    Contains,
    Delete,
    Get,
    LastTouch,
    Members,
    Put,
    Query,
    Touch,
    Write,
)
from test_state47 import _counted, _general

T0 = 1_700_000_000.0
_TTL = accounts.TALKED_TTL
_SIDES = (accounts.TALKED, accounts.RECIPROCATED, accounts.OWNER_WROTE)
_PEOPLE = tuple(f"@p{i}:s" for i in range(9))
_OWNERS = ("@a:s", "@b:s", "@c:s")
_LIFE_TTL = keys._SESSION_TTL


def _writes(rng: random.Random, now: float) -> list[Write]:
    """A write call as a message's: an account's ties touched on one side or the sender's
    two (one name mostly, now and then two, another TTL, a cap that drops), its lodged
    value put, a session's record (a guest in the ties) touched, now and then a Delete."""
    out: list[Write] = []
    for _ in range(rng.randint(1, 4)):
        owner, roll = rng.choice(_OWNERS), rng.random()
        tie = accounts.tie_record(owner)
        if roll < 0.65:
            names = tuple(rng.sample(_PEOPLE, 1 if rng.random() < 0.9 else 2))
            ttl = _TTL if rng.random() < 0.95 else 3_600.0
            sides = rng.choice(((accounts.TALKED,), (accounts.RECIPROCATED,
                                                      accounts.OWNER_WROTE)))
            out += [Touch(tie, names, ttl, rng.choice((1, 3, 2_000)), side) for side in sides]
        elif roll < 0.8:
            out.append(Put(accounts.key(owner), {"n": rng.randint(0, 9)}, 86_400.0))
        elif roll < 0.97:
            out.append(Touch(keys.lifelong(owner, rng.choice("xy")),
                             (rng.choice(_PEOPLE),), _LIFE_TTL, 50, keys.PALS))
        else:
            out.append(Delete(tie))
    return out


def _queries(rng: random.Random) -> list[Query]:
    owner = rng.choice(_OWNERS)
    tie, side = accounts.tie_record(owner), rng.choice(_SIDES)
    return [Contains(tie, _PEOPLE[:5], side), Members(tie, side),
            LastTouch(tie, rng.choice(_PEOPLE), 400.0, side), Get(accounts.key(owner)),
            Members(keys.lifelong(owner, "x"), keys.PALS)]


def _stored(state: MemoryState) -> list[Any]:
    """Each account's record as held: its names and its whole bytes (times, then the
    lodged items and guests) and where its times end."""
    return [None if (r := state.sided_record(accounts.tie_record(o))) is None
            else (r.names, r.held, r.end) for o in _OWNERS]


def _run(seed: int) -> list[Any]:
    """Every answer and stored record along 400 random write calls, each read after: times
    mostly later, some equal, a few late, now and then a jump that drops a side's oldest."""
    rng, state, now, seen = random.Random(seed), MemoryState(b"ties49-test-key!"), T0, []
    for _ in range(400):
        now += rng.choice((0.0, 1.0, 5.0, 90.0, 0.5, -2.0, _TTL * 0.6))
        state.write(_writes(rng, now), now)
        seen.append(state.read(_queries(rng), now + rng.choice((0.0, 10.0))))
        seen.append(_stored(state))
    return seen


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_an_accounts_ties_the_small_way_are_the_general_loops_with_no_touched_sides_call(
        seed: int) -> None:
    """Along random writes to accounts' ties (lodged values and sessions' records riding
    after their times), every answer and every account's whole held bytes are the same
    with the small way as with the general loop for every touch; and each application the
    small way took made no ``touched_sides`` call (fails on base: memory called it for
    every application, the small way inside it)."""
    small, general, done, inside = sided._touched_small, sided.touched_sides, [0], [0]

    def watched(*a: Any) -> bool:
        took = small(*a)
        done[0] += took and not inside[0]  # (asked by memory, not by ``touched_sides``)
        return took

    def entered(*a: Any) -> sided.Record:
        inside[0] += 1
        try:
            return general(*a)
        finally:
            inside[0] -= 1

    sided._touched_small, sided.touched_sides = watched, entered  # type: ignore[assignment]
    try:
        with _counted(sided, "touched_sides") as calls_fast:
            fast = _run(seed)
    finally:
        sided._touched_small, sided.touched_sides = small, general
    with _general(), _counted(sided, "touched_sides") as calls_slow:
        slow = _run(seed)
    assert fast == slow
    assert done[0] > 150
    assert calls_fast[0] + done[0] == calls_slow[0]


class _Packing(struct.Struct):
    """``sided._DOUBLE`` counting its packs."""

    packs = 0

    def pack(self, *values: Any) -> bytes:
        _Packing.packs += 1
        return super().pack(*values)


def test_two_records_touched_at_one_time_pack_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message's write touches the recipient's ties and the sender's at one time: the
    small way packs that time once for both (fails on base: once an application), and a
    later write's time, and an equal time of another object, are packed anew, each record
    stored as the general loop stores it."""
    def write_all(state: MemoryState) -> None:
        a, b = accounts.tie_record("@a:s"), accounts.tie_record("@b:s")
        for now in (T0, T0 + 1.0):
            state.write([Touch(b, ("@a:s",), _TTL, side=accounts.TALKED),
                         Touch(a, ("@b:s",), _TTL, side=accounts.TALKED)], now)
        now = T0 + 2.0
        state.write([Touch(b, ("@a:s",), _TTL, side=accounts.TALKED),
                     Touch(a, ("@b:s",), _TTL, side=accounts.RECIPROCATED),
                     Touch(a, ("@b:s",), _TTL, side=accounts.OWNER_WROTE)], now)
        again = float(str(now + 1.0))  # an equal time, another object
        state.write([Touch(b, ("@c:s",), _TTL, side=accounts.TALKED)], now + 1.0)
        state.write([Touch(a, ("@c:s",), _TTL, side=accounts.TALKED)], again)

    with _general():
        slow = MemoryState(b"ties49-test-key!")
        write_all(slow)
    monkeypatch.setattr(sided, "_DOUBLE", _Packing("<d"))
    fast = MemoryState(b"ties49-test-key!")
    write_all(fast)
    # Three writes of two records at one time (their first times too: a new record is
    # the small way's from empty), then two of one record each, the second's time equal
    # and another object: five packs, where each application packed its time (eight).
    assert _Packing.packs == 5
    for owner in ("@a:s", "@b:s"):
        one, other = (s.sided_record(accounts.tie_record(owner)) for s in (fast, slow))
        assert one is not None and other is not None
        assert (one.names, one.held, one.end) == (other.names, other.held, other.end)
