"""An account's object in the memory backend (``memory._Account``): its sessions' records
lodged after its lodged items, in the one bytes object, so every account's object is a slot
smaller and an account with sessions holds no second bytes object (session 26)."""

from __future__ import annotations

import gc
import sys

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState, _Account
from spimguard.state.ops import Get, Members, Put, Touch

ACCOUNT = "@a:s"
TIES, S1 = accounts.tie_record(ACCOUNT), keys.lifelong(ACCOUNT, "s1")


def test_an_account_holds_its_items_and_sessions_in_one_bytes_object() -> None:
    """Its object holds its names and one bytes object, its times, its
    items and its sessions' records (64 bytes with its GC header, where a slot more made
    it 80 as the allocator rounds; the times a bytes object apart until session 36)."""
    state = MemoryState()
    state.write([Touch(TIES, ("@b:s",), 1_000.0, 10, accounts.TALKED),
                 Put(accounts.key(ACCOUNT), b"record", 1_000.0),
                 Touch(S1, ("@c:s",), 50.0, 10, keys.PALS)], T0)
    host = state.accounts()[TIES]
    assert [name for name, _ in host.guest_items()] == [b"s1"]
    held = [part for part in gc.get_referents(host) if isinstance(part, bytes)]
    assert held == [host.held] == [host.times + host.lodged]
    assert sys.getsizeof(_Account("")) <= 64  # its id in the slot the index gave up (session 38)


def test_items_and_sessions_keep_each_other_through_every_change() -> None:
    """An item put, dropped or swept leaves the sessions' records as they were, and a
    session's touch or drop the items; the account's object goes with its last part."""
    state = MemoryState()
    value, session = accounts.key(ACCOUNT), Members(S1, keys.PALS)
    state.write([Touch(S1, ("@c:s",), 50.0, 10, keys.PALS)], T0)  # a session alone first
    host = state.accounts()[TIES]
    assert host.items() == [] and host.lodged, "no item: the sessions after a count of none"
    state.write([Put(value, b"one", 20.0)], T0 + 1)
    state.write([Touch(S1, ("@d:s",), 50.0, 10, keys.PALS), Put(value, b"two!", 20.0)],
                T0 + 2)
    assert state.read([Get(value), session], T0 + 3) == [b"two!", ("@c:s", "@d:s")]
    state.sweep(T0 + 30)  # the item past its TTL goes, the session's record stays
    assert state.read([Get(value), session], T0 + 30) == [None, ("@c:s", "@d:s")]
    state.write([Put(value, b"three", 500.0)], T0 + 31)
    state.sweep(T0 + 100)  # the session's record past its TTL goes, the item stays
    assert host.guest_items() == [] and state.read([Get(value), session], T0 + 100) == [
        b"three", ()]
    state.sweep(T0 + 600)
    assert not state.accounts(), "nothing left: the account's object let go"


def test_a_session_record_of_long_names_is_a_record_of_its_own() -> None:
    """Whoever logs in chooses its correspondents' ids (512 characters each): a session's
    record past ``_GUEST_BYTES`` is not lodged, so the account's lodged bytes, copied at
    each put of an item, stay small; it answers as it would lodged."""
    state = MemoryState()
    long = tuple(f"@{i}" + "\U00010400" * 500 + ":s" for i in range(3))  # ~2 KB each
    state.write([Touch(S1, ("@c:s",), 50.0, 10, keys.PALS)], T0)
    assert [name for name, _ in state.accounts()[TIES].guest_items()] == [b"s1"]
    state.write([Touch(S1, long, 20.0, 10, keys.PALS),
                 Put(accounts.key(ACCOUNT), b"record", 1_000.0)], T0 + 1)
    held = state.accounts()
    assert held[TIES].guest_items() == [] and S1 in held, "a record of its own"
    assert len(held[TIES].lodged) < 100
    assert state.read([Members(S1, keys.PALS)], T0 + 2) == [("@c:s", *sorted(long))]
    state.sweep(T0 + 30)  # every name past the side's TTL, the touch's 20 s
    state.write([Touch(S1, ("@d:s",), 50.0, 10, keys.PALS)], T0 + 31)
    assert state.read([Members(S1, keys.PALS)], T0 + 31) == [("@d:s",)]
