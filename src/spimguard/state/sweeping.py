"""Which keys a sweep's part takes (``StateBackend.sweep``): the same on every store.

A sweep of the whole state inside one batch made that batch wait for every table's
scan and deletes (200-280 ms wall, 85 ms CPU on the embedded store at 2,000 users and
two days of the mixed load, growing with the state); the engine now sweeps one part of
the keys at a time (``maintenance.SWEEP_PARTS``), at
positions fixed by the event count. What a sweep drops is what a late event could still
have read, so the memory store and SQLite must drop the same keys at the same position:
a key's part is a function of the key alone, never of what a store holds or the order
it holds it in. A lodged key (``ops.lodged_keyspace``) goes with its host's record, as
the memory store keeps them: one object, swept at once.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from .ops import lodging


def part_of(key: str, parts: int) -> int:
    """The part of ``parts`` the key is swept in (crc32: the same in every process,
    where ``hash`` is seeded per process)."""
    found = lodging(key)
    name = key if found is None else found[0]
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) % parts


class Parts:
    """A store's ``part_of`` of the keys its sweeps test in a lap, remembered for the lap.
    A part's pass tests every key with something to drop, of every part (no index finds
    a part's keys; SQLite calls this from its statements), so each such key's part is
    found once a lap (~1.8 µs), not once a part. The keys remembered are those the lap
    drops, and the sets and records it looks into: let go at the next lap's start."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}
        self._parts = 0

    def of(self, part: int, parts: int) -> Callable[[str], bool]:
        """Whether a key is of ``part`` (every key, when there is one part)."""
        if parts == 1:
            return lambda key: True
        if part == 0 or parts != self._parts:  # a new lap
            self._known.clear()
            self._parts = parts
        known = self._known

        def mine(key: str) -> bool:
            found = known.get(key)
            if found is None:
                found = known[key] = part_of(key, parts)
            return found == part

        return mine
