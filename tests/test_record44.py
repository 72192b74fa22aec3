"""The takeover record's decoding cut again (session 44, ``record44``): a v6 record read by
one typed msgspec decode into a struct of tuples (``record._Stored``), from a bytes slice
rather than a memoryview's, its numbers' table joined once.

The same dict from the same bytes (``test_decode43``'s digest of 400 seeded records, and
``record_encode.py``'s of the mixed load's): what passes from the stored lists into the
record as it is (the profile's ``cidrs``, its 24 hours) is a list, as it was. What the
typed read refuses that the generic one read is no record any release writes: a map or
bytes among the profile's parts.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import msgspec
import pytest

from spimguard.detectors.takeover import histogram
from spimguard.detectors.takeover import record as takeover_record
from test_encode42 import _TTLS, T0, _ordinary


def _stored(record: dict[str, Any]) -> bytes:
    return takeover_record.put_of("@a:x", record, T0, *_TTLS).value


class _Refused:
    """A decoder that refuses to be asked (what reads a v6 record must not be it)."""

    def decode(self, data: Any) -> Any:
        raise AssertionError(f"read by the generic decoder: {type(data).__name__}")


def test_a_v6_record_is_read_by_the_typed_decoder_alone() -> None:
    """Base read a v6 record with the generic decoder, from a memoryview's slice (~1,500
    instructions of the memoryview and its slice) into lists (two allocations a part, a
    new list for every entry's slice): the record decoded ~77,400 instructions where this
    is ~71,900 (``record_encode.py --kept 0``)."""
    record = {**_ordinary(), "i": [T0 - 60.0, [
        {"session": "d0", "since": T0 - 120.0, "net": "2001:db8:1::", "range": "2001:db8::",
         "family": "v6"}]], "k": {"@p:x": T0 - 30.0}, "w": {"d0": [[int(T0 // 3_600), 4]]}}
    stored = _stored(record)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(takeover_record, "_DECODER", _Refused())
        assert takeover_record.decode(stored) == record


def test_the_profiles_lists_read_back_as_lists() -> None:
    """The guard: the parts the record holds as they were stored (the profile's networks
    told by the server, an hour histogram stored whole) are lists in the decoded record,
    not the typed read's tuples: an equal dict, not an equal-looking one. (Since session
    48 the histogram is kept as the histogram of the 24 counts, ``histogram.of``.)"""
    record = _ordinary()
    record["p"] = {**record["p"], "cidrs": ["198.51.100.0/24", "2001:db8::/32"],
                   "hours": histogram.of(list(range(1, 25)))}  # 24 filled: stored whole
    decoded = takeover_record.decode(_stored(record))
    assert decoded == record
    assert type(decoded["p"]["cidrs"]) is list
    assert type(decoded["p"]["hours"]) is list


def test_a_map_among_the_profiles_parts_fails_loudly() -> None:
    """A profile part that is a map is no record any release writes (``_encode`` writes
    numbers, strings, flags and lists there): the typed read refuses it (``ValueError``),
    where base's generic one let it through into the record."""
    parts = msgspec.msgpack.decode(_stored(_ordinary())[1:])
    parts[3][5] = {"a": 1}  # the profile's cidrs
    with pytest.raises(ValueError):
        takeover_record.decode(b"\xc1" + msgspec.msgpack.encode(parts))


@pytest.mark.parametrize("count", [1, 2, 7, 40])
def test_a_numbers_table_reads_back_bit_for_bit(count: int) -> None:
    """The guard: the numbers' table joined once (``_lows``'s empty last piece) gives
    every double back, its sign and bits, whatever its top."""
    rng = random.Random(count)
    numbers = [struct.unpack("<d", rng.randbytes(8))[0] for _ in range(count)]
    numbers = [n if n == n else 1.5 for n in numbers]  # (a NaN's bits are kept too; not ==)
    packed = struct.pack(f"<{count}d", *numbers)
    read = takeover_record._numbers(takeover_record._sixes(packed), takeover_record._TOP_BASE)
    assert struct.pack(f"<{count}d", *read[:-1]) == packed
    assert read[-1] == 0.0
