"""The takeover record's decoding made cheaper (session 43, ``decode43``): the same dict
from the same bytes, with no comprehension's function and frame, no ``zip``'s keyword
parsed, the hour histogram filled a step a count.

A platform's event decodes its sender's record nearly every time (the detector keeps a
few thousand decoded of 100 million accounts); the benchmark's 150 users never did, so
what the decoding costs is counted by ``benchmarks/record_encode.py`` (and ``--kept 0``).
Nothing decoded may differ: every record of ``test_encode42``'s seeded spread (every part,
every path of the numbers' table and the hour histogram) decodes to what session 42's
release decoded, pinned here by digest (``repr``: values, order, the sign of each zero);
a malformed part still fails loudly.
"""

from __future__ import annotations

import functools
import hashlib
import random
from typing import Any

import msgspec
import pytest

from spimguard.detectors.takeover import histogram
from spimguard.detectors.takeover import record as takeover_record
from test_encode42 import _TTLS, T0, _as_day, _ordinary, _records
from test_takeover43 import _frames

# sha256 (first 16 hex digits) of ``repr(decode(put))`` of every record of ``_records()``,
# as main at 6034999 (session 43's branch point) decoded them: 400 records; since session
# 48 (``record48``) as main at b2d79472 decoded them, the hours back as the day's 24
# counts (``_as_day``; ``test_encode42``'s ten histograms once 20 long now 24).
_BASE_DECODED = "3af590ebefd1be2a"

# What decoding a record may enter: no comprehension, no helper a part.
_DECODING = frozenset({"decode", "_decode", "_numbers", "_base_hour", "checked"})


def _stored(record: dict[str, Any], now: float = T0) -> bytes:
    return takeover_record.put_of("@a:x", record, now, *_TTLS).value


def test_every_record_decodes_to_what_session_42s_release_decoded() -> None:
    """The guard: the seeded spread's every record, decoded, as main at 6034999 had it."""
    digest = hashlib.sha256()
    for account, record, now in _records():
        put = takeover_record.put_of(account, record, now, *_TTLS)
        digest.update(repr(_as_day(takeover_record.decode(put.value))).encode())
    assert digest.hexdigest()[:16] == _BASE_DECODED


def test_a_record_decodes_to_the_record_it_was_encoded_from() -> None:
    """The guard: an ordinary account's record, and one with every part (incidents, links,
    ``w``, a number of another top), read back as written."""
    ordinary = _ordinary()
    full = {**_ordinary(), "i": [T0 - 60.0, [
        {"session": "d0", "since": T0 - 120.0, "net": "2001:db8:1::", "range": "2001:db8::",
         "family": "v6"}]], "k": {"@p:x": T0 - 30.0}, "w": {"d0": [[int(T0 // 3_600), 4]]}}
    full["l"] = {**full["l"], "far": T0 + 86_400.0 * 365 * 30}
    for record in (ordinary, full):
        assert takeover_record.decode(_stored(record)) == record


def test_decoding_enters_no_comprehension_nor_a_helper_a_part() -> None:
    """~104,400 instructions a record where this is ~76,900 (``record_encode.py``): each
    comprehension was a function object and a frame, ``_hours`` one a part (the delivered
    counts, ``n`` and ``w``). Base: ``<dictcomp>``, ``<listcomp>``, ``_hours``."""
    stored = _stored(_ordinary())
    takeover_record.decode(stored)  # the bounded caches warm, as a running process has them
    frames = _frames(functools.partial(takeover_record.decode, stored))
    assert set(frames) <= _DECODING, sorted(set(frames) - _DECODING)


@pytest.mark.parametrize("part", [3, 4, 5, 6, 7])
def test_a_part_not_a_whole_number_of_entries_fails_loudly(part: int) -> None:
    """The guard: a stored part one item short (the profile's networks, the sessions, the
    live networks, the incidents, the delivered counts) fails the decode, as ``zip``'s
    ``strict`` did, rather than reading the entries it can."""
    record = {**_ordinary(), "i": [T0 - 60.0, [
        {"session": "d0", "since": T0 - 120.0, "net": "198.51.100.0",
         "range": "198.51.0.0", "family": "v4"}]]}
    parts = msgspec.msgpack.decode(_stored(record)[1:])
    flat = parts[part]
    if part == 3:
        flat = flat[2]  # the profile's networks
    elif part == 7:
        flat = flat[0]  # a session's delivered counts
    flat.pop()
    with pytest.raises((ValueError, IndexError)):
        takeover_record.decode(b"\xc1" + msgspec.msgpack.encode(parts))


def test_an_hour_histogram_stored_sparse_reads_back_whole() -> None:
    """The guard: the day's counts of every histogram stored sparse (``histogram.stored``)
    come back from it, 1 to 17 hours filled, at any hours (since session 48 the decoded
    record keeps it as stored: ``histogram.day`` gives the counts)."""
    rng = random.Random(43)
    for _ in range(2_000):
        hours = [0] * 24
        for hour in rng.sample(range(24), rng.randint(1, 17)):
            hours[hour] = rng.randint(1, 70_000)
        none, sparse = histogram.stored(histogram.of(hours))
        assert none is None
        assert histogram.day(histogram.checked(sparse)) == hours


@pytest.mark.parametrize("stored", [
    [0b101, 3],  # a count short: base's comprehension raised (StopIteration)
    [0b1, 2, 5],  # a count past the mask: ``decode43``'s loop put it on hour 23, silently
    [1 << 24, 4],  # an hour past the day
], ids=["a count short", "a count past the mask", "an hour past the day"])
def test_an_hour_histogram_that_is_not_what_sparse_writes_fails_loudly(
        stored: list[int]) -> None:
    """A stored histogram whose mask and counts disagree is no record this project wrote
    (``histogram.stored``): read as one, a count would be put on an hour it never counted
    and written back so. It is refused, as a part of the wrong length is (lead, session
    43; since session 48 by ``histogram.checked``, which the decoding keeps it through)."""
    with pytest.raises(ValueError, match="hour histogram"):
        histogram.checked(stored)
