"""Hashed member sets: what a set only ever asked Contains and Distinct needs to hold.

A contact list is asked whether someone is on it and how many are, never who: so its
members need not be kept by name. A hashed set (its keyspace declared with
``ops.hashed_keyspace``) is one packed value, the same bytes in every backend:

    minus the set's time (a little-endian double), its TTL (whole seconds, a
    little-endian unsigned 32-bit number), then each member's 3-byte digest, sorted
    (big-endian unsigned 24-bit numbers, so their bytes sort as the numbers do), and
    one zero byte more where the value's length would otherwise be a multiple of 4

``time`` is the set's last write's event time (never moved back by a late event) and
the set's one time: every member counts as touched then, and the whole set is gone
``ttl`` seconds after it (its expiry). A name with a time was ~20 bytes in Redis and a
pointer and a float in memory; a digest is 3.

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

The digest is the low 3 bytes of the keyed 8-byte BLAKE2b, which the earlier layouts
kept whole (``_OLD_HEADER``: time and TTL as two doubles, then 8-byte digests) and as its
low 4 bytes (this header, then 4-byte little-endian digests, sorted): so a set of either
converts without its names (``current``). The header holds minus the time, never the
time itself as the first layout did, which was never negative (event times are not:
``events.parse_ts``): the sign bit, the top bit of byte 7, tells that layout apart
whatever its length. The 4-byte layout's length is a multiple of 4 (12 + 4n), this
one's never is (12 + 3n, and the zero byte where 3n is: ``_padded``), so the length
tells those two apart. The TTL is stored rounded up to whole seconds (a set never goes
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
from typing import Any

from .ops import Contains, Distinct, is_hashed

HEADER = struct.Struct("<dI")  # minus the set's time, its TTL in whole seconds
_OLD_HEADER = struct.Struct("<dd")  # the first layout's: the set's time, its TTL
_MARK = 0x80  # byte 7's top bit: the sign of minus the time here, clear in the first layout
_WIDTH = 3  # bytes of a member's digest: a big-endian unsigned 24-bit number
_LOW = (1 << 8 * _WIDTH) - 1  # a digest of the keyed 8-byte BLAKE2b: its low 3 bytes
_FOUR = (1 << 32) - 1  # the 4-byte layout's digests: the low 4 bytes
_MAX_TTL = (1 << 32) - 1  # seconds: a TTL's unsigned 32 bits
KEY_BYTES = 16
# Members of a set searched whole in C (``_has``): past them a bisection's slices cost less
# than the scan (measured per question: 256 members 0.7 µs scanned, 2.4 bisected; 2,048:
# 4.8, 4.0; 4,096: 9.5, 4.3).
_SCANNED = 2_048
# Members of a touch past which the set's digests are put in a Python set once (~0.1 µs a
# member) rather than searched for each (~2.3 ns a member a question): a list sent whole.
_ASKED = 32
_REMEMBERED = 4_096  # names whose digests a hasher keeps (they recur: senders, recipients)


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class Hasher:
    """Member names to digests (as numbers), under one store's key."""

    __slots__ = ("_keyed", "_known")

    def __init__(self, key: bytes) -> None:
        # Copied for each name: a copy costs ~40 % less than keying a new hash. Eight
        # bytes, as the first layout's digests, of which a digest keeps the low three.
        self._keyed = hashlib.blake2b(digest_size=8, key=key)
        # A message's sender is asked about in each recipient's list, and again by the
        # next detector: its digest is looked up, not remade (emptied when full).
        self._known: dict[str, int] = {}

    def digest(self, name: str) -> int:
        known = self._known.get(name)
        if known is not None:
            return known
        hashed = self._keyed.copy()
        # surrogatepass: a name is whatever JSON decoded, lone surrogates included.
        hashed.update(name.encode("utf-8", "surrogatepass"))
        if len(self._known) >= _REMEMBERED:
            self._known.clear()
        known = self._known[name] = int.from_bytes(hashed.digest(), "little") & _LOW
        return known

    def fresh(self, names: Iterable[str]) -> list[int]:
        """Digests of ``names`` in name order, each once: the order a cap admits them."""
        return list(dict.fromkeys(self.digest(n) for n in sorted(set(names))))


def listable(key: str) -> None:
    """Raise if the set at ``key`` is hashed: its members have no names to list."""
    if is_hashed(key):
        raise TypeError(f"the member set {key!r} keeps hashes, not names: it cannot be listed "
                        "(ask Contains or Distinct)")


def _bytes(digest: int) -> bytes:
    return digest.to_bytes(_WIDTH, "big")


def packed(digests: Sequence[int]) -> bytes:
    """Digests as the stored form holds them, in the order given (no header, no pad)."""
    return b"".join(map(_bytes, digests))


def _padded(blob: bytes) -> bytes:
    """A set's header and digests, a zero byte added where their length is a multiple of
    4 (the 4-byte layout's lengths: the module's docstring)."""
    return blob + b"\0" if len(blob) % 4 == 0 else blob


def _stored_ttl(ttl: float) -> int:
    """A TTL as the header holds it (the module's docstring: rounded up, bounded)."""
    return max(math.ceil(min(ttl, _MAX_TTL)), 0)


def _header(time: float, ttl: float) -> bytes:
    return HEADER.pack(-time, _stored_ttl(ttl))


def pack(time: float, ttl: float, digests: Iterable[int]) -> bytes:
    return _padded(_header(time, ttl) + packed(sorted(set(digests))))


def current(blob: bytes) -> bytes:
    """The stored set in this layout: one of an earlier layout converted (its digests cut
    to their low 3 bytes, the digests this layout makes of the same names)."""
    if blob[7] & _MARK:
        if len(blob) % 4:
            return blob
        time, ttl = HEADER.unpack_from(blob)
        time, code = -time, "I"
    else:
        time, ttl = _OLD_HEADER.unpack_from(blob)
        code = "Q"
    body = memoryview(blob)[HEADER.size if code == "I" else _OLD_HEADER.size:]
    return pack(time, ttl, (d & _LOW for d in _numbers(body, code)))


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


def _count(blob: bytes) -> int:
    return (len(blob) - HEADER.size) // _WIDTH  # the pad byte, if any, is no digest


def _end(blob: bytes) -> int:
    return HEADER.size + _WIDTH * _count(blob)


def _has(blob: bytes, end: int, digest: bytes) -> bool:
    """Whether ``digest`` is one of the set's: found in C where a member starts (a match
    straddling two members is none) in a set of up to ``_SCANNED``, bisected in a larger
    one (a scan alone made a full list of 10,000 sent again take 132 ms, 20 times the
    4-byte layout's bisection: review, session 30)."""
    if end - HEADER.size > _WIDTH * _SCANNED:
        n = (end - HEADER.size) // _WIDTH
        at = bisect_left(range(n), digest, key=lambda i: _member(blob, i))
        return at < n and _member(blob, at) == digest
    at = blob.find(digest, HEADER.size, end)
    while at >= 0:
        if (at - HEADER.size) % _WIDTH == 0:
            return True
        at = blob.find(digest, at + 1, end)
    return False


def _member(blob: bytes, i: int) -> bytes:
    return blob[HEADER.size + _WIDTH * i:HEADER.size + _WIDTH * (i + 1)]


def _held(blob: bytes) -> list[bytes]:
    """A set's digests' bytes, sorted (as their numbers are)."""
    return [blob[at:at + _WIDTH] for at in range(HEADER.size, _end(blob), _WIDTH)]


def expiry(blob: bytes) -> float:
    minus, ttl = HEADER.unpack_from(blob)
    return ttl - minus


def _touched_at(blob: bytes | None, now: float) -> float | None:
    """The live set's time, or None when there is no set or it has expired by ``now``."""
    if blob is None:
        return None
    minus, ttl = HEADER.unpack_from(blob)
    return -minus if ttl - minus > now else None


def live(blob: bytes | None, now: float) -> bool:
    return _touched_at(blob, now) is not None


def answer(query: Contains | Distinct, blob: bytes | None, hasher: Hasher,
           now: float) -> Any:
    """A ``Contains`` or ``Distinct`` of the hashed set ``blob``, as every backend answers."""
    if isinstance(query, Distinct):
        return distinct(blob, query.window, now)
    return contains(blob, [hasher.digest(m) for m in query.members], now)


def contains(blob: bytes | None, digests: Sequence[int], now: float) -> tuple[bool, ...]:
    """For each digest, whether it is in the set as of ``now``: a search in C each."""
    if blob is None or _touched_at(blob, now) is None:
        return (False,) * len(digests)
    end = _end(blob)
    return tuple(_has(blob, end, _bytes(d)) for d in digests)


def distinct(blob: bytes | None, window: float, now: float) -> int:
    """Members touched in the last ``window`` seconds: all or none, as they share a time."""
    time = _touched_at(blob, now)
    if blob is None or time is None or time <= now - window:
        return 0
    return _count(blob)


def touched(blob: bytes | None, fresh: Sequence[int], now: float, ttl: float,
            cap: int) -> bytes:
    """The set with ``fresh`` (``Hasher.fresh``) added while under ``cap``, its time moved
    to ``now`` if later and its TTL the touch's: O(n + k log n), one copy of the set."""
    time = _touched_at(blob, now)
    if blob is None or time is None:
        time, blob = now, _header(now, ttl)
    else:
        time = max(time, now)
    end, room = _end(blob), cap - _count(blob)
    if len(fresh) > _ASKED:
        held = set(_held(blob))
        new = [d for d in map(_bytes, fresh) if d not in held]
    else:
        new = [d for d in map(_bytes, fresh) if not _has(blob, end, d)]
    # Past the cap, the new members that fit are the first by name, not by digest.
    added = new[:max(room, 0)]
    if not added:
        return _padded(_header(time, ttl) + blob[HEADER.size:end])
    return _padded(b"".join([_header(time, ttl), *sorted(_held(blob) + added)]))


def without(blob: bytes, gone: Iterable[int]) -> bytes:
    drop = set(map(_bytes, gone))
    return _padded(b"".join([blob[:HEADER.size], *(d for d in _held(blob) if d not in drop)]))
