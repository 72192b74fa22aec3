"""Session 38's review of the contact lists' Elias-Fano layout (``review38``): values no
layout holds, refused alike by Python and by Redis's scripts, with ``CorruptSet`` or a
script error naming the set corrupt, never read as a set nor answered from."""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from spimguard import accounts
from spimguard.errors import StateUnavailable
from spimguard.state import hashed
from spimguard.state.conformance import T0
from spimguard.state.ops import Contains, Touch


def _escaped_short() -> list[bytes]:
    """A time, the TTL escape code 0, and fewer than the 4 bytes of seconds it announces."""
    head = hashed.pack(T0, 7.5, [])[:9]
    assert head[8] == 0
    return [head + b"\x08", head + b"\x08\0", head + b"\x08\0\0"]


def _one_past_the_last(n: int) -> bytes:
    """A list of ``n`` whose last byte holds a one after its n-th (its unary part's end):
    the count says n, the bits hold n + 1 ones (a length the n make)."""
    for seed in range(100):  # the first draw whose last one does not end its byte
        held = random.Random(seed).sample(range(1 << 24), n)
        blob = bytearray(hashed.pack(T0, accounts.CONTACTS_TTL, held))
        last = len(blob) - 1 - (len(blob) % 8 == 1 and blob[-1] == 0)
        spare = (blob[last] & -blob[last]) >> 1  # the bit after the last one, if any
        if spare:
            blob[last] |= spare
            return bytes(blob)
    raise AssertionError(n)


def _large_cut_or_grown() -> list[tuple[str, bytes]]:
    """A list of 300 (past ``BIG``: searched in place) cut by a byte, or a byte of zeros
    or of a one more: its ones all there, its length not theirs."""
    blob = hashed.pack(T0, accounts.CONTACTS_TTL, random.Random(3).sample(range(1 << 24), 300))
    return [
        (name, b + b"\0" if len(b) % 8 == 0 else b)
        for name, b in (
            ("cut", blob[:-1]),
            ("zeros", blob + b"\0\0"),
            ("a high part past 2^(24 - L)", blob + b"\0\x00\0\0\0\0"),
        )
    ]


def test_python_refuses_a_ttl_cut_short_as_corrupt() -> None:
    """``_head`` read 4 bytes of seconds from a value of 10 to 12: ``struct.error``, where
    every other corrupt value gives ``CorruptSet``."""
    for blob in _escaped_short():
        hashed._decoded.clear()
        for use in (
            lambda b: hashed.contains(b, [1], T0),
            lambda b: hashed.expiry(b),
            lambda b: hashed.touched(b, [1], T0, 60.0, 10),
        ):
            with pytest.raises(hashed.CorruptSet):
                use(blob)


def _state(redis_url: str, ns: str) -> Any:
    from spimguard.state.redis import RedisState

    return RedisState(redis_url, ns)


def _refused(state: Any, raw: Any, ns: str, blob: bytes, *, touch: bool = True) -> None:
    key = accounts.contacts("@a:s")
    raw.set(ns + key, blob)
    with pytest.raises(StateUnavailable, match="corrupt"):
        state.read([Contains(key, ("@b:s",))], T0 + 1)
    if touch:
        with pytest.raises(StateUnavailable, match="corrupt"):
            state.write([Touch(key, ("@b:s",), 60.0, 100_000)], T0 + 1)
    assert raw.get(ns + key) == blob


def test_redis_refuses_a_one_past_the_last(redis_url: str, redis_namespace: str) -> None:
    """``hdigests`` stopped at the n-th one and took the length the n make: a one after it
    in the same byte was read as no part of the set, where Python refuses it."""
    import redis

    raw, state = redis.Redis.from_url(redis_url), _state(redis_url, redis_namespace)
    for n in (1, 2, 55):
        hashed._decoded.clear()
        with pytest.raises(hashed.CorruptSet):
            hashed.contains(_one_past_the_last(n), [1], T0)
        _refused(state, raw, redis_namespace, _one_past_the_last(n))


def test_redis_refuses_a_ttl_cut_short_as_corrupt(redis_url: str, redis_namespace: str) -> None:
    import redis

    raw, state = redis.Redis.from_url(redis_url), _state(redis_url, redis_namespace)
    for blob in _escaped_short():
        _refused(state, raw, redis_namespace, blob)


def test_redis_refuses_a_large_list_of_the_wrong_length(
    redis_url: str, redis_namespace: str
) -> None:
    """A list of ``BIG`` or more is searched in place (``hfinder``), which checked only
    the count of ones: a list cut by a byte or grown by some was answered from (Python
    refused it). Now its length, pad and last high part are checked as ``hdigests``
    does (the low parts' order still is not: the red-team log)."""
    import redis

    raw, state = redis.Redis.from_url(redis_url), _state(redis_url, redis_namespace)
    for name, blob in _large_cut_or_grown():
        hashed._decoded.clear()
        with pytest.raises(hashed.CorruptSet):
            hashed.contains(blob, [1], T0 + 1)
            raise AssertionError(name)
        _refused(state, raw, redis_namespace, blob, touch=False)


def _timeless() -> list[bytes]:
    """Lists whose time is NaN (the sign bit clear: this layout's) or infinite: a NaN one
    never expired and was never counted (every comparison false), an infinite one never
    expired."""
    blob = hashed.pack(T0, accounts.CONTACTS_TTL, [5, 9])
    return [struct.pack("<d", t) + blob[8:] for t in (float("nan"), float("inf"))]


def test_a_time_no_event_has_is_corrupt(redis_url: str, redis_namespace: str) -> None:
    """Every event time is finite and not negative (``events.parse_ts``): a stored time
    of NaN or infinity is refused by Python and by Redis's scripts, never read as a list
    live for ever."""
    import redis

    raw, state = redis.Redis.from_url(redis_url), _state(redis_url, redis_namespace)
    for blob in _timeless():
        assert not blob[7] & 0x80
        hashed._decoded.clear()
        with pytest.raises(hashed.CorruptSet):
            hashed.contains(blob, [5], T0)
        _refused(state, raw, redis_namespace, blob)
    with pytest.raises(ValueError):
        hashed.pack(float("nan"), 60.0, [5])


def test_the_decoded_lists_kept_are_bounded_in_bytes() -> None:
    """``_decoded`` was bounded by its count alone (4,096): full lists (10,000 digests, an
    account's own upload) kept ~55 KB each, ~225 MB in all where the docstring said
    2.5 MB. A hundred full lists, read once each, now keep 4 MB at most."""
    hashed._decoded.clear()
    draw = random.Random(38)
    for _ in range(100):
        blob = hashed.pack(T0, accounts.CONTACTS_TTL, draw.sample(range(1 << 24), 10_000))
        hashed.contains(blob, [1], T0)
    kept = sum(len(b) + 4 * len(held) for b, (_, _, held) in hashed._decoded.items())
    assert kept <= 4 << 20
    hashed._decoded.clear()
