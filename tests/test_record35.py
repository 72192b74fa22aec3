"""Session 35 (``record35``): the takeover record's v5 stored form.

Networks in the strings' table as their leading bytes (``record._stored_name``), the hour
the delivered counts count back from as its difference from the numbers' table's first
number's (``record._base_hour``), the numbers' table's first two items swapped so that
session 34's release refuses the record loudly (``record._sixes``). Every field must read
back as it was written; a record session 34's release wrote must still read."""

from __future__ import annotations

import math
import struct
from typing import Any

import msgspec
import pytest

from spimguard.detectors.takeover import histogram
from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.record import Record
from test_takeover_record_sixes import _strictly, v5_of
from test_takeover_record_sixes import parts as v6_parts

T0 = 1_790_000_000.0
DAY = 86_400.0
_TTLS = (30 * DAY, 12 * 3_600.0, 7 * DAY)  # session_ttl, live_window, incident_ttl
HOUR = int(T0 // 3_600)

# Every part of a record, with IPv4 and IPv6 networks and ranges, a session named like a
# network (kept as text), links (``k``) and sited counts (``w``).
WRITTEN: dict[str, Any] = {
    "k": {"@carol:x.org": T0 - 7.25},
    "p": {"last": T0 - 60.125, "msgs": 41,
          "nets": {"198.51.100.0": [T0 - 90 * DAY + 0.5, T0 - 1.0, 30],
                   "2001:db8:85a3::": [T0 - 3 * DAY, T0 - 0.0625, 11]},
          "clients": {"im-android": [T0 - 90 * DAY + 0.5, T0 - 1.0, 41]},
          "owned": {"198.51.100.0": [T0 - 80 * DAY, T0 - 1.0, 25]},
          "linked": True, "scripts": "L",
          "hours": histogram.of(
              [0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0])},
    "pt": T0,
    "s": {"phone": ["im-android", "198.51.100.0", T0 - 2 * DAY - 0.375, 4, 0.0, 0, 3, T0, 1],
          "10.1.2.0": ["im-desktop 2.1", "2001:db8:85a3::", T0 - 600.5, 0, 0.6, 1, 0,
                       T0 - 30.0, 0]},
    "l": {"198.51.100.0": T0 - 1.0, "2001:db8:85a3::": T0 - 30.0},
    "i": [T0 - 30.0, [{"session": "10.1.2.0", "since": T0 - 600.5, "net": "2001:db8:85a3::",
                       "range": "2001:db8::", "family": "im-desktop"}]],
    "n": {"phone": [[HOUR - 2, 5], [HOUR, 2]], "10.1.2.0": [[HOUR, 4]]},
    "w": {"10.1.2.0": [[HOUR, 3]]},
}

# ``WRITTEN`` as session 34's release (main at 5b0cae0) stored it at T0: v4, 289 bytes.
SESSION_34 = bytes.fromhex(
    "9a9304080bce0007964699ac3139382e35312e3130302e30af323030313a6462383a383561333a3aaa696d2d"
    "616e64726f6964a570686f6e65a831302e312e322e30ae696d2d6465736b746f7020322e31aa323030313a"
    "6462383a3aaa696d2d6465736b746f70ac406361726f6c3a782e6f726794cd41dac448000000e04eac0000"
    "f8d04eac00002020a58e0000c0df4eac000000c051ab0000fcdf4eac000000e0f0910000e81fa6ab0000e0"
    "494eac000080d84eac333333333333000030de4eac0acd3fe39b000129980002031e0104050b9402020329"
    "9400060319c0c40486869c35a14cc094ce00200600030702dc0012030200070004ff03020405010809000a"
    "000194000301099609040801060792950302050002930400049193040003")


def _encoded(record: dict[str, Any], now: float = T0) -> bytes:
    return takeover_record._encode(record, now, *_TTLS)[0]


def test_a_record_session_34s_release_wrote_reads_as_it_was_and_is_put_back_shorter() -> None:
    """Session 34's bytes read as the record they were written from, every number bit for
    bit; the next change puts the same facts back in v6 (v5 until session 37), which reads
    the same: 258 bytes, 31 fewer (four networks, 6 to 9 bytes each; the hour, 4; the
    session named like a network stays text; v6's cuts, 8: ``test_records37``).
    Fails on main (5b0cae0): its put is v4 again, 289 bytes."""
    assert len(SESSION_34) == 289
    _strictly(takeover_record.decode(SESSION_34), WRITTEN)
    before = Record("alice", SESSION_34, *_TTLS)
    before.set_profile(WRITTEN["p"], WRITTEN["pt"])  # a change, to the same facts
    put = before.put(T0)
    assert put is not None
    assert put.value[:1] == b"\xc1"  # v6 since session 37
    _strictly(takeover_record.decode(put.value), WRITTEN)
    assert len(put.value) == 258
    after = Record("alice", put.value, *_TTLS)
    assert after.session("10.1.2.0", T0) == {
        "client": "im-desktop 2.1", "net": "2001:db8:85a3::", "login": T0 - 600.5, "read": 0,
        "risk": 0.6, "dormant": True, "replies": 0, "proven": False}
    assert after.sent("phone", T0) == 7.0 and after.sent_unproven("phone", T0, 2) == 3.0


NETWORKS = {"198.51.100.0": 3, "10.0.0.0": 3, "0.0.0.0": 3, "255.255.255.0": 3,
            "203.0.0.0": 3, "2001:db8:85a3::": 6, "2001:db8::": 6, "::": 6,
            "ffff:ffff:ffff::": 6}
# Text that looks like a network but is not one's canonical text (or is not a network
# ``origin`` writes): kept as text, never read back as another string.
NOT_NETWORKS = ("01.2.3.0", "1.2.3.0 ", " 1.2.3.0", "1.2.3", "1.2.3.4", "1.2.3.00",
                "256.1.2.0", "1.2.3.0\x00", "\u0661.2.3.0", "::ffff:1.2.3.0", "2001:DB8::",
                "2001:0db8::", "2001:db8:0:1::", "2001:db8:0::", "0:0:0::", "1.2.3.0/24",
                "x.0", ".0", "::1", ":::", "0.0.0.0.0", "")


def test_networks_are_stored_as_their_leading_bytes_and_no_other_text_is() -> None:
    """A network's address as ``origin`` writes it (a /24 or /16 of IPv4, a /48 or /32 of
    IPv6) is stored as its first 3 or 6 bytes in every field that holds a network (the
    profile's, a session's, a live one); every other string as its text, however like an
    address, and a session or an app named like a network too; each reads back as it was.
    Fails on main (5b0cae0): every string is stored as its text."""
    texts = [*NETWORKS, *NOT_NETWORKS]
    record = {"p": {"msgs": 1, "nets": {t: [T0 - 5.0, T0, 1] for t in texts},
                    "clients": {t: [T0 - 5.0, T0, 1] for t in texts}}, "pt": T0,
              "s": {t: ["app", t, T0 - 1.0, 0, 0.0, 0, 0, T0, 0] for t in texts},
              "l": {t: T0 for t in texts}}
    stored = _encoded(record)
    _strictly(takeover_record.decode(stored), record)
    names = v6_parts(stored)[1]
    assert [len(n) for n in names if isinstance(n, bytes)] == list(NETWORKS.values())
    assert sorted(n for n in names if isinstance(n, str)) == sorted([*texts, "app"])


def test_a_network_of_another_length_is_refused() -> None:
    """Bytes in the strings' table are a network of 3 or 6 bytes: any other length is a
    corrupt record, refused (a detector error) rather than read as some text.
    Fails on main (5b0cae0): the bytes are read as a name."""
    stored = v6_parts(_encoded(WRITTEN))
    stored[1][0] = b"\xc6\x33\x64\x00"
    with pytest.raises(ValueError, match="4 bytes"):
        takeover_record.decode(b"\xc1" + msgspec.msgpack.encode(stored))


# Records whose numbers' table starts with each kind of first number, and the hour each
# stores: the profile's written time (the put's: 0), a session's sign-in days before (no
# profile), one before 1970 (a base still), numbers no event's hour is near, and no number
# at all (the hour itself).
FIRSTS: dict[str, tuple[dict[str, Any], int]] = {
    "the put's time": ({"p": {"msgs": 1}, "pt": T0}, 0),
    "a sign-in days before": (
        {"s": {"d": ["c", "", T0 - 9 * DAY - 0.5, 0, 0.0, 0, 0, T0, 0]}}, 9 * 24),
    "an hour before 1970": ({"s": {"d": ["c", "", -3_600.5, 0, 0.0, 0, 0, T0, 0]}}, HOUR + 2),
    "infinite": ({"s": {"d": ["c", "", math.inf, 0, 0.0, 0, 0, T0, 0]}}, HOUR),
    "not a number": ({"s": {"d": ["c", "", math.nan, 0, 0.0, 0, 0, T0, 0]}}, HOUR),
    "the largest": ({"s": {"d": ["c", "", 1.7976931348623157e308, 0, 0.0, 0, 0, T0, 0]}}, HOUR),
    "2**53": ({"s": {"d": ["c", "", 2.0 ** 53, 0, 0.0, 0, 0, T0, 0]}}, HOUR),
    "-0.0": ({"s": {"d": ["c", "", -0.0, 0, 0.0, 0, 0, T0, 0]}}, HOUR),
    "none": ({}, HOUR),
}


@pytest.mark.parametrize("first", list(FIRSTS))
def test_the_counts_hour_reads_back_whatever_the_tables_first_number(first: str) -> None:
    """The hour ``n`` and ``w`` count back from is stored as its difference from the hour
    of the table's first number (a byte or two when that is the put's time or days
    before it), and as itself when there is no such number; each count reads back in its
    hour, and every number as it was.
    Fails on main (5b0cae0): the hour itself, 5 bytes, whatever the first number."""
    counts = {"n": {"d": [[HOUR - 23, 1], [HOUR, 2]]}, "w": {"d": [[HOUR, 1]]}}
    parts, hour = FIRSTS[first]
    record = {**parts, **counts}
    stored = _encoded(record)
    _strictly(takeover_record.decode(stored), record)
    assert v6_parts(stored)[0] == hour


def test_session_34s_release_refuses_a_v5_record_loudly() -> None:
    """Session 34's release reads a record's numbers' table as ``[top, low, ...]`` and packs
    the top as a 16-bit number first thing (``_numbers``, as it was at 5b0cae0): v5's
    table starts with the low bytes, so it fails there (``struct.error``, a detector
    error) rather than reading a network's bytes as a name or the hour's difference as
    an hour. (Run with that release's own code, it fails so on ``WRITTEN``'s v5 bytes and
    on a record of counts alone.)
    Fails on main (5b0cae0): its table starts with the top, which packs."""
    for record in (WRITTEN, {"n": WRITTEN["n"]}):
        table = msgspec.msgpack.decode(v5_of(_encoded(record)))[3]  # as session 36 wrote
        top, _low, *_ = table
        with pytest.raises(struct.error):
            struct.Struct("<H").pack(top)
