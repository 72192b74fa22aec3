"""An account's lodged items' lengths in the memory backend (``memory._framed``): each in
the narrowest width that holds the longest, 1, 2 or 4 bytes, where each was 4 until
session 37 (~8 bytes an account on zeros: its three items are ~30-230 bytes)."""

from __future__ import annotations

import random

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState, _Account
from spimguard.state.ops import Delete, Get, Members, Put, Touch

ACCOUNT = "@a:s"
TIES = accounts.tie_record(ACCOUNT)
VALUES = (accounts.key(ACCOUNT), f"tk:{ACCOUNT}")  # its account record and takeover record
SESSION = keys.lifelong(ACCOUNT, "s1")


def _framing(host: _Account) -> tuple[int, int]:
    """The host's count of slots and the bytes its lengths take, read off its lodged bytes
    as they must be laid out: the framing byte, then the lengths, then the items."""
    items = host.items()
    lodged = host.lodged
    data = sum(len(item) for item in items if item is not None) + len(host.guests)
    return len(items), len(lodged) - 1 - data


def test_short_items_take_a_byte_of_length_each_and_long_ones_more() -> None:
    """Three sizes of item in turn, the account's session's record lodged after them: the
    lengths take 1, then 2, then 4 bytes each, and 1 again once the long item is gone;
    every read answers the same throughout (main: 4 bytes each, always)."""
    state = MemoryState()
    state.write([Touch(TIES, ("@b:s",), 1_000.0, 10, accounts.TALKED),
                 Put(VALUES[0], b"r" * 20, 1_000.0), Put(VALUES[1], b"t" * 200, 1_000.0),
                 Touch(SESSION, ("@c:s",), 500.0, 10, keys.PALS)], T0)
    host = state.accounts()[TIES]
    widths = []
    for at, size in enumerate((200, 300, 70_000, 200)):
        state.write([Put(VALUES[1], b"t" * size, 1_000.0)], T0 + at)
        assert state.read([Get(VALUES[0]), Get(VALUES[1]), Members(SESSION, keys.PALS)],
                          T0 + at) == [b"r" * 20, b"t" * size, ("@c:s",)]
        count, lengths = _framing(host)
        assert count >= 2 and lengths % count == 0
        widths.append(lengths // count)
    assert widths == [1, 2, 4, 1]


def test_an_accounts_items_answer_as_a_model_through_puts_and_drops_of_every_width() -> None:
    """Puts of either value at sizes about each width's bound (a value lodged is its
    stored bytes and ~9 more), drops, and a session's touches between them, in a seeded
    random order: each read answers as a dict of the values does, and the lengths always
    take the narrowest width that holds the longest."""
    rng = random.Random(37)
    state, model = MemoryState(), dict.fromkeys(VALUES)
    state.write([Touch(TIES, ("@b:s",), 10_000.0, 10, accounts.TALKED)], T0)
    sizes = (0, 1, 240, 246, 247, 248, 256, 65_000, 65_526, 65_527, 65_528, 70_000)
    for step in range(120):
        key, now = rng.choice(VALUES), T0 + step
        if rng.random() < 0.15:
            state.write([Delete(key)], now)
            model[key] = None
        else:
            value = b"v" * rng.choice(sizes)
            state.write([Put(key, value, 10_000.0)], now)
            model[key] = value
        if rng.random() < 0.3:
            state.write([Touch(SESSION, (f"@p{step}:s",), 500.0, 4, keys.PALS)], now)
        assert state.read([Get(key) for key in VALUES], now) == [model[key] for key in VALUES]
        host = state.accounts()[TIES]
        items = [item for item in host.items() if item is not None]
        if items:
            count, lengths = _framing(host)
            longest = max(len(item) for item in items)
            assert lengths == count * (1 if longest < 256 else 2 if longest < 65_536 else 4)
