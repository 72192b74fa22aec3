"""state48: fewer objects and calls a write in the memory state. A packed set touched again
keeps its own held object (its members and terms changed in it, none made); a touch of
one name of a plain set finds it with no ``_fresh`` call, as a sided one did; a counter's
bucket new to it, with room, is appended to its bytes with no dict unpacked and packed.
Every stored byte and answer is the old way's, as random writes show."""

from __future__ import annotations

import builtins
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from spimguard.state import memory
from spimguard.state.memory import MemoryState, pack_counter
from spimguard.state.ops import Count, Incr, Members, Touch
from test_state47 import _counted

T0 = 1_700_000_000.0


def test_a_packed_set_touched_again_keeps_its_own_object_and_calls_no_fresh() -> None:
    """Touched again, a packed set's held object is the one the store held (fails on base:
    a new one a touch), with the new members, expiry, TTL and cap in it; a touch of one
    name makes no ``_fresh`` call (fails on base: one a touch)."""
    state = MemoryState(b"state48-test-key")
    state.write([Touch("s48:x", ("a",), 60.0, 5)], T0)
    held = state._members["s48:x"]
    with _counted(MemoryState, "_fresh") as fresh:
        state.write([Touch("s48:x", ("b",), 90.0, 5)], T0 + 1)
        state.write([Touch("s48:x", ("a",), 90.0, 2)], T0 + 2)
    assert state._members["s48:x"] is held
    assert fresh[0] == 0
    members, expiry, ttl, cap = state.member_set("s48:x")  # type: ignore[misc]
    assert (tuple(members.items()), expiry, ttl, cap) == (
        (("b", T0 + 1), ("a", T0 + 2)), T0 + 92, 90.0, 2)
    assert state.read([Members("s48:x")], T0 + 2) == [("b", "a")]


class _Everything:
    """A counter's view whose every slice holds every bucket: ``_incr``'s append shut, the
    dict's way taken; its list (``_floats``) the counter's own."""

    def __init__(self, packed: bytes, code: str = "B") -> None:
        self.packed, self.code = packed, code

    def cast(self, code: str) -> _Everything:
        return _Everything(self.packed, code)

    def tolist(self) -> list[Any]:
        return builtins.memoryview(self.packed).cast(self.code).tolist()  # type: ignore[call-overload]

    def __getitem__(self, _: object) -> _Everything:
        return self

    def __contains__(self, _: object) -> bool:
        return True


@contextmanager
def _appends_shut() -> Iterator[None]:
    memory.memoryview = _Everything  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del memory.memoryview  # type: ignore[attr-defined]


def _counts(seed: int) -> list[Any]:
    """Every counter's bytes and expiry, and a count, along 800 random Incrs of a few keys:
    times mostly later, some earlier (buckets counted out of order), gaps past the TTL,
    amounts whole and not, TTLs that keep more buckets than ``_MAX_BUCKETS`` and fewer."""
    rng, state, now, seen = random.Random(seed), MemoryState(b"state48-test-key"), T0, []
    for _ in range(800):
        now += rng.choice((0.0, 1.0, 7.0, 30.0, 61.0, -45.0, 400.0, 3_000.0))
        key = rng.choice(("c:x", "c:y", "c:z"))
        ttl = rng.choice((600.0, 1_200.0, 2_000.0))
        state.write([Incr(key, rng.choice((1, 2, 0.5, -1)), 60.0, ttl)], now)
        seen.append([state.packed_counter(k) for k in ("c:x", "c:y", "c:z")])
        seen.append(state.read([Count(key, 300.0, 60.0)], now))
    return seen


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_new_buckets_append_leaves_the_dicts_bytes(seed: int) -> None:
    """The counters' bytes, expiries and counts along random Incrs are the same with a new
    bucket appended as with every new bucket counted through the dict (the old way), and
    the appends unpacked no counter (fails on base: as many unpacked either way)."""
    with _counted(memory, "unpack_counter") as unpacked_fast:
        fast = _counts(seed)
    with _appends_shut(), _counted(memory, "unpack_counter") as unpacked_slow:
        slow = _counts(seed)
    assert fast == slow
    assert unpacked_slow[0] - unpacked_fast[0] > 50, (unpacked_fast, unpacked_slow)


def test_a_new_bucket_with_room_is_appended_with_no_dict() -> None:
    """A bucket new to a live counter with room for it is appended: no ``unpack_counter``
    nor ``pack_counter`` call (fails on base: one each), the bytes ``pack_counter`` makes."""
    state = MemoryState(b"state48-test-key")
    state.write([Incr("c:x", 1, 60.0, 600.0)], T0)
    with _counted(memory, "unpack_counter") as unpacked, \
            _counted(memory, "pack_counter") as packed:
        state.write([Incr("c:x", 2, 60.0, 600.0)], T0 + 60)
        state.write([Incr("c:x", 1, 60.0, 600.0)], T0 + 121)
    assert (unpacked[0], packed[0]) == (0, 0)
    first = int(T0 // 60)
    assert state.packed_counter("c:x") == (
        pack_counter({first: 1.0, first + 1: 2.0, first + 2: 1.0}), T0 + 721)
