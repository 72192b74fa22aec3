"""The takeover record's hour histogram kept in its stored form (session 48, ``record48``).

The profile's hours were decoded into the day's 24 counts (``_dense``, ~5,500
instructions), copied and summed at each clean message (``profile.learn``), and made sparse
again at each encoding (``_sparse``, ~8,300): ~9 % of a record's round trip, at nearly every
event at a platform's scale. The decoded record now keeps them as stored, ``[mask, count,
...]`` (``histogram``), read by learn and behaviour through its functions. Nothing stored
may change: a record session 47's release wrote keeps its counts at their hours and goes
back to its very bytes, and learning and judging count and decide as the 24 counts did.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from spimguard.detectors.takeover import histogram
from spimguard.detectors.takeover import profile as takeover_profile
from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.settings import TakeoverSettings
from test_encode42 import _BASE_ORDINARY, _TTLS, T0
from test_records37 import v5_of

# The mixed load's ordinary account with the hours below, as session 47's release (main at
# b2d79472, ``record.put_of`` at T0) wrote it: stored sparse (up to 17 hours with counts),
# else as the day's 24 counts (18 and 20 hours, and none: what only halving leaves).
_HEAD = ("c1980093c403644000aa696d2d6465736b746f70a2643092c418000000e04eac000000ac2dac0000e0"
         "573bac0000f0513cac0a")
_TAIL = "99020100010000ff09009200009090"
_SESSION_47: dict[str, tuple[bytes, list[int]]] = {
    "ordinary": (_BASE_ORDINARY, [0] * 11 + [3, 0, 0, 5, 2, 3] + [0] * 7),
    "seventeen hours": (bytes.fromhex(
        _HEAD + "9a010d940002000d940102000d940003000bc0c0a14cc0dc0012ce0001ff"
        "ff0505050505050505050505050505050505" + _TAIL), [5] * 17 + [0] * 7),
    "eighteen hours": (bytes.fromhex(
        _HEAD + "99010d940002000d940102000d940003000bc0c0a14cdc00180505050505"
        "05050505050505050505050505000000000000" + _TAIL), [5] * 18 + [0] * 6),
    "twenty hours": (bytes.fromhex(
        _HEAD + "99010d940002000d940102000d940003000bc0c0a14cdc00180000000001"
        "04070a0d101316191c1f2225282b2e3134373a" + _TAIL),
        [0] * 4 + [h * 3 + 1 for h in range(20)]),
    "no hour": (bytes.fromhex(
        _HEAD + "99010d940002000d940102000d940003000bc0c0a14cdc00180000000000"
        "00000000000000000000000000000000000000" + _TAIL), [0] * 24),
}


def _as_stored(counts: list[int]) -> list[int]:
    """The day's 24 counts in the stored form, made here without ``histogram``."""
    return [sum(1 << h for h, count in enumerate(counts) if count), *[c for c in counts if c]]


@pytest.mark.parametrize("name", list(_SESSION_47))
def test_a_record_session_47_wrote_keeps_its_hours_as_stored_and_goes_back_to_its_bytes(
        name: str) -> None:
    """Its hours decode to the stored form of its counts (a list), its v5 form (session
    36's release) to the same, and it is encoded again to its very bytes.
    Fails on main (b2d79472): the decoded hours are the day's 24 counts."""
    stored, counts = _SESSION_47[name]
    read = takeover_record.decode(stored)
    hours = read["p"]["hours"]
    assert hours == _as_stored(counts) and type(hours) is list
    assert histogram.day(hours) == counts
    assert takeover_record.decode(v5_of(stored)) == read
    assert takeover_record._encode(read, T0, *_TTLS)[0] == stored


def _learnt_as_before(counts: list[int], hour: int, decay: int) -> list[int]:
    """Main's ``profile.learn`` on the day's 24 counts (b2d79472)."""
    counts = list(counts)
    counts[hour] += 1
    if sum(counts) > decay:
        counts = [c // 2 for c in counts]
    return counts


def _unusual_as_before(cfg: TakeoverSettings, msgs: int, counts: list[int], hour: int) -> bool:
    """Main's ``profile.behaviour`` on the hours (b2d79472)."""
    return (msgs >= cfg.mature_messages and sum(counts) >= cfg.hour_messages
            and not any(counts[(hour + d) % 24] for d in (-1, 0, 1)))


class _View:
    domains: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()


class _Message:
    def __init__(self, ts: float) -> None:
        self.ts = ts


@pytest.mark.parametrize("decay", [400, 37, 1])
def test_learning_and_judging_count_and_decide_as_the_24_counts_did(decay: int) -> None:
    """3,000 clean messages at seeded hours (a few favoured, as an owner's day is): after
    each, the profile's hours are the stored form of what main's arithmetic counted (halved
    past ``decay``, an hour halved to 0 no longer filled), and BEHAVIOUR_CHANGE's unusual
    hour is main's at every hour of the day. The histogram learn was given is never
    changed (the record the detector keeps decoded, or a put's, may hold it).
    Fails on main (b2d79472): its hours are the 24 counts."""
    cfg = dataclasses.replace(TakeoverSettings(), hour_decay=decay, hour_messages=decay // 4)
    rng = random.Random(48)
    favoured = rng.sample(range(24), 5)
    known: dict[str, Any] = {}
    counts = [0] * 24
    unusual = 0
    for _ in range(3_000):
        hour = rng.choice(favoured) if rng.random() < 0.98 else rng.randrange(24)
        ts = T0 - T0 % 86_400 + hour * 3_600 + rng.uniform(0, 3_599)
        given = known.get("hours")
        kept = None if given is None else list(given)
        takeover_profile.learn(cfg, known, _Message(ts), _View(), "L", None)  # type: ignore[arg-type]
        assert given == kept
        counts = _learnt_as_before(counts, hour, decay)
        assert known["hours"] == _as_stored(counts)
        for at in range(24):
            judged = takeover_profile.behaviour(
                cfg, _Message(T0 - T0 % 86_400 + at * 3_600), _View(), "", known)  # type: ignore[arg-type]
            assert bool(judged) == _unusual_as_before(cfg, known["msgs"], counts, at)
            unusual += bool(judged)
    assert unusual > 0


@pytest.mark.parametrize("stored", [[0b101, 3, 0], [0b1, 0]],
                         ids=["a count of 0 among others", "a count of 0 alone"])
def test_a_stored_hour_of_no_count_fails_loudly(stored: list[int]) -> None:
    """No release writes an hour of count 0 into the stored form: kept as it is, it would
    fill an hour for ``behaviour`` that main read as empty. Refused, as a mask and counts
    that disagree are.
    Fails on main (b2d79472): it read as an empty hour."""
    record: dict[str, Any] = takeover_record.decode(_BASE_ORDINARY)
    stored_form = takeover_record._encode(record, T0, *_TTLS)[0]
    assert stored_form == _BASE_ORDINARY
    parts = takeover_record.msgspec.msgpack.decode(stored_form[1:])
    parts[3][-1] = stored
    with pytest.raises(ValueError, match="hour histogram"):
        takeover_record.decode(b"\xc1" + takeover_record.msgspec.msgpack.encode(parts))


def test_a_histogram_not_of_the_day_fails_loudly() -> None:
    """A histogram of other than 24 counts, which no release wrote (its learning failed at
    an hour past its end), has no stored form to be kept in: decoding it fails (a detector
    error, loud), and so does encoding a decoded record's hours as 24 counts.
    Fails on main (b2d79472): it read 20 counts, and stored 24 as they were."""
    parts = takeover_record.msgspec.msgpack.decode(_BASE_ORDINARY[1:])
    parts[3][-2:] = [[1] * 20]
    with pytest.raises(ValueError, match="hour histogram"):
        takeover_record.decode(b"\xc1" + takeover_record.msgspec.msgpack.encode(parts))
    record = takeover_record.decode(_BASE_ORDINARY)
    record["p"]["hours"] = [1] * 24
    with pytest.raises(ValueError, match="hour histogram"):
        takeover_record._encode(record, T0, *_TTLS)


def test_a_record_of_the_dict_form_reads_its_24_counts_as_a_histogram() -> None:
    """The dict form (before v2) held the hours as 24 counts: read as the stored form of
    them; a record this process decoded (``Record``'s ``decoded``) is taken as it is.
    Fails on main (b2d79472): the 24 counts were kept as they were."""
    counts = [0] * 9 + [4, 7] + [0] * 10 + [1, 0, 0]
    old = {"p": {"msgs": 40, "hours": counts}, "pt": T0}
    assert takeover_record.decode(old)["p"]["hours"] == _as_stored(counts)
    kept = takeover_record.Record("a", {"p": {"msgs": 40, "hours": [1 << 23, 2]}, "pt": T0},
                                  *_TTLS, decoded=True)
    assert kept.profile(T0)["hours"] == [1 << 23, 2]
