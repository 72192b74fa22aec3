"""Sided records: several member sets of the same people under one key, names once.

Why one record: an account's correspondents are learnt by several teachers (the engine's
"talked with", the takeover detector's "the owner wrote to" and "reciprocated"), nearly
always the same few people, and every message reads them together. As sets of their own
they cost a key's overhead each and each name once a set; as one record, one key and each
name once, with a time per side.

Why the sides stay separate: what teaches each differs (direction, who vouches, what TTL
and cap), and the difference is the evidence. A spimmer writing first puts itself in its
target's ``talked`` but never its target in its own; an intruder's messages teach
``talked`` but not the owner's one-way record. (A side that holds what another already
holds from the other end is retired, ``ops.Sided.retired`` and ``current``: the
relationship detector's "wrote to" was every "talked with" again, session 24.) So each
side of a member keeps its own last touch, and every side answers exactly as a plain
set of its own would (``ops.py``): a member is on a side iff touched there within that
side's TTL; the side's cap drops that side's stalest members; a touch never moves a
time back; a side past its expiry starts afresh at its next touch. A member goes when
no side is left.

The stored layout (SQLite's rows of a layout NULL, written before the held one; Redis keeps
a hash of the same numbers, ``redis.py``; the rare touches work on it, ``_retouched``):
``names``, the members in the order first touched, and ``times``, little-endian doubles:
each side's expiry and TTL (two a side, in the keyspace's side order), then each side's
time of every member (n a side, side after side), minus infinity where a member is not
on that side. ``loaded`` reads it.

The held layout (``Record.times``, in memory and in SQLite's rows of layout 3) keeps each
distinct time once: a byte of the side count and rank width (``sides << 2 | w``, ranks of
1 << w bytes), a mask of the sides whose heads it holds (a bit a side, ``(sides + 7) // 8``
bytes), those heads as stored, then each side's rank of every member (a
little-endian unsigned number, 0 where the member is not on the side, r for the r-th
time), then the record's distinct times, little-endian doubles, ascending, each held by
some member-side. Every number has its byte order, so a file's bytes are a process's,
written and read with no conversion. Why: a record's ~30 held member-sides share ~18
times (the teachers touch the same people at the same events), so a double a
member-side held each time ~twice.
It is exact: a rank reads as its time, and no time is rounded (a whole second is not:
speed-log, "Whole seconds are not verdict-identical"). A touch later than the record's
newest time (nearly every touch: events come in order) appends that time, or takes the
newest's rank if equal, and drops a time no member-side holds any more (``touched``).

The distinct times in six bytes (the byte's top bit, ``_SIX``; SQLite's layout 2): the
least time as a double, then each later one's low six bytes (its double's first six,
little-endian), the top two being the least's, or one more where a later time's low
bytes are below the least's (a carry: ``_time``). Why: a record's ~18 times (months
apart at most: the ties' TTLs) share their top two bytes, so two bytes a time were the
same 16 bits again (−36 bytes an account, speed-log, session 28). Exact for any times
whose 64-bit patterns are within 2**48 above the least's: 2**26 s (777 days) for times of
2004-2038 (a double's step 2**-22 s), 2**27 s after, so the ties' TTLs of months to two
years fit; whichever set of times do not (decades apart, negative, zero and a date) are
held as above, eight bytes each, the bit clear. Which of the two a record is in is a
function of its times (``_sixed``): every change leaves it so (``_appended``, ``_settled``),
so a touch in place and the slow path's ``_held`` leave the same bytes.

A side's head derived, not held (session 35; SQLite's layout 3, where 1 and 2, session
34's, held every side's): a keyspace declares the TTL its touches name (``ops.
sided_keyspace``), and a side whose TTL is that one and whose expiry is its newest
member's time plus it, or which has no member and was never touched (0, 0), holds no
head (``_derived``, ``_held``; ``_flat`` gives it back). Why it is exact: a touch's
expiry is the later of the old and its time plus its TTL, and its members' times move
to at least its time, so while every touch names the declared TTL the expiry is the
newest member's time plus it, before a touch and after (a touch at a time, not late,
leaves one of its names on the side at a cap of one or more; TTL drops never reach the
newest while the side lives; a sweep empties a side past its expiry to 0, 0). Where it
is not so (a touch with another TTL, a late one with a longer TTL that keeps an expiry
sooner than the newest's, a touch of no one), the head is held as before: a rule of
equality, not a bound, for either kind of difference can show in a later answer.
The declared TTLs are the load's (the ties' ``TALKED_TTL``, a session's default
``session_ttl``): an account's ties hold no head (−48 bytes), a session's record none
(−32). Reads of a derived side need no expiry (a member within the TTL is there, and
then so is the side: exact where the end does not round, ``_ends_with``, else the side
holds its head, ``review35b``); a touch that names the declared TTL of a side with no head goes
the fast way, as does one that names the TTL a held head holds where it is not the declared
one (the head stays held, its expiry moved in place: ``_held_head``), any other the slow
one (``_retouched``).
"""

from __future__ import annotations

import functools
import math
import struct
import sys
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator, Sequence
from itertools import chain, compress, repeat

import numpy as np

from ..errors import StateUnavailable

ABSENT = float("-inf")  # a member's time on a side it is not on
_HEAD = struct.Struct("<dd")  # a side's expiry and TTL
_DOUBLE = struct.Struct("<d")
_LENGTH = struct.Struct("<I")
_BITS = struct.Struct("<Q")  # a double's bit pattern, read as a number
_LOW = (1 << 48) - 1  # the bits a time keeps of its own in six bytes
_SIX = 0x80  # the held layout's first byte: the times after the least in six bytes each
_SIDES = 31  # the most sides a held record has: the byte's five bits above the rank code
_RANK_CODES = "BHI"  # a rank's array code, by the held layout's width code w (1 << w bytes)
_RANK = tuple(struct.Struct("<" + c) for c in _RANK_CODES)  # one rank, by width code
_LIMIT = (255, 65_535, 2**32 - 1)  # the most distinct times ranks of a width code number
# Byte tables for a record's ranks of one byte: the last one dropped to first place
# (``_least``), and for each dropped rank r the ranks above it moved down by one.
_ZERO_LAST = bytes((255, *range(1, 256)))
_DOWN = [bytes((*range(r), 0, *range(r, 255))) for r in range(256)]
_BELOW = [bytes(range(r)) for r in range(257)]  # the ranks below r, for bytes.translate
# Members past which a record keeps an ``_Index``. Below it, a touch finds a name by a scan
# of the names tuple and a side's oldest time and count from its times unpacked, each in
# C and cheaper than a dict's upkeep; past it, those scans would be most of a touch's cost.
# (32: 93 % of the mixed load's touches find a record this small, and no account of
# the quiet load's three days has more than 22 ties: the index's ~80 bytes a name are
# paid by the few accounts that talk to crowds.)
_INDEXED = 32
# Names past which a side's cap drop finds its stalest in numpy (``_wide``), not by a
# search of the column's bytes: its ~5 us a call is less than the search's pass in Python
# over the members of the side's oldest time once they number some hundreds (8,000
# senders at one ts: 0.39 ms a message at 2,000 members of one time, 0.05 in numpy).
_SEARCHED = 256
# The time a small record's touch last packed (``_touched_small``): the time itself (the
# same object, so the same value), its eight bytes, its low six and its bits. One tuple,
# read and replaced whole: a thread reads one time's four or another's, never a mix.
_NOW: tuple[float | None, bytes, bytes, int] = (None, b"", b"", 0)


def _mask(times: bytes | bytearray, sides: int) -> int:
    """The held layout's mask of the sides whose heads it holds (bit r: side r's)."""
    return times[1] if sides <= 8 else int.from_bytes(times[1:1 + (sides + 7 >> 3)], "little")


def _ranks_at(times: bytes | bytearray, sides: int) -> int:
    """Where a held record's ranks start: after its byte, its mask and its held heads."""
    return 1 + (sides + 7 >> 3) + 16 * _mask(times, sides).bit_count()


def _head_at(mask: int, side: int, m: int) -> int:
    """Where a held side's head starts: after the record's byte, its ``m`` bytes of mask
    and the heads held of the sides before it."""
    return 1 + m + 16 * (mask & (1 << side) - 1).bit_count()


def _head(times: bytes | bytearray, side: int, sides: int, ttl: float
          ) -> tuple[float, float, int]:
    """The side's expiry and TTL as reads take them, and where the record's ranks start:
    a held head's two doubles, or, for a side whose head is derived (``_derived``), no
    expiry of its own (infinity) and the keyspace's declared ``ttl``: its members' times
    say all a read needs (one touched within the TTL is there, and then so is the side,
    whose expiry is its newest member's time plus the TTL)."""
    m = sides + 7 >> 3
    mask = times[1] if m == 1 else int.from_bytes(times[1:1 + m], "little")
    ranks_at = 1 + m + 16 * mask.bit_count()
    if mask >> side & 1:
        expiry, held = _HEAD.unpack_from(times, _head_at(mask, side, m))
        return expiry, held, ranks_at
    return math.inf, ttl, ranks_at


def _derived(expiry: float, ttl: float, newest: float, declared: float) -> bool:
    """Whether a side's head (``expiry``, ``ttl``) is the one its members and the keyspace's
    declared TTL give, so the record need not hold it: the declared TTL, and an expiry its
    newest member's time (``newest``; ABSENT for a side with none) plus that TTL, or a
    side with no member and never touched (0, 0). Exact, not a bound: a side whose expiry
    is later or sooner than that (a touch with another TTL, a touch of no one, a late
    touch with a longer TTL, a Remove) holds its head, for either could show in a later
    answer (a late touch with a longer TTL keeps what an expiry sooner than the members'
    would have ended)."""
    if newest == ABSENT:
        return expiry == 0.0 and ttl == 0.0
    return ttl == declared and expiry == newest + declared and _ends_with(newest, declared)


def _ends_with(newest: float, ttl: float) -> bool:
    """Whether a side whose newest member's time is ``newest`` ends, with no head held, at
    the instant its held head would (``review35b``): reads of a derived side ask each
    member's ``t > now - ttl`` only, where a held head first asks ``expiry > now``. At
    ``now`` past the expiry ``E = newest + ttl`` (rounded), ``now - ttl`` rounds to no
    less than ``E - ttl`` (rounding is monotone), so no member is read as there iff
    ``E - ttl`` rounds to no less than ``newest``, which this asks. It does not where
    ``newest`` and ``E`` are in different binades (2**30 s is 2004-01-10, 2**31 s
    2038-01-19; a TTL of 180 days before either, ~25 % of times there): such a side holds
    its head."""
    return newest + ttl - ttl >= newest


def packed_ttls(ttls: Sequence[float]) -> bytes:
    """A sided keyspace's declared TTLs (``ops.Sided.ttls``) as a store records them (a
    double each: ``SQLiteState._check_ttls``, ``RedisState._check_ttls``)."""
    return _packed(ttls)


def check_ttls(prefix: str, ttls: Sequence[float], held: bytes, store: str) -> None:
    """Raise ``StateUnavailable`` if a store ``held`` other declared TTLs for the keyspace
    ``prefix`` than ``ttls`` (``packed_ttls``): its records' derived heads were written
    with them, and read with these a member kept 180 days would read as kept 90."""
    if held != packed_ttls(ttls):
        raise StateUnavailable(
            f"the sided keyspace {prefix!r} declares the TTLs {tuple(ttls)}, where this "
            f"{store}'s records were written with {tuple(_doubles(held))}: convert its "
            f"records (or keep the release that wrote them)")


def _doubles(blob: bytes | bytearray) -> list[float]:
    values = array("d")
    values.frombytes(blob)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()


def _packed(values: Sequence[float]) -> bytes:
    packed = array("d", values)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


@functools.cache
def pieces(count: int, piece: str) -> struct.Struct:
    """``count`` numbers' pieces in one C call: ``6s`` each a time's six bytes, ``6s2x`` a
    double's low six of eight (here and in the takeover record's numbers' table)."""
    return struct.Struct("<" + piece * count)


def _sixed(ordered: list[float]) -> bytes | None:
    """The times ``ordered`` (ascending) in six bytes after the least, or None when some
    time's bits are not within 2**48 above the least's."""
    packed = _packed(ordered)
    if len(ordered) < 2:
        return packed
    bits = array("Q", array("d", ordered).tobytes())
    if min(bits) < bits[0] or max(bits) - bits[0] > _LOW:
        return None
    return packed[:8] + b"".join(pieces(len(ordered) - 1, "6s2x").unpack_from(packed, 8))


def _count(times: bytes | bytearray, at: int) -> int:
    """How many distinct times a record holds from ``at``: 8 bytes each, or 8 for the least
    and 6 each after it (6k + 2)."""
    return (len(times) - at) // (6 if times[0] & _SIX else 8)


def _time(times: bytes | bytearray, at: int, rank: int) -> float:
    """The record's time of ``rank`` (1 the least) of its times from ``at``: in six bytes,
    the least's bits plus the later one's low bits less the least's, modulo 2**48."""
    if rank == 1 or not times[0] & _SIX:
        return _DOUBLE.unpack_from(times, at + 8 * rank - 8)[0]
    least = _BITS.unpack_from(times, at)[0]  # the low six: a read of 8 bytes ending there
    low = _BITS.unpack_from(times, at + 6 * rank - 6)[0] >> 16
    return _DOUBLE.unpack(_BITS.pack(least + (low - least & _LOW)))[0]


def _listed(times: bytes | bytearray, at: int) -> list[float]:
    """The record's distinct times from ``at``, ascending: in six bytes, each later one's
    low six joined with the least's top two (in C), unless the newest carried (its low
    bits below the least's: a record across a 2**48 boundary of the bits), when each is
    made as ``_time`` makes it."""
    count = _count(times, at)
    if count < 2 or not times[0] & _SIX:
        return _doubles(times[at:])
    lows = pieces(count - 1, "6s").unpack_from(times, at + 8)
    least = _BITS.unpack_from(times, at)[0]
    if int.from_bytes(lows[-1], "little") >= least & _LOW:
        top = times[at + 6:at + 8]
        return _doubles(times[at:at + 8] + top.join(lows) + top)
    return [_DOUBLE.unpack_from(times, at)[0],
            *(_DOUBLE.unpack(_BITS.pack(least + (int.from_bytes(low, "little") - least
                                                  & _LOW)))[0] for low in lows)]


def _appended(times: bytearray, at: int, now: float) -> None:
    """``now`` (later than every time held) added as the record's newest in eight bytes,
    where ``touched_sides`` finds it does not go in six (its bits within 2**48 above the
    least's): the record's first time, one of a record in eight bytes, or one past 2**48
    above the least, every time made eight bytes then."""
    if times[0] & _SIX and len(times) > at:
        times[at:] = _packed(_listed(times, at))
        times[0] &= ~_SIX
    times += _DOUBLE.pack(now)


def _dropped(times: bytearray, at: int, rank: int, end: int | None = None) -> int:
    """The time of ``rank`` taken out of the record's times from ``at`` to ``end`` (the
    buffer's end when None; an account's lodged bytes may follow, ``_touched_small``): the
    least's successor, if any, made the least (eight bytes) in six bytes' layout. The
    bytes taken out."""
    end = len(times) if end is None else end
    if not times[0] & _SIX:
        del times[at + 8 * rank - 8:at + 8 * rank]
        return 8
    if rank > 1:
        del times[at + 6 * rank - 4:at + 6 * rank + 2]
        return 6
    if end - at > 8:  # the successor's bits, as ``_time`` makes them
        least = _BITS.unpack_from(times, at)[0]
        times[at:at + 14] = _BITS.pack(
            least + ((_BITS.unpack_from(times, at + 6)[0] >> 16) - least & _LOW))
        return 6
    del times[at:end]
    return end - at


def in_sixes(times: bytes) -> bool:
    """Whether a held record's times after the least are six bytes each (``_SIX``)."""
    return bool(times[0] & _SIX)


def earlier(names: tuple[str, ...], times: bytes, ttls: Sequence[float],
            retired: Sequence[int] = ()) -> Record:
    """The record of ``names`` and ``times`` in the held layout of before session 35 (every
    side's head held, ``_EARLIER``; a row of an earlier release), as this one holds it:
    each head held only where it is not derived (``_held``), its times in six bytes if
    they fit, and, one of ``len(ttls) + len(retired)`` sides, less the retired ones
    (``current``)."""
    sides = times[0] >> 2 & _SIDES
    ranks_at = 1 + 16 * sides
    times_at = ranks_at + (sides * len(names) << (times[0] & 3))
    lookup = [ABSENT, *_listed(times, times_at)]
    return _kept_sides(names, [*_doubles(times[1:ranks_at]), *map(
        lookup.__getitem__, _ranks(times, ranks_at, times_at))], sides, ttls, retired)


def _settled(times: bytearray, at: int) -> None:
    """The times from ``at``, held in eight bytes, in six if they fit now (a time that did
    not fit gone, or a row of an earlier release), as ``_held`` would hold them."""
    if (sixed := _sixed(_doubles(times[at:]))) is not None:
        times[at:] = sixed
        times[0] |= _SIX


def _width(count: int) -> int:
    """The held layout's width code for ranks of ``count`` distinct times."""
    return 0 if count < 256 else 1 if count < 65_536 else 2


def _ranks(times: bytes | bytearray, start: int, end: int) -> Sequence[int]:
    """The ranks held in ``times[start:end]``."""
    code = times[0] & 3
    if code == 0:
        return times[start:end]
    ranks = array(_RANK_CODES[code], times[start:end])
    if sys.byteorder != "little":
        ranks.byteswap()
    return ranks


def _held(flat: Sequence[float], ttls: Sequence[float]) -> bytes:
    """The held layout of a record whose times are ``flat`` in the stored layout (every
    side's head, then every side's column), its sides' declared TTLs ``ttls``: a head
    held only where it is not the one the side's members give (``_derived``)."""
    sides = len(ttls)
    body = 2 * sides
    values = flat[body:]
    n = len(values) // sides if sides else 0
    distinct = set(values)
    distinct.discard(ABSENT)
    ordered = sorted(distinct)
    rank = dict(zip(ordered, range(1, len(ordered) + 1), strict=True))
    rank[ABSENT] = 0
    code = _width(len(ordered))
    ranks = array(_RANK_CODES[code], map(rank.__getitem__, values))
    if sys.byteorder != "little":
        ranks.byteswap()
    sixed = _sixed(ordered)
    mask, heads = 0, []
    for r in range(sides):
        expiry, ttl = flat[2 * r], flat[2 * r + 1]
        if not _derived(expiry, ttl, max(values[r * n:(r + 1) * n], default=ABSENT), ttls[r]):
            mask |= 1 << r
            heads += [expiry, ttl]
    return b"".join((bytes((sides << 2 | code | (_SIX if sixed is not None else 0),)),
                     mask.to_bytes(sides + 7 >> 3, "little"), _packed(heads),
                     ranks.tobytes(), _packed(ordered) if sixed is None else sixed))


def _flat(times: bytes, n: int, ttls: Sequence[float]) -> list[float]:
    """A held record's times in the stored layout, as a list: each side's head as held,
    or as its members and declared TTL give it (``_derived``: the newest's time plus the
    TTL, or 0, 0 for a side with no member)."""
    sides = len(ttls)
    ranks_at = _ranks_at(times, sides)
    times_at = ranks_at + (sides * n << (times[0] & 3))
    lookup = [ABSENT, *_listed(times, times_at)]
    values = list(map(lookup.__getitem__, _ranks(times, ranks_at, times_at)))
    held = iter(_doubles(times[1 + (sides + 7 >> 3):ranks_at]))
    mask, heads = _mask(times, sides), []
    for r in range(sides):
        if mask >> r & 1:
            heads += [next(held), next(held)]
        else:
            newest = max(values[r * n:(r + 1) * n], default=ABSENT)
            heads += [0.0, 0.0] if newest == ABSENT else [newest + ttls[r], ttls[r]]
    return heads + values


def _kept_sides(names: tuple[str, ...], flat: list[float], sides: int, ttls: Sequence[float],
                retired: Sequence[int]) -> Record:
    """The record of ``names`` and ``flat`` (the stored layout, of ``sides`` sides), less
    the sides at ``retired`` when it is one of before that held them (``current``): their
    heads and columns left out, and the names on no side left with them."""
    if not retired or sides != len(ttls) + len(retired):
        return Record(names, _held(flat, ttls))
    n, gone = len(names), set(retired)
    kept = [r for r in range(sides) if r not in gone]
    head = [x for r in kept for x in flat[2 * r:2 * r + 2]]
    columns = [flat[2 * sides + r * n:2 * sides + (r + 1) * n] for r in kept]
    keep = [any(column[i] != ABSENT for column in columns) for i in range(n)]
    return Record(tuple(compress(names, keep)),
                  _held(head + [t for column in columns for t in compress(column, keep)],
                        ttls))


def loaded(names: tuple[str, ...], stored: bytes, ttls: Sequence[float],
           retired: Sequence[int] = ()) -> Record:
    """The record whose times are ``stored`` in the stored layout (a double a head's part
    and a member-side: SQLite's rows of layout NULL), less its retired sides."""
    return _kept_sides(names, _doubles(stored), len(stored) // (8 * (2 + len(names))), ttls,
                       retired)


def _column(times: bytes | bytearray, side: int, sides: int, n: int) -> tuple[float, ...]:
    """A side's time of every member (its ranks read through the record's times)."""
    width = 1 << (times[0] & 3)
    ranks_at = _ranks_at(times, sides)
    times_at = ranks_at + width * sides * n
    lookup = (ABSENT, *_listed(times, times_at))
    start = ranks_at + width * side * n
    return tuple(map(lookup.__getitem__, _ranks(times, start, start + width * n)))


def _oldest(column: Sequence[float]) -> float:
    """The earliest time on a side (infinity when it has no member), found in C: the
    distinct times are few next to the members, most of which are ABSENT on a side."""
    live = set(column)
    live.discard(ABSENT)
    return min(live) if live else math.inf


class _Index:
    """What a large record keeps beside its names and times, so that a touch of a few
    members costs O(1) and not a pass over all of them: where each name is, and for each
    side how many members hold a time on it and a time no later than its oldest one's.

    The bound is the side's oldest as last computed, lowered by each touch that brings a
    member onto the side: times only move forward, so it stays a bound until a drop, when
    the index is built again. A touch whose cutoff is below it drops nothing.

    A name leaving the record (a side's cap dropping the last side it was on) would move
    every later name's place down by one: O(n) of the dict a drop, each new correspondent
    of an account at its cap (issue 18: 3.9 ms a message at 2,000). So ``at`` holds each
    name's slot, its place when the index was made or the name added, and ``gone`` the
    slots of the names gone since, sorted: a place is its slot less the gone slots below
    it (a bisect, in C, only while some are gone). The slots are made places again once
    an eighth of the names have gone (``renumbered``): O(1) amortised a drop."""

    __slots__ = ("at", "gone", "low", "on")

    def __init__(self, names: tuple[str, ...], times: bytes, sides: int) -> None:
        n = len(names)
        self.at = {m: i for i, m in enumerate(names)}
        self.gone: list[int] = []
        columns = [_column(times, r, sides, n) for r in range(sides)]
        self.on = [n - column.count(ABSENT) for column in columns]
        self.low = [_oldest(column) for column in columns]

    def add(self, added: Sequence[str], n: int) -> None:
        """Told of ``added``, put after the record's ``n`` names."""
        start = n + len(self.gone)
        self.at.update(zip(added, range(start, start + len(added)), strict=True))

    def remove(self, member: str) -> None:
        insort(self.gone, self.at.pop(member))

    def renumbered(self, names: tuple[str, ...]) -> None:
        """Each slot made the name's place again, once many names have gone."""
        self.at = {m: i for i, m in enumerate(names)}
        self.gone = []


class _Named(tuple[str, ...]):
    """A large record's names with its ``_Index`` (``places``): where a record past
    ``_INDEXED`` names keeps its index, so that a record holds no slot for one it nearly
    never has (the memory backend's account object 80 → 64 bytes: session 38, ``slot38``).
    Read as the tuple it is everywhere else."""

    places: _Index


def _named(names: tuple[str, ...], index: _Index) -> _Named:
    """``names`` with ``index`` (a copy of the tuple: O(n), as was making ``names``)."""
    named = _Named(names)
    named.places = index
    return named


class Record:
    """A sided record as held: its names, its times (the module's layout) and, when large,
    its ``_Index`` (with its names: ``_Named``). A touch changes the record in place
    (``touched``).

    The times are ``held[:end]``: ``held`` is the times alone in a record of its own, and
    the times then the account's lodged bytes in the memory backend's account object
    (``memory._Account``, one bytes object for both: −40 bytes an account, session 36).
    Why readers take ``held`` and ``end`` (two slots) and not ``times`` (a copy): the
    account's times read in place cost no call and no copy, where a property's copy cost
    +1.2 % instructions an event (``mem36``, whose ``times`` was one: ``mem36b``). So
    every read below starts at 0 and ends at ``end``, never at ``len(held)``; a touch
    works on a copy of the times and puts what follows them back after (``_rehold``)."""

    __slots__ = ("end", "held", "names")

    def __init__(self, names: tuple[str, ...], times: bytes, after: bytes = b"") -> None:
        """The record of these names and times (``after`` them in ``held``: an account's
        lodged bytes), the index made for them."""
        self.held, self.end = times + after, len(times)
        self.names = (_named(names, _Index(names, times, self.sides()))
                      if len(names) > _INDEXED else tuple(names))  # (no old index kept)

    def hold(self, names: tuple[str, ...], times: bytes) -> None:
        """Hold these names and times from now on, what followed the old times after them:
        a record changes in place, so what holds it (``memory._Account``) keeps holding
        it."""
        Record.__init__(self, names, times, self.held[self.end:])

    @property
    def times(self) -> bytes:
        """The held times: ``held`` itself in a record of its own, a copy in an account."""
        return self.held[:self.end]

    @property
    def index(self) -> _Index | None:
        """The record's ``_Index``, None while it is small (``_Named``)."""
        names = self.names
        return names.places if names.__class__ is _Named else None

    def position(self, member: str) -> int:
        """The member's place in ``names``, or -1."""
        names = self.names
        if names.__class__ is _Named:  # (``_Index.gone``; inline: ~4 asks a message)
            index = names.places
            at = index.at.get(member, -1)
            if index.gone and at > 0:
                at -= bisect_left(index.gone, at)
            return at
        return names.index(member) if member in names else -1

    def due(self, ttls: Sequence[float]) -> float:
        """When a sweep first has something to drop (``swept``): a side's expiry, or its
        oldest member passing the side's TTL (a derived head's: its declared one, in
        ``ttls``, its expiry no sooner than that). Asked of every record a commit writes: the
        times are sorted, so a side's oldest is its least rank's, found in C, and no time
        is unpacked but that one (callgrind, a record of 9 names, 4 sides and 21 times:
        42,700 instructions a call, 106,900 when each side's column of times was made).
        The record's least time (its first eight bytes) bounds every side's oldest from
        below, and adding a TTL keeps the order (rounding is monotone): a side whose
        least-plus-TTL is no sooner than its expiry or the soonest found has no oldest
        that could come first, so its ranks are not scanned nor a later time made (the
        carry arithmetic, in six bytes: 1.8 times a call at batches of one, 0.04 so;
        41,100 instructions a call, 18,800 so: speed-log, session 29)."""
        times, n, soonest = self.held, len(self.names), math.inf
        if not self.end:
            return soonest
        sides, width = times[0] >> 2 & _SIDES, 1 << (times[0] & 3)
        mask, heads_at = times[1] if sides <= 8 else _mask(times, sides), 1 + (sides + 7 >> 3)
        ranks_at = heads_at + 16 * mask.bit_count()
        times_at = ranks_at + width * sides * n
        first = _DOUBLE.unpack_from(times, times_at)[0] if self.end > times_at else math.inf
        held = _HEAD.iter_unpack(times[heads_at:ranks_at])
        for r in range(sides):
            # A derived head's expiry is no sooner than its oldest's plus its TTL.
            expiry, ttl = next(held) if mask >> r & 1 else (math.inf, ttls[r])
            if expiry > 0.0:  # not never touched, nor emptied by a sweep
                if (aged := first + ttl) < expiry and aged < soonest:
                    start = ranks_at + width * r * n
                    least = min(filter(None, _ranks(times, start, start + width * n)),
                                default=0)
                    if least > 1:
                        aged = _time(times, times_at, least) + ttl
                    if least and aged < expiry:
                        expiry = aged
                if expiry < soonest:
                    soonest = expiry
        return soonest

    def sides(self) -> int:
        return self.held[0] >> 2 & _SIDES if self.end else 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and (self.names, self.times) == (other.names,
                                                                          other.times)

    __hash__ = None  # type: ignore[assignment]


def _rehold(record: Record, times: bytes) -> None:
    """``times`` held in place of the record's, what followed them after them (an
    account's lodged bytes; nothing, in a record of its own, when no copy is made: a
    bytes object joined to an empty one is itself)."""
    record.held, record.end = times + record.held[record.end:], len(times)


def empty(sides: int) -> Record:
    """A record of ``sides`` sides, none touched: no member, no head held."""
    return Record((), bytes((sides << 2 | _SIX,)) + bytes(sides + 7 >> 3))


def contains(record: Record, side: int, ttls: Sequence[float], asked: Sequence[str],
             now: float) -> tuple[bool, ...]:
    """For each name asked, whether it is on the side as of ``now`` (its keyspace's sides'
    declared TTLs ``ttls``): O(1) a name for a large record, a scan of the names (in C)
    for a small one."""
    times, sides = record.held, len(ttls)
    if sides <= 8 and not times[1]:  # no head held (nearly every record): no call made
        ttl, base = ttls[side], 2
    else:
        expiry, ttl, base = _head(times, side, sides, ttls[side])
        if expiry <= now:
            return (False,) * len(asked)
    n, cutoff = len(record.names), now - ttl
    # A member's time is later than the cutoff if the record's least is (its first eight
    # bytes, in either layout): nearly always, the TTLs being months, so a time after the
    # least is nearly never made from its six bytes (``_time``).
    if len(asked) == 1 and not times[0] & 3:  # nearly every ask (~4 a message): no list
        ranks, times_at = base + side * n, base + sides * n
        at = record.position(asked[0])
        return (at >= 0 and (rank := times[ranks + at]) > 0
                and (_DOUBLE.unpack_from(times, times_at)[0] > cutoff
                     or _time(times, times_at, rank) > cutoff),)
    # A crowd's record (ranks wider than a byte) reads each rank asked, not its every
    # member's time (``_column``: ~100 us at 2,000 names, an ask of each message to it).
    code = times[0] & 3
    ranks, times_at = base + (side * n << code), base + (sides * n << code)
    rank_of, found = _RANK[code].unpack_from, []
    fresh = record.end > times_at and _DOUBLE.unpack_from(times, times_at)[0] > cutoff
    for member in asked:
        at = record.position(member)
        found.append(at >= 0 and (rank := rank_of(times, ranks + (at << code))[0]) > 0
                     and (fresh or _time(times, times_at, rank) > cutoff))
    return tuple(found)


def last(record: Record, side: int, ttls: Sequence[float], member: str, now: float
         ) -> float | None:
    """``member``'s time on the side as of ``now``, exactly as touched (``ops.LastTouch``),
    or None where ``contains`` answers False: one rank read, whatever the record's size."""
    times, sides = record.held, len(ttls)
    if sides <= 8 and not times[1]:  # no head held (``contains``)
        ttl, base = ttls[side], 2
    else:
        expiry, ttl, base = _head(times, side, sides, ttls[side])
        if expiry <= now:
            return None
    at = record.position(member)
    if at < 0:
        return None
    code, n = times[0] & 3, len(record.names)
    ranks = base + (side * n << code) + (at << code)
    # a rank of a byte (every record but a crowd's) read as ``contains`` reads it: no call
    rank = _RANK[code].unpack_from(times, ranks)[0] if code else times[ranks]
    if not rank:
        return None
    ts = _time(times, base + (sides * n << code), rank)
    return ts if ts > now - ttl else None


def distinct(record: Record, side: int, ttls: Sequence[float], window: float,
             now: float) -> int:
    """Members of the side touched in the last ``window`` seconds (and within its TTL):
    O(1) for a large record when none of the side is older than the window (the common
    ask: a window as long as the TTL), else a count over the side's times in C."""
    sides, times = len(ttls), record.held
    if sides <= 8 and not times[1]:  # no head held (``contains``)
        ttl, base = ttls[side], 2
    else:
        expiry, ttl, base = _head(times, side, sides, ttls[side])
        if expiry <= now:
            return 0
    since, names = now - (window if window < ttl else ttl), record.names
    # (``Record.index`` inline, as in ``touched_sides``: ~1 ask a message)
    if names.__class__ is _Named and names.places.low[side] > since:
        return names.places.on[side]
    n = len(names)
    if times[0] & 3:  # ranks of more than a byte: a crowd's record
        return sum(map(since.__lt__, _column(record.times, side, sides, n)))
    # The times are sorted: the side's members since then are its ranks past the times
    # up to then, counted in C; none is up to then if the least is not (nearly every ask:
    # windows as long as the TTLs), when no time but the least is read.
    start, times_at = base + side * n, base + sides * n
    first = 1 if record.end == times_at or _DOUBLE.unpack_from(times, times_at)[0] > since \
        else bisect_right(_listed(record.times, times_at), since) + 1
    return len(times[start:start + n].translate(None, _BELOW[first]))


def members(record: Record, side: int, ttls: Sequence[float], now: float
            ) -> tuple[str, ...]:
    """The side's members, oldest first: in (time, name) order, as a sorted set's."""
    sides = len(ttls)
    expiry, ttl, _ = _head(record.held, side, sides, ttls[side])
    if expiry <= now:
        return ()
    cutoff = now - ttl
    live = [(t, m) for m, t in zip(record.names,
                                   _column(record.times, side, sides, len(record.names)),
                                   strict=True)
            if t > cutoff]
    return tuple(m for _, m in sorted(live))


Part = tuple[int, Sequence[str], float, int]  # a touch of one side: side, fresh, TTL, cap


def touched(record: Record | None, side: int, ttls: Sequence[float], fresh: Sequence[str],
            now: float, ttl: float, cap: int) -> Record:
    """The record with ``fresh`` (interned names, once each) touched on ``side`` at
    ``now``, as a plain set's touch (``memory.MemoryState._touch``): a side past its
    expiry starts afresh; a time moves only forward; then the side's members past its TTL
    (the shorter of the old and the touch's) and its stalest beyond ``cap`` leave it; the
    side's expiry moves to ``now + ttl`` if later, its TTL becomes the touch's
    (``touched_sides`` of the one part)."""
    return touched_sides(record, ttls, ((side, fresh, ttl, cap),), now)


def touched_sides(record: Record | None, ttls: Sequence[float], parts: Sequence[Part],
                  now: float) -> Record:
    """The record with each of ``parts`` touched in turn at ``now``, exactly as
    ``touched`` of each in turn leaves it, in one pass over its bytes. Why: a message
    touches its sender's ties three times at its time (the reciprocated and owner-wrote
    sides, the takeover detector; the wrote side, the relationship detector), and each
    touch on its own read the record's newest time, copied its bytes, dropped the times
    no member-side held and wrote the record back (~80 of a touch's ~440 bytecodes on the
    mixed load; the rest is each side's own: speed-log, nineteenth pass).

    Nearly every touch drops nothing and comes later than (or with) the record's newest
    time: it finds each name (O(1) in a large record), reads its rank, checks the side's
    oldest time and count (``_Index``, or the side's ranks counted in C for a small
    record), appends ``now`` to the times (or takes the newest's rank), writes that rank
    into a copy of the bytes, drops each time a raised member held if no member-side
    holds it now (the ranks above it moved down, ``bytes.translate``; once for all the
    parts, ``_kept``: a freed time is never held again, as ``now``'s rank is never
    freed) and, for a name new to the record, adds a rank to each side: no float is
    unpacked for each member. So does a touch past the side's cap (its stalest dropped in
    the bytes, ``_capped``), and a touch of a crowd's record, its ranks wider than a byte
    (widened as the 256th distinct time comes and narrowed as it goes, in C: until
    session 25 such a record was unpacked and packed again at every touch, 8.2 ms a
    message to an account writing to 3,000 people). A touch that drops members past the
    side's TTL, restarts a side that still holds some, or comes earlier than the record's
    newest time is ``_retouched``, the parts before it kept first. A side whose head is
    held goes the fast way too where the touch names its TTL and that is not the declared
    one (``_held_head``: a pitch's set, touched with ``burst_window``)."""
    sides = len(ttls)
    if record is None:
        record = empty(sides)
    if record.names.__class__ is not _Named and _touched_small(record, ttls, parts, now):
        return record
    names, times, end = record.names, record.held, record.end
    # (``Record.index`` inline: a property's call at every touch cost ~0.4 % an event)
    index = names.places if names.__class__ is _Named else None
    n, code = len(names), times[0] & 3
    # The sides whose heads the record holds (``_derived``): no part of the fast way
    # changes which (a part that would goes ``_retouched``), nor where the ranks start.
    mask = times[1] if sides <= 8 else _mask(times, sides)  # (a call saved: ~1.6 an event)
    ranks_at = 1 + (sides + 7 >> 3) + 16 * mask.bit_count()
    times_at = ranks_at + (sides * n << code)
    count = (end - times_at) // (6 if times[0] & _SIX else 8)  # (``_count``)
    packed, ahead = _DOUBLE.pack(now), -1
    if count and times[0] & _SIX:  # now's bits above the least's: in six bytes if < 2**48
        ahead = _BITS.unpack(packed)[0] - (least := _BITS.unpack_from(times, times_at)[0])
    if count > 1 and 0 <= ahead <= _LOW:  # nearly every touch
        # The times of a record of two or more in six bytes are not negative, so their
        # offsets from the least compare as they do: the newest's is read from its six
        # bytes with no time made (``_time``).
        last = (_BITS.unpack_from(times, times_at + 6 * count - 6)[0] >> 16) - least & _LOW
        late, rank = ahead < last, count if ahead == last else count + 1  # now's rank
    else:
        newest = _time(times, times_at, count) if count else ABSENT
        late, rank = now < newest, count if newest == now else count + 1
    wider = rank > 255 and rank > _LIMIT[code]
    if late or ((code or wider) and index is None):  # (a small record of 8 sides)
        return _onward(record, ttls, parts, now)
    changed = bytearray(times[:end])  # (the times alone: ``held`` itself, but an account's)
    if wider:
        code += 1
        _rewidth(changed, sides, n, code)
        times_at = ranks_at + (sides * n << code)
    gone = index.gone if index is not None else None
    left: set[int] = set()  # the ranks the raised members held
    for done in range(len(parts)):
        side, fresh, ttl, cap = parts[done]
        # (``_ends_with(now, ttl)`` inline: a call a part, ~2.5 an event)
        if not fresh or cap < 1 or not now + ttl - ttl >= now:
            break
        head = -1  # where the side's head is held, if it is (``_held_head``)
        if mask >> side & 1:
            head = _held_head(changed, mask, side, sides, ttl, ttls[side], now)
            if head < 0:
                break
        elif ttl != ttls[side]:
            break  # a head held after it (``_derived``): ``_retouched``
        base = ranks_at + (side * n << code)
        column = changed[base:base + n] if not code else _ranks(changed, base,
                                                                 base + (n << code))
        added: list[str] = []
        raised: list[int] = []  # the places of the members whose time moves to now
        joined = 0  # members on the side now that were not
        for member in fresh:
            at = (index.at.get(member, -1) if index is not None
                  else names.index(member) if member in names else -1)
            if gone and at > 0:  # names have left since the index was made
                at -= bisect_left(gone, at)
            if at < 0:
                added.append(member)
            elif (held := column[at]) != rank:
                raised.append(at)
                if held:
                    left.add(held)
                else:
                    joined += 1
        joined += len(added)
        if index is None:
            on, low = n - column.count(0), math.inf
        else:
            on, low = index.on[side], index.low[side]
        # The side's head is derived, before the touch and after: its TTL the declared
        # one, the touch's, and its expiry its newest member's time plus that, which this
        # touch's (``now``) is then (at least one of ``fresh`` stays on it, at ``cap`` of
        # one or more). Past its expiry every member is past the cutoff: ``_retouched``.
        cutoff = now - ttl
        if index is not None:
            if low <= cutoff:  # the bound says nothing: the side's oldest
                low = _oldest(_column(changed, side, sides, n))
        elif on and _DOUBLE.unpack_from(changed, times_at)[0] <= cutoff:
            # The record's oldest time (rank 1's) is past the cutoff, as it nearly never is
            # (TTLs of months): then the side's oldest, found by its least rank.
            # No index: the ranks are a byte each (else ``_onward`` above), so ``column``
            # is the bytearray's slice, not ``_ranks``'s array (mypy cannot follow that).
            least = min(column.translate(_ZERO_LAST))  # type: ignore[attr-defined]
            low = _time(changed, times_at, least)
        excess = on + joined - cap  # the side's stalest past its cap, dropped in the bytes
        if low <= cutoff:
            break
        if head >= 0:  # its expiry moves to now + ttl if later, as ``_retouched``'s
            expiry = _DOUBLE.unpack_from(changed, head)[0]
            if expiry < now + ttl:
                _DOUBLE.pack_into(changed, head, now + ttl)
        if index is not None:  # a drop past the cap takes the side's oldest: the bound stands
            index.on[side] = on + joined if excess < 0 else cap
            index.low[side] = low if low < now or not joined else now
        if rank > count:
            if 0 <= ahead <= _LOW:  # its bits within 2**48 above the least's
                changed += packed[:6]
            else:
                _appended(changed, times_at, now)
            count = rank
        if code:
            for at in raised:
                _RANK[code].pack_into(changed, base + (at << code), rank)
        else:
            for at in raised:
                changed[base + at] = rank
        if added:
            width, view = len(added), memoryview(changed)
            mark = _RANK[code].pack(rank) * width
            pieces: list[bytes | memoryview] = [view[:ranks_at]]
            for r in range(sides):
                start = ranks_at + (r * n << code)
                pieces += [view[start:start + (n << code)],
                           mark if r == side else bytes(width << code)]
            pieces.append(view[times_at:])
            changed = bytearray().join(pieces)
            if index is not None:  # the parts after it find the added names
                index.add(added, n)
            names = (*names, *added)
        if excess > 0:
            names = _capped(changed, names, side, sides, excess, left, index)
        n = len(names)
        times_at = ranks_at + (sides * n << code)
    else:
        _kept(record, names, changed, left, sides, ranks_at)
        return record
    if done:
        _kept(record, names, changed, left, sides, ranks_at)
    return _onward(record, ttls, parts[done:], now)


def _touched_small(record: Record, ttls: Sequence[float], parts: Sequence[Part],
                   now: float) -> bool:
    """``touched_sides`` of a small record (no ``_Index``) in the commonest shape, done in
    place if every part has it, else False with nothing changed: ranks a byte, no head
    held, times in six bytes (or none yet), ``now`` no earlier than the newest and within
    2**48 above the least's bits and rank 255 at most, and each part one name with the
    keyspace's declared TTL (``_ends_with``), a cap of one or more and no member of the
    side past its cutoff (the record's least time later than it). Why: that is 88 % of
    the mixed load's touches (an account's ties, one correspondent a message), and the
    general loop's ~560 bytecodes a call were its generality's (a column sliced out, lists
    of added and raised members, an index's bookkeeping, the record's layout read from
    its byte): this reads the layout's places as constants (its ranks start at 2) and the
    side's count in C. The bytes are the general loop's: the same rank written, the same
    name appended to every side's ranks, the same ``_capped``, and ``_kept``'s drops of the
    times no member-side holds now.

    What it leaves out of the general loop's work, each exact in this shape (session 47,
    ``state47``: 40,300 → 30,400 instructions a call on the mixed load's touches): a side's
    count of members (a count of its ranks, in C) only where it can matter, past the
    record's least time's cutoff (then the side must have no member) or with more names
    than the cap (a side holds at most the record's names, so with no more than its cap
    none is dropped); and ``_kept`` inline, its layout's tests known here (ranks a byte
    from 2, times in six bytes: the byte's ``_SIX`` stays set, nothing to settle).

    Session 49 (``ties49``: 33,900 → 32,200 instructions an application on the mixed
    load's ties, with the memory state's call): ``held`` copied once, an account's lodged
    tail riding after the times (``end`` kept as they change); a member's place found once
    for the parts that name it; a write's time packed once for its records (``_NOW``); and
    the memory state asks this with no ``touched_sides`` frame (``_touch_held``)."""
    times, end, names = record.held, record.end, record.names
    sides, n = len(ttls), len(names)
    if times[0] & 0x83 != _SIX or sides > 8 or times[1]:  # (ranks a byte, six bytes, no head)
        return False
    global _NOW
    held_now, packed, six, bits = _NOW
    if held_now is not now:  # (the recipient's and the sender's records: one ``now``)
        packed = _DOUBLE.pack(now)
        _NOW = now, packed, six, bits = now, packed, packed[:6], _BITS.unpack(packed)[0]
    times_at = 2 + sides * n  # the ranks after the byte and the one-byte mask: none held
    count = (end - times_at) // 6  # (``_count``: 8 bytes the least, 6 each later one)
    if count:
        # A record of one time may hold a negative one (``least``'s top bit), not of more:
        # of two or more in six bytes, their offsets from the least compare as they do.
        # (The newest's six bytes end the times: read as the 8 ending there.)
        least = _BITS.unpack_from(times, times_at)[0]
        ahead = bits - least
        if count > 1:
            last = (_BITS.unpack_from(times, end - 8)[0] >> 16) - least & _LOW
            if not last <= ahead <= _LOW or count > 254:  # (late, or an edge)
                return False
        elif not 0 <= ahead <= _LOW or least >> 63:
            return False
        else:
            last = 0
        oldest = _DOUBLE.unpack_from(times, times_at)[0]  # the record's least time
        rank = count
        # The whole held bytes copied once (an account's lodged tail with them: what follows
        # ``end`` moves with every change before it), the new time put at the times' end.
        changed = bytearray(times)
        if ahead > last:
            rank += 1
            changed[end:end] = six
            end += 6
    else:  # a record's first time, in eight bytes (``_appended``)
        oldest, rank = math.inf, 1
        changed = bytearray(times)
        changed[end:end] = packed
        end += 8
    left: set[int] | None = None  # the ranks the raised members held, past the first
    freed = 0  # the first of them (a set made only for a second: ~1 in 2 touches frees one)
    member, at = None, -1  # (two parts of one member, the sender's two sides: found once)
    checked = None  # a TTL found to end where it should (``_ends_with``) at ``now``
    for side, fresh, ttl, cap in parts:
        if len(fresh) != 1 or cap < 1 or ttl != ttls[side]:
            return False
        if ttl is not checked:
            if not now + ttl - ttl >= now:
                return False
            checked = ttl
        base = 2 + side * n
        if oldest <= now - ttl and changed.count(0, base, base + n) < n:
            return False  # a member on the side may be past the cutoff
        if fresh[0] is not member:
            member = fresh[0]
            at = names.index(member) if member in names else -1
        if at >= 0:
            if (held := changed[base + at]) != rank:
                changed[base + at] = rank
                if held and left is not None:
                    left.add(held)
                elif held and not freed:
                    freed = held
                elif held and held != freed:
                    left = {freed, held}
        else:  # a rank for it at the end of every side's, now's on this side
            for r in range(sides, 0, -1):
                changed.insert(2 + r * n, rank if r == side + 1 else 0)
            names = (*names, member)
            at = n
            n += 1
            end += sides
            base += side
        if n > cap and (on := n - changed.count(0, base, base + n)) > cap:
            if left is None:
                left = {freed} if freed else set()
            names = _capped(changed, names, side, sides, on - cap, left, None)
            end -= (n - len(names)) * sides
            n = len(names)
            member = None  # (places may have moved)
    if freed or left:  # (``_kept``'s drops: a freed time is never now's, held by the member raised)
        times_at = 2 + sides * n
        # a drop moves the ranks above it down (one most often: no set made and sorted)
        for held in ((freed,) if left is None else sorted(left, reverse=True)):
            if changed.find(held, 2, times_at) < 0:
                if held > 1:  # a later time's six bytes (``_dropped``'s, inline)
                    del changed[times_at + 6 * held - 4:times_at + 6 * held + 2]
                    end -= 6
                else:  # the least: its successor made the least (``_dropped``)
                    end -= _dropped(changed, times_at, held, end)
                changed[2:times_at] = changed[2:times_at].translate(_DOWN[held])
    record.held, record.end = bytes(changed), end
    if names is not record.names:
        record.names = (names if n <= _INDEXED else  # (``_grown``'s, inline)
                        _named(names, _Index(names, record.held[:end], sides)))
    return True


def _held_head(times: bytearray, mask: int, side: int, sides: int, ttl: float,
               declared: float, now: float) -> int:
    """Where the held head of ``side`` starts in ``times``, if a touch at ``now`` with
    ``ttl`` may go the fast way, else -1. It may where the head stays held and only its
    expiry moves: its TTL is the touch's and not the declared one (so ``_derived`` is
    false before and after, the mask and the ranks' place unchanged), and the side is not
    past its expiry (no restart). Why: a pitch's set (``keys.text``) is a side touched
    with ``burst_window`` where its keyspace declares a session's life, so every touch of
    a pitch already held went ``_retouched``, every time unpacked and packed again
    (``pitch37``)."""
    at = _head_at(mask, side, sides + 7 >> 3)
    expiry, held = _HEAD.unpack_from(times, at)
    return at if held == ttl and ttl != declared and expiry > now else -1


def _onward(record: Record, ttls: Sequence[float], parts: Sequence[Part], now: float
            ) -> Record:
    """``touched_sides`` from a part that drops members past its side's TTL or as the side
    restarts, comes late, or leaves the side a head of its own (``_derived``) or finds
    one: that one ``_retouched``, the rest after."""
    side, fresh, ttl, cap = parts[0]
    record = _retouched(record, side, ttls, fresh, now, ttl, cap)
    return touched_sides(record, ttls, parts[1:], now) if len(parts) > 1 else record


def _rewidth(times: bytearray, sides: int, n: int, code: int) -> None:
    """The ranks of ``times`` (a record of ``n`` names) written ``1 << code`` bytes each:
    wider as a touch brings the time past their width's count, narrower as drops take the
    times back under it, as ``_held`` makes them. In C, O(n) once a crossing."""
    ranks_at = _ranks_at(times, sides)
    ranks = array(_RANK_CODES[code],  # iter: a bytearray would be taken as raw bytes
                  iter(_ranks(times, ranks_at, ranks_at + (sides * n << (times[0] & 3)))))
    if sys.byteorder != "little":
        ranks.byteswap()
    times[ranks_at:ranks_at + (sides * n << (times[0] & 3))] = ranks.tobytes()
    times[0] = times[0] & ~3 | code


def _wide(times: bytes | bytearray, start: int, lanes: int, code: int) -> np.ndarray:
    """``lanes`` ranks of ``1 << code`` bytes from ``start`` (a crowd's record), as an array
    of their own (a view would keep a bytearray from being resized): what a bytes object
    does in C for ranks of a byte (``translate``, ``find``), numpy does for wider ones,
    where a pass in Python over 2,000 ranks takes ~150 us."""
    return np.frombuffer(times, f"<u{1 << code}", lanes, start).copy()


def _kept(record: Record, names: tuple[str, ...], changed: bytearray, left: set[int],
          sides: int, ranks_at: int) -> None:
    """The record given ``names`` and the times ``changed`` written for them (its ranks
    from ``ranks_at``), less each time among ``left`` that no member-side holds now (ranks
    narrowed if so few are left, ``_rewidth``)."""
    code, n = changed[0] & 3, len(names)
    times_at = ranks_at + (sides * n << code)
    if code and left:
        ranks = _wide(changed, ranks_at, sides * n, code)
        for held in sorted(left, reverse=True):
            if not (ranks == held).any():  # the ranks above it move down by one
                ranks -= ranks > held
                _dropped(changed, times_at, held)
        changed[ranks_at:times_at] = ranks.tobytes()
        if (narrow := _width(_count(changed, times_at))) < code:
            _rewidth(changed, sides, n, narrow)
            times_at = ranks_at + (sides * n << narrow)
    elif left:
        six = changed[0] & _SIX
        # a drop moves the ranks above it down (one most often: no list made and sorted)
        for held in (left if len(left) == 1 else sorted(left, reverse=True)):
            if changed.find(held, ranks_at, times_at) < 0:
                if six and held > 1:  # a later time's six bytes (``_dropped``'s, inline)
                    del changed[times_at + 6 * held - 4:times_at + 6 * held + 2]
                else:
                    _dropped(changed, times_at, held)
                changed[ranks_at:times_at] = changed[ranks_at:times_at].translate(
                    _DOWN[held])
    if not changed[0] & _SIX:
        _settled(changed, times_at)
    if names is record.names:  # (``_rehold`` inline: ~1.2 a message)
        record.held, record.end = bytes(changed) + record.held[record.end:], len(changed)
    else:
        _grown(record, names, bytes(changed), sides)


def _capped(times: bytearray, names: tuple[str, ...], side: int, sides: int, excess: int,
            freed: set[int], index: _Index | None) -> tuple[str, ...]:
    """The names left when a side drops its ``excess`` stalest members in (time, name)
    order, as ``_retouched`` does: their ranks on the side zeroed in ``times`` and added
    to ``freed`` (a time no member-side holds then goes, ``_kept``), a member on no side
    now taken out of every side's ranks, of the names and of the ``index``, each in C or
    O(1) (``_Index.gone``). The reciprocated side's cap of 3 drops a member at ~1 in 6 of
    the load's touches, and an account at its cap of 2,000 correspondents one at each new
    one: this keeps them from unpacking every time and packing them again (``_held``), or
    making the index again (3.9 ms a message at 2,000, until session 25)."""
    n, code = len(names), times[0] & 3
    size, stride = 1 << code, n << code
    ranks_at = _ranks_at(times, sides)
    end = ranks_at + sides * stride
    base = ranks_at + side * stride
    if n < _SEARCHED and not code:  # a small side (the load's cap of 3): sorted in C
        column: bytearray | np.ndarray = times[base:base + n]
        dropped = sorted([(column[at], names[at], at)
                          for at in compress(range(n), column)])[:excess]
    else:  # ranks kept ints: a numpy scalar's arithmetic wraps
        column = _wide(times, base, n, code)
        dropped = [(int(column[at]), "", at) for at in _stalest(names, column, excess)]
    gone = []
    for rank, _, at in dropped:
        freed.add(rank)
        first = ranks_at + (at << code)
        times[base + (at << code):base + (at << code) + size] = bytes(size)
        if not (any(times[first:end:stride]) if not code else  # its every side
                any(any(times[first + k:end:stride]) for k in range(size))):
            gone.append(at)
    for at in sorted(gone, reverse=True):
        if code:
            for r in range(sides - 1, -1, -1):  # the later sides' first: the earlier stand
                first = ranks_at + (r * n + at << code)
                del times[first:first + size]
        else:
            del times[ranks_at + at:ranks_at + sides * n:n]
        n -= 1
        if index is not None:
            index.remove(names[at])
        names = names[:at] + names[at + 1:]
    return names


def _grown(record: Record, names: tuple[str, ...], times: bytes, sides: int) -> None:
    """The record given ``names`` (its old ones less some, then some added at the end, its
    index told of both) and their ``times``: an index made once it is large, its slots
    made places again once many names have gone (``_Index.renumbered``)."""
    index = record.index
    _rehold(record, times)
    if index is None:
        index = _Index(names, times, sides) if len(names) > _INDEXED else None
    elif len(index.gone) * 8 > len(names):
        index.renumbered(names)
    record.names = names if index is None else _named(names, index)


def _retouched(record: Record, side: int, ttls: Sequence[float], fresh: Sequence[str],
               now: float, ttl: float, cap: int) -> Record:
    """``touched`` when the touch drops members from the side (past its TTL or its cap,
    or all of them as it restarts): every time unpacked (in C), the side's column
    rewritten, names left on no side taken out of the record. O(n) in C, with a pass in
    Python over the side's times only when its TTL drops some."""
    names, n, index, sides = record.names, len(record.names), record.index, len(ttls)
    flat = _flat(record.times, n, ttls)
    body = 2 * sides
    columns = [flat[body + r * n:body + (r + 1) * n] for r in range(sides)]
    mine = columns[side]
    expiry, old_ttl = flat[2 * side], flat[2 * side + 1]
    emptied = False  # whether members left the side at large: any name may be on none now
    if expiry <= now:  # gone to every read: nothing of it comes back
        emptied = mine.count(ABSENT) < n
        mine[:], old_ttl = [ABSENT] * n, ttl
    added: list[str] = []
    for member in fresh:
        at = record.position(member)
        if at < 0:
            added.append(member)
        elif mine[at] < now:
            mine[at] = now
    if added:
        names = (*names, *added)
        for r, column in enumerate(columns):
            column += [now if r == side else ABSENT] * len(added)
    cutoff = now - (ttl if ttl < old_ttl else old_ttl)
    if _oldest(mine) <= cutoff:
        mine[:] = [t if t > cutoff else ABSENT for t in mine]
        emptied = True
    capped = _stalest(names, mine, len(mine) - mine.count(ABSENT) - cap)
    for at in capped:
        mine[at] = ABSENT
    flat[2 * side] = expiry if expiry > now + ttl else now + ttl
    flat[2 * side + 1] = ttl
    if emptied or any(max(column[at] for column in columns) == ABSENT for at in capped):
        keep = list(map(ABSENT.__lt__, map(max, *columns, repeat(ABSENT))))
        if not all(keep):
            # (``Record.hold`` itself: a touch changes names in place, and whoever holds the
            # record sees the change after it, as ``memory._Account`` does its guests'.)
            Record.hold(record, tuple(compress(names, keep)), _held(
                [*flat[:body], *chain.from_iterable(compress(column, keep) for column in columns)],
                ttls))
            return record
    times = _held([*flat[:body], *chain.from_iterable(columns)], ttls)
    if index is not None:  # the other sides' counts and bounds stand: added names are not on them
        index.on[side], index.low[side] = len(mine) - mine.count(ABSENT), _oldest(mine)
        index.add(added, n)
    _grown(record, names, times, sides)
    return record


def _stalest(names: tuple[str, ...], column: Sequence[float] | np.ndarray,
             excess: int) -> list[int]:
    """The places of a side's ``excess`` stalest members, in (time, name) order as a
    sorted set drops them: found time by time from the oldest (its times, or a large
    side's ranks, ``_wide``), each time's members by searches of the column in C."""
    found: list[int] = []
    if excess > 0:
        for places in (_rank_groups(column) if isinstance(column, np.ndarray)
                       else _time_groups(column)):
            take = excess - len(found)  # nearly always one: found in C
            found += ([min(places, key=names.__getitem__)] if take == 1
                      else sorted(places, key=names.__getitem__)[:take])
            if len(found) == excess:
                break
    return found


def _time_groups(column: Sequence[float]) -> Iterator[list[int]]:
    """Each distinct time's places in the column, oldest first (a side's distinct times
    are few next to its members)."""
    live = set(column)
    live.discard(ABSENT)
    for time in sorted(live):
        places, at = [], -1
        for _ in range(column.count(time)):  # no search past the last (its ValueError
            at = column.index(time, at + 1)  # cost ~2,000 instructions a cap drop)
            places.append(at)
        yield places


def _rank_groups(column: np.ndarray) -> Iterator[list[int]]:
    """Each rank's places in a large side (``_wide``), least first, in numpy: the least
    taken one at a time, as a cap drops one or two at a touch (``np.unique`` of 2,000
    ranks, sorting them all: ~400 us)."""
    live = column[column > 0]
    while live.size:
        least = live.min()
        yield np.flatnonzero(column == least).tolist()
        live = live[live > least]


def swept(record: Record, now: float, ttls: Sequence[float]) -> Record | None:
    """The record less what reads already take as gone by ``now`` (a side past its
    expiry, members past a side's TTL, names left on no side); None once every side has
    expired."""
    names, n, sides = record.names, len(record.names), len(ttls)
    flat = _flat(record.times, n, ttls)
    body = 2 * sides
    head, columns = flat[:body], []
    if max(head[0::2]) <= now:
        return None
    for r in range(sides):
        expiry, ttl = head[2 * r], head[2 * r + 1]
        column = flat[body + r * n:body + (r + 1) * n]
        if expiry <= now:
            head[2 * r] = head[2 * r + 1] = 0.0
            column = [ABSENT] * n
        else:
            column = [t if t > now - ttl else ABSENT for t in column]
        columns.append(column)
    keep = [any(column[i] != ABSENT for column in columns) for i in range(n)]
    names = tuple(compress(names, keep))
    columns = [list(compress(column, keep)) for column in columns]
    return Record(names, _held(head + [t for column in columns for t in column], ttls))


def current(record: Record, ttls: Sequence[float], retired: Sequence[int]) -> Record:
    """The record as a keyspace of sides of declared TTLs ``ttls`` now holds it: one of
    before, of ``len(ttls) + len(retired)`` sides, less the sides at ``retired`` (places in
    its own order, ``ops.Sided``): their heads and columns left out, names on no side
    left with them, and the times no member-side holds any more. Any other is given back
    as it is."""
    old = record.sides()
    if not retired or old != len(ttls) + len(retired):
        return record
    every = list(ttls)
    for place in sorted(retired):  # a retired side declares no TTL: its head is held
        every.insert(place, 0.0)
    return _kept_sides(record.names, _flat(record.times, len(record.names), every), old,
                       ttls, retired)


def merged(record: Record | None, side: int, ttls: Sequence[float], times: dict[str, float],
           expiry: float, ttl: float) -> Record:
    """The record with a plain set (``times``: member -> last touch, its expiry and TTL)
    added to ``side``, as a store converts the sets it held before: a member's later time
    wins, as does the later expiry; the TTL is the record's own if the side has one."""
    sides = len(ttls)
    record = record or empty(sides)
    names, n = record.names, len(record.names)
    flat = _flat(record.times, n, ttls)
    body = 2 * sides
    added = [sys.intern(m) for m in times if record.position(m) < 0]
    names = (*names, *added)
    columns = [flat[body + r * n:body + (r + 1) * n] + [ABSENT] * len(added)
               for r in range(sides)]
    mine = columns[side]
    for at, member in enumerate(names):
        if member in times and times[member] > mine[at]:
            mine[at] = times[member]
    head = flat[:body]
    if head[2 * side] <= 0.0:
        head[2 * side + 1] = ttl
    head[2 * side] = max(head[2 * side], expiry)
    return Record(names, _held(head + [t for column in columns for t in column], ttls))


def encode_names(names: Sequence[str]) -> bytes:
    """Names as stored: each one's UTF-8 length (4 bytes) and bytes (surrogatepass: a
    name is whatever JSON decoded, lone surrogates included)."""
    parts = []
    for name in names:
        raw = name.encode("utf-8", "surrogatepass")
        parts += [_LENGTH.pack(len(raw)), raw]
    return b"".join(parts)


def decode_names(blob: bytes) -> tuple[str, ...]:
    names, at = [], 0
    while at < len(blob):
        (length,) = _LENGTH.unpack_from(blob, at)
        at += 4
        names.append(sys.intern(blob[at:at + length].decode("utf-8", "surrogatepass")))
        at += length
    return tuple(names)
