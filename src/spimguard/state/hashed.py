"""Hashed member sets: what a set only ever asked Contains and Distinct needs to hold.

A contact list is asked whether someone is on it and how many are, never who: so its
members need not be kept by name. A hashed set (its keyspace declared with
``ops.hashed_keyspace``) is one packed value, the same bytes in every backend: the set's
time and TTL, then its members' 24-bit digests, sorted, as an Elias-Fano list (the
layout below).

``time`` is the set's last write's event time (never moved back by a late event) and
the set's one time: every member counts as touched then, and the whole set is gone
``ttl`` seconds after it (its expiry). A name with a time was ~20 bytes in Redis and a
pointer and a float in memory; a digest is 3 bytes, ~2.5 in this layout.

The digest is BLAKE2b keyed with a secret the store creates once for itself (Redis:
SET NX; SQLite: a row of its own), so every node of a shared deployment and a reopened
file hash alike, and a copy of the store carries its key. A digest only has to make a
stranger's false match rare, and chance is all that can make one: the key is secret, so
an attacker who reads this code, not the store, cannot compute any name's digest, nor
grind a name that matches a victim's contact. With b-bit digests a stranger passes for
one of a list's n contacts with probability n/2^b per question; 24 bits make that
3.3e-6 for an ordinary list (~56 contacts: one stranger's question in 300,000), 6e-4 for
a full one of 10,000. A false match is a stranger taken as listed: a "mutual contacts"
answer needs the sender's list to hold the recipient (the sender's own doing, true or
not) and the recipient's to hold the sender, so it is that one recipient's list's rate,
for that one question. Searching for a name that passes, by trying accounts on the
victim, costs ~2^24/n messages from as many accounts (300,000 for an ordinary list,
1,700 for a full one), each a stranger's that the other detectors see. Two members of
one set colliding share one digest: Distinct counts one less (a Remove of either
removes both, a touch finds the second already there). A list of n holds such a pair
with probability ~n(n-1)/2^25: 9e-5 for 56 contacts; a full list of 10,000 holds ~3
(Distinct 9,997).

The layout (session 38's): the set's time (a little-endian double, never negative: event
times are not, ``events.parse_ts``; -0 is stored as 0), its TTL (whole seconds, rounded up
and at most 2^32 - 1: a byte, its place in ``_TTLS`` from 1, or 0 and the seconds as a
little-endian unsigned 32-bit number), the count n of digests (7 bits a byte, low first,
the top bit set on all but the last: one byte under 128), then the digests as an
Elias-Fano list, its bits read from each byte's top bit down: each digest's low
``L = max(0, floor(log2(2^24 / n)))`` bits (``_low_bits``), in order, then its high
``24 - L`` bits h in unary, for each digest in order h - h' zeros and a one (h' the digest
before's, 0 for the first); zero bits to the byte's end, and one zero byte more where the
value's length would otherwise be a multiple of 8. So a set of n is exactly

    8 + (1 or 5) + ceil(log128(n + 1)) + ceil((n * (L + 1) + h_last) / 8) (+ 1 in 8)

bytes, h_last < 2^(24 - L) < 2n: at most n * (L + 3) / 8 for its digests, ~ n * (L + 2) /
8 for uniform ones (a list of 55: L = 18, ~20.1 bits a digest, 149 bytes where the 3-byte
layout took 177; the template's lists, ``benchmarks/memory.py``: 148 bytes an account
where 177, with their length). L is the best width: with x = 2^24 / (n 2^L)
in [1, 2), a digest costs L + 1 + x bits, where L + 1 would cost L + 2 + x/2 (more while
x < 2) and L - 1 would cost L + 2x. The TTL's table (``_TTLS``) holds the two a contact
list is written with (``accounts.CONTACTS_TTL``, ``ops.FOREVER``): any other, or another release's
constants, takes the 4-byte escape, exact as before, so the table is part of the layout,
never a setting. A Contains decodes the set once (``_read``: kept by its bytes, and
``pack`` keeps what it wrote) and bisects the digests: O(n) a set's first question,
O(log n) each after; a set's bytes are never searched for a digest, so none is found
across two members' bits.

The digest is the low 3 bytes of the keyed 8-byte BLAKE2b. The earlier layouts, which
``current`` converts without the names: the first (``_OLD_HEADER``: time and TTL as two
doubles, then 8-byte digests: 16 + 8n bytes); the 4-byte one (``HEADER``: minus the time
and the TTL as a 32-bit number, then 4-byte little-endian digests, sorted: 12 + 4n); and
the 3-byte one (``HEADER``, then 3-byte big-endian digests, sorted, and a zero byte where
the length is a multiple of 4: 12 + 3n, never a multiple of 4). Told apart by the top bit
of byte 7, the time's sign, and the length: set in the 4- and 3-byte layouts (minus a
time, -0 included), which a length of a multiple of 4 or not tells apart; clear in the
first and in this one (a time), whose lengths are a multiple of 8 and never one (the
pad). Every length from 10 up is some layout's, so a value's layout is never guessed,
and each reader checks the rest (``_decode``: the count of ones, the length, the order).

Session 37's release (``current``, and its Lua ``converted``) reads this layout as the
first: its Python fails on every such value (a view of a length not a multiple of 8 cast
to 8-byte numbers: TypeError; a value under 16 bytes: struct.error), its Lua would not,
so a Redis store is marked (``redis._ELIAS``) and refused by such a node at open, and
a SQLite file loses session 37's mark (``sqlite._DIGESTS_CUT``), so such a node converts
at open and fails there. The TTL is stored rounded up to whole seconds (a set never goes
early; every TTL in use is whole seconds, kept exactly) and at most 2^32 - 1 seconds
(136 years, so the set outlives every event time, 2100 at the latest, as it would with
any longer TTL).

A touch past the set's cap adds no more members (the digests keep no ages, so there is
no stalest to drop): members already on a list stay on it, whoever touches it next;
which of one touch's new members still fit goes by name, as in every backend.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import accumulate, chain, repeat
from operator import lshift, lt, or_
from typing import Any

from .ops import Contains, Distinct, is_hashed

_TIME = struct.Struct("<d")  # the set's time
_ESCAPED = struct.Struct("<I")  # a TTL not in ``_TTLS``, after the code 0
# The TTLs a code of one byte stands for (1, 2, ...), in whole seconds: the contact list's
# (``accounts.CONTACTS_TTL``, 365 days: a Contacts event's Replace) and Matrix's invites'
# (``ops.FOREVER``, 100 years). Part of the layout: a code means these seconds for ever.
_TTLS = (31_536_000, 3_153_600_000)
_CODES = {ttl: code for code, ttl in enumerate(_TTLS, 1)}
HEADER = struct.Struct("<dI")  # the 4- and 3-byte layouts': minus the set's time, its TTL
_OLD_HEADER = struct.Struct("<dd")  # the first layout's: the set's time, its TTL
_MARK = 0x80  # byte 7's top bit: the time's sign, set where an earlier layout held minus it
_BITS = 24  # a member's digest: an unsigned 24-bit number
_LOW = (1 << _BITS) - 1  # a digest of the keyed 8-byte BLAKE2b: its low 3 bytes
_WIDTH = 3  # bytes of a digest as a touch or question sends it (``packed``), and as the
# 3-byte layout held it: big-endian
_MAX_TTL = (1 << 32) - 1  # seconds: a TTL's unsigned 32 bits
KEY_BYTES = 16
# Members of a touch past which the set's digests are put in a Python set once (~0.1 µs a
# member) rather than bisected for each: a list sent whole.
_ASKED = 32
_REMEMBERED = 4_096  # names whose digests a hasher keeps (they recur: senders, recipients)
# Sets whose decoded digests are kept (``_read``), by their bytes: a message asks its
# sender's list and each recipient's, which change far less often than they are asked.
# ~0.6 KB each for a list of 55 (its bytes, the array, the tuple): ~2.5 MB at most.
_DECODED_KEPT = 4_096
# ... and their bytes and digests' arrays at most (cleared past it), as a count alone
# would let full lists (10,000: ~15 KB and a 40 KB array each) hold ~225 MB: 4,096 lists
# of 55 take ~1.6 MB of it, so ordinary lists are kept as many as before (``review38``).
_DECODED_BYTES = 4 << 20
_NONE = array("I")  # no digests
Decoded = tuple[float, float, "array[int]"]  # a set's time, expiry and sorted digests
_CHUNK = 128  # digests encoded in one number (``_body``): ~3,000 bits at most


class CorruptSet(ValueError):
    """A stored hashed set whose bytes are no set of any layout: refused, never guessed."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class Hasher:
    """Member names to digests (as numbers), under one store's key."""

    __slots__ = ("_keyed", "known")

    def __init__(self, key: bytes) -> None:
        # Copied for each name: a copy costs ~40 % less than keying a new hash. Eight
        # bytes, as the first layout's digests, of which a digest keeps the low three.
        self._keyed = hashlib.blake2b(digest_size=8, key=key)
        # A message's sender is asked about in each recipient's list, and again by the
        # next detector: its digest is looked up, not remade (emptied when full, never
        # replaced: a store's hot read looks a name up in it inline, ``known.get``).
        self.known: dict[str, int] = {}

    def digest(self, name: str) -> int:
        known = self.known.get(name)
        if known is not None:
            return known
        hashed = self._keyed.copy()
        # surrogatepass: a name is whatever JSON decoded, lone surrogates included.
        hashed.update(name.encode("utf-8", "surrogatepass"))
        if len(self.known) >= _REMEMBERED:
            self.known.clear()
        known = self.known[name] = int.from_bytes(hashed.digest(), "little") & _LOW
        return known

    def fresh(self, names: Iterable[str]) -> list[int]:
        """Digests of ``names`` in name order, each once: the order a cap admits them."""
        return list(dict.fromkeys(self.digest(n) for n in sorted(set(names))))


def listable(key: str) -> None:
    """Raise if the set at ``key`` is hashed: its members have no names to list."""
    if is_hashed(key):
        raise TypeError(f"the member set {key!r} keeps hashes, not names: it cannot be listed "
                        "(ask Contains or Distinct)")


def packed(digests: Sequence[int]) -> bytes:
    """Digests as a touch or a question sends them to Redis's scripts: 3 bytes each,
    big-endian, in the order given."""
    return b"".join(d.to_bytes(_WIDTH, "big") for d in digests)


def _low_bits(n: int) -> int:
    """L of a list of n >= 1: floor(log2(2^24 / n)), 24 - ceil(log2 n), at least 0."""
    return max(0, _BITS - (n - 1).bit_length())


def _stored_ttl(ttl: float) -> int:
    """A TTL as the header holds it (the module's docstring: rounded up, bounded)."""
    return max(math.ceil(min(ttl, _MAX_TTL)), 0)


def _header(time: float, ttl: float) -> bytes:
    if not 0 <= time < math.inf:
        raise ValueError(f"a hashed set's time is never negative, NaN or infinite: {time!r}")
    seconds = _stored_ttl(ttl)
    code = _CODES.get(seconds)
    if code:
        return _TIME.pack(time + 0.0) + bytes((code,))  # + 0.0: -0 stored as 0
    return _TIME.pack(time + 0.0) + b"\0" + _ESCAPED.pack(seconds)


def _count(n: int) -> bytes:
    """n in 7 bits a byte, low first, the top bit set on all but the last."""
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _body(digests: Sequence[int]) -> bytes:
    """The count and the Elias-Fano bits of sorted, distinct ``digests``. Each digest's low
    bits and unary rise are shifted into two numbers, ``_CHUNK`` digests at a time (so a
    number stays short and a full list costs O(n L), not O(n^2 L)), each then spelt in
    binary: one loop of integer steps a digest, which callgrind counted at 129k
    instructions for 55 digests, where formatting each digest's bits as a string (or
    numpy's arrays) cost 294k (143k)."""
    n = len(digests)
    if not n:
        return b"\0"
    if digests[-1] > _LOW or digests[0] < 0:
        raise ValueError("a digest is an unsigned 24-bit number")
    low = _low_bits(n)
    mask, lows, rises, last = (1 << low) - 1, [], [], 0
    for at in range(0, n, _CHUNK):
        chunk, lo, up, first = digests[at:at + _CHUNK], 0, 0, last
        for d in chunk:
            high = d >> low
            lo, up, last = lo << low | d & mask, up << (high - last + 1) | 1, high
        if low:
            lows.append(format(lo, f"0{low * len(chunk)}b"))
        rises.append(format(up, f"0{last - first + len(chunk)}b"))
    bits = "".join(lows) + "".join(rises)
    bits += "0" * (-len(bits) % 8)
    return _count(n) + int(bits, 2).to_bytes(len(bits) // 8, "big")


def _padded(blob: bytes) -> bytes:
    """A set's bytes, a zero byte added where their length is a multiple of 8 (the first
    layout's lengths: the module's docstring)."""
    return blob + b"\0" if len(blob) % 8 == 0 else blob


def pack(time: float, ttl: float, digests: Iterable[int]) -> bytes:
    held = sorted(set(digests))
    blob = _padded(_header(time, ttl) + _body(held))
    stored = time + 0.0
    _keep(blob, (stored, stored + _stored_ttl(ttl), array("I", held)))
    return blob


def _head(blob: bytes) -> tuple[float, int, int, int]:
    """The set's time, its TTL in seconds, its count of digests and where its bits start;
    a count past what the length can hold refused here (a touch that adds nothing copies
    the bits unread: ``touched``)."""
    if len(blob) < 10:
        raise CorruptSet(f"a hashed set of {len(blob)} bytes: 10 at least")
    (time,), code = _TIME.unpack_from(blob), blob[8]
    if not 0 <= time < math.inf:  # NaN (never expired, never counted) or infinite
        raise CorruptSet(f"a hashed set's time {time!r} is no event time")
    if code:
        if code > len(_TTLS):
            raise CorruptSet(f"a hashed set's TTL code {code} stands for no TTL")
        ttl, at = _TTLS[code - 1], 9
    elif len(blob) < 13:
        raise CorruptSet(f"a hashed set's TTL runs past its end ({len(blob)} bytes)")
    else:
        (ttl,), at = _ESCAPED.unpack_from(blob, 9), 13
    n = shift = 0
    while True:
        if at >= len(blob):
            raise CorruptSet("a hashed set's count runs past its end")
        byte = blob[at]
        n, shift, at = n | (byte & 0x7F) << shift, shift + 7, at + 1
        if byte < 0x80:
            if n > 8 * len(blob):  # a digest costs a bit at least
                raise CorruptSet(f"a hashed set of {len(blob)} bytes cannot hold {n} digests")
            return time, ttl, n, at


def _decode(blob: bytes) -> Decoded:
    """The set's time, expiry and digests (sorted), checked: exactly n ones in the unary
    part, every high part under 2^(24 - L), the digests increasing and the length the one
    they make (so no bit, byte or pad is left unread). O(n L), in C but for the checks."""
    time, ttl, n, at = _head(blob)
    if blob[7] & _MARK or len(blob) % 8 == 0:
        raise CorruptSet("a hashed set of an earlier layout read as this one's")
    low = _low_bits(n)
    payload = blob[at:]
    bits = format(int.from_bytes(payload, "big"), f"0{8 * len(payload)}b") if payload else ""
    cut = n * low
    runs = bits[cut:].split("1")
    highs = list(accumulate(map(len, runs[:n])))
    used = cut + n + (highs[-1] if n else 0)
    size = at + (used + 7) // 8
    size += size % 8 == 0
    if (len(runs) != n + 1 or size != len(blob) or (n and highs[-1] >> (_BITS - low))
            or (size > at + (used + 7) // 8 and blob[-1])):
        raise CorruptSet(f"a hashed set's bits are not the {n} digests its count says")
    lows = map(int, map(bits.__getitem__, map(slice, range(0, cut, low), range(
        low, cut + low, low))), repeat(2)) if low else repeat(0)
    digests = array("I", map(or_, map(lshift, highs, repeat(low)), lows))
    if not all(map(lt, digests, digests[1:])):
        raise CorruptSet("a hashed set's digests are not increasing")
    return time, time + ttl, digests


_decoded: dict[bytes, Decoded] = {}
_decoded_bytes = 0  # the kept sets' bytes and arrays' (``_DECODED_BYTES``)


def _keep(blob: bytes, read: Decoded) -> None:
    global _decoded_bytes
    size = len(blob) + read[2].itemsize * len(read[2])
    if len(_decoded) >= _DECODED_KEPT or _decoded_bytes + size > _DECODED_BYTES:
        _decoded.clear()
        _decoded_bytes = 0
    if blob not in _decoded:
        _decoded_bytes += size
    _decoded[blob] = read


def _read(blob: bytes) -> Decoded:
    """``_decode``'s answer, kept by the set's bytes (``_DECODED_KEPT``)."""
    found = _decoded.get(blob)
    if found is None:
        found = _decode(blob)
        _keep(blob, found)
    return found


def current(blob: bytes) -> bytes:
    """The stored set in this layout: one of an earlier layout converted (its digests cut
    to their low 3 bytes, the digests this layout makes of the same names)."""
    if len(blob) < 8:
        raise CorruptSet(f"a hashed set of {len(blob)} bytes: 10 at least")
    if not blob[7] & _MARK:
        if len(blob) % 8:
            return blob
        time, ttl = _OLD_HEADER.unpack_from(blob)
        digests = _numbers(memoryview(blob)[_OLD_HEADER.size:], "Q")
    else:
        minus, ttl = HEADER.unpack_from(blob)
        time, body = -minus, memoryview(blob)[HEADER.size:]
        if len(blob) % 4:
            digests = [int.from_bytes(body[at:at + _WIDTH], "big")
                       for at in range(0, len(body) - _WIDTH + 1, _WIDTH)]
        else:
            digests = _numbers(body, "I")
    return pack(time, ttl, (d & _LOW for d in digests))


def _numbers(body: memoryview, code: str) -> Sequence[int]:
    """Little-endian unsigned numbers of the array type ``code`` ("I": 4 bytes on every
    platform CPython runs on, "Q": 8): a view of the bytes where the host is
    little-endian."""
    if sys.byteorder == "little":
        # typeshed's cast takes only a literal format: ``code`` is "I" or "Q".
        return body.cast(code)  # type: ignore[call-overload]
    values = array(code)
    values.frombytes(body)  # ``array(code, body)`` would take each byte as a number
    values.byteswap()
    return values


def expiry(blob: bytes) -> float:
    time, ttl, _, _ = _head(blob)
    return time + ttl


def _touched_at(blob: bytes | None, now: float) -> float | None:
    """The live set's time, or None when there is no set or it has expired by ``now``."""
    if blob is None:
        return None
    time, ttl, _, _ = _head(blob)
    return time if time + ttl > now else None


def live(blob: bytes | None, now: float) -> bool:
    return _touched_at(blob, now) is not None


def answer(query: Contains | Distinct, blob: bytes | None, hasher: Hasher,
           now: float) -> Any:
    """A ``Contains`` or ``Distinct`` of the hashed set ``blob``, as every backend answers."""
    if isinstance(query, Distinct):
        return distinct(blob, query.window, now)
    return contains(blob, [hasher.digest(m) for m in query.members], now)


def read(blob: bytes) -> Decoded:
    """The set's time, expiry and sorted digests (``_decode``), kept by its bytes: what a
    store that remembers a set's decoding by key holds (``memory.MemoryState._set_read``)."""
    return _decoded.get(blob) or _read(blob)


def contains(blob: bytes | None, digests: Sequence[int], now: float) -> tuple[bool, ...]:
    """For each digest, whether it is in the set as of ``now``: a bisection in C each."""
    if blob is None:
        return (False,) * len(digests)
    return contains_read(_decoded.get(blob) or _read(blob), digests, now)


def contains_read(read: Decoded, digests: Sequence[int], now: float) -> tuple[bool, ...]:
    """``contains`` of a set as ``read`` gave it."""
    if read[1] <= now:
        return (False,) * len(digests)
    return _found(read[2], digests)


def _found(held: array[int], digests: Sequence[int]) -> tuple[bool, ...]:
    """For each digest, whether the sorted ``held`` has it: a bisection in C each."""
    n = len(held)
    if len(digests) == 1:  # most questions: one recipient's list, or one sender's
        at = bisect_left(held, digests[0])
        return (at < n and held[at] == digests[0],)
    return _each_found(held, digests)


def _each_found(held: array[int], digests: Sequence[int]) -> tuple[bool, ...]:
    """``_found`` of several digests. Apart from it: a comprehension reading ``held`` and
    ``n`` there made them cells at its every call, the common one's of one digest too."""
    n = len(held)
    return tuple(at < n and held[at] == d
                 for d, at in zip(digests, map(bisect_left, repeat(held), digests), strict=True))


def distinct(blob: bytes | None, window: float, now: float) -> int:
    """Members touched in the last ``window`` seconds: all or none, as they share a time."""
    if blob is None:
        return 0
    return distinct_read(_decoded.get(blob) or _read(blob), window, now)


def distinct_read(read: Decoded, window: float, now: float) -> int:
    """``distinct`` of a set as ``read`` gave it."""
    time, end, held = read
    return len(held) if end > now and time > now - window else 0


def _unpadded(blob: bytes) -> int:
    """The set's length but for its pad byte: the last byte of n >= 1 digests' bits holds
    the last one, so a zero byte last after a length of a multiple of 8 is the pad (n = 0
    is 10 or 14 bytes, never padded)."""
    return len(blob) - (len(blob) % 8 == 1 and blob[-1] == 0)


def touched(blob: bytes | None, fresh: Sequence[int], now: float, ttl: float,
            cap: int) -> bytes:
    """The set with ``fresh`` (``Hasher.fresh``) added while under ``cap``, its time moved
    to ``now`` if later and its TTL the touch's: O(n + k log n) where it grows; where it
    does not (full, or nothing new), its header alone is rewritten, its bits copied."""
    time = _touched_at(blob, now)
    if blob is None or time is None:
        time, held, body = now, _NONE, b"\0"
    else:
        time, held = max(time, now), _read(blob)[2]
        body = blob[9 if blob[8] else 13:_unpadded(blob)]  # the count and bits, as they are
    room = cap - len(held)
    if room > 0 and fresh:
        if len(fresh) > _ASKED:
            known = set(held)
            new = [d for d in fresh if d not in known]
        else:
            new = [d for d, there in zip(fresh, _found(held, fresh), strict=True) if not there]
        if new:
            return pack(time, ttl, chain(held, new[:room]))
    return _padded(_header(time, ttl) + body)


def without(blob: bytes, gone: Iterable[int]) -> bytes:
    drop = set(gone)
    time, ttl, _, _ = _head(blob)
    return pack(time, ttl, (d for d in _read(blob)[2] if d not in drop))
