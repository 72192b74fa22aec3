"""An account's object in the memory backend (``memory._Account``, session 36): its sided
record's times and its lodged items in one bytes object (``held``: the times, ``end``
bytes, then the items and the sessions' records), where they were two, each with a
33-byte header and the allocator's rounding. What must hold: the object holds that one
bytes object and no other, every part reads back exactly through every change (times of
fewer and more than 256 bytes, items put and dropped, sessions lodged, sweeps), a copy or
a pickle holds the same, and the memory benchmark counts the bytes once and no copy of a
part."""

from __future__ import annotations

import gc
import pickle
from types import ModuleType

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState, _Account
from spimguard.state.ops import Get, Members, Put, Touch
from test_memory_benchmark import memory  # noqa: F401  # the benchmark's module, a fixture

ACCOUNT = "@a:s"
TIES, S1 = accounts.tie_record(ACCOUNT), keys.lifelong(ACCOUNT, "s1")


def _bytes_held(host: _Account) -> list[bytes]:
    return [part for part in gc.get_referents(host) if isinstance(part, bytes)]


def _check(host: _Account) -> None:
    """The host holds one bytes object, ``held``, and its parts are its bytes, exactly."""
    blob = host.held
    assert _bytes_held(host) == [blob]
    times, lodged = host.times, host.lodged
    assert blob == times + lodged and host.end == len(times)


def test_an_accounts_object_holds_one_bytes_object_through_every_change() -> None:
    state = MemoryState()
    record, talked = accounts.key(ACCOUNT), Members(TIES, accounts.TALKED)
    state.write([Put(record, b"record", 1_000.0)], T0)  # an item alone: no times yet
    host = state.accounts()[TIES]
    assert host.times == b"" and host.end == 0 and host.held == host.lodged != b""
    _check(host)
    state.write([Touch(TIES, ("@b:s",), accounts.TALKED_TTL, 2_000, accounts.TALKED),
                 Touch(S1, ("@c:s",), 50.0, 10, keys.PALS)], T0 + 1)
    _check(host)
    assert 0 < host.end <= 256 and [name for name, _ in host.guest_items()] == [b"s1"]
    assert state.read([Members(S1, keys.PALS)], T0 + 2) == [("@c:s",)]
    # A crowd: times past 256 bytes (a length that is an int of its own) and an index (> 32).
    crowd = tuple(f"@p{i}:s" for i in range(150))
    for n in range(0, 150, 10):
        state.write([Touch(TIES, crowd[n:n + 10], accounts.TALKED_TTL, 2_000,
                           accounts.TALKED)], T0 + 2 + n)
        _check(host)
    assert host.end == len(host.times) > 256 and host.index is not None
    assert state.read([talked, Get(record), Members(S1, keys.PALS)], T0 + 200) == [
        ("@b:s", *crowd), b"record", ()]  # (the session's 50 s past)
    state.write([Put(record, b"changed record", 1_000.0)], T0 + 201)
    _check(host)
    assert state.read([Get(record)], T0 + 202) == [b"changed record"]
    state.sweep(T0 + 100)  # the session's record (50 s) goes; the ties and item stay
    _check(host)
    assert host.guest_items() == [] and state.read([talked], T0 + 203) == [
        ("@b:s", *crowd)]
    state.sweep(T0 + 5_000)  # the item (1,000 s) goes: the ties alone
    _check(host)
    assert host.lodged == b"" and state.read([Get(record)], T0 + 5_000) == [None]
    state.sweep(T0 + accounts.TALKED_TTL + 1_000)
    assert not state.accounts(), "nothing left: the account's object let go"


def test_an_account_pickles_and_copies_as_its_names_and_bytes() -> None:
    state = MemoryState()
    crowd = tuple(f"@p{i}:s" for i in range(40))
    state.write([Touch(TIES, crowd, accounts.TALKED_TTL, 2_000, accounts.TALKED),
                 Put(accounts.key(ACCOUNT), b"record", 1_000.0),
                 Touch(S1, ("@c:s",), 50.0, 10, keys.PALS)], T0)
    host = state.accounts()[TIES]
    back = pickle.loads(pickle.dumps(host))
    assert (back.names, back.held, back.end) == (host.names, host.held, host.end)
    assert back.index is not None and back.index.at == host.index.at
    assert _bytes_held(back) == [back.held]


def test_the_benchmark_counts_an_accounts_bytes_once_and_no_copy_of_its_parts(
        memory: ModuleType) -> None:  # noqa: F811  # (the fixture imported)
    """``times`` and ``lodged`` are copies made as read: the benchmark's walk of an
    account's objects must count the bytes the object holds, not them."""
    state = MemoryState()
    ties = "ties:user1"
    state.write([Touch(ties, ("user2",), 1_000.0, 10, accounts.TALKED),
                 Put(accounts.key("user1"), b"record", 1_000.0)], 10.0)
    host = state.accounts()[ties]
    walked = [part for part in memory._held_objects(host, set()) if isinstance(part, bytes)]
    assert walked == [host.held]
    assert host.held[host.end:] == host.lodged != b"" and host.end == len(host.times)
