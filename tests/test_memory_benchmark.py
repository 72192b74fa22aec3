"""The memory benchmark's accounting: what its rows by kind count and what its copies
own (``benchmarks/memory.py`` prints the figures)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from spimguard import accounts
from spimguard.state import memory as memory_state
from spimguard.state.memory import MemoryState, _Held, _Packed
from spimguard.state.ops import Put, Touch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import memory

    yield memory


def test_an_object_two_keys_hold_is_counted_once_and_each_key_string_is_counted(
        memory: ModuleType) -> None:
    state = MemoryState()
    value = b"x" * 100
    state.write([Put("a:user1", value, 60.0), Put("a:user2", value, 60.0)], 10.0)
    assert state._values["a:user1"] is state._values["a:user2"]  # one value put, one held
    live = list(state._values.items())
    (_, first), (_, second) = memory.store_sizes(state, live)[0]
    assert first - second == memory._allocated(sys.getsizeof(state._values["a:user1"]))
    assert second > memory._allocated(sys.getsizeof("a:user2"))


def test_a_copy_owns_its_expiry_and_shares_its_ttl(memory: ModuleType) -> None:
    """Each write computes its expiry (a float object of its own); a TTL is a setting."""
    held = _Held(_Packed((sys.intern("user1"),), 5.0), 100.5, 60.0, 10)
    copy = memory._copied(held, 1)
    assert copy.names == ("user1c1",)
    assert copy.expiry == held.expiry and copy.expiry is not held.expiry
    assert copy.ttl is held.ttl
    value = memory_state._stamped(b"v", 100.5)  # a value: its expiry in its bytes
    copied = memory._copied(value, 1)
    assert copied == value and copied is not value


def test_an_accounts_lodged_items_are_rows_of_their_own_and_its_copy_owns_them(
        memory: ModuleType) -> None:
    """An account's record and contact list, lodged in its ties' object, are each a row;
    the rows sum to every object the account holds, no byte counted twice or left out."""
    ties = accounts.tie_record("user1")
    state = MemoryState()
    state.write([Touch(ties, ("user2",), side=accounts.TALKED),
                 Put(accounts.key("user1"), b"r" * 20, 60.0),
                 Touch(accounts.contacts("user1"), ("user3",))], 10.0)
    live = list(state.accounts().items())
    sizes, names = memory.store_sizes(state, live)
    assert sorted(key for key, _ in sizes) == [
        "lodged '' in ties:user1", "lodged 'c' in ties:user1", ties]
    host = state.accounts()[ties]
    share = sys.getsizeof({ties: None})
    # (its objects: its id's string too, held by its ``id`` slot as by its table's key)
    held = [memory._allocated(sys.getsizeof(part)) for part in memory._held_objects(host, set())]
    assert sum(size for _, size in sizes) + names == sum(held) + round(share)
    copy = memory._copied(host, 1)
    assert copy.names == ("user2c1",) and copy.times == host.times
    assert copy.lodged == host.lodged and copy.held is not host.held
