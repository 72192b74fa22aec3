"""The profile's hour histogram (``profile``: the owner's clean messages counted by the
hour of the day they were sent at) in the form the record stores it and its decoding
keeps: ``[mask, count, ...]``, bit h of ``mask`` set for each hour h with a count, then
only those counts, in the order of their hours; no count is 0.

Why this form, not the day's 24 counts: nearly every event at a platform's scale
decodes its sender's record (``record._decode``), and every clean message learns one
more at its hour (``profile.learn``). The 24 counts were made from the stored form at
each decoding (~5,500 instructions), copied and summed at each clean message, and made
sparse again at each encoding (~8,300): ~9 % of a record's round trip, for a histogram
of a handful of hours. Kept as stored, a message's count is a bit test and one count
(the hour's place: the bits below it counted), and ``profile.behaviour``'s three hours
are three bits of the mask. The 24 counts are made only to store a histogram of more
than ``_SPARSE_MOST`` hours (``stored``), or read from a record that held them (``of``).

Every reader goes through these functions: the bit arithmetic is here only.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress

_DAY = 24
# The most hours with counts a histogram is stored sparse with: msgpack's sizes make it the
# shorter form up to here (3 + 5 + 1 + k bytes against 3 + 24 for k ≥ 15; ``stored``).
_SPARSE_MOST = 17
# Hour h's bit, and the bits of the hours either side of it (``quiet_around``).
_BITS = tuple(1 << h for h in range(_DAY))
_AROUND = tuple(_BITS[h - 1] | _BITS[h] | _BITS[(h + 1) % _DAY] for h in range(_DAY))


def total(histogram: Sequence[int]) -> int:
    """The messages the histogram counts."""
    return sum(histogram) - histogram[0]


def quiet_around(histogram: Sequence[int], hour: int) -> bool:
    """Whether ``hour`` and the hours either side of it have no count."""
    return not histogram[0] & _AROUND[hour]


def counted(histogram: Sequence[int] | None, hour: int, decay: int) -> list[int]:
    """A new histogram: ``histogram`` (None: none yet) with one more message at ``hour``,
    and every count halved (those that reach 0 dropped) when the messages pass ``decay``.

    A new list, never the one given: the decoded record the detector keeps, or a put's
    record, may still hold it."""
    bit = _BITS[hour]
    if histogram is None:
        out = [bit, 1]
    else:
        out = list(histogram)
        mask = out[0]
        at = (mask & (bit - 1)).bit_count() + 1  # the hour's place: the hours before it
        if mask & bit:
            out[at] += 1
        else:
            out.insert(at, 1)
            out[0] = mask | bit
    if sum(out) - out[0] > decay:
        return _halved(out)
    return out


def _halved(histogram: list[int]) -> list[int]:
    """Every count halved (recent habits count more), an hour whose count reaches 0 no
    longer filled."""
    mask = rest = histogram[0]
    out = [0]
    for count in histogram[1:]:
        low = rest & -rest
        rest ^= low
        if count > 1:
            out.append(count // 2)
        else:
            mask ^= low
    out[0] = mask
    return out


def checked(stored: Sequence[int]) -> list[int]:
    """A stored sparse histogram as the decoded record keeps it (a list), refused loudly
    when it is not what ``stored`` writes: a mask whose hours and the counts disagree, an
    hour past the day, a count of 0 (read as one, a count would be put on an hour it
    never counted, and written back so)."""
    mask = stored[0]
    if mask.bit_count() != len(stored) - 1 or mask >> _DAY or 0 in stored[1:]:
        raise ValueError(f"hour histogram: mask {mask:#x} with counts {list(stored[1:])}")
    return list(stored)


def of(counts: Sequence[int]) -> list[int]:
    """The day's 24 counts (a record of before session 34, a histogram of more than
    ``_SPARSE_MOST`` hours) as a histogram; refused loudly when not 24 (no release wrote
    such a histogram: its learning failed at an hour past its end)."""
    if len(counts) != _DAY:
        raise ValueError(f"hour histogram: {len(counts)} counts, not {_DAY}")
    return [sum(compress(_BITS, counts)), *filter(None, counts)]


def day(histogram: Sequence[int]) -> list[int]:
    """The day's 24 counts: each count at its mask's lowest bit still set, that bit then
    cleared."""
    mask = histogram[0]
    counts = [0] * _DAY
    for count in histogram[1:]:
        low = mask & -mask
        counts[low.bit_length() - 1] = count
        mask ^= low
    return counts


def stored(histogram: Sequence[int]) -> tuple[Sequence[int] | None, ...]:
    """The profile's tenth part, and its eleventh when there is one, as the record
    stores the histogram: itself as the eleventh (the tenth None) when it has 1 to
    ``_SPARSE_MOST`` hours, else its 24 counts as the tenth (when every count is 0 too,
    which only halving leaves).

    Why a part of its own, not the tenth part in another shape: a release before session
    34 unpacks ten parts, so it fails loudly on such a record (as on ``w``,
    ``record._decode``) where it would read a mask as a count and write it back as one.
    Which is shorter follows from msgpack's sizes alone, whatever the counts: the counts
    cost the same in both, so this form's array header (1 byte up to 15 items, 3 past),
    its mask (5 bytes at most) and the tenth part's None (1) against the 24 counts'
    header (3) and a byte for each empty hour: sparse when at most 17 hours have counts
    (3 + 5 + 1 + 17 = 26 against 27). A list not of this form (the day's 24 counts, as
    the decoded record held them until session 48) is refused, not stored as garbage."""
    if histogram[0].bit_count() != len(histogram) - 1:
        raise ValueError(f"hour histogram: mask {histogram[0]:#x} with {len(histogram) - 1}"
                         " counts")
    if len(histogram) > 1 and len(histogram) <= _SPARSE_MOST + 1:
        return None, histogram
    return (day(histogram),)
