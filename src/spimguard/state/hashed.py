"""Hashed member sets: what a set only ever asked Contains and Distinct needs to hold.

A contact list is asked whether someone is on it and how many are, never who: so its
members need not be kept by name. A hashed set (its keyspace declared with
``ops.hashed_keyspace``) is one packed value, the same bytes in every backend:

    time, ttl (two little-endian doubles), then each member's 8-byte digest, sorted

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
from collections.abc import Iterable, Sequence

from .ops import is_hashed

HEADER = struct.Struct("<dd")  # the set's time and TTL
_WIDTH = 8  # bytes of a member's digest
KEY_BYTES = 16


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class Hasher:
    """Member names to digests, under one store's key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, name: str) -> bytes:
        # surrogatepass: a name is whatever JSON decoded, lone surrogates included.
        return hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=_WIDTH,
                               key=self._key).digest()

    def fresh(self, names: Iterable[str]) -> list[bytes]:
        """Digests of ``names`` in name order, each once: the order a cap admits them."""
        return list(dict.fromkeys(self.digest(n) for n in sorted(set(names))))


def listable(key: str) -> None:
    """Raise if the set at ``key`` is hashed: its members have no names to list."""
    if is_hashed(key):
        raise TypeError(f"the member set {key!r} keeps hashes, not names: it cannot be listed "
                        "(ask Contains or Distinct)")


def pack(time: float, ttl: float, digests: Iterable[bytes]) -> bytes:
    return HEADER.pack(time, ttl) + b"".join(sorted(set(digests)))


def size(blob: bytes) -> int:
    return (len(blob) - HEADER.size) // _WIDTH


def expiry(blob: bytes) -> float:
    time, ttl = HEADER.unpack_from(blob)
    return time + ttl


def _at(blob: bytes, index: int) -> bytes:
    start = HEADER.size + index * _WIDTH
    return blob[start:start + _WIDTH]


def _position(blob: bytes, digest: bytes) -> int:
    """Where ``digest`` is, or would go, among the sorted digests (bisect_left)."""
    low, high = 0, size(blob)
    while low < high:
        middle = (low + high) // 2
        if _at(blob, middle) < digest:
            low = middle + 1
        else:
            high = middle
    return low


def _has(blob: bytes, digest: bytes) -> bool:
    at = _position(blob, digest)
    return at < size(blob) and _at(blob, at) == digest


def live(blob: bytes | None, now: float) -> bool:
    return blob is not None and expiry(blob) > now


def contains(blob: bytes | None, digests: Sequence[bytes], now: float) -> tuple[bool, ...]:
    """For each digest, whether it is in the set as of ``now``: O(log n) each."""
    if blob is None or not live(blob, now):
        return (False,) * len(digests)
    return tuple(_has(blob, d) for d in digests)


def distinct(blob: bytes | None, window: float, now: float) -> int:
    """Members touched in the last ``window`` seconds: all or none, as they share a time."""
    if blob is None or not live(blob, now) or HEADER.unpack_from(blob)[0] <= now - window:
        return 0
    return size(blob)


def touched(blob: bytes | None, fresh: Sequence[bytes], now: float, ttl: float,
            cap: int) -> bytes:
    """The set with ``fresh`` (``Hasher.fresh``) added while under ``cap``, its time moved
    to ``now`` if later and its TTL the touch's: O(n + k log n), one copy of the set."""
    time = now
    if blob is not None and live(blob, now):
        time = max(HEADER.unpack_from(blob)[0], now)
    else:
        blob = HEADER.pack(now, ttl)
    # Past the cap, the new members that fit are the first by name, not by digest.
    added = sorted([d for d in fresh if not _has(blob, d)][:max(cap - size(blob), 0)])
    parts, start = [HEADER.pack(time, ttl)], HEADER.size
    for digest in added:
        cut = HEADER.size + _position(blob, digest) * _WIDTH
        parts += [blob[start:cut], digest]
        start = cut
    parts.append(blob[start:])
    return b"".join(parts)


def without(blob: bytes, gone: Iterable[bytes]) -> bytes:
    drop = set(gone)
    kept = (_at(blob, i) for i in range(size(blob)))
    return blob[:HEADER.size] + b"".join(d for d in kept if d not in drop)
