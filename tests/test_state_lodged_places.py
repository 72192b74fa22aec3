"""Where a lodged key's item is (``MemoryState._found``): told by its keyspace alone, so a
store of more lodged accounts than the places it remembers (``_PLACES_KEPT``; an account
lodges three) answers as a fresh store does, each item in its own account's record and its
keyspace's slot, and a key not remembered pays no look-up of its own (``lodging``,
``_home``: session 28)."""

from __future__ import annotations

import pytest

from spimguard import accounts
from spimguard.detectors.takeover import keys, record
from spimguard.state import memory
from spimguard.state.conformance import LODGED, SIDED, T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Distinct, Get, Put, Query, Replace, Write

ACCOUNTS = 2_000  # 6,000 lodged keys, past the places and kinds a store remembers
TTL = 86_400.0


def _account(i: int) -> str:
    return f"@u{i}:s"


def _writes(i: int) -> list[Write]:
    """Each lodged keyspace's item of account ``i``, and a key beside the takeover record's
    prefix (``keys.OTHERS``), a key of its own."""
    who = _account(i)
    return [Put(accounts.key(who), {"first": i}, TTL),
            Replace(accounts.contacts(who), (f"@c{i}:s", f"@d{i}:s"), TTL),
            Put(record.key(who), [i, "tk"], TTL),
            Put(keys.OTHERS[0] + who, i, TTL),
            Put(LODGED + who, f"cv{i}", TTL)]


def _reads(i: int) -> list[Query]:
    who = _account(i)
    return [Get(accounts.key(who)), Get(record.key(who)), Get(keys.OTHERS[0] + who),
            Get(LODGED + who), Contains(accounts.contacts(who), (f"@c{i}:s", "@c0:s")),
            Distinct(accounts.contacts(who), TTL),
            # a key of one kind asked as another's: none
            Get(accounts.contacts(who)), Contains(accounts.key(who), ("x",))]


def _fresh(i: int) -> list[object]:
    """What a store that held account ``i`` alone answers."""
    state = MemoryState()
    state.write(_writes(i), T0)
    return state.read(_reads(i), T0 + 1)


def test_a_store_of_more_lodged_accounts_than_were_remembered_answers_as_a_fresh_one() -> None:
    state = MemoryState()
    for i in range(ACCOUNTS):
        state.write(_writes(i), T0)
    # Each account's reads, in two rounds: every key asked once past any bound since.
    for _ in range(2):
        for i in range(0, ACCOUNTS, 7):
            assert state.read(_reads(i), T0 + 1) == _fresh(i), i


def test_each_lodged_item_is_in_its_own_accounts_record_at_its_keyspaces_slot() -> None:
    state = MemoryState()
    for i in range(ACCOUNTS):
        state.write(_writes(i), T0)
    held = state.accounts()
    assert len(held) == 2 * ACCOUNTS  # the accounts' ties and the conformance hosts
    slots: dict[str, set[int]] = {}
    for i in range(ACCOUNTS):
        who = _account(i)
        items = {state.value(accounts.key(who)), state.value(record.key(who))}
        assert None not in items
        assert state.hashed_set(accounts.contacts(who)) is not None
        assert state.value(LODGED + who) is not None
        # The key beside the record's prefix is a key of its own, not one of its record's.
        assert state.value(keys.OTHERS[0] + who) is not None
        assert keys.OTHERS[0] + who in state._values
        assert accounts.key(who) not in state._values
        lodged = held[accounts.tie_record(who)].items()
        assert sum(item is not None for item in lodged) == 3, who
        other = state.accounts().get(SIDED + who)
        assert other is not None and sum(item is not None for item in other.items()) == 1
        for key in (accounts.key(who), record.key(who), accounts.contacts(who)):
            place = state._found(key)
            assert place is not None and place[1] == who
            slots.setdefault(key[:key.index(":") + 1], set()).add(place[2])
    # one slot a keyspace, none shared
    assert all(len(found) == 1 for found in slots.values())
    assert len(set().union(*slots.values())) == len(slots)


def test_a_lodged_keys_place_costs_no_look_up_of_its_own(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Where keys lodge is looked up a keyspace (its host's home, its slot), not a key:
    a key whose place is not remembered costs what a remembered one's first time did."""
    state = MemoryState()
    asked: list[str] = []
    home, lodging = MemoryState._home, memory.lodging

    def homed(self: MemoryState, key: str) -> object:
        asked.append(key)
        return home(self, key)

    def lodged(key: str) -> object:
        asked.append(key)
        return lodging(key)

    monkeypatch.setattr(MemoryState, "_home", homed)
    monkeypatch.setattr(memory, "lodging", lodged)
    for i in range(ACCOUNTS):
        state.write(_writes(i), T0)
        state.read(_reads(i), T0 + 1)
    # A keyspace's look-up each (its prefix and "_"), never a key's: how many keyspaces the
    # process has declared depends on which tests ran in it before, the accounts do not.
    assert all(key.endswith(":_") for key in asked), asked[:40]
    assert len(asked) <= 2 * len(set(asked)), asked[:40]
