"""The takeover record's encoding made cheaper (session 42, ``encode42``): the same bytes,
fewer Python frames and C calls a record.

``_encode`` runs once a batch for every account the batch changed, at the server's
batches of one nearly once an event. Its cost was a frame per helper (the hour
histogram's ``_sparse`` and its generator, ``_counted`` twice, ``_risk``,
``bucket_range``) and C work a small record did not need (an array filled
from a dict, the tops sliced and unpacked one by one). Nothing it stores changed: a record
session 41's release wrote reads back and is written again byte for byte, and a seeded
spread of records (every part, every path of the numbers' table and the hour histogram,
networks of both families, the +0.0 and -0.0 risks) encodes to session 41's bytes, pinned
here by digest.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Iterator
from typing import Any

from spimguard.detectors.takeover import histogram
from spimguard.detectors.takeover import record as takeover_record
from test_takeover43 import _frames

T0 = 1_790_000_000.0
DAY = 86_400.0
_TTLS = (30 * DAY, 12 * 3_600.0, 7 * DAY)  # session_ttl, live_window, incident_ttl

# sha256 (first 16 hex digits) of every record of ``_records()``'s key, bytes and TTL, as
# session 41's release (main at 170c7b2, its ``record.put_of``) wrote them: 400 records;
# since session 48 (``record48``) as main at b2d79472 wrote them from each record's hours
# as its 24 counts (``_as_day``), the ten histograms once 20 long now 24 (the only change).
_BASE_DIGEST = "363bf5174ec346e9"

# A record of session 41's release (main at 170c7b2), and the record it was encoded from
# (``_ordinary``): read back and written again, the same bytes.
_BASE_ORDINARY = bytes.fromhex(
    "c1980093c403644000aa696d2d6465736b746f70a2643092c418000000e04eac000000ac2dac0000e057"
    "3bac0000f0513cac0a9a010d940002000d940102000d940003000bc0c0a14cc095ce0001c80003050203"
    "99020100010000ff090092000090919702050301050002")


def _ordinary(now: float = T0) -> dict[str, Any]:
    """An ordinary account's record as the mixed load leaves it: one device, one network."""
    net = "100.64.0.0"
    return {
        "l": {net: now},
        "p": {"last": now - 34_000.0, "msgs": 13,
              "nets": {net: [now - 20_000.5, now, 13]},
              "clients": {"im-desktop": [now - 20_000.5, now, 13]},
              "owned": {net: [now - 19_000.25, now, 11]},
              "scripts": "L",
              "hours": histogram.of([0] * 11 + [3, 0, 0, 5, 2, 3] + [0] * 7)},
        "pt": now,
        "s": {"d0": ["im-desktop", net, now - 34_000.0, 0, 0.0, 0, 9, now, 0]},
        "n": {"d0": [[int(now // 3_600) - 5, 3], [int(now // 3_600) - 1, 5],
                     [int(now // 3_600), 2]]},
    }


def _as_day(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its profile's hours as the day's 24 counts, the form the decoded
    record held until session 48 (``histogram``): what main's digests were taken of."""
    fields = record.get("p")
    if fields is None or "hours" not in fields:
        return record
    return {**record, "p": {**fields, "hours": histogram.day(fields["hours"])}}


def _records() -> Iterator[tuple[str, dict[str, Any], float]]:
    """Seeded records over every part and path of the stored form: the profile or none,
    hours sparse, dense (over 17 filled), all empty, the last four empty (until session
    48 a histogram 20 long, which the decoded form since, ``histogram``, does not hold:
    ``test_record48``); sessions risky, familiar
    (+0.0), -0.0, proven, dormant; networks IPv4 and IPv6 and not addresses; numbers of
    another top (a risk, a time decades off); expired parts; incidents; ``w``; ``k``."""
    rng = random.Random(42)
    nets = ["198.51.100.0", "203.0.113.0", "2001:db8:1::", "2001:db8::1", "", "10.0.0.1",
            "198.51.0.0", "2001:db8::", "net-x", "01.2.3.0"]
    apps = ["im-desktop", "im-android", "weird\u00e9", ""]
    for i in range(400):
        now = T0 + rng.uniform(-DAY * 40, DAY * 40)
        record: dict[str, Any] = {}

        def when(spread: float, at: float = now) -> float:
            return at - rng.uniform(0.0, spread)

        if rng.random() < 0.85:
            hours: list[int] = [rng.choice((0, 0, 0, 1, 2, 300)) for _ in range(24)]
            shape = rng.random()
            if shape < 0.15:
                hours = [rng.randint(1, 9) for _ in range(24)]  # dense: 24 filled
            elif shape < 0.2:
                hours = [0] * 24
            elif shape < 0.23:
                hours = hours[:20] + [0] * 4
            profile: dict[str, Any] = {"last": when(DAY * 3), "msgs": rng.randint(0, 900),
                                       "hours": histogram.of(hours)}
            for field, names in (("nets", nets), ("clients", apps), ("owned", nets)):
                if rng.random() < 0.8:
                    profile[field] = {
                        rng.choice(names): [when(DAY * 9), when(60.0), rng.randint(1, 50)]
                        if rng.random() < 0.7 else [when(DAY * 9), when(60.0)]
                        for _ in range(rng.randint(1, 4))}
            if rng.random() < 0.5:
                profile["cidrs"] = rng.randint(0, 3)
            if rng.random() < 0.3:
                profile["linked"] = True
            if rng.random() < 0.7:
                profile["scripts"] = rng.choice(("L", "LC", "A"))
            record["p"], record["pt"] = profile, (
                now if rng.random() < 0.9 else when(DAY * 500))
        record["s"] = {
            f"s{i}-{j}": [rng.choice(apps), rng.choice(nets), when(DAY * 40),
                          rng.randint(0, 5), rng.choice((0.0, 0.0, -0.0, 0.35, 0.9, 1e-300)),
                          rng.randint(0, 1), rng.randint(0, 9), when(DAY * 40),
                          rng.randint(0, 1)]
            for j in range(rng.randint(0, 4))}
        record["l"] = {rng.choice(nets): when(DAY) for _ in range(rng.randint(0, 3))}
        if rng.random() < 0.2:
            record["i"] = [when(DAY * 9), [
                {"session": f"s{i}-0", "since": when(DAY), "net": rng.choice(nets),
                 "range": rng.choice(nets), "family": rng.choice(("v4", "v6"))}
                for _ in range(rng.randint(0, 2))]]
        hour = int(now // 3_600)
        for part, chance in (("n", 0.9), ("w", 0.2)):
            if rng.random() < chance:
                record[part] = {
                    f"s{i}-{j}": [[hour - back, rng.randint(1, 40)]
                                  for back in sorted(rng.sample(range(30), rng.randint(0, 4)),
                                                     reverse=True)]
                    for j in range(rng.randint(1, 3))}
        if rng.random() < 0.2:
            record["k"] = {f"@p{j}:x": when(DAY * 40) for j in range(rng.randint(1, 4))}
        if rng.random() < 0.05:  # a time of another 2**26 s span, decades off
            record.setdefault("l", {})["far"] = now + DAY * 365 * 30
        yield rng.choice(("@a:x", "user1", "heard:@a:s", "%odd", "")), record, now


def test_records_encode_to_session_41s_bytes() -> None:
    digest = hashlib.sha256()
    for account, record, now in _records():
        put = takeover_record.put_of(account, record, now, *_TTLS)
        digest.update(put.key.encode())
        digest.update(put.value)
        digest.update(repr(put.ttl).encode())
    assert digest.hexdigest()[:16] == _BASE_DIGEST


def test_a_record_session_41_wrote_reads_back_and_is_written_again_the_same() -> None:
    read = takeover_record.decode(_BASE_ORDINARY)
    assert takeover_record._encode(read, T0, *_TTLS)[0] == _BASE_ORDINARY
    assert takeover_record._encode(_ordinary(), T0, *_TTLS)[0] == _BASE_ORDINARY


def test_an_ordinary_record_is_encoded_in_few_python_frames() -> None:
    """Every Python function an ordinary record's put runs (cached calls that hit make
    none): ``put_of``, ``key``, ``_encode``, ``_base_hour``, ``_sixes``, and
    the hours' ``histogram.stored`` (``_sparse`` until session 48).
    Session 41's entered sixteen: ``bucket_range``, ``_counted`` twice, ``_risk`` and
    ``_sparse``'s comprehension and generator (resumed an hour each) besides (a frame is
    ~1,000-1,500 instructions)."""
    record = _ordinary()
    takeover_record.put_of("@a:x", record, T0, *_TTLS)  # the caches warm, as a process's
    calls = _frames(functools.partial(takeover_record.put_of, "@a:x", record, T0, *_TTLS))
    assert sorted(calls) == sorted(
        ["put_of", "key", "_encode", "stored", "_base_hour", "_sixes"])
