"""In-process state: the reference semantics, the test double and the fastest backend.

Nothing survives the process; use SQLite (the default) when that matters.

What an account costs here is mostly containers, not data: a dict slot and a float
object per member, a dict and an int object per counter bucket. So, as Redis keeps a
small sorted set in one flat listpack, a member set of up to ``_PACKED`` members is
a tuple of its (interned) names in touch order and their times packed as doubles, one
time when every member was touched at once (a contact list); a counter is its
(bucket, count) pairs packed as doubles. Larger sets stay dicts, whose lookups do
not grow with the set.

A set of a hashed keyspace (a contact list: ``hashed.py``) is its packed value alone,
in a table of its own; a sided record (``sided.py``), its names and packed times. A
value is one bytes object, its expiry (a double) in front of its stored form: a tuple
and a float beside the bytes cost ~90 bytes a key (``_stamped``).

An account is one object (``_Account``): its ties (a sided record) with its record, its
takeover record and its contact list lodged in it (``ops.lodged_keyspace``), where they
were four keys, and its sessions' records (``ops.guest_keyspace``); it is held by the
account's id, the string its name is among the other accounts' ties (``_Home``). What a
tracked account costs, bytes by part (``python benchmarks/memory.py --accounts 2000``,
the quiet load's 1,000 accounts; the allocator's rounding included): the ties' key 0
(its id, counted with the member names), table slot 26, object 64 and the lodged items'
bytes object's header and rounding ~48, their names' tuple 116 (9 names) and times 224
(three sides, ``sided.py``'s held layout: a byte of side count and rank width, two
doubles a side of head, 48, a byte of mask since session 35 where no head is held (each
side touched with its declared TTL: the ties 476 → 429, the sessions' records 148 → 105,
1.40 an account), a rank byte a member-side, 27, the record's ~18 distinct
times once, the least in 8 bytes and the rest in 6, ~110, where 8 each until session
28 cost 36 more, the bytes' header and rounding ~39; four sides before session 24
retired the relationship detector's, 287, and a double a member-side cost
289 + 48); the takeover record 272, the contact list 234, the account record 32 (each
with its expiry or header and 4 bytes of length); its sessions' records 119 (0.40 an
account, after the items in the same bytes object: each a session's name, 12 bytes of
lengths, its names and held times, ~320 an account that has some, where a key of its
own cost ~377: its key 80, slot 30, object 64, names 76, times ~125); the member names
64: 1,248 in all (session 28; main before it 1,290), where four keys cost
1,890, the ties' key of its own 1,540, a double a member-side 1,463, a session's record
a key of its own 1,341; the sessions' records a bytes object of their own, an object's
slot more, 1,307 (session 26); a lodged session's lengths in 2 bytes and its names
NUL-ended, 1,153 where 1,169 (session 31: the sessions' records 120 → 104). The times
and the lodged items one bytes object (``_Account.held``), where they were two: the
ties 429 → 395 (session 36: a 33-byte header and ~5 bytes of rounding the fewer, a byte
of the times' length more), 1,114 → 1,080 in all. The lodged items' lengths in 1 or 2
bytes each where 4 (``_framed``; session 37): the items 441 → 432, 1,024 → 1,015. An
account's id held by its record (``_Account.id``, ``_Names``) where ``sys.intern``'s
table held a slot for it beside the records' own (in no row: 38 bytes an account at
100,000): the object 64 → 80, the rows' sum 1,006 → 1,022, the resident growth at
100,000 accounts 1,092 → 1,076 (session 38). A record's index with its names
(``sided._Named``), where a slot of every record held it: the object 80 → 64 again
(session 38, ``slot38``). A lodged session's names that are its account's ties held as
their places among them, a byte each where ~8 spelt out (``_guest_names``): the sessions'
records 110 → 79, the rows' sum 976 → 944 (session 39, ``resident39``).

An account lodges at most ``_LODGED_GUESTS`` (8) sessions' records, each of at most
``LODGED_NAMES`` (32) names and ``_GUEST_BYTES`` (2,048) bytes; a session's record past
any is a record of its own, touched
in place. Why: the lodged ones are scanned and rewritten whole at each touch of one, and
whoever logs in to an account chooses its number of sessions; so bounded, a touch costs
at most eight small records' bytes however many sessions the account has (a touch of a
record of its own is a dict look-up): ``benchmarks/guests.py``.
"""

from __future__ import annotations

import struct
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from heapq import heapify, heappop, heappush
from itertools import chain, compress, islice, repeat
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

from . import hashed, sided
from .ops import (
    FOREVER,
    LODGED_NAMES,
    SWEEP_PARTS,
    Append,
    Contains,
    Count,
    Delete,
    Distinct,
    Get,
    Gets,
    Incr,
    LastTouch,
    Members,
    Put,
    Puts,
    Query,
    Remove,
    Replace,
    Since,
    Tally,
    Touch,
    Write,
    bucket_range,
    decode_log,
    decode_value,
    encode_log,
    encode_value,
    guest_prefixes,
    hashed_prefixes,
    is_hashed,
    is_sided,
    lodged_keyspaces,
    lodged_prefixes,
    lodging,
    log_count,
    side_of,
    sided_keyspaces,
    sided_space,
    since,
    within,
)

_MAX_BUCKETS = 16  # a counter prunes buckets older than its TTL once it holds more
_PACKED = 128  # members of a set kept packed; a larger set is a dict (O(1) lookups)
_DOUBLE = struct.Struct("d")
# "(a __class__ test)" beside a type: ignore: the hot paths test ``x.__class__ is C``
# (an attribute read, not a call of isinstance), and mypy narrows no such test, so it
# takes a _Held for an entry tuple, a float ``times`` for bytes, a _Packed for a _Large.
_PAIR = struct.Struct("dd")  # a counter's (bucket, count)


def _live_among(names: tuple[str, ...], times: bytes, cutoff: float, asked: Sequence[str]
                ) -> tuple[bool, ...]:
    """For each name asked, whether a packed set of these names and times holds it later
    than ``cutoff``. Apart from ``MemoryState._contains`` (as ``_timed_among``, ``_summed``):
    a comprehension that reads a function's local makes that local a cell at each call of
    the function, the common path's too (~600 instructions a call of three)."""
    live = {m for m, ts in zip(names, _floats(times), strict=True) if ts > cutoff}
    return tuple(map(live.__contains__, asked))


def _timed_among(members: _Large, cutoff: float, asked: Sequence[str]) -> tuple[bool, ...]:
    """For each name asked, whether a large set holds it later than ``cutoff``."""
    return tuple(m in members and members[m] > cutoff for m in asked)


def _summed(packed: bytes, first: int, last: int) -> float:
    """The counts of a counter's buckets ``first`` to ``last``, pair by pair in C: no list
    of every double and two slices of it made."""
    return sum([n for b, n in _PAIR.iter_unpack(packed) if first <= b <= last])


def _doubles(values: Iterable[float]) -> bytes:
    values = tuple(values)
    return struct.pack(f"{len(values)}d", *values)


def _floats(packed: bytes) -> list[float]:
    # Floats: a view cast to "d" lists floats (typeshed's tolist says list[int] of any view).
    return memoryview(packed).cast("d").tolist()  # type: ignore[return-value]


class _Packed:
    """A small member set: names oldest-touched first, and their times.

    ``times`` is one float while every member was touched at the same time, else
    the packed doubles, one per name. Read like a dict of member -> time; changes
    make a new one (``_touched``, ``_without``).
    """

    __slots__ = ("names", "times")

    def __init__(self, names: tuple[str, ...], times: float | bytes) -> None:
        self.names = names
        self.times = times

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __contains__(self, member: object) -> bool:
        return member in self.names

    def __getitem__(self, member: str) -> float:
        at = self.names.index(member)
        return self.times if isinstance(self.times, float) else _floats(self.times)[at]

    def values(self) -> list[float]:
        if isinstance(self.times, float):
            return [self.times] * len(self.names)
        return _floats(self.times)

    def items(self) -> Iterator[tuple[str, float]]:
        return zip(self.names, self.values(), strict=True)


class _Large(dict[str, float]):
    """A member set past ``_PACKED`` members: member -> time, in (time, name) order (the
    order ``_touched`` keeps) but for its loose tail.

    Why a tail: members touched at one time sort by name, and whoever writes chooses
    the names, so a touch at the set's newest time (or before it) belongs among the
    members already there, not at the end; a dict has no middle to insert into, and
    putting that tail back in order at every touch cost O(k log k) a touch, O(k² log k)
    for k touches of one set at one time (4,000 senders of one link in one second:
    10 ms a message; red-team log, session 25). So such touches go to the end, and a
    heap of (time, name) (``loose``) knows their order: a cap drops from it, and only a
    reader of the order (``_settled``) or a touch of a later time sorts the tail, once.

    The last ``count`` members are the tail, each of time ``since`` or later, every
    other member earlier and in order: the oldest member is the first one, or the
    heap's least when the tail is all. ``newest``: no member is later (the tail's
    members are its least when it opens). The heap may hold entries of members touched
    again since, at a later time (so their time is not the heap's), which it skips."""

    __slots__ = ("count", "loose", "newest", "since")

    def __init__(self, pairs: Iterable[tuple[str, float]] = ()) -> None:
        super().__init__(pairs)
        self.loose: list[tuple[float, str]] = []
        self.count = 0
        self.since = self.newest = 0.0


MemberSet = _Large | _Packed
_EMPTY = _Packed((), 0.0)  # never changed in place: every change makes a new _Packed
_UNREAD = object()  # not decoded yet in this read (a stored value may decode to None)
# A read's last one-name ask of a sided side: (key, side, name), and the name's time there
# or None (``MemoryState._contains``, ``_last_touch``); none asked yet in this read.
_NOT_ASKED: tuple[tuple[str, str, str], float | None] = (("", "", ""), None)


class _Held(_Packed):
    """A small member set as the store holds it: with its expiry, TTL and cap in the same
    object, not in a tuple beside it (48 bytes less a set: ~230 an account)."""

    __slots__ = ("cap", "expiry", "ttl")

    def __init__(self, members: _Packed, expiry: float, ttl: float, cap: int) -> None:
        self.names, self.times = members.names, members.times  # no second __init__ frame
        self.expiry, self.ttl, self.cap = expiry, ttl, cap


_Entry = tuple[MemberSet, float, float, int]  # a member set, its expiry, TTL and cap
_LargeEntry = tuple[_Large, float, float, int]  # the only entry the store keeps (``_held``)


def _held(members: MemberSet, expiry: float, ttl: float, cap: int) -> _Held | _LargeEntry:
    """What the store keeps of a member set: a large one (a dict) in an entry tuple."""
    if members.__class__ is _Large:
        return members, expiry, ttl, cap
    return _Held(members, expiry, ttl, cap)  # type: ignore[arg-type]  # (a __class__ test)


def _entry(held: _Held | _LargeEntry) -> _Entry:
    return (held, held.expiry, held.ttl, held.cap) if isinstance(held, _Held) else held


def _packed(pairs: Sequence[tuple[str, float]]) -> MemberSet:
    """The set of these (member, time) pairs, oldest first, packed if small enough."""
    if len(pairs) > _PACKED:
        return _Large(pairs)
    if not pairs:
        return _EMPTY
    names = tuple(m for m, _ in pairs)
    times = {t for _, t in pairs}
    if len(times) <= 1:
        return _Packed(names, float(times.pop()) if times else 0.0)
    return _Packed(names, _doubles(t for _, t in pairs))


def _sorted_once(names: Sequence[str]) -> list[str]:
    """Each name once, sorted: the order a touch of a member set adds them in."""
    return sorted(set(names))


def _touched(members: MemberSet, fresh: list[str], now: float) -> MemberSet:
    """``members`` with ``fresh`` (one name or more, each once, sorted, the store's own
    strings: ``MemoryState._touch``) at ``now``, kept in (time, name) order, the order in
    which Redis's sorted sets and SQLite's index hold members (so a cap drops the same
    ones): a time only moves forward (ZADD GT), and members of equal time sort by name
    however many writes touched them.

    The common touches, of members new to a packed set or of one member already in it, at
    a time later than all of the set's own, move bytes: O(n) copied, no float unpacked
    (n the set's size). A large set's touches at or before its newest time join its loose
    tail (``_Large``): O(log t) each, t the tail's length."""
    if members.__class__ is _Large:
        if members.count:
            if now <= members.newest:
                return _loosened(members, fresh, now)
            _settled(members)  # a later time: the tail, all earlier, sorted once
        elif members and next(reversed(members.values())) >= now:
            return _loosened(members, fresh, now)
        for member in fresh:
            members.pop(member, None)
            members[member] = now
        return members
    names, times = members.names, members.times  # type: ignore[union-attr]  # (a __class__ test)
    if not names:
        if len(fresh) <= _PACKED:
            return _Packed(tuple(fresh), float(now))
    elif (times if times.__class__ is float
          else _DOUBLE.unpack_from(times, len(times) - 8)[0]) >= now:  # type: ignore[arg-type]  # (a __class__ test)
        return _resorted(members, fresh, now)  # type: ignore[arg-type]  # (a __class__ test)
    moved = set(fresh)
    if moved.isdisjoint(names):
        if len(names) + len(fresh) <= _PACKED:
            # (a double packed once and repeated: the bytes ``_doubles`` makes of the same
            # times, with no call, tuple or format made: ~1 a message)
            held = times if times.__class__ is bytes else _DOUBLE.pack(times) * len(names)
            return _Packed((*names, *fresh), held + _DOUBLE.pack(now) * len(fresh))
    elif len(fresh) == 1 and (times.__class__ is bytes or len(names) == 1):
        # One member touched again moves to the end; the newest touched again (the
        # commonest touch: the same contact, device or address as last time) keeps the
        # names as they are, and a set of one keeps one time.
        if times.__class__ is float:
            return _Packed(names, float(now))
        at = names.index(fresh[0])
        if at + 1 < len(names):
            names = (*names[:at], *names[at + 1:], fresh[0])
        return _Packed(names, times[:8 * at] + times[8 * at + 8:] + _DOUBLE.pack(now))  # type: ignore[index]  # (a __class__ test)
    return _moved(members, moved, fresh, now)  # type: ignore[arg-type]  # (a __class__ test)


def _moved(members: _Packed, moved: set[str], fresh: list[str], now: float) -> MemberSet:
    """``_touched`` of a packed set whose ``moved`` (``fresh``) go to its end at ``now`` in
    a way none of the common touches is (several members moved, one in a set of one time
    of more, or a set grown past ``_PACKED``): O(n). Apart from ``_touched``, as a
    comprehension reading ``moved`` there made it a cell at its every call."""
    names, times = members.names, members.times
    keep = [m not in moved for m in names]
    names = (*compress(names, keep), *fresh)
    if len(names) > _PACKED:
        return _Large(chain(compress(members.items(), keep), zip(fresh, repeat(now))))
    if times.__class__ is float and not any(keep):
        return _Packed(names, float(now))
    return _Packed(names, _doubles(chain(compress(members.values(), keep),
                                         repeat(now, len(fresh)))))


def _excess(members: MemberSet, cutoff: float, cap: int) -> int:
    """How many of the oldest members a touch drops: those touched at or before ``cutoff``
    (times never decrease along a set), or more to bring the set down to ``cap``. O(1)
    while the oldest member is live (as each touch leaves it), else O(log n) for a packed
    set and O(dropped) for a large one (its loose tail sorted first if it may hold some:
    past the tail's first member, the scan reaches members in no order)."""
    if members.__class__ is _Large:
        if members.count and cutoff >= members.since:
            _settled(members)
        stale = 0
        for ts in members.values():
            if ts > cutoff:
                break
            stale += 1
        return max(stale, len(members) - cap)
    times, over = members.times, len(members.names) - cap  # type: ignore[union-attr]  # (a __class__ test)
    if times.__class__ is float:
        stale = len(members.names) if times <= cutoff else 0  # type: ignore[union-attr]  # (a __class__ test)
    elif _DOUBLE.unpack_from(times)[0] > cutoff:  # type: ignore[arg-type]  # (a __class__ test)
        stale = 0
    else:
        stale = bisect_right(_floats(times), cutoff)  # type: ignore[arg-type]  # (a __class__ test)
    return over if over > stale else stale


def _oldest(members: MemberSet) -> float:
    """The time of the oldest member of a non-empty set in order (``_settled``): the
    first one."""
    if isinstance(members, _Large):
        return next(iter(members.values()))
    times = members.times
    return times if isinstance(times, float) else _DOUBLE.unpack_from(times)[0]


_BY_AGE = itemgetter(1, 0)  # a (member, time) pair's place in a set: (time, name)


def _resorted(members: _Packed, fresh: list[str], now: float) -> MemberSet:
    """``_touched`` of a packed set when some member is as new as ``now`` or newer (several
    events at one time, or an event older than the last): only that newest tail, with the
    touched members, is put back in (time, name) order; all else is older and stays in
    place. O(n) as every change of a packed set is (n at most ``_PACKED``)."""
    tail: dict[str, float] = {}
    for member, ts in reversed(list(members.items())):
        if ts < now:
            break
        tail[member] = ts
    for member in fresh:
        tail[member] = max(tail.get(member, now), now)
    ordered = sorted(tail.items(), key=_BY_AGE)
    return _packed([*((m, t) for m, t in members.items() if m not in tail), *ordered])


def _loosened(members: _Large, fresh: list[str], now: float) -> _Large:
    """``_touched`` of a large set at or before its newest time: each member touched
    that is not as new as ``now`` already goes to the loose tail at ``now`` (O(log t)),
    the tail first opened at ``now`` if it is shut or later: the members of ``now`` or
    later, the last ones (O(t): an event older than the last, as ``_resorted``)."""
    if not members.count or now < members.since:
        _settled(members)
        tail = []
        for member, ts in reversed(members.items()):
            if ts < now:
                break
            tail.append((ts, member))
        heapify(tail)
        members.loose, members.count, members.since = tail, len(tail), now
        members.newest = next(reversed(members.values()), now)
    loose, since = members.loose, members.since
    for member in fresh:
        was = members.get(member)
        if was is None:
            members.count += 1
        elif was >= now:
            continue  # a time only moves forward: its place stays
        else:  # to the end; of the tail already, its entry stays behind in the heap, stale
            del members[member]
            if was < since:
                members.count += 1
        members[member] = now
        heappush(loose, (now, member))
    if len(loose) > 2 * members.count + _STALE_ENTRIES:
        members.loose = loose = [e for e in loose if members.get(e[1]) == e[0]]
        heapify(loose)
    return members


_STALE_ENTRIES = 64  # a loose tail's heap is rid of its stale entries past twice the tail + this


def _settled(members: MemberSet) -> MemberSet:
    """``members`` in (time, name) order throughout, as a reader of the order sees it: a
    large set's loose tail sorted and put back at the end, where it is (O(t log t), once
    for all the touches that made it)."""
    if members.__class__ is _Large and members.count:
        tail = sorted(islice(reversed(members.items()), members.count), key=_BY_AGE)
        for member, _ in tail:
            del members[member]
        members.update(tail)
        members.loose, members.count = [], 0
    return members


def _oldest_dropped(members: _Large, drop: int) -> list[str]:
    """Drop the ``drop`` oldest of a large set with a loose tail, and say which, oldest
    first: from its ordered members, then from the tail's heap (O(log t) each)."""
    ordered = len(members) - members.count
    stale = list(islice(members, drop if drop < ordered else ordered))
    for member in stale:
        del members[member]
    if ordered < drop:
        loose = members.loose
        while len(stale) < drop:
            ts, member = heappop(loose)
            if members.get(member) == ts:  # else stale: touched again since, at a later time
                del members[member]
                stale.append(member)
        members.count -= drop - ordered
        if not members.count:
            members.loose = []
    return stale


def _without(members: MemberSet, gone: Iterable[str]) -> MemberSet:
    """``members`` less ``gone`` (a large set's loose tail sorted first: rare writes, a
    Remove or a sweep, need not keep it)."""
    if isinstance(members, _Large):
        if members.count:
            _settled(members)
        for member in gone:
            members.pop(member, None)
        return members
    drop = set(gone)
    return _packed([(m, t) for m, t in members.items() if m not in drop])


class _Account(sided.Record):
    """An account's keys in one object: its sided record (``ties:<id>``: names, times,
    index) and the values and hashed sets lodged in it (``ops.lodged_keyspace``: its
    account record, takeover record and contact list), each answering as a key of its own.

    Why: a key of its own costs, before its data, its name as a string (~64-80 bytes), its
    slot in its table (~26-58) and its value's object (a bytes' header is 33 bytes, and
    the allocator rounds each object up to 16); an account's four keys cost ~600 bytes so
    (``benchmarks/memory.py``). Here they cost one name, one slot, this object (64 bytes
    with its GC header) and one bytes object (``held``) for its times and every lodged
    item: ~1 byte of framing and 1-2 of length an item (4 until session 37) where a bytes
    object of its own and a tuple's slot cost ~50.

    ``held`` (``sided.Record``'s): the record's times (``sided.py``'s held layout), ``end``
    bytes, then what ``lodged`` reads: the framing byte (the number of slots, and the width
    of their lengths: ``_framed``), each slot's item's length (a native unsigned number of
    that width, 0 for no item: a stamped value is 8 bytes at least, a hashed set 10), then
    the items, slot after slot (``_slot``): a value as
    ``_stamped``, a hashed set as its packed value; then the sessions' records
    (``guest``). Empty while the account holds nothing. Why one bytes object, not the
    times and the lodged items apart: each bytes object costs a 33-byte header and the
    allocator's rounding to 16 (~8), −40 bytes an account (session 36, ``mem36``). Why
    the times' length is ``Record.end`` (a slot) and not a byte before them (``mem36``'s
    layout): sided's readers read the times in place from 0 to ``end``, with no call and
    no copy, where ``mem36``'s ``times`` property cost a call and a copy a read and a
    touch rebuilt the whole (+1.2 % instructions an event); and a length below 257 is one
    of the interpreter's shared ints, so the slot costs nothing and the byte is saved
    (one of more costs a 32-byte int: the few accounts of more than ~15 ties). ``times``
    and ``lodged`` are copies (for the rare readers and the tests); the hot reads of an
    item (``MemoryState._lodged``) read ``held`` in place. ``times`` is empty while the
    account has no sided record (only lodged items): the record itself
    (``sided_record``) is then None, as is an item with no key.

    What it costs in time: a key is tested by prefix (a ``startswith`` costs ~600
    instructions in 3.11) once while its kind is remembered (``MemoryState._kind_of``),
    a lodged one's place looked up and the lengths unpacked, where a key of its own is one
    dict look-up. A key beside a lodged prefix (``tk:to:`` under ``tk:``) is told apart
    by prefix too (``lodged_prefixes``).

    ``id``: the string its table holds it by, which every other record naming the account
    holds too (``_Names``): the store finds an account's one string by its record, where
    ``sys.intern``'s table held a second slot for it (38 bytes an account at 100,000, in
    no row: session 38). Its slot is the one ``sided.Record`` gave up for the index it
    nearly never has (``sided._Named``): the object 64 bytes, where this slot beside the
    index's made it 80 (``slot38``)."""

    __slots__ = ("id",)

    def __init__(self, name: str) -> None:
        self.names, self.held, self.end, self.id = (), b"", 0, name

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as its id, names, bytes and times' length (its index made again)."""
        return _account, (self.id, tuple(self.names), self.held, self.end)

    @property
    def lodged(self) -> bytes:
        """The lodged items and sessions' records (``held`` past the times), a copy."""
        return self.held[self.end:]

    @lodged.setter
    def lodged(self, lodged: bytes) -> None:
        self.held = self.held[:self.end] + lodged

    def _guests_at(self) -> int:
        """Where the guests start in ``held``: past its times and items (its end, for none).
        (The guests' walks read it in place, not ``lodged``'s copy.)"""
        blob, at = self.held, self.end
        if at == len(blob):
            return at
        framing = _LENGTHS[blob[at]]
        return at + 1 + framing.size + sum(framing.unpack_from(blob, at + 1))

    @property
    def guests(self) -> bytes:
        """The guests' bytes (``guest``), a copy: what of ``lodged`` follows its items."""
        return self.held[self._guests_at():]

    def holds_guest(self, held: bytes) -> bool:
        """Whether a guest's bytes are ``held`` (a guest's whole bytes, ``guest_held``),
        compared where each guest starts, walked by their lengths (no copy). Never a
        search: ``held`` starts with its lengths and name, so only the guest of that name
        and length can start with it, whatever bytes a crafted name or record holds."""
        blob, at = self.held, self._guests_at()
        while at < len(blob):
            if blob.startswith(held, at):
                return True
            at += _GUEST.size + sum(_GUEST.unpack_from(blob, at))
        return False

    def guest_held(self, name: bytes) -> bytes | None:
        """The guest ``name``'s bytes as lodged (its lengths, name, names and times), a
        copy, or None."""
        found = self._guest_at(name)
        return None if found is None else self.held[
            found[0]:found[0] + _GUEST.size + sum(found[1])]

    def guest(self, name: bytes) -> sided.Record | None:
        """The sided record lodged as the guest ``name`` (``ops.guest_keyspace``), or None.

        The guests are the tail of ``lodged``, after its items: each guest's name's
        length, its names' length and its times' length (``_GUEST``), then the name
        (UTF-8), its names (``_guest_names``: places among the account's names, or spelt
        out) and its times (the held layout), guest after guest. Why bytes and not
        objects: a session's record as a key of its own cost its key's string (~80
        bytes), slot (~30), object (64), names' tuple and times' bytes headers (~90) beside
        its data (~200); here it costs its
        session's name and 6 bytes of lengths (12 until session 31). Why in ``lodged`` and
        not a bytes object of its own: that cost every account a slot of its object (16
        bytes: 80 where 64) and each account with guests a bytes' header and rounding
        (~40), session 26. A read decodes the record (its names interned, so the same
        strings as everywhere); a touch writes ``lodged`` back whole."""
        held = self.guest_held(name)
        return None if held is None else _guest_record(held, self.names)

    def _guest_at(self, name: bytes) -> tuple[int, tuple[int, int, int]] | None:
        """Where the guest ``name`` starts in ``held``, with its three lengths."""
        found = self._find_guest(name)
        return None if isinstance(found, int) else found

    def _find_guest(self, name: bytes) -> tuple[int, tuple[int, int, int]] | int:
        """Where the guest ``name`` starts in ``held``, with its three lengths, or, if
        it is not lodged, how many guests are: one walk answers both, where a new guest
        (a pitch an intruder mints a message: ``keys.text``) walked them for each."""
        blob, at, count = self.held, self._guests_at(), 0
        while at < len(blob):
            lengths = _GUEST.unpack_from(blob, at)
            if blob[at + _GUEST.size:at + _GUEST.size + lengths[0]] == name:
                return at, lengths
            at += _GUEST.size + sum(lengths)
            count += 1
        return count

    def hold_guest(self, name: bytes, record: sided.Record | None, same_names: bool = False
                   ) -> bytes | None:
        """Hold ``record`` as the guest ``name`` (None: drop it), in its place if it was
        there (so guests keep the order first lodged), else after the others if they are
        fewer than ``_LODGED_GUESTS``; None if not, or if it would take more than
        ``_GUEST_BYTES`` (then no longer lodged: the record is the caller's to keep as a
        record of its own), so no account ever lodges more. Else the guest's bytes as now
        lodged (``guest_held``'s; empty for none: dropped, or a record of no times): the
        touch that wrote them keeps them for its reads (``MemoryState._lodged_guest``),
        where asking ``guest_held`` after walked the guests again and copied them
        (``pitch37``). ``same_names``: the record's names are those of the guest lodged
        (a touch that named no one new): their bytes are kept, not placed again (a name's
        place looked up costs ~700 instructions)."""
        place = self._find_guest(name)
        found, count = (None, place) if isinstance(place, int) else (place, 0)
        if found is None and (record is None or not record.end):
            return b""  # nothing to drop: the bytes, and the reads cached on them, stay
        blob, at = self.held, self.end
        if at == len(blob):  # no items: a count of none before the guests
            blob += b"\0"
        held = b""
        if record is not None and record.end:
            if found is None and count >= _LODGED_GUESTS:
                return None
            names, times = record.names, record.times  # (a property: once)
            # Spelt out, the names take at most 4 bytes a character and a NUL each.
            if found is not None and same_names and (
                    _GUEST.size + len(name) + 4 * sum(map(len, names)) + len(names)
                    + len(times) <= _GUEST_BYTES):
                start = found[0] + _GUEST.size + found[1][0]
                placed = blob[start:start + found[1][1]]
            else:
                made = _guest_names(names, self)
                if made is None or (_GUEST.size + len(name) + made[1] + len(times)
                                    > _GUEST_BYTES):
                    self.hold_guest(name, None)
                    return None
                placed = made[0]
            held = _guest_bytes(name, placed, times)
        start, end = (len(blob), len(blob)) if found is None else (
            found[0], found[0] + _GUEST.size + sum(found[1]))
        blob = b"".join((blob[:start], held, blob[end:]))
        if blob[at:] == b"\0":  # no item and no guest left: no count
            blob = blob[:at]
        self.held = blob
        return held

    def guest_items(self) -> list[tuple[bytes, sided.Record]]:
        """The guests lodged, each its name and record, in the order first lodged."""
        blob, at, found = self.held, self._guests_at(), []
        while at < len(blob):
            size, names, times = _GUEST.unpack_from(blob, at)
            at += _GUEST.size + size
            found.append((blob[at - size:at], sided.Record(
                _guest_names_read(blob[at:at + names], self.names),
                blob[at + names:at + names + times])))
            at += names + times
        return found

    def hold(self, names: tuple[str, ...], times: bytes) -> None:
        """``sided.Record.hold``, its guests' names placed among the new names
        (``replaced``). A touch in place (``sided.touched_sides``) changes the names with
        no call of this: its caller places them after it, once (``MemoryState._touch_held``)."""
        old = self.names
        sided.Record.hold(self, names, times)
        self.replaced(old)

    def replaced(self, old: tuple[str, ...]) -> None:
        """The guests' names, placed among the names ``old`` (``_guest_names``), placed
        among today's, where the names changed other than by names added at their end (a
        touch's cap or TTL drop, a sweep; names added keep every place): the one test of
        both callers (``hold``, ``MemoryState._touch_held``). Each guest's bytes stay
        within ``_GUEST_BYTES``, which bounds its names spelt out."""
        if self.names is old or self.names[:len(old)] == old:
            return
        blob, at = self.held, self._guests_at()
        if at == len(blob):
            return
        guests = [blob[:at]]
        while at < len(blob):
            size, names, times = _GUEST.unpack_from(blob, at)
            start = at + _GUEST.size
            placed = _guest_names(_guest_names_read(blob[start + size:start + size + names],
                                                    old), self)
            assert placed is not None, "a lodged guest's names hold no NUL"
            guests.append(_guest_bytes(blob[start:start + size], placed[0],
                                       blob[start + size + names:start + size + names + times]))
            at = start + size + names + times
        self.held = b"".join(guests)

    def items(self) -> list[bytes | None]:
        """Every slot's item, None where there is none."""
        blob, at = self.held, self.end
        if at == len(blob):
            return []
        framing = _LENGTHS[blob[at]]
        lengths = framing.unpack_from(blob, at + 1)
        items: list[bytes | None] = []
        start = at + 1 + framing.size
        for length in lengths:
            items.append(blob[start:start + length] if length else None)
            start += length
        return items

    def put(self, slot: int, item: bytes | None) -> None:
        blob, at = self.held, self.end
        if item is not None and at < len(blob) and slot < blob[at] & _COUNT:
            # The common put, of an item over one there (or an empty slot) before the
            # last: its bytes spliced in the blob, no list of every item made and joined
            # (the lengths framed anew: the item's may change their width).
            framing = _LENGTHS[blob[at]]
            lengths = framing.unpack_from(blob, at + 1)
            start = at + 1 + framing.size + sum(lengths[:slot])
            self.held = b"".join((
                blob[:at], _framed((*lengths[:slot], len(item), *lengths[slot + 1:])),
                blob[at + 1 + framing.size:start], item, blob[start + lengths[slot]:]))
            return
        items = self.items()
        items += [None] * (slot + 1 - len(items))
        items[slot] = item
        self.hold_items(items)

    def hold_items(self, items: list[bytes | None]) -> None:
        """Hold these items, the guests after them as they were."""
        while items and items[-1] is None:
            items.pop()
        held = [item or b"" for item in items]
        guests = self.guests
        self.lodged = (_framed([len(item) for item in held]) + b"".join(held) + guests
                       if held or guests else b"")

    def empty(self) -> bool:
        """Whether it holds nothing: no sided record, no lodged item, no guest."""
        return not self.held


# Lodged keyspaces' places in ``_Account.lodged``, by field and kind, made as each is
# first used (a field names one keyspace of its host: ``ops.lodged_keyspace``), and the
# places of hashed sets (the rest are values).
_SLOTS: dict[tuple[str, bool], int] = {}
_HASHED_SLOTS: set[int] = set()
# A lodged blob's framing byte: its count of slots in the low six bits, and in the top
# two the width of each slot's item's length (``_framed``): 1 byte (0), 2 (64) or 4 (128).
_COUNT = 63
_MOST_SLOTS = _COUNT
_WIDTHS = ((0, "B"), (64, "H"), (128, "I"))
# The lengths' formats, by the framing byte: three more as each slot is made (``_slot``), so
# a process compiles no format it never uses (all 255 cost ~13 million instructions).
_LENGTHS = [struct.Struct("0B")] * (_WIDTHS[-1][0] + _COUNT + 1)


def _framed(lengths: Sequence[int]) -> bytes:
    """A lodged blob's framing byte and its items' lengths, in the narrowest width that
    holds the longest. Why not 4 bytes each, as until session 37: an item is ~30-230 bytes
    (84 % of the quiet load's accounts hold none past 255, and a contact list passes 64 KiB
    only past ~5,000 contacts), so 4 bytes each spent 9 bytes an account of three items
    on zeros; one or two cost 3-6."""
    most = max(lengths, default=0)
    code = len(lengths) | (0 if most < 256 else 64 if most < 65_536 else 128)
    return bytes((code,)) + _LENGTHS[code].pack(*lengths)


def _account(name: str, names: tuple[str, ...], held: bytes, end: int) -> _Account:
    """An account's object from its id, names, bytes and times' length (``__reduce__``)."""
    account = _Account(name)
    account.held, account.end = held, end
    # Its index made as a touch would; its guests' names placed among these already.
    sided.Record.hold(account, names, account.times)
    return account
# A guest's name's, names' and times' lengths (``_Account``): two bytes each, as a lodged
# guest takes at most ``_GUEST_BYTES`` (where four bytes each cost ~5 bytes an account).
_GUEST = struct.Struct("<HHH")
# Guests an account lodges at most (``_Account.hold_guest``): one more is a record of its
# own, as a guest past ``LODGED_NAMES`` is. Why: lodged guests are scanned and rewritten
# whole at each touch of one, and whoever logs in to an account chooses how many sessions
# it has: 1,000 cost 258 ms a thousand touches where one cost 9 (session 20's review). An
# account has a session or two (its takeover record names at most ``max_sessions``, 8).
_LODGED_GUESTS = 8
# Bytes a lodged guest takes at most (its lengths, name, names and times); a larger one
# is a record of its own, as one of more than ``LODGED_NAMES`` names is. Why: the guests
# are copied with the account's lodged items at each put of one (a takeover record's, at
# every message of the account), and whoever logs in chooses a session's id and its
# correspondents' (512 characters each): 8 guests of 32 such names were ~0.5 MB copied
# a few times a message (session 26). 2,048 holds 32 names of ~45 bytes; the quiet
# load's guests take ~190.
_GUEST_BYTES = 2_048
# Keys whose place a store remembers (``MemoryState._place``), and session records whose
# decoding it remembers (``MemoryState._lodged_guest``).
_PLACES_KEPT = 4_096
# Lodged hashed sets whose decodings a store remembers by key (``MemoryState._set_read``),
# and the bytes of their sets and digests at most (cleared whole past either, as
# ``hashed._decoded``): ~0.7 KB a contact list of 55 (its bytes, the array, the entry),
# ~3 MB at most; full lists (10,000: ~15 KB and a 40 KB array) are held ~75 at most.
_SETS_KEPT = 4_096
_SETS_BYTES = 4 << 20
# What a key may be, by its prefixes (``MemoryState._kind_of``): bits.
_LODGES, _SIDED, _HASHED = 1, 2, 4
# The tables a key may be held in, bits (``MemoryState.forget``): a durable store's held
# copy names with them what it holds of a key (``sqlite.SQLiteState._held``).
COUNTER, MEMBER_SET, VALUE, HASHED_SET, SIDED_RECORD = 1, 2, 4, 8, 16
EVERY_TABLE = COUNTER | MEMBER_SET | VALUE | HASHED_SET | SIDED_RECORD
# Keys whose kind a store remembers: on the mixed load (150 users, a day) a message asks
# and writes ~40 keys of ~7,600 in all, and 4,096 remembered answer 91 % of them.
_KINDS_KEPT = 4_096


def _slot(field: str, is_set: bool) -> int:
    slot = _SLOTS.get((field, is_set))
    if slot is None:
        if len(_SLOTS) == _MOST_SLOTS:
            raise ValueError("more lodged keyspaces than an account's object counts")
        slot = _SLOTS[field, is_set] = len(_SLOTS)
        for code, width in _WIDTHS:
            _LENGTHS[code + slot + 1] = struct.Struct(f"{slot + 1}{width}")
        if is_set:
            _HASHED_SLOTS.add(slot)
    return slot


def _live(slot: int, item: bytes, now: float) -> bool:
    """Whether a lodged item is live at ``now`` (what a sweep keeps)."""
    if slot in _HASHED_SLOTS:
        return hashed.live(item, now)
    return _DOUBLE.unpack_from(item)[0] > now


def _stamped(stored: bytes, expiry: float) -> bytes:
    """A value as the store holds it: its expiry, then its stored form (``encode_value``)."""
    return _DOUBLE.pack(expiry) + stored


def pack_counter(buckets: dict[int, float]) -> bytes:
    """A counter's buckets, in the order they were first counted, as packed doubles
    (bucket numbers are far below 2**53: exact): how the memory holds a counter, and
    SQLite's ``counts`` row keeps it."""
    return _doubles(chain.from_iterable(buckets.items()))


def unpack_counter(packed: bytes) -> dict[int, float]:
    """A counter's buckets as ``pack_counter`` packed them."""
    flat = _floats(packed)
    return {int(b): n for b, n in zip(flat[::2], flat[1::2], strict=True)}



class _Names:
    """The names a store holds (member names: account ids, mostly), each one string however
    many records name it, found without ``sys.intern``: an account's id by its record
    (``accounts``, the accounts' home's records: ``_Account.id``), any other name in
    ``loose``. Why not ``sys.intern``: its table held a slot an account id (38.4 bytes an
    account at 100,000, where the records' table already had one for the same string,
    session 37's census); here the records' table is the one, and ``loose`` holds only the
    names no account holds (a correspondent never tracked, an id whose account was swept).

    A name moves between the two: an account made takes its id from ``loose`` (the string
    the records naming it hold), an account dropped puts its id back (others may name it:
    ``released``). Where ``sys.intern`` dropped a name with its last holder, ``loose``
    lets go of the names nothing else holds a few at a time (``_check``): once it holds
    ``prune_at`` names, each name it takes in from then on checks ``_CHECKED_EACH`` of
    those it held then (``checking``), and when all are checked ``prune_at`` is twice what
    is left (``_LOOSE_LEAST`` at least). So a name costs O(1), no call walks the table
    (a prune of 500,000 names in one call took 417 ms, a stalled batch), and ``loose``
    holds at most ~3 times the names still named, ``_LOOSE_LEAST`` more."""

    __slots__ = ("accounts", "checking", "loose", "prune_at")

    def __init__(self) -> None:
        self.accounts: dict[str, _Account] = {}
        self.loose: dict[str, str] = {}
        self.checking: list[str] = []
        self.prune_at = _LOOSE_LEAST

    def held(self, name: str) -> str:
        """The store's string equal to ``name`` (``name`` itself if it holds none yet).
        (The hot touches test ``accounts`` inline first: ``MemoryState._fresh``.)"""
        account = self.accounts.get(name)
        if account is not None:
            return account.id
        held = self.loose.setdefault(name, name)
        if held is name:  # taken in (or the store's own string, asked again)
            self._check(_CHECKED_EACH)
        return held

    def adopted(self, name: str) -> str:
        """The id of an account made at ``name``: the string the records naming it hold,
        taken out of ``loose``."""
        return self.loose.pop(name, name)

    def released(self, account: _Account) -> None:
        """``account``'s record dropped from ``accounts``: its id back in ``loose``."""
        self.held(account.id)

    def _check(self, count: int) -> None:
        """Check ``count`` more of the names ``checking`` holds (those of ``loose`` when it
        reached ``prune_at``: a list of them taken then, ~1 ms a 100,000), dropping from
        ``loose`` those nothing else holds: a reference as its key, one as its value, the
        variable it was popped into and ``getrefcount``'s argument (``_ONLY_LOOSE``;
        CPython's counting, checked by ``tests/test_intern38.py``). A name an account
        took since (no longer in ``loose``, or another string there) is left alone."""
        checking, loose = self.checking, self.loose
        if not checking:
            if len(loose) < self.prune_at:
                return
            checking = self.checking = list(loose)
        for _ in range(count if count < len(checking) else len(checking)):
            name = checking.pop()
            if sys.getrefcount(name) <= _ONLY_LOOSE and loose.get(name) is name:
                del loose[name]
        if not checking:
            self.prune_at = max(2 * len(loose), _LOOSE_LEAST)


# ``_Names.loose`` starts checking its names when it holds this many, or twice what its
# last check left: a table this small is not worth checking.
_LOOSE_LEAST = 1_024
# Names of ``_Names.checking`` checked at each name ``loose`` takes in: 2, so all are
# checked before ``loose`` has taken in half as many again.
_CHECKED_EACH = 2
_ONLY_LOOSE = 4  # ``sys.getrefcount`` of a name ``_Names.loose`` alone holds (``_check``)


class _Home(NamedTuple):
    """Where a sided keyspace's records are held: by id, the key less the keyspace's
    prefix; for accounts' records, the store's one string of that id (``add``,
    ``_Names``). Why: an account's id is the member name of the other accounts' ties,
    so its record's key is that same string, where ``ties:<id>`` was a string of its own
    (~64 bytes an account with these short ids, ~80 with a real ``@name:server``). For a
    side (``MemoryState._side``): its index; its keyspace's sides' declared TTLs."""

    prefix: str
    cut: int  # len(prefix)
    records: dict[str, _Account]
    # The store's names, for accounts' records (a host of lodged keyspaces); None for
    # other keyspaces. Its ``accounts`` are one hosts' keyspace's ``records``: another's
    # (none is declared but in tests) holds its ids as the names no account holds.
    names: _Names | None
    index: int = 0  # type: ignore[assignment]  # a field, shadowing tuple.index by design
    ttls: tuple[float, ...] = ()  # its sides' (``ops.Sided.ttls``): ``sided.py``'s heads
    # A guest keyspace's (``ops.guest_keyspace``): its hosts' home, where its records are
    # lodged (a record of a key with no ":" past the prefix is held here, as a key's own).
    hosts: _Home | None = None

    def add(self, name: str) -> _Account:
        """A new record at ``name``."""
        if self.names is not None:
            name = (self.names.adopted(name) if self.records is self.names.accounts
                    else self.names.held(name))
        host = self.records[name] = _Account(name)
        return host

    def drop(self, name: str) -> None:
        """Drop the record at ``name`` (an account's id back in the store's names)."""
        host = self.records.pop(name)
        if self.names is not None and self.records is self.names.accounts:
            self.names.released(host)


def _guest(home: _Home, key: str) -> tuple[_Home, str, bytes] | None:
    """Where the record at ``key`` of a guest keyspace's ``home`` is lodged: its hosts'
    home, its host's id and its name there (``ops.guest_of``'s split); None if held as a
    key of its own."""
    at = key.rfind(":", home.cut)
    if home.hosts is None or at < 0:
        return None
    return home.hosts, key[home.cut:at], key[at + 1:].encode("utf-8", "surrogatepass")


class _Lodging(NamedTuple):
    """Where the items of one lodged keyspace's keys are (``MemoryState._lodging``): a
    key's id is what follows the keyspace's prefix, its host the record of that id in
    ``home``, its item the one at ``slot`` there; ``is_set``: hashed sets, not values."""

    home: _Home
    cut: int  # the keyspace's prefix's length
    slot: int
    is_set: bool


# No sided touch held (``MemoryState._touch``): a home of no keyspace, a key of none.
_UNTOUCHED: tuple[_Home, str, float] = (_Home("", 0, {}, None), "", 0.0)
_NAMED = sided._Named  # a large record's names (``_touch_held``: the small way's test)


def _guest_record(held: bytes, host: Sequence[str]) -> sided.Record:
    """The record of a guest's bytes as lodged in the account of names ``host``
    (``_Account.guest``)."""
    size, names, times = _GUEST.unpack_from(held)
    at = _GUEST.size + size
    return sided.Record(_guest_names_read(held[at:at + names], host),
                        held[at + names:at + names + times])


def _guest_bytes(name: bytes, names: bytes, times: bytes) -> bytes:
    """A lodged guest's bytes: its lengths, its name, its names and its times."""
    return b"".join((_GUEST.pack(len(name), len(names), len(times)), name, names, times))


def _guest_names(names: Sequence[str], host: sided.Record) -> tuple[bytes, int] | None:
    """A lodged guest's names as held in ``host`` (its account), and the bytes they take
    spelt out (what bounds the guest: ``_GUEST_BYTES``); None if a name holds a NUL (that
    record is then one of its own, as one too large is).

    A name among the host's first ``_FAR`` names is its place there: one byte
    (``_NEAR`` + place) for the first ``_NEAR_PLACES``, two (``_FAR_BYTE``, place) for
    the rest; any other is its UTF-8 (surrogatepass, as ``sided.encode_names``) and a NUL
    after it. No name's UTF-8 starts with those bytes (none holds 0xC0 or 0xF5-0xFF), so
    each name's first byte says which it is. Why places: a session's correspondents are
    its account's (every one of the quiet load's 1.5 sessions' records an account names
    its account's ties), whose names the account holds already; spelt out they were ~37
    of the guests' ~110 bytes an account, ~8 a name (longer with real ids, ~20), where a
    place is one (session 39, ``resident39``). Why NUL-ended, not ``encode_names``' 4-byte
    lengths: a guest's names are ~5 of ~5 bytes, so lengths were 20 of ~45 bytes of names
    (session 31). Held in this process only (SQLite's rows and Redis keep their own
    forms): a host whose names change other than at their end re-places them
    (``_Account.hold``)."""
    held, spelt = bytearray(), 0
    position = host.position
    for name in names:
        raw = name.encode("utf-8", "surrogatepass")
        if b"\0" in raw:
            return None
        spelt += len(raw) + 1
        at = position(name)
        if 0 <= at < _NEAR_PLACES:
            held.append(_NEAR + at)
        elif 0 <= at < _FAR:
            held += bytes((_FAR_BYTE, at))
        else:
            held += raw + b"\0"
    return bytes(held), spelt


def _guest_names_read(blob: bytes, host: Sequence[str]) -> tuple[str, ...]:
    """``_guest_names``' names back, from their account's names ``host``: a place is the
    host's string, a name spelt out a copy of its own (a decoded guest is read, or touched
    and encoded again; one that leaves its host for a record of its own takes the store's
    strings then: ``_touch_guest``). Names all placed near (nearly every guest) are read
    with no loop in Python past the tuple's."""
    if not blob.translate(None, _NEAR_BYTES):
        return tuple([host[code - _NEAR] for code in blob])
    names: list[str] = []
    at, end = 0, len(blob)
    while at < end:
        code = blob[at]
        if code >= _NEAR:
            names.append(host[code - _NEAR])
            at += 1
        elif code == _FAR_BYTE:
            names.append(host[blob[at + 1]])
            at += 2
        else:
            stop = blob.index(0, at)
            names.append(blob[at:stop].decode("utf-8", "surrogatepass"))
            at = stop + 1
    return tuple(names)


# A lodged guest's name held as its place among its account's names (``_guest_names``):
# bytes no UTF-8 holds, 0xF5-0xFF for the first eleven places, 0xC0 and a byte for the
# rest of the first 256.
_NEAR = 0xF5
_NEAR_PLACES = 256 - _NEAR
_NEAR_BYTES = bytes(range(_NEAR, 256))
_FAR_BYTE = 0xC0
_FAR = 256


def _swept_guests(host: _Account, now: float, ttls: tuple[float, ...]) -> int:
    """``_swept`` of the records lodged in ``host`` (their keyspace's sides' declared TTLs
    ``ttls``): the records dropped counted."""
    dropped = 0
    for name, record in host.guest_items():
        left = sided.swept(record, now, ttls)
        if left is None:
            host.hold_guest(name, None)
            dropped += 1
        elif left != record:
            host.hold_guest(name, left)
    return dropped


def _account_prefixes() -> set[str]:
    """The sided prefixes of accounts' records: the hosts of lodged keyspaces."""
    hosts = (lodging(prefix + "_") for prefix in lodged_prefixes()[0])
    return {host[0][:-1] for host in hosts if host is not None}


def _guest_ttls(prefix: str) -> tuple[float, ...]:
    """The sides' declared TTLs of the guest keyspace whose records lodge in those at
    ``prefix`` (``ops.guest_keyspace``; () for none)."""
    return next((sided_space(guest).ttls for guest, host in guest_prefixes().items()
                 if host == prefix), ())


def _swept(home: _Home, names: Iterable[str], now: float) -> int:
    """``MemoryState.sweep`` of one sided keyspace's records at ``names`` (those gone since
    skipped): what reads take as gone dropped, each lodged item past its expiry too; the
    keys dropped counted."""
    dropped, records, guests = 0, home.records, _guest_ttls(home.prefix)
    for key in names:
        host = records.get(key)
        if host is None:
            continue
        if host.end:  # a sided record (times of some length)
            left = sided.swept(host, now, home.ttls)
            if left is None:
                host.hold((), b"")
                dropped += 1
            elif left != host:
                host.hold(left.names, left.times)
        items = host.items()
        if any(item is not None and not _live(slot, item, now)
               for slot, item in enumerate(items)):
            host.hold_items([item if item is not None and _live(slot, item, now)
                             else None for slot, item in enumerate(items)])
            dropped += 1
        if host.guests:
            dropped += _swept_guests(host, now, guests)
        if host.empty():
            home.drop(key)
    return dropped


class _Lap(NamedTuple):
    """Keys a sweep goes through, by table: those of a lap's start (``sweep_part``) or
    every key held (``sweep``); a sided keyspace's record ids with its home."""

    counters: list[str]
    members: list[str]
    values: list[str]
    hashed: list[str]
    homes: list[tuple[_Home, list[str]]]


def _part(keys: list[str], part: int) -> list[str]:
    """The ``part``-th of ``SWEEP_PARTS`` slices of ``keys``."""
    return keys[len(keys) * part // SWEEP_PARTS:len(keys) * (part + 1) // SWEEP_PARTS]


class MemoryState:
    def __init__(self, hash_key: bytes | None = None) -> None:
        """``hash_key``: the key of the store this holds keys for (``hashed.py``); a store
        of its own has a key of its own."""
        # key -> (bucket, count) pairs packed (``pack_counter``), expiry
        self._counters: dict[str, tuple[bytes, float]] = {}
        self._members: dict[str, _Held | _LargeEntry] = {}
        # Each table holds keys of their own; a lodged key's item is in its host, an
        # ``_Account`` in its home's records (``_place``).
        self._hashed: dict[str, bytes] = {}  # key -> the hashed set's packed value
        # A sided keyspace's prefix -> its home: its records by id, the key less the
        # prefix (``_Home``).
        self._homes: dict[str, _Home] = {}
        self._sides: dict[str, _Home] = {}  # a side's name -> its keyspace's home, with it
        # The names held (``_Names``), and its accounts' records: the one-name touches
        # (``_fresh``) find an account's id there inline. They are the records of the first
        # hosts' keyspace whose home is made (``_home_of``; ``ties:``, the one declared).
        self._names = _Names()
        self._ids = self._names.accounts
        self._accounts_prefix: str | None = None
        # Declared at import, before a store opens.
        self._lodged_prefixes, self._unlodged = lodged_prefixes()
        # The lodged keyspaces, in the order ``ops.lodging`` tries them (``_found``): each
        # one's prefix, those of its ``besides`` that a key ``_lodges`` may start with (none
        # but one another lodged keyspace's keys may start with too), and where its keys'
        # items are (``_lodging``, made at its first key): as many as keyspaces, whatever
        # the number of keys.
        self._spaces: tuple[tuple[str, tuple[str, ...], _Lodging | None], ...] = tuple(
            (prefix, tuple(p for p in place.besides if p not in self._unlodged), None)
            for prefix, place in lodged_keyspaces())
        self._places: dict[str, tuple[_Home, str, int, bool] | None] = {}  # (``_place``)
        # Lodged hashed sets' decodings by key (``_set_read``): the host's home's records,
        # its id, its lodged framing, the set's place after the times and its bytes, the
        # decoding (no host held: one let go is not kept alive); and the bytes they keep
        # (bounded by ``_SETS_KEPT``, ``_SETS_BYTES``).
        self._sets_read: dict[str, tuple[dict[str, _Account], str, bytes, int, bytes,
                                         hashed.Decoded]] = {}
        self._sets_bytes = 0
        self._kinds: dict[str, int] = {}  # key -> its kind's bits (``_kind_of``)
        # Guests decoded (``_lodged_guest``), by their host's id and name: the guest's bytes
        # they were decoded from (``_Account.guest_held``), and the record.
        self._guests_read: dict[tuple[str, bytes], tuple[bytes, sided.Record]] = {}
        self._prefixes: list[str] = []  # the sided prefixes, longest first (``_home``)
        self._hasher = hashed.Hasher(hash_key or hashed.new_key())
        self._known = self._hasher.known  # names' digests remembered (``_contains``)
        self._values: dict[str, bytes] = {}  # key -> the value ``_stamped``
        self._lap: _Lap | None = None  # the keys the sweep's lap in parts goes through
        self._lap_part = 0  # the part of it to sweep next
        self._since_pass = 0  # events judged since the last maintenance pass, at the last part
        # Members let go by a cap or a sweep, (key, member), for the durable store this
        # holds keys for to drop too (``trimmed``); None when nothing below keeps a copy.
        self.trimmed: list[tuple[str, str]] | None = None
        # One read's decoded values with their stored bytes (kept alive, so their ids
        # name them through the read), by the bytes' id: a value put under several keys at
        # once (a bulk cluster's id under each of its bands) is decoded once per read, and its
        # answers are one object.
        self._decoded: dict[int, tuple[bytes, Any]] = {}
        self._asked = _NOT_ASKED  # (``_contains``, ``_last_touch``: one read's)
        # One write call's held values, by the id of the value put and its TTL (``_put``).
        self._encoded: dict[tuple[int, float], bytes] = {}
        # The sided record whose touches are held (``_touch``): its home, key and time,
        # and the touches, each a ``sided.Part``.
        self._touching: tuple[_Home, str, float] = _UNTOUCHED
        self._parts: list[sided.Part] = []

    # -- reads -----------------------------------------------------------------------
    # A message asks ~33 questions (reads were ~15 % of the engine's CPU on the mixed
    # load), so each answer reads the stored form directly: no tuple built to hand a set
    # and its cutoff around, no generator per answer, times unpacked only when they differ.

    def read(self, queries: Sequence[Query], now: float) -> list[Any]:
        """Answers in order. Like every backend's, they are the caller's to read, not to
        change: two keys holding one stored value may answer with the same object."""
        answer, answers = self._answers, []
        self._decoded.clear()
        self._asked = _NOT_ASKED
        for q in queries:  # (a loop: a comprehension is a function of three cells a call)
            answers.append(answer[q.__class__](self, q, now))
        return answers

    def _count(self, query: Count, now: float) -> float:
        entry = self._counters.get(query.key)
        if entry is None or entry[1] <= now:
            return 0.0
        first, last = bucket_range(query, now)
        packed = entry[0]
        if len(packed) == _PAIR.size:  # one bucket (~3 in 4 counters): no loop
            b, n = _PAIR.unpack(packed)
            return 0.0 + n if first <= b <= last else 0  # as ``sum`` of a list of it, or none
        return _summed(packed, first, last)

    def _distinct(self, query: Distinct | Tally, now: float) -> int:
        """Members are kept in time order (a time never decreases along a set, ``_touched``):
        a small set's count is its times unpacked (O(n), in C) and binary-searched, a large
        one's stops at the first member older than the window (O(answer)), a set touched at
        once is all or none (O(1))."""
        if query.side:
            record, side, ttls = self._side(query.key, query.side)
            return 0 if record is None else sided.distinct(record, side, ttls, query.window,
                                                           now)
        held = self._members.get(query.key)
        if held is None:
            read = self._set_read(query.key)
            return 0 if read is None else hashed.distinct_read(read, query.window, now)
        if held.__class__ is _Held:
            if held.expiry <= now:
                return 0
            since = now - (query.window if query.window < held.ttl else held.ttl)
            times = held.times
            if times.__class__ is float:
                return len(held.names) if times > since else 0
            return len(held.names) - bisect_right(_floats(times), since)  # type: ignore[arg-type]  # (a __class__ test)
        members, expiry, ttl, _ = held
        if expiry <= now:  # type: ignore[operator]  # (a __class__ test)
            return 0
        since, seen = max(now - query.window, now - ttl), 0  # type: ignore[operator]  # (a __class__ test)
        # (a __class__ test) the scan would stop in the tail:
        if members.count and since >= members.since:  # type: ignore[union-attr]
            _settled(members)  # type: ignore[arg-type]  # (a __class__ test)
        for ts in reversed(members.values()):  # type: ignore[union-attr]  # (a __class__ test)
            if ts <= since:
                break
            seen += 1
        return seen

    def _contains(self, query: Contains | Tally, now: float) -> tuple[bool, ...]:
        """Membership by the names alone while the set's oldest member is live (the common
        case: each touch drops the members past the TTL), else by each member's time."""
        if query.side:
            record, side, ttls = self._side(query.key, query.side)
            asked = query.members
            if record is None:
                return (False,) * len(asked)
            if len(asked) == 1:  # its time kept for the read's ``_last_touch`` of it
                ts = sided.last(record, side, ttls, asked[0], now)
                self._asked = (query.key, query.side, asked[0]), ts
                return (ts is not None,)
            return sided.contains(record, side, ttls, asked, now)
        held = self._members.get(query.key)
        if held is None:
            read = self._set_read(query.key)
            asked = query.members
            if read is None or read[1] <= now:
                return (False,) * len(asked)
            if len(asked) == 1 and (digest := self._known.get(asked[0])) is not None:
                # one name whose digest is remembered (nearly every ask): no call made
                # (``hashed.contains_read``'s bisection of one digest, inline)
                digests, at = read[2], bisect_left(read[2], digest)
                return (at < len(digests) and digests[at] == digest,)
            return hashed.contains_read(read, list(map(self._hasher.digest, asked)), now)
        if held.__class__ is _Held:
            if held.expiry <= now:
                return (False,) * len(query.members)
            names, times, cutoff = held.names, held.times, now - held.ttl
            if (times if times.__class__ is float else _DOUBLE.unpack_from(times)[0]) > cutoff:  # type: ignore[arg-type]  # (a __class__ test)
                asked = query.members  # most often one: asked without a map or a bound method
                return ((asked[0] in names,) if len(asked) == 1
                        else tuple(map(names.__contains__, asked)))
            if times.__class__ is float:  # touched at once: all gone with the oldest
                return (False,) * len(query.members)
            return _live_among(names, times, cutoff, query.members)  # type: ignore[arg-type]  # (a __class__ test)
        members, expiry, ttl, _ = held
        if expiry <= now:  # type: ignore[operator]  # (a __class__ test)
            return (False,) * len(query.members)
        cutoff = now - ttl  # type: ignore[operator]  # (a __class__ test)
        if not members or (members.since if members.count == len(members)
                           else next(iter(members.values()))) > cutoff:  # type: ignore[union-attr]  # (a __class__ test)
            # all live: the oldest is the first or, if all are its loose tail, no older
            # than the tail's ``since``
            return tuple(map(members.__contains__, query.members))
        return _timed_among(members, cutoff, query.members)  # type: ignore[arg-type]  # (a __class__ test)

    def _last_touch(self, query: LastTouch, now: float) -> float | None:
        """The member's time where ``_contains`` finds it, if within the window
        (``ops.within``): a sided record's rank read, or a plain set's entry. The time of
        a name that ``_contains`` asked alone of the same side in this read is the one it
        read (``sided.last``: nothing is written during a read). Why: takeover's plan of a
        message to one recipient asks whether the recipient wrote to the sender
        (``accounts.ties``' talked side) and when (``accounts.heard``), the one rank read
        twice (2,934 asks of each on the mixed load, ~13,800 instructions a ``LastTouch``:
        ``touch46``)."""
        if query.side:
            asked, ts = self._asked
            if asked != (query.key, query.side, query.member):
                record, side, ttls = self._side(query.key, query.side)
                ts = None if record is None else sided.last(record, side, ttls, query.member,
                                                            now)
        else:
            hashed.listable(query.key)  # a hashed set's members have no times of their own
            self._no_side(query.key)
            members, cutoff = self._live_members(query.key, now)
            ts = members[query.member] if query.member in members else None  # noqa: SIM401  # (a _Packed has no get)
            if ts is not None and ts <= cutoff:
                ts = None
        return ts if ts is not None and within(ts, query.window, now) else None

    def _members_of(self, query: Members, now: float) -> tuple[str, ...]:
        if query.side:
            record, side, ttls = self._side(query.key, query.side)
            return () if record is None else sided.members(record, side, ttls, now)
        hashed.listable(query.key)
        self._no_side(query.key)
        members, cutoff = self._live_members(query.key, now)
        if members.__class__ is _Large and members.count:
            _settled(members)
        if not members or _oldest(members) > cutoff:
            return tuple(members)
        return tuple(m for m, ts in members.items() if ts > cutoff)

    def _side(self, key: str, side: str) -> tuple[sided.Record | None, int, tuple[float, ...]]:
        """The sided record at ``key`` (None if there is none), the side's index and the
        record's sides' declared TTLs."""
        home = self._sides.get(side) or self._side_home(key, side)
        prefix, cut, records, _, index, ttls, hosts = home
        if not key.startswith(prefix):
            side_of(key, side)  # raises: the key is not of the side's keyspace
        host = records.get(key[cut:])
        if host is None and hosts is not None and (place := _guest(home, key)) is not None:
            _, held_by, name = place
            lodger = hosts.records.get(held_by)
            found = None if lodger is None else self._lodged_guest(lodger, held_by, name)
            return found, index, ttls
        return (host if host is not None and host.end else None), index, ttls

    def _side_home(self, key: str, side: str) -> _Home:
        """``_side``'s home of a side not asked before."""
        index, _ = side_of(key, side)
        prefix = next(space.prefix for space in sided_keyspaces() if side in space.sides)
        home = self._sides[side] = self._home_of(prefix)._replace(index=index)
        return home

    def _home_of(self, prefix: str) -> _Home:
        """The home of the records under a sided prefix."""
        home = self._homes.get(prefix)
        if home is None:
            host = guest_prefixes().get(prefix)
            names = self._names if prefix in _account_prefixes() else None
            if names is not None and self._accounts_prefix is None:
                self._accounts_prefix = prefix
            home = self._homes[prefix] = _Home(prefix, len(prefix),
                                               self._ids if prefix == self._accounts_prefix
                                               else {},
                                               names,
                                               ttls=sided_space(prefix).ttls,
                                               hosts=None if host is None
                                               else self._home_of(host))
        return home

    def _home(self, key: str) -> tuple[_Home, str] | None:
        """The home of the sided record at ``key`` and its id there; None if ``key`` is
        of no sided keyspace."""
        if not is_sided(key):
            return None
        prefix = next((p for p in self._prefixes if key.startswith(p)), None)
        if prefix is None:  # a keyspace declared since the store opened
            self._prefixes = sorted((space.prefix for space in sided_keyspaces()), key=len,
                                    reverse=True)
            prefix = next(p for p in self._prefixes if key.startswith(p))
        home = self._home_of(prefix)
        return home, key[home.cut:]

    def _set_read(self, key: str) -> hashed.Decoded | None:
        """The hashed set at ``key`` decoded (``hashed.read``), None where ``_hashed_at``
        finds none. A lodged set's decoding is remembered by its key (``_sets_read``) with
        what it was read from: its host's lodged items' framing (their count and lengths)
        and the set's bytes. While the key's host (whichever object holds the id now)
        holds the same framing past its times and the same bytes where the framing puts
        them, ``_lodged`` would read the same bytes (it reads nothing else of the host),
        so its decoding is this one: exact by construction, whatever else the host's
        bytes hold. Why: a message asks its recipients' contact lists (1.81 Contains a
        message on the mixed load) and a list nearly never changes between two asks of it
        (97 %), while its host's bytes do, the ties' times being in them (so a cache by
        the bytes' identity found 13 %, ``stateio44``): this skips the slot's place
        found, the set's bytes sliced out and hashed to find its decoding. Two
        comparisons in C of the bytes kept (~125 for a list of 55) cost what those
        did in O(bytes), so a crafted list costs no more than before. A key the memo
        misses that is of no lodged keyspace is asked of its table here, as
        ``_hashed_at`` would, no call made: nearly every such ask is of no set
        (``Tally`` of ``vel:`` sets not made, ``Contains`` of ``lists:``, ``Distinct`` of
        ``rep:``: 2.66 an event on the mixed load, ``touch46``)."""
        kept = self._sets_read.get(key)
        if kept is not None:
            records, name, frame, place, item, read = kept
            host = records.get(name)
            if host is not None:
                held, at = host.held, host.end
                if held.startswith(frame, at) and held.startswith(item, at + place):
                    return read
        kind = self._kinds.get(key)
        if kind is None:
            kind = self._kind_of(key)
        if not kind & _LODGES:
            blob = self._hashed.get(key)
            if blob is not None:
                return hashed.read(blob)
            if kind & _SIDED:
                self._no_side(key)  # raises
            return None
        blob = self._hashed_at(key)
        if blob is None:
            return None
        read = hashed.read(blob)
        found = None if key in self._hashed else self._places.get(key)
        if found is not None:  # a lodged set (``_lodged`` just read it: its place is kept)
            home, name, slot, _ = found
            host = home.records[name]
            held, at = host.held, host.end
            framing = _LENGTHS[held[at]]
            place = 1 + framing.size + sum(framing.unpack_from(held, at + 1)[:slot])
            if len(self._sets_read) >= _SETS_KEPT or self._sets_bytes > _SETS_BYTES:
                self._sets_read.clear()
                self._sets_bytes = 0
            frame = held[at:at + 1 + framing.size]
            self._sets_bytes += len(frame) + len(blob) + 4 * len(read[2])
            self._sets_read[key] = (home.records, name, frame, place, blob, read)
        return read

    def _hashed_at(self, key: str) -> bytes | None:
        """The hashed set at ``key``, a key not among the member sets (a key is in one
        table at most); raises for a sided record's key, as ``_no_side``. Most keys asked
        so are of no set (~5 reads a message on the mixed load): answered by two table
        look-ups and the key's remembered kind."""
        blob = self._hashed.get(key)
        if blob is None:
            kind = self._kinds.get(key)
            if kind is None:
                kind = self._kind_of(key)
            if kind & _LODGES:
                blob = self._lodged(key, self._hashed)
            if blob is None and kind & _SIDED:
                self._no_side(key)
        return blob

    def _kind_of(self, key: str) -> int:
        """What ``key`` may be, by its prefixes: lodged (``_lodges``), a sided record's,
        a hashed set's (bits). Remembered (up to ``_KINDS_KEPT`` keys): a prefix test of a
        tuple costs several dict look-ups, and a message asks the same keys again and
        again (the prefixes are declared at import, before a store opens). When full, the
        older half is let go, not all: the keys a batch is asking are the newest, and a
        store cleared whole asked them all again (on the 2,000-user load, 47,158 keys
        asked 997,213 times: 247,468 misses so, 204,483 this way, session 29)."""
        kind = ((_LODGES if self._lodged_prefix(key) else 0)
                | (_SIDED if is_sided(key) else 0) | (_HASHED if is_hashed(key) else 0))
        kinds = self._kinds
        if len(kinds) >= _KINDS_KEPT:
            self._kinds = kinds = dict(islice(kinds.items(), _KINDS_KEPT // 2, None))
        kinds[key] = kind
        return kind

    def _lodged_prefix(self, key: str) -> bool:
        """Whether ``key`` is in a lodged keyspace (``ops.lodged_keyspace``), told by its
        prefixes and not remembered (``_lodges`` remembers it in ``_kinds``)."""
        return key.startswith(self._lodged_prefixes) and not key.startswith(self._unlodged)

    def _lodges(self, key: str) -> int:
        """Non-zero if ``key`` is one an account's object may hold (``_Account``): under a
        lodged prefix and none of the prefixes beside it that are never lodged."""
        kind = self._kinds.get(key)
        return (kind if kind is not None else self._kind_of(key)) & _LODGES

    def _is_hashed(self, key: str) -> int:
        """Non-zero if ``key`` is a hashed set's (``ops.is_hashed``), its kind remembered."""
        kind = self._kinds.get(key)
        return (kind if kind is not None else self._kind_of(key)) & _HASHED

    def _place(self, key: str, table: dict[str, bytes]
               ) -> tuple[_Home, str, int, bool] | None:
        """Where the item of a lodged key is: its host's home, id and slot there; None for
        a key of its own, or of another kind than ``table``'s (a value or a hashed set).
        Remembered (up to ``_PLACES_KEPT`` keys): a message asks and writes ~10 values and
        hashed sets, of a few keys, the same ones again and again, and one look-up is
        cheaper than ``_found`` (+0.95 % of the engine's instructions an event at 150
        users without it, session 28). A key not remembered costs ``_found`` alone."""
        place = self._places.get(key, _UNREAD)
        if place is _UNREAD:
            place = self._found(key)
        if place is None or place[3] is not (table is self._hashed):  # type: ignore[index]
            return None
        return place  # type: ignore[return-value]

    def _found(self, key: str) -> tuple[_Home, str, int, bool] | None:
        """``_place`` of a key ``_lodges`` not remembered, of any kind: where its item is
        and whether a hashed set. Told by its keyspace alone (``_lodging``): a batch's
        accounts hold three lodged keys each, so past ~1,400 of them (a platform's batch
        always is) the places remembered are cleared whole all the time, and nearly every
        lodged read comes here (it paid ``lodging``, ``_home`` and ``_slot`` a key until
        session 28: ~10 times what this costs, timed side by side)."""
        place = None
        for prefix, others, lodged in self._spaces:
            if key.startswith(prefix) and not (others and key.startswith(others)):
                home, cut, slot, is_set = lodged or self._lodging(prefix)
                place = home, key[cut:], slot, is_set
                break
        if len(self._places) >= _PLACES_KEPT:
            self._places.clear()
        self._places[key] = place
        return place

    def _lodging(self, prefix: str) -> _Lodging:
        """Where the keys of the lodged keyspace at ``prefix`` lodge: made at its first
        key, as its slot is (``_slot``: slots are numbered as first used). Raises if a key's
        host or kind would not follow from the prefix, as no declaration makes them: a
        sided keyspace under the host's (``_home`` would take a host's key of some ids
        for one of that keyspace), or a hashed one under ``prefix``."""
        space = dict(lodged_keyspaces())[prefix]
        if any(other.prefix != space.host and other.prefix.startswith(space.host)
               for other in sided_keyspaces()) or any(
                other != prefix and other.startswith(prefix) for other in hashed_prefixes()):
            raise ValueError(f"the keys of {prefix!r} lodge by more than their prefix")
        is_set = is_hashed(prefix)
        lodged = _Lodging(self._home_of(space.host), len(prefix), _slot(space.field, is_set),
                          is_set)
        self._spaces = tuple((p, others, lodged if p == prefix else held)
                             for p, others, held in self._spaces)
        return lodged

    def _item(self, key: str, table: dict[str, bytes]) -> bytes | None:
        """The value (``_stamped``) or hashed set at ``key``: in ``table``, or lodged (the
        hot reads do the same inline: a key not in its table and under no lodged prefix,
        one ``startswith``, has none)."""
        held = table.get(key)
        if held is None and self._lodges(key):
            return self._lodged(key, table)
        return held

    def _lodged(self, key: str, table: dict[str, bytes]) -> bytes | None:
        """``_item`` of a key under a lodged prefix and not in ``table``: ``_place`` inline
        (a lodged read, ~4 a message, is a call the fewer)."""
        place = self._places.get(key, _UNREAD)
        if place is _UNREAD:
            place = self._found(key)
        if place is None:
            return None
        # (unpacked once: four subscripts were ~12 bytecodes a call, ~4 calls a message)
        home: _Home
        name: str
        slot: int
        is_set: bool
        home, name, slot, is_set = place  # type: ignore[misc]  # a place: _found's, not _UNREAD
        if is_set is not (table is self._hashed):
            return None
        host = home.records.get(name)
        if host is None:
            return None
        # its item read here: a call the fewer
        # (in ``held`` in place, not ``lodged``'s copy: ``_Account``)
        blob, at = host.held, host.end
        if at == len(blob) or slot >= blob[at] & _COUNT:
            return None
        framing = _LENGTHS[blob[at]]
        lengths = framing.unpack_from(blob, at + 1)
        if not lengths[slot]:
            return None
        start = at + 1 + framing.size + sum(lengths[:slot])
        return blob[start:start + lengths[slot]]

    def _hold(self, key: str, table: dict[str, bytes], item: bytes | None) -> None:
        """Keep ``item`` as the value or hashed set at ``key`` (in ``table`` or lodged in
        its host), or drop what is there (None)."""
        place = self._place(key, table) if self._lodges(key) else None
        if place is None:
            if item is None:
                table.pop(key, None)
            else:
                table[key] = item
            return
        if self._parts:  # the record may be this one's host, made or dropped here
            self._touch_held()
        home, name, slot, _ = place
        host = home.records.get(name)
        if host is None:
            if item is None:
                return
            host = home.add(name)
        host.put(slot, item)
        if item is None and host.empty():
            home.drop(name)

    def _no_side(self, key: str) -> None:
        """Raise if ``key`` is a sided record's: a question without a side has no answer."""
        kind = self._kinds.get(key)
        if (kind if kind is not None else self._kind_of(key)) & _SIDED:
            raise TypeError(f"{key!r} is a sided record: name the side asked")

    def _get(self, query: Get, now: float) -> Any:
        """The stored value, decoded once a read: one value put under several keys (a
        bulk cluster's id under each of its bands) answers as one object.

        Decoded values are not kept between reads: nearly every value read twice was
        rewritten in between (the takeover record and the bulk clusters' homes each event; on
        the mixed load a lasting cache would spare ~1 decode of a ~12-byte value a
        message), and a kept one would be shared with every later reader, so a caller
        that changed what it read would change what the next event reads."""
        held = self._values.get(query.key)
        if held is None:  # lodged (~2 a message on the mixed load) or none (~1)
            kind = self._kinds.get(query.key)
            if not (kind if kind is not None else self._kind_of(query.key)) & _LODGES:
                return None
            held = self._lodged(query.key, self._values)
            if held is None or _DOUBLE.unpack_from(held)[0] <= now:
                return None
            # A lodged item read is a copy of its own, which no other key's read shares.
            return decode_value(held[_DOUBLE.size:])
        return self._held_value(held, now)

    def _gets(self, query: Gets, now: float) -> tuple[Any, ...]:
        """``_get`` of each key in one call. Most often (a bulk text's six bands, every
        message) one stored value is under every key (put together), or nothing is under any
        key of its own (a new text): told in C and answered once for all. A key under no
        lodged prefix is told by ``startswith``, not remembered in ``_kinds``: every new text
        has six new band keys, which would push the keys asked again and again out of it."""
        keys, lodged = query.keys, self._lodged_prefixes
        held = list(map(self._values.get, keys))
        if keys and held.count(held[0]) == len(held) and (
                held[0] is not None or not any(map(str.startswith, keys, repeat(lodged)))):
            return (self._held_value(held[0], now),) * len(held)
        return tuple(map(self._each_value, keys, held, repeat(now)))

    def _each_value(self, key: str, value: bytes | None, now: float) -> Any:
        """``_gets``'s answer of one key of several held apart (a method, not a comprehension
        of ``_gets``: that would make ``self`` and ``now`` cells at its every call)."""
        if value is not None:
            return self._held_value(value, now)
        return self._get(Get(key), now) if self._lodged_prefix(key) else None

    def _held_value(self, held: bytes | None, now: float) -> Any:
        """A value as ``_values`` holds it (``_stamped``), decoded once a read as ``_get``
        decodes it: None if there is none or it has expired."""
        if held is None or _DOUBLE.unpack_from(held)[0] <= now:
            return None
        found = self._decoded.get(id(held))
        if found is None:  # held with its value, so its id names it through the read
            found = self._decoded[id(held)] = (held, decode_value(held[_DOUBLE.size:]))
        return found[1]

    def _tally(self, query: Tally, now: float) -> tuple[int, tuple[bool, ...]]:
        """A Tally has the fields its two parts read: it is asked as each, without
        making them (``Tally.parts``), and a sided record is found once for both."""
        if query.side:
            record, side, sides = self._side(query.key, query.side)
            if record is None:
                return 0, (False,) * len(query.members)
            return (sided.distinct(record, side, sides, query.window, now),
                    sided.contains(record, side, sides, query.members, now))
        held = self._members.get(query.key)
        if held is None:  # a hashed set or none (~3 a message): found once
            read = self._set_read(query.key)
            if read is None:
                return 0, (False,) * len(query.members)
            return (hashed.distinct_read(read, query.window, now),
                    hashed.contains_read(read, list(map(self._hasher.digest, query.members)),
                                         now))
        if held.__class__ is not _Held:
            return self._distinct(query, now), self._contains(query, now)
        # A small set (~3 a message: velocity's), both parts as ``_distinct`` and
        # ``_contains`` read them, here: two calls and their look-ups of the set the fewer.
        asked = query.members
        if held.expiry <= now:
            return 0, (False,) * len(asked)
        names, times, ttl = held.names, held.times, held.ttl
        since, cutoff = now - (query.window if query.window < ttl else ttl), now - ttl
        if times.__class__ is float:
            return (len(names) if times > since else 0,
                    ((False,) * len(asked) if times <= cutoff
                     else (asked[0] in names,) if len(asked) == 1
                     else tuple(map(names.__contains__, asked))))
        floats = _floats(times)  # type: ignore[arg-type]  # (a __class__ test)
        return (len(names) - bisect_right(floats, since),
                ((asked[0] in names,) if len(asked) == 1
                 else tuple(map(names.__contains__, asked))) if floats[0] > cutoff
                else _live_among(names, times, cutoff, asked))  # type: ignore[arg-type]  # (a __class__ test)

    def _log(self, key: str) -> bytes | None:
        """A log's stored form (``ops.encode_log``): one value, its expiry (never) dropped."""
        held = self._item(key, self._values)
        return None if held is None else held[_DOUBLE.size:]

    def _since(self, query: Since, now: float) -> tuple[int, Any]:
        """A log (``Append``), kept as one value: its count, or its entries too."""
        stored = self._log(query.key)
        if query.after is None:
            return log_count(stored), ()
        return since(query, *decode_log(stored))

    _answers: ClassVar[dict[type, Callable[[Any, Any, float], Any]]] = {
        Count: _count, Distinct: _distinct, Contains: _contains, Members: _members_of, Get: _get,
        Tally: _tally, Since: _since, Gets: _gets, LastTouch: _last_touch}

    def _live_members(self, key: str, now: float) -> tuple[MemberSet, float]:
        """A member set as of ``now`` and its cutoff: members touched at or before the
        cutoff are past the set's TTL and answer as gone, whether or not a sweep or a
        later touch has dropped them yet (when that happens differs by backend)."""
        held = self._members.get(key)
        if held is None:
            return _EMPTY, now
        members: MemberSet
        if isinstance(held, _Held):  # the common small set: no entry tuple built to read it
            members, expiry, ttl = held, held.expiry, held.ttl
        else:
            members, expiry, ttl, _ = held
        return (_EMPTY, now) if expiry <= now else (members, now - ttl)

    # -- writes ----------------------------------------------------------------------
    def write(self, writes: Sequence[Write], now: float) -> None:
        """Each write goes to its kind's method by one look-up of its class, not down a
        chain of isinstance tests (a message makes ~14 writes, most of them cheap)."""
        apply = self._appliers
        self._encoded.clear()
        try:
            for op in writes:
                apply[op.__class__](self, op, now)
        finally:
            if self._parts:  # the last record's touches (``_touch``)
                self._touch_held()

    def _put(self, op: Put, now: float) -> None:
        """One value is often put under several keys in one call (a bulk cluster's id under each
        of its bands, one TTL): encoded once, the keys share the bytes."""
        made = (id(op.value), op.ttl)
        held = self._encoded.get(made)
        if held is None:
            held = self._encoded[made] = _stamped(encode_value(op.value), now + op.ttl)
        key = op.key
        kind = self._kinds.get(key)
        if (kind if kind is not None else self._kind_of(key)) & _LODGES:
            self._hold(key, self._values, held)
        else:  # nearly every put (~4 a message): a key of its own, kept here without a call
            self._values[key] = held

    def _puts(self, op: Puts, now: float) -> None:
        """``_put`` of each key, the value encoded once; keys of their own (told as ``_gets``
        tells them) are kept in C, in one update."""
        held = _stamped(encode_value(op.value), now + op.ttl)
        keys = op.keys
        if not any(map(str.startswith, keys, repeat(self._lodged_prefixes))):
            self._values.update(zip(keys, repeat(held)))
            return
        for key in keys:
            if self._lodged_prefix(key):
                self._hold(key, self._values, held)
            else:
                self._values[key] = held

    def _touch(self, op: Touch, now: float) -> None:
        """A touch of a packed set makes one new set: O(n) bytes copied (``_touched``), and
        the drops past the TTL and the cap found in O(1) when there are none (``_excess``).
        Here and in the other hot paths a conditional expression takes the larger or the
        smaller of two numbers: a call of max or min costs several times more.

        A touch of a sided record is held, and the record's next touches join it, until a
        write that changes another record or may change this one's place (a sided touch of
        another, a value or set lodged in one, a Delete; ``_touch_held``), or the end of
        the call: then all are applied in one pass over its bytes
        (``sided.touched_sides``), exactly as each in turn. The writes between change
        no record: keys of their own. Why: a message touches its sender's ties three times
        (two sides from the takeover detector, then, past bulk's and velocity's writes,
        one from the relationship detector); a fold found by a pass over the call's
        writes cost more than it saved (speed-log, nineteenth pass)."""
        key, touching = op.key, op.members
        if op.side:
            if not touching:  # touching nobody changes nothing, as in every set
                return
            home = self._sides.get(op.side) or self._side_home(key, op.side)
            if not key.startswith(home.prefix):
                side_of(key, op.side)  # raises: the key is not of the side's keyspace
        else:
            kind = self._kinds.get(key)  # (``_is_hashed``, ``_no_side``: two calls a touch)
            if (kind := kind if kind is not None else self._kind_of(key)) & _HASHED:
                self._apply_hashed(op, now)
                return
            if kind & _SIDED:
                self._no_side(key)  # raises
            if not touching:
                return  # touching nobody changes nothing (no TTL or cap either), as in Redis
        if len(touching) == 1:  # nearly every touch of either kind: no call (``_fresh``)
            account = self._ids.get(touching[0])
            fresh = [account.id if account is not None else self._names.held(touching[0])]
        else:  # a sided touch's names as named, a set's sorted (``_touched``)
            fresh = self._fresh(touching, dict.fromkeys if op.side else _sorted_once)
        if op.side:
            if key == self._touching[1]:
                self._parts.append((home.index, fresh, op.ttl, op.cap))
                return
            if self._parts:
                self._touch_held()
            self._touching = (home, key, now)
            self._parts = [(home.index, fresh, op.ttl, op.cap)]
            return
        held = self._members.get(key)
        members: MemberSet
        if held is None:
            members, expiry, ttl = _EMPTY, 0.0, 0.0
        elif held.__class__ is _Held:
            members, expiry, ttl = held, held.expiry, held.ttl
        else:
            members, expiry, ttl, _ = held  # type: ignore[assignment]  # (a __class__ test)
        if expiry <= now:  # gone to every read: a longer TTL now must not revive it
            if self.trimmed is not None:
                if members.__class__ is _Large and members.count:
                    _settled(members)  # dropped in order, as every drop
                self.trimmed.extend(zip(repeat(key), members))  # (no cell of ``key``)
            members, ttl = _EMPTY, op.ttl
        members = _touched(members, fresh, now)
        # Members are in age order: those past the TTL (the set's until now, as reads
        # saw it, or this touch's if shorter), then the stalest beyond the cap, are
        # the oldest (Redis's ZREMRANGEBYSCORE, then ZREMRANGEBYRANK).
        drop = _excess(members, now - (op.ttl if op.ttl < ttl else ttl), op.cap)
        if drop > 0:
            if members.__class__ is _Large and members.count:
                stale = _oldest_dropped(members, drop)
            else:
                stale = list(islice(members, drop))
                members = _without(members, stale)
            if self.trimmed is not None:
                self.trimmed.extend(zip(repeat(key), stale))
        until = now + op.ttl
        if not until > expiry:
            until = expiry
        if held.__class__ is _Held and members.__class__ is not _Large:
            # A packed set touched again (~1.4 touches a message): its own object takes the
            # new members and terms, none made and none stored again (nothing holds a
            # ``_Held`` but its key's entry: readers answer from it, they keep none).
            held.names, held.times = members.names, members.times  # type: ignore[union-attr]  # (a __class__ test)
            held.expiry, held.ttl, held.cap = until, op.ttl, op.cap
        else:  # (``_held`` inline: a call the fewer, a set's first touch)
            self._members[key] = (_Held(members, until, op.ttl, op.cap)  # type: ignore[arg-type]
                                  if members.__class__ is not _Large
                                  else (members, until, op.ttl, op.cap))

    def _fresh(self, touching: Sequence[str],
               once: Callable[[Sequence[str]], Iterable[str]]) -> list[str]:
        """The store's strings of the names a touch of two or more names names (``_Names``),
        each once, in the order ``once`` gives (sorted, or as named). A touch of one name
        (nearly every touch) finds its account's id in ``_touch`` itself, with no call."""
        return list(map(self._names.held, once(touching)))

    def _touch_held(self) -> None:
        """Apply the touches held of one sided record (``_touch``)."""
        (home, key, now), parts = self._touching, self._parts
        self._touching, self._parts = _UNTOUCHED, []
        _, cut, records, _, _, ttls, hosts = home
        host = records.get(key[cut:])
        if host is None:
            if hosts is not None and (place := _guest(home, key)) is not None:
                self._touch_guest(home, key, place, parts, now)
                return
            host = home.add(key[cut:])
        if host.end:  # a record changes in place (``sided.touched_sides``)
            names = host.names
            # A small record's commonest touches (``sided._touched_small``: ~19 in 20 of
            # the ties' applications) asked with no frame of ``touched_sides`` between; a
            # large record's (its ``_Index``), or what the small way does not take, the
            # general way's (which asks the small way again: a few in a hundred).
            if names.__class__ is _NAMED or not sided._touched_small(host, ttls, parts, now):
                sided.touched_sides(host, ttls, parts, now)
            if host.names is not names:  # (``replaced``'s first test inline: a call the fewer)
                host.replaced(names)  # (its guests' places: ``_Account.hold``)
        else:
            made = sided.touched_sides(None, ttls, parts, now)
            host.hold(made.names, made.times)

    def _touch_guest(self, home: _Home, key: str, place: tuple[_Home, str, bytes],
                     parts: list[sided.Part], now: float) -> None:
        """``_touch`` of a guest keyspace's record lodged in its host (or none yet): a
        record grown past ``LODGED_NAMES`` leaves it for a record of its own in ``home``,
        touched in place from then on (a lodged one is decoded and rewritten whole), as
        does a new one when the host lodges ``_LODGED_GUESTS`` already."""
        hosts, held_by, name = place
        host = hosts.records.get(held_by) or hosts.add(held_by)
        lodged = self._lodged_guest(host, held_by, name)
        names = None if lodged is None else lodged.names
        record = sided.touched_sides(lodged, home.ttls, parts, now)
        if len(record.names) > LODGED_NAMES:
            host.hold_guest(name, None)  # if it was lodged
        elif (held := host.hold_guest(name, record, record.names is names)) is not None:
            if held:  # (none for a record of no times: nothing lodged)
                self._guests_read[held_by, name] = (held, record)
            return
        # (None: not lodged, as a host full has no room for it, or dropped as too long.)
        # The record read was changed in place: no read may find it as the lodged one's.
        self._guests_read.pop((held_by, name), None)
        if host.empty():
            hosts.drop(held_by)
        home.add(key[home.cut:]).hold(tuple(map(self._names.held, record.names)),
                                      record.times)

    def _lodged_guest(self, host: _Account, held_by: str, name: bytes) -> sided.Record | None:
        """``host.guest(name)``, decoded once while the guest stays the same bytes
        (compared, not by identity: a put of a lodged item makes ``lodged`` anew, the
        guest's bytes unchanged): a message reads and touches its session's record ~5
        times. The guest's own bytes, not all the host's guests': a touch of a sibling
        session of the account changes those, and was 28 % of these reads decoded again
        on the 2,000-user load (session 28). A touch changes the record decoded in place
        (``sided.touched``), then its host's bytes and this, together (or drops this,
        ``_touch_guest``)."""
        found = self._guests_read.get((held_by, name))
        if found is not None and host.holds_guest(found[0]):
            return found[1]
        held = host.guest_held(name)
        if held is None:
            return None
        record = _guest_record(held, host.names)
        if len(self._guests_read) >= _PLACES_KEPT:
            self._guests_read.clear()
        self._guests_read[held_by, name] = (held, record)
        return record

    def _replace(self, op: Replace, now: float) -> None:
        if self._is_hashed(op.key):
            self._apply_hashed(op, now)
            return
        self._no_side(op.key)
        self._members[op.key] = _held(
            _packed([(name, now) for name in self._fresh(op.members, _sorted_once)]),
            now + op.ttl, op.ttl, max(len(op.members), 1))

    def _remove(self, op: Remove, now: float) -> None:
        if self._is_hashed(op.key):
            self._apply_hashed(op, now)
            return
        self._no_side(op.key)
        held = self._members.get(op.key)
        if held is not None:
            members, expiry, ttl, cap = _entry(held)
            self._members[op.key] = _held(_without(members, op.members), expiry, ttl, cap)

    def _delete(self, op: Delete, now: float) -> None:
        if self._parts:  # it may be of the record touched
            self._touch_held()
        self.forget(op.key)

    def _apply_hashed(self, op: Touch | Replace | Remove, now: float) -> None:
        key, table = op.key, self._hashed
        blob = self._item(key, table)
        if isinstance(op, Touch):
            if op.members:  # touching nobody changes nothing, as in every set
                self._hold(key, table, hashed.touched(blob, self._hasher.fresh(op.members), now,
                                                      op.ttl, op.cap))
        elif isinstance(op, Replace):
            self._hold(key, table, hashed.pack(now, op.ttl, map(self._hasher.digest, op.members)))
        elif blob is not None:
            self._hold(key, table, hashed.without(blob, map(self._hasher.digest, op.members)))

    def _incr(self, op: Incr, now: float) -> None:
        """Add to the counter's bucket of ``now``: when that is its newest bucket (a counter
        counts in time order) and no pruning is due, its count is rewritten in place; a
        bucket new to it, with room, is appended."""
        packed, expiry = self._counters.get(op.key, (b"", 0.0))
        bucket, until = int(now // op.bucket), now + op.ttl
        if not until > expiry:
            until = expiry
        if (expiry > now and 0 < len(packed) <= 16 * _MAX_BUCKETS
                and _DOUBLE.unpack_from(packed, len(packed) - 16)[0] == bucket):
            count = _DOUBLE.unpack_from(packed, len(packed) - 8)[0] + op.amount
            self._counters[op.key] = (packed[:-8] + _DOUBLE.pack(count), until)
            return
        if expiry <= now:  # a counter new or expired (~3 in 4 counts on the mixed load): one
            # bucket, packed as ``pack_counter`` packs it, without a dict, chain or tuple
            self._counters[op.key] = (_PAIR.pack(bucket, 0.0 + op.amount), until)
            return
        if len(packed) < 16 * _MAX_BUCKETS and bucket not in memoryview(packed).cast("d")[::2]:
            # A bucket new to a counter with room for it (~1 in 6 counts of velocity's on
            # the mixed load): its pair appended, the bytes ``pack_counter`` makes of the
            # buckets with it counted last (the buckets held are each once, and a number's
            # double read and packed again is its bytes), with no dict made and packed.
            self._counters[op.key] = (packed + _PAIR.pack(bucket, 0.0 + op.amount), until)
            return
        buckets = unpack_counter(packed)
        buckets[bucket] = buckets.get(bucket, 0.0) + op.amount
        if len(buckets) > _MAX_BUCKETS:
            oldest = bucket - int(op.ttl // op.bucket)
            for stale in list(filter(oldest.__gt__, buckets)):  # (no cell of ``oldest``)
                del buckets[stale]
        self._counters[op.key] = (pack_counter(buckets), until)

    def _append(self, op: Append, now: float) -> None:
        """The log's entries and count rewritten as one value: a log is short (``keep``)
        and appended to only when a learner changes."""
        count, entries = decode_log(self._log(op.key))
        entries.extend(op.entries)
        self._hold(op.key, self._values, _stamped(
            encode_log(count + len(op.entries), entries[-op.keep:]), now + FOREVER))

    _appliers: ClassVar[dict[type, Callable[[Any, Any, float], None]]] = {
        Put: _put, Touch: _touch, Incr: _incr, Replace: _replace, Remove: _remove,
        Delete: _delete, Append: _append, Puts: _puts}

    def commit(self) -> None:
        """Nothing to make durable in memory."""

    def rollback(self) -> None:
        """Memory applies writes at once and cannot undo them (it is the test double)."""

    def sweep(self, now: float) -> int:
        """Everything at once (``StateBackend.sweep``: the tests and the conformance suite
        call it). An engine sweeps in parts (``sweep_part``); a store never sweeps itself
        inside a write
        (it did, every 50,000 writes, the whole store in one write: a 30-100 ms stall of
        one batch every few thousand events on either store, SQLite's held copy
        included, which set the server's p99; issue 18, session 32)."""
        return self._sweep_keys(self._lap_keys(), now)

    def sweep_part(self, now: float, since_pass: int) -> int:
        """The lap's next part. Each table's keys are taken at a lap's start, in the order
        held, and each part sweeps its slice of them: a key written since waits for the
        next lap. Cut by the order held, not by sorted keys as SQLite cuts: a sort of every
        key (~100,000 on the mixed load) would cost a batch what the parts spare it, and
        where a part cuts changes no answer (a sweep drops only what no event still judged
        reads: ``ops.sweep_horizon``). Where the lap stands is held with its keys: an
        engine started anew on this store resumes it, and a part, which memory cannot
        undo, is never redone. So is ``since_pass`` held with it."""
        self._since_pass = since_pass
        if self._lap is None:
            self._lap, self._lap_part = self._lap_keys(), 0
        lap, part = self._lap, self._lap_part
        self._lap_part += 1
        if self._lap_part == SWEEP_PARTS:
            self._lap = None  # the next part starts a lap
        return self._sweep_keys(_Lap(
            _part(lap.counters, part), _part(lap.members, part), _part(lap.values, part),
            _part(lap.hashed, part), [(home, _part(names, part)) for home, names in lap.homes]),
            now)

    def since_pass(self) -> int:
        return self._since_pass

    def _lap_keys(self) -> _Lap:
        return _Lap(list(self._counters), list(self._members), list(self._values),
                    list(self._hashed),
                    [(home, list(home.records)) for home in self._homes.values()])

    def _sweep_keys(self, lap: _Lap, now: float) -> int:
        """Drop what has expired by ``now`` of the keys of ``lap`` still held."""
        dropped = 0
        counters, member_sets, values = self._counters, self._members, self._values
        for key in lap.counters:
            held = counters.get(key)
            if held is not None and held[1] <= now:
                del counters[key]
                dropped += 1
        for key in lap.members:
            found = member_sets.get(key)
            if found is None:
                continue
            members, expiry, ttl, cap = _entry(found)
            if expiry <= now:
                del member_sets[key]
                dropped += 1
                continue
            cutoff = now - ttl  # as reads compute it, so a sweep drops what they hide
            if members.__class__ is _Large and members.count:
                _settled(members)
            stale = [m for m, ts in members.items() if ts <= cutoff]
            if stale:
                member_sets[key] = _held(_without(members, stale), expiry, ttl, cap)
                if self.trimmed is not None:
                    self.trimmed.extend((key, m) for m in stale)
                dropped += len(stale)
        expiry_of = _DOUBLE.unpack_from
        for key in lap.values:
            stamped = values.get(key)
            if stamped is not None and expiry_of(stamped)[0] <= now:
                del values[key]
                dropped += 1
        for key in lap.hashed:
            blob = self._hashed.get(key)
            if blob is not None and not hashed.live(blob, now):
                del self._hashed[key]
                dropped += 1
        for home, names in lap.homes:
            dropped += _swept(home, names, now)
        return dropped

    def ping(self) -> None:
        """Process memory is always there."""

    # -- as the cache of a durable backend (``sqlite.SQLiteState``) -------------------
    def counter(self, key: str) -> tuple[dict[int, float], float] | None:
        """A counter's buckets and expiry, as held (expired or not)."""
        entry = self._counters.get(key)
        return None if entry is None else (unpack_counter(entry[0]), entry[1])

    def packed_counter(self, key: str) -> tuple[bytes, float] | None:
        """A counter's buckets packed (``pack_counter``) and expiry, as held (expired or
        not): what SQLite's ``counts`` row keeps."""
        return self._counters.get(key)

    def member_set(self, key: str) -> tuple[MemberSet, float, float, int] | None:
        """A member set's members (read like a dict of member -> time; in (time, name)
        order but for a large set's loose tail, ``_Large``), expiry, TTL and cap, as held."""
        held = self._members.get(key)
        return None if held is None else _entry(held)

    def accounts(self) -> dict[str, _Account]:
        """Every sided record's object held (an account's holds its lodged items too, even
        with no record), by its key."""
        return {home.prefix + name: host for home in self._homes.values()
                for name, host in home.records.items()}

    def sided_record(self, key: str) -> sided.Record | None:
        home = self._home(key)
        host = None if home is None else home[0].records.get(home[1])
        place = None if home is None or host is not None else _guest(home[0], key)
        if place is not None:
            lodger = place[0].records.get(place[1])
            return None if lodger is None else lodger.guest(place[2])
        return host if host is not None and host.end else None

    def hashed_set(self, key: str) -> bytes | None:
        """A hashed set's packed value, as held."""
        return self._item(key, self._hashed)

    def value(self, key: str) -> tuple[bytes, float] | None:
        """A value's stored form and expiry, as held."""
        held = self._item(key, self._values)
        return None if held is None else (held[_DOUBLE.size:], _DOUBLE.unpack_from(held)[0])

    def load_counter(self, key: str, packed: bytes, expiry: float) -> None:
        """A counter as ``packed_counter`` gave it."""
        self._counters[key] = (packed, expiry)

    def load_set(self, key: str, members: dict[str, float], expiry: float, ttl: float,
                 cap: int) -> None:
        held = self._names.held
        self._members[key] = _held(_packed([(held(m), ts) for m, ts in members.items()]),
                                   expiry, ttl, cap)

    def load_sided(self, key: str, record: sided.Record) -> None:
        """Hold a record as stored (SQLite's row): one of before that still holds a side
        its keyspace no longer keeps is held without it (``sided.current``), so reads
        never see the side and the record's next write drops it."""
        found = self._home(key)
        if found is None:
            raise KeyError(f"{key!r} is of no sided keyspace")
        home, name = found
        space = sided_space(home.prefix)
        if space.retired:
            record = sided.current(record, space.ttls, space.retired)
        place = _guest(home, key)
        if place is not None and len(record.names) <= LODGED_NAMES:
            hosts, held_by, guest = place
            if (hosts.records.get(held_by) or hosts.add(held_by)).hold_guest(
                    guest, record) is not None:
                return
        host = home.records.get(name) or home.add(name)
        host.hold(tuple(map(self._names.held, record.names)), record.times)

    def load_hashed(self, key: str, blob: bytes) -> None:
        self._hold(key, self._hashed, blob)

    def load_value(self, key: str, stored: bytes | str, expiry: float) -> None:
        """``stored``: text in a SQLite file of an earlier layout (its JSON, as UTF-8 here)."""
        if isinstance(stored, str):
            stored = stored.encode("utf-8", "surrogatepass")
        self._hold(key, self._values, _stamped(stored, expiry))

    def forget(self, key: str, tables: int = EVERY_TABLE) -> None:
        """Drop the key from every table, or from those of ``tables`` (bits): a cache
        eviction, or what a durable store's sweep deleted under the copy it holds
        (``sqlite.SQLiteState._agree``), not a write: a host's sided record alone, not
        what is lodged in it, which are keys of their own. Why the tables: each one
        dropped costs its own look-ups (a value's or a hashed set's place, a sided
        record's home), ~4 µs the five, where a counter alone is a dict's pop."""
        if tables & COUNTER:
            self._counters.pop(key, None)
        if tables & MEMBER_SET:
            self._members.pop(key, None)
        if tables & VALUE:
            self._hold(key, self._values, None)
        if tables & HASHED_SET:
            self._hold(key, self._hashed, None)
        if not tables & SIDED_RECORD:
            return
        found = self._home(key)
        place = None if found is None else _guest(found[0], key)
        if place is not None:  # a guest alone, not its host nor the host's other guests
            lodger = place[0].records.get(place[1])
            if lodger is not None:
                lodger.hold_guest(place[2], None)
                if lodger.empty():
                    place[0].drop(place[1])
        host = None if found is None else found[0].records.get(found[1])
        if host is not None:
            host.hold((), b"")
            if host.empty():
                found[0].drop(found[1])  # type: ignore[index]

    def close(self) -> None:
        self._counters.clear()
        self._members.clear()
        self._values.clear()
        self._hashed.clear()
        self._homes.clear()
        self._sides.clear()
        self._ids.clear()
        self._names.loose.clear()
        self._guests_read.clear()
        self._places.clear()
        self._sets_read.clear()
