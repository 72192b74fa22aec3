"""The takeover record's decoding, session 45 (``record45``): the numbers' table read into
doubles by ``_table_form``'s compiled ``Struct`` (one C call, a tuple), where base made an
``array`` of its bytes and its ``tolist``.

The same doubles, bit for bit, and so the same dict from the same bytes
(``test_decode43``'s digest of 400 seeded records, ``record_encode.py``'s of the mixed
load's); an index past the table still fails loudly (``ValueError``), as the array's length
check failed it.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from spimguard.detectors.takeover import record as takeover_record
from test_encode42 import _TTLS, T0, _ordinary


class _NoArray:
    """What reads a v6 or v5 numbers' table must not make: an ``array``."""

    def __init__(self, *args: Any) -> None:
        raise AssertionError("the numbers' table read through an array")


@pytest.mark.parametrize("count", [0, 1, 3, 17])
def test_a_numbers_table_is_read_by_its_struct_bit_for_bit(count: int) -> None:
    """Base read every v4-v6 table through ``array("d", ...).tolist()`` (its ``frombytes``
    called by name, then a second walk: ~1,700 instructions a record of the mixed load);
    this reads it with the table's compiled ``Struct``. Every double comes back with its
    bits (a sign, a zero's too), a top that differs from the first's too, and +0.0 last
    (``_ZERO``); a record decodes to what was put."""
    rng = random.Random(count)
    numbers = [struct.unpack("<d", rng.randbytes(8))[0] for _ in range(count)]
    numbers = [n if n == n else -0.0 for n in numbers]  # (no NaN: compared by bytes)
    packed = struct.pack(f"<{count}d", *numbers)
    record = {**_ordinary(), "k": {"@p:x": T0 - 30.0}}
    stored = takeover_record.put_of("@a:x", record, T0, *_TTLS).value
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(takeover_record, "array", _NoArray)
        read = takeover_record._numbers(takeover_record._sixes(packed),
                                        takeover_record._TOP_BASE)
        assert takeover_record.decode(stored) == record
    assert type(read) is list
    assert struct.pack(f"<{count}d", *read[:-1]) == packed
    assert repr(read[-1]) == "0.0"


def test_an_index_past_the_table_fails_loudly() -> None:
    """A top stored for an index the table has not (no record any release writes) fails
    the decoding (``ValueError``), as base's array refused the bytes it made; it is read
    by no array either."""
    table = takeover_record._sixes(struct.pack("<2d", T0, T0 + 1.0))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(takeover_record, "array", _NoArray)
        with pytest.raises(ValueError):
            takeover_record._numbers([*table, 5, 3], takeover_record._TOP_BASE)
