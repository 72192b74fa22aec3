"""ties45: a lodged hashed set's decoding remembered by key (``MemoryState._set_read``),
checked against the set's stored bytes at every ask, whatever changes around it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from spimguard.state import hashed, memory
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    Contains,
    Delete,
    Distinct,
    Put,
    Replace,
    Tally,
    Touch,
    Write,
    hashed_keyspace,
    lodged_keyspace,
    sided_keyspace,
)

T0 = 1_700_000_000.0
_HOST = sided_keyspace("t45-host:", {"t45-a": "", "t45-b": ""})
# A value's slot before the set's and one after it: a put of either moves or keeps the
# set's place in its host's bytes.
_BEFORE = lodged_keyspace("t45-before:", _HOST, field="t45-v")
_SET = lodged_keyspace(hashed_keyspace("t45-set:"), _HOST, field="t45-s")
_AFTER = lodged_keyspace("t45-after:", _HOST, field="t45-w")


class _Asked:
    """Counts the store's finds of a hashed set's bytes (``_hashed_at``): what a remembered
    decoding skips."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self.count = 0
        found = MemoryState._hashed_at

        def counted(state: MemoryState, key: str) -> bytes | None:
            self.count += 1
            return found(state, key)

        patch.setattr(MemoryState, "_hashed_at", counted)


def _stored_answers(state: MemoryState, key: str, asked: tuple[str, ...], window: float,
                    now: float) -> tuple[Any, ...]:
    """The answers the set's stored bytes give (``hashed_set``: the store's own accessor,
    no decoding remembered by key), as every backend reads them."""
    blob = state.hashed_set(key)
    digests = [state._hasher.digest(m) for m in asked]
    return (hashed.contains(blob, digests, now), hashed.distinct(blob, window, now),
            (hashed.distinct(blob, window, now), hashed.contains(blob, digests, now)))


def test_a_remembered_decoding_answers_as_the_stored_bytes_whatever_changes_around_it(
        ) -> None:
    """Random writes to three accounts' lodged values (lengths that keep the framing and
    that change it, before and after the set's slot), their sets (touches, replaces,
    deletes), their ties (which rewrite the host's bytes) and the accounts whole, with
    sweeps: every Contains, Distinct and Tally of a set answers as its stored bytes do,
    and many asks are answered by a decoding remembered, though a write comes between every
    two asks here (fails on base: every ask finds the bytes)."""
    rng = random.Random(45)
    state = MemoryState(b"t" * 16)
    ids, people = ["u1", "u2", "u3"], [f"p{i}" for i in range(8)]
    now, asks = T0, 0
    with pytest.MonkeyPatch.context() as patch:
        counter = _Asked(patch)
        for step in range(3_000):
            now += rng.choice([0.0, 1.0, 30.0, 200.0])
            who = rng.choice(ids)
            some = tuple(rng.sample(people, rng.choice([1, 1, 2, 5])))
            ttl = rng.choice([300.0, 1_000.0, 5_000.0])
            size = rng.choice([3, 3, 3, 40])  # the same length mostly: the framing stays
            writes: list[Write] = rng.choice([
                [Put(_BEFORE + who, "x" * size, ttl=ttl)],
                [Put(_BEFORE + who, "y" * size, ttl=ttl)],
                [Put(_AFTER + who, "z" * size, ttl=ttl)], [Delete(_BEFORE + who)],
                [Delete(_AFTER + who)], [Touch(_SET + who, some, ttl=ttl, cap=6)],
                [Replace(_SET + who, some, ttl=ttl)], [Delete(_SET + who)],
                [Touch(_HOST + who, some, ttl=ttl, cap=3, side="t45-a")],
                [Touch(_HOST + who, some, ttl=ttl, cap=3, side="t45-b")],
                [Touch(_HOST + who, some[:1], ttl=ttl, cap=3, side="t45-a")] * 4,
                [Delete(_HOST + who)],
                [Delete(_BEFORE + who), Delete(_SET + who), Delete(_AFTER + who),
                 Delete(_HOST + who)]])
            state.write(writes, now)
            if rng.random() < 0.03:
                state.sweep(now)
            later = now + rng.choice([0.0, 100.0, 2_000.0])
            for account in ids:
                asked = tuple(rng.sample(people, rng.choice([1, 1, 1, 3])))
                key = _SET + account
                got = state.read([Contains(key, asked), Distinct(key, 600.0),
                                  Tally(key, 600.0, asked)], later)
                asks += 3
                assert tuple(got) == _stored_answers(state, key, asked, 600.0, later), step
    assert counter.count < asks * 3 / 4, (counter.count, asks)  # 56 %; base: all


def test_a_lodged_sets_ask_after_its_ties_changed_reads_no_bytes_and_one_moved_reads_them(
        ) -> None:
    """A touch of the account's ties rewrites its bytes, the set's unchanged: the next
    ask finds no bytes. A value put before the set's slot with another length moves the
    set: the next ask finds it again where it now is; one with the same length but other
    bytes keeps its place and its decoding. Fails on base: every ask finds the bytes."""
    state = MemoryState(b"t" * 16)
    key = _SET + "a"
    state.write([Put(_BEFORE + "a", "x" * 10, ttl=900.0),
                 Replace(key, ("p1", "p2"), ttl=900.0)], T0)
    with pytest.MonkeyPatch.context() as patch:
        counter = _Asked(patch)
        assert state.read([Contains(key, ("p1",))], T0) == [(True,)]
        assert counter.count == 1
        state.write([Touch(_HOST + "a", ("p3",), ttl=900.0, cap=3, side="t45-a")], T0 + 1)
        assert state.read([Contains(key, ("p2",)), Contains(key, ("p3",))], T0 + 1) == [
            (True,), (False,)]
        assert counter.count == 1
        state.write([Put(_BEFORE + "a", "y" * 10, ttl=900.0)], T0 + 2)  # same length
        assert state.read([Contains(key, ("p1",))], T0 + 2) == [(True,)]
        assert counter.count == 1
        state.write([Put(_BEFORE + "a", "y" * 30, ttl=900.0)], T0 + 3)  # the set moves
        assert state.read([Contains(key, ("p1",))], T0 + 3) == [(True,)]
        assert counter.count == 2
        state.write([Replace(key, ("p3",), ttl=900.0)], T0 + 4)  # other bytes, one place
        assert state.read([Contains(key, ("p1", "p3"))], T0 + 4) == [(False, True)]
        assert counter.count == 3
        # The account dropped whole, then made again (another object) with the same list:
        # its bytes are the same where they are read, so is the answer.
        state.write([Delete(_BEFORE + "a"), Delete(key)], T0 + 5)
        assert state.read([Contains(key, ("p3",))], T0 + 5) == [(False,)]
        state.write([Replace(key, ("p3",), ttl=900.0)], T0 + 6)
        assert state.read([Contains(key, ("p3",))], T0 + 6) == [(True,)]
        assert state.read([Contains(key, ("p3",))], T0 + 1_000) == [(False,)]  # expired


def test_remembered_decodings_are_bounded_by_count_and_bytes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The sets remembered never pass ``_SETS_KEPT``, and their bytes ``_SETS_BYTES`` by
    more than one set's: a crafted load of many or large lists holds no more (fails on
    base: nothing of the kind)."""
    monkeypatch.setattr(memory, "_SETS_KEPT", 8)
    monkeypatch.setattr(memory, "_SETS_BYTES", 20_000)
    state = MemoryState(b"t" * 16)
    crowd = tuple(f"p{i}" for i in range(2_000))  # ~8 KB of digests decoded, ~3 KB stored
    for i in range(40):
        members = crowd if i % 5 == 0 else ("p1",)
        state.write([Replace(f"{_SET}{i}", members, ttl=900.0)], T0)
        assert state.read([Contains(f"{_SET}{i}", ("p1", "q"))], T0) == [(True, False)]
        assert len(state._sets_read) <= 8
        assert state._sets_bytes <= 20_000 + 4 * 2_000 + 4_000
