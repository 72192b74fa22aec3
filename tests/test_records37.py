"""The takeover record's v6 stored form (session 37, ``records37``): what a byte of it buys.

v6 holds what v5 held less what no reader reads or another field already says: the
profile's domain tags (only whether there are any is read: ``linked``), the profile's
written time's index (always the numbers' table's first), the tops' width (an event
time's is ``_TOP_BASE`` plus 0-15) and the version (the lead byte says it, and makes every
earlier release refuse the record). The old forms read back equal; each field's bytes are
pinned; an attacker's extremes stay bounded.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.record import Record

T0 = 1_790_000_000.0
DAY = 86_400.0
HOUR = int(T0 // 3_600)
_TTLS = (30 * DAY, 12 * 3_600.0, 7 * DAY)  # session_ttl, live_window, incident_ttl
_TOP_BASE = 0x41D0
_TAG = b"\x86\x86\x9c\x35"  # a domain tag, as v5 held one (4 bytes of a CRC-32)


def parts(stored: bytes) -> list[Any]:
    """A v6 record's parts: ``[hour, names, numbers, profile, sessions, live, incidents,
    sent, (sited, (links))]``."""
    assert stored[:1] == b"\xc1", "not a v6 record"
    return msgspec.msgpack.decode(stored[1:])  # type: ignore[no-any-return]


def v5_of(stored: bytes) -> bytes:
    """A v6 record as session 36's release (v5) stored the same facts: the version (or
    ``[5, *links]``) first, the tops whole, the profile's written time's index (0) first in
    the profile, a domain tag where v6 says ``linked``, ``w`` only when it counts."""
    hour, names, table, profile, sessions, live, incidents, sent, *tail = parts(stored)
    links = tail[1] if len(tail) > 1 else []
    tops = [x + _TOP_BASE if i % 2 else x for i, x in enumerate(table[2:])]
    table = [table[0], table[1] + _TOP_BASE if table[0] else table[1], *tops]
    if profile:
        profile = [0, *profile]
        profile[7] = _TAG if profile[7] else None
    return msgspec.msgpack.encode([[5, *links] if links else 5, hour, names, table, profile,
                                   sessions, live, incidents, sent,
                                   *(tail[:1] if tail and tail[0] else [])])


def _encoded(record: dict[str, Any], now: float = T0) -> bytes:
    return takeover_record._encode(record, now, *_TTLS)[0]
