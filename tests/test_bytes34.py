"""Session 34 (``bytes34``): the takeover record's hour histogram stored sparse.

A profile's hour histogram (24 counts) was stored as 24 msgpack numbers, a byte for each
empty hour; a few days of chat leave most hours empty (the quiet load: ~7 of 24 filled).
It is stored as a mask of the filled hours and their counts when that is the shorter
(``record._sparse``), and reads back as the 24 counts (``record._dense``). Since session 48
the decoded record keeps it as stored (``histogram``): it reads back as the histogram of
those 24 counts (``histogram.of``), the same counts at the same hours."""

from __future__ import annotations

import random

import msgspec

from spimguard.detectors.takeover import histogram
from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.record import Record

DAY = 86_400.0
_TTLS = (30 * DAY, 12 * 3600.0, 7 * DAY)  # session_ttl, live_window, incident_ttl
NOW = 1_780_000_000.0


def _stored(hours: list[int] | None) -> bytes:
    profile = {"msgs": 40, "last": NOW, "scripts": "L"}
    if hours is not None:
        profile["hours"] = histogram.of(hours)
    stored, _ = takeover_record._encode({"p": profile, "pt": NOW}, NOW, *_TTLS)
    return stored


def _histogram(rng: random.Random, filled: int) -> list[int]:
    hours = [0] * 24
    for hour in rng.sample(range(24), filled):
        hours[hour] = rng.choice((1, 3, 127, 128, 400))  # one byte, and past it
    return hours


def test_an_hour_histogram_costs_its_filled_hours_and_reads_back_whole() -> None:
    """Each of 20 histograms of each number of filled hours reads back as its 24 counts, and costs
    in the record at most what the 24 counts did: for 17 filled hours or fewer at most
    9 bytes beside its counts' (an array header, the mask, the dense part's None), where
    the 24 counts took 3 beside theirs and a byte for each empty hour (27 for the quiet
    load's small counts).
    Fails on main (4d77fe9): the histogram costs its empty hours."""
    rng = random.Random(34)
    without = len(_stored(None))
    for filled in [*range(1, 25)] * 20:
        hours = _histogram(rng, filled)
        stored = _stored(hours)
        assert takeover_record.decode(stored)["p"]["hours"] == histogram.of(hours)
        counts = sum(len(msgspec.msgpack.encode(c)) for c in hours if c)
        dense = 3 + counts + 24 - filled
        cost = len(stored) - without
        assert cost <= dense
        if filled <= 17:
            assert cost <= 9 + counts < dense


def test_a_record_of_before_session_34_reads_its_hours_and_is_rewritten_sparse() -> None:
    """A record whose histogram is the 24 counts (as every release before this one wrote
    it) reads them as they are; its next put stores them sparse, and reads the same.
    Fails on main (4d77fe9): the put stores them as they were."""
    hours = [0] * 24
    hours[9], hours[10], hours[21] = 4, 7, 1
    stored = _stored(hours)
    parts = msgspec.msgpack.decode(stored[1:])  # (v6: after its lead byte)
    parts[3][-2:] = [hours]  # the profile's histogram as session 33 wrote it
    older = stored[:1] + msgspec.msgpack.encode(parts)
    assert takeover_record.decode(older)["p"]["hours"] == histogram.of(hours)
    again = Record("alice", older, *_TTLS)
    again.set_profile(takeover_record.decode(older)["p"], NOW)
    put = again.put(NOW)
    assert put is not None and put.value == stored
    assert len(put.value) == len(older) - 27 + 1 + 1 + 5 + 3  # None, header, mask, counts
