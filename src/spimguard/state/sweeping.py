"""Which keys a sweep's part takes (``StateBackend.sweep``): the same on every store.

A sweep of the whole state inside one batch made that batch wait for every table's
scan (40-65 ms on the embedded store at 20,000 events, growing with the state); the
engine now sweeps one part of the keys at a time (``maintenance.SWEEP_PARTS``), at
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


def in_part(part: int, parts: int) -> Callable[[str], bool]:
    """Whether a key is of ``part`` (every key, when there is one part)."""
    if parts == 1:
        return lambda key: True
    return lambda key: part_of(key, parts) == part
