"""Hashed member sets: what a set only ever asked Contains and Distinct needs to hold.

A contact list is asked whether someone is on it and how many are, never who: so its
members need not be kept by name. A hashed set (its keyspace declared with
``ops.hashed_keyspace``) is one packed value, the same bytes in every backend:

    time, ttl (two little-endian doubles), then each member's 8-byte digest, sorted
    (as little-endian unsigned 64-bit numbers)

``time`` is the set's last write's event time (never moved back by a late event) and
the set's one time: every member counts as touched then, and the whole set is gone
``ttl`` seconds after it (its expiry). A name with a time was ~20 bytes in Redis and a
pointer and a float in memory; a digest is 8.

The digest is BLAKE2b keyed with a secret the store creates once for itself (Redis:
SET NX; SQLite: a row of its own), so every node of a shared deployment and a reopened
file hash alike, and a copy of the store carries its key. An attacker who reads this
code, not the store, cannot name an account whose digest collides with a victim's
contact (a 64-bit collision by chance among 10,000 contacts is ~3e-12).

A touch past the set's cap adds no more members (the digests keep no ages, so there is
no stalest to drop): members already on a list stay on it, whoever touches it next;
which of one touch's new members still fit goes by name, as in every backend.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

from .ops import Contains, Distinct, is_hashed

HEADER = struct.Struct("<dd")  # the set's time and TTL
_WIDTH = 8  # bytes of a member's digest: a little-endian unsigned 64-bit number
KEY_BYTES = 16
_REMEMBERED = 4_096  # names whose digests a hasher keeps (they recur: senders, recipients)


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class Hasher:
    """Member names to digests (as numbers), under one store's key."""

    __slots__ = ("_keyed", "_known")

    def __init__(self, key: bytes) -> None:
        # Copied for each name: a copy costs ~40 % less than keying a new hash.
        self._keyed = hashlib.blake2b(digest_size=_WIDTH, key=key)
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
        known = self._known[name] = int.from_bytes(hashed.digest(), "little")
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
    """Digests in the stored form, in the order given."""
    return struct.pack(f"<{len(digests)}Q", *digests)


def pack(time: float, ttl: float, digests: Iterable[int]) -> bytes:
    return HEADER.pack(time, ttl) + packed(sorted(set(digests)))


def _digests(blob: bytes) -> Sequence[int]:
    """A set's digests, sorted: a view of its bytes where the host is little-endian (a
    bisection then costs no copy and runs in C)."""
    body = memoryview(blob)[HEADER.size:]
    if sys.byteorder == "little":
        return body.cast("Q")
    values = array("Q")
    values.frombytes(body)  # ``array("Q", body)`` would take each byte as a number
    values.byteswap()
    return values


def _has(digests: Sequence[int], digest: int) -> bool:
    at = bisect_left(digests, digest)
    return at < len(digests) and digests[at] == digest


def expiry(blob: bytes) -> float:
    time, ttl = HEADER.unpack_from(blob)
    return time + ttl


def _touched_at(blob: bytes | None, now: float) -> float | None:
    """The live set's time, or None when there is no set or it has expired by ``now``."""
    if blob is None:
        return None
    time, ttl = HEADER.unpack_from(blob)
    return time if time + ttl > now else None


def live(blob: bytes | None, now: float) -> bool:
    return _touched_at(blob, now) is not None


def answer(query: Contains | Distinct, blob: bytes | None, hasher: Hasher,
           now: float) -> Any:
    """A ``Contains`` or ``Distinct`` of the hashed set ``blob``, as every backend answers."""
    if isinstance(query, Distinct):
        return distinct(blob, query.window, now)
    return contains(blob, [hasher.digest(m) for m in query.members], now)


def contains(blob: bytes | None, digests: Sequence[int], now: float) -> tuple[bool, ...]:
    """For each digest, whether it is in the set as of ``now``: O(log n) each."""
    if blob is None or _touched_at(blob, now) is None:
        return (False,) * len(digests)
    held = _digests(blob)
    return tuple(_has(held, d) for d in digests)


def distinct(blob: bytes | None, window: float, now: float) -> int:
    """Members touched in the last ``window`` seconds: all or none, as they share a time."""
    time = _touched_at(blob, now)
    if blob is None or time is None or time <= now - window:
        return 0
    return (len(blob) - HEADER.size) // _WIDTH


def touched(blob: bytes | None, fresh: Sequence[int], now: float, ttl: float,
            cap: int) -> bytes:
    """The set with ``fresh`` (``Hasher.fresh``) added while under ``cap``, its time moved
    to ``now`` if later and its TTL the touch's: O(n + k log n), one copy of the set."""
    time = _touched_at(blob, now)
    if blob is None or time is None:
        time, blob = now, HEADER.pack(now, ttl)
    else:
        time = max(time, now)
    held = _digests(blob)
    # Past the cap, the new members that fit are the first by name, not by digest.
    added = sorted([d for d in fresh if not _has(held, d)][:max(cap - len(held), 0)])
    parts, start = [HEADER.pack(time, ttl)], HEADER.size
    for digest in added:
        cut = HEADER.size + bisect_left(held, digest) * _WIDTH
        parts += [blob[start:cut], packed((digest,))]
        start = cut
    parts.append(blob[start:])
    return b"".join(parts)


def without(blob: bytes, gone: Iterable[int]) -> bytes:
    drop = set(gone)
    return blob[:HEADER.size] + packed([d for d in _digests(blob) if d not in drop])
