"""The takeover record's v6 stored form (session 37, ``records37``): what a byte of it buys.

v6 holds what v5 held less what no reader reads or another field already says: the
profile's domain tags (only whether there are any is read: ``linked``), the profile's
written time's index (always the numbers' table's first), the tops' width (an event
time's is ``_TOP_BASE`` plus 0-15) and the version (the lead byte says it, and makes every
earlier release refuse the record). The old forms read back equal; each field's bytes are
pinned; an attacker's extremes stay bounded.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.record import Record

T0 = 1_790_000_000.0
DAY = 86_400.0
HOUR = int(T0 // 3_600)
_TTLS = (30 * DAY, 12 * 3_600.0, 7 * DAY)  # session_ttl, live_window, incident_ttl
_TOP_BASE = 0x41D0
_TAG = b"\x86\x86\x9c\x35"  # a domain tag, as v5 held one (4 bytes of a CRC-32)


def parts(stored: bytes) -> list[Any]:
    """A v6 record's parts: ``[hour, names, numbers, profile, sessions, live, incidents,
    sent, (sited, (links))]``."""
    assert stored[:1] == b"\xc1", "not a v6 record"
    return msgspec.msgpack.decode(stored[1:])  # type: ignore[no-any-return]


def v5_of(stored: bytes) -> bytes:
    """A v6 record as session 36's release (v5) stored the same facts: the version (or
    ``[5, *links]``) first, the tops whole, the profile's written time's index (0) first in
    the profile, a domain tag where v6 says ``linked``, ``w`` only when it counts."""
    hour, names, table, profile, sessions, live, incidents, sent, *tail = parts(stored)
    links = tail[1] if len(tail) > 1 else []
    tops = [x + _TOP_BASE if i % 2 else x for i, x in enumerate(table[2:])]
    table = [table[0], table[1] + _TOP_BASE if table[0] else table[1], *tops]
    if profile:
        profile = [0, *profile]
        profile[7] = _TAG if profile[7] else None
    return msgspec.msgpack.encode([[5, *links] if links else 5, hour, names, table, profile,
                                   sessions, live, incidents, sent,
                                   *(tail[:1] if tail and tail[0] else [])])


def _encoded(record: dict[str, Any], now: float = T0) -> bytes:
    return takeover_record._encode(record, now, *_TTLS)[0]


# Every part of a record (``test_record35``'s ``WRITTEN``, its domain tag read as
# ``linked``), and the same as session 36's release (main at f374292) stored it: v5, 266 bytes.
from test_record35 import WRITTEN  # noqa: E402  (after the helpers ``test_record35`` imports)
from test_takeover_record_sixes import _strictly  # noqa: E402

SESSION_36 = bytes.fromhex(
    "9a9305080b0099c403c63364c40620010db885a3aa696d2d616e64726f6964a570686f6e65a831302e312e32"
    "2e30ae696d2d6465736b746f7020322e31c40620010db80000aa696d2d6465736b746f70ac406361726f6c3a"
    "782e6f726794c448000000e04eac0000f8d04eac00002020a58e0000c0df4eac000000c051ab0000fcdf4eac"
    "000000e0f0910000e81fa6ab0000e0494eac000080d84eac333333333333000030de4eaccd41da0acd3fe39b"
    "000129980002031e0104050b94020203299400060319c0c40486869c35a14cc094ce00200600030702dc0012"
    "030200070004ff03020405010809000a00019400030109960904080106079295030205000293040004919304"
    "0003")


def test_a_record_session_36s_release_wrote_reads_back_equal_and_is_put_back_in_v6() -> None:
    """Session 36's bytes (v5) read as the record they were written from, every number bit
    for bit, its domain tag as ``linked``; the next change puts the same facts back in
    v6, 8 bytes shorter (the tag 5, the tops 2, the profile's time's index 1, the links'
    version 1, less the lead byte), which reads the same; and ``v5_of`` (the other tests'
    stand-in for session 36's bytes) makes those very bytes of it.
    Fails on main (f374292): the tag reads as ``domains`` and the put is v5 again."""
    assert len(SESSION_36) == 266
    _strictly(takeover_record.decode(SESSION_36), WRITTEN)
    before = Record("alice", SESSION_36, *_TTLS)
    before.set_profile(WRITTEN["p"], WRITTEN["pt"])  # a change, to the same facts
    put = before.put(T0)
    assert put is not None and put.value[:1] == b"\xc1"
    assert len(put.value) == len(SESSION_36) - 8 == len(_encoded(WRITTEN))
    _strictly(takeover_record.decode(put.value), WRITTEN)
    assert v5_of(put.value) == SESSION_36
    after = Record("alice", put.value, *_TTLS)
    assert after.sent("phone", T0) == 7.0 and after.sent_unproven("phone", T0, 2) == 3.0
    assert after.links(T0) == WRITTEN["k"]


# What each v6 part of ``WRITTEN`` costs, in msgpack bytes: a part that widens fails here.
_PART_BYTES = {"hour": 1, "names": 87, "numbers": 80, "profile": 36, "sessions": 21,
               "live": 5, "incidents": 7, "sent": 11, "sited": 5, "links": 3}
_PROFILE_BYTES = {"last": 1, "msgs": 1, "nets": 9, "clients": 5, "owned": 5, "cidrs": 1,
                  "linked": 1, "scripts": 2, "hours": 1, "sparse": 9}


def test_each_part_of_a_v6_record_costs_its_pinned_bytes() -> None:
    """The lead byte, the list's header, then each part as pinned: the version gone (the
    lead byte says it), the numbers' top one byte (an event time's), the profile without
    its time's index (the table's first) and with ``linked`` one byte where a tag took 6.
    Fails on main (f374292): a v5 record has none of this shape (no lead byte)."""
    stored = _encoded(WRITTEN)
    names = ["hour", "names", "numbers", "profile", "sessions", "live", "incidents", "sent",
             "sited", "links"]
    found = dict(zip(names, parts(stored), strict=True))
    assert {k: len(msgspec.msgpack.encode(v)) for k, v in found.items()} == _PART_BYTES
    assert len(stored) == 2 + sum(_PART_BYTES.values())  # the lead byte, the list's header
    assert len(msgspec.msgpack.encode(found["numbers"][1])) == 1  # T0's top, less 0x41D0
    profile = dict(zip(_PROFILE_BYTES, found["profile"], strict=True))
    assert {k: len(msgspec.msgpack.encode(v)) for k, v in profile.items()} == _PROFILE_BYTES
    # A record of one part has the lead byte, the list's header and its eight parts only.
    # A record of a profile alone: the lead byte, the list's header, the hour's difference,
    # the names' (empty) and numbers' tables (4 + 6 + 1 + 1), the profile's ten parts and
    # its header, and four empty parts.
    assert len(_encoded({"p": {"msgs": 1}, "pt": T0})) == 2 + 1 + 1 + 12 + 11 + 4 - 3


@pytest.mark.parametrize("record", [WRITTEN, {"p": {"msgs": 1}, "pt": T0},
                                    {"n": WRITTEN["n"]}, {"k": WRITTEN["k"]},
                                    {"s": WRITTEN["s"]}])
def test_session_36s_release_refuses_a_v6_record_loudly(record: dict[str, Any]) -> None:
    """Session 36's release decodes a record's bytes whole as msgpack first thing
    (``_decode``, as it was at f374292); v6 starts with 0xc1, the one byte msgpack never
    uses, so it fails there (``msgspec.DecodeError``, a detector error: loud) on every v6
    record, whatever it holds, rather than reading a flag as tags, a top less its base as
    a top, or the profile's parts one place off.
    Fails on main (f374292): its records decode."""
    with pytest.raises(msgspec.DecodeError, match="invalid opcode"):
        msgspec.msgpack.Decoder().decode(_encoded(record))


# Numbers at the clock's edges and past them, each a top of its own: a negative top less
# the base, the largest, one below the base (2003), the base's last (2038), 2100.
# (``-first - 1.0`` goes in too: -inf, the most negative; not -0.0 beside 0.0, one number.)
_EDGES = (0.0, -0.0, 5e-324, -5.0, math.inf, 1.7976931348623157e308,
          float(1 << 30) - 0.5, float(1 << 31) - 2.0 ** -22, float(1 << 31), 4_102_444_799.0)


@pytest.mark.parametrize("first", _EDGES)
def test_every_top_reads_back_whatever_the_clock(first: float) -> None:
    """A top is stored as its difference from 0x41D0, whatever its sign or size (msgpack
    widens the number, never clips it): every number reads back bit for bit, the table's
    first number and the others alike, and a second put makes the same bytes.
    Fails on main (f374292): no ``_TOP_BASE``."""
    record = {"p": {"last": first, "msgs": 1,
                    "nets": {"198.51.100.0": [first, T0, 3], "10.0.0.0": [-first - 1.0, T0, 1]}},
              "pt": first,
              "s": {"d": ["c", "10.0.0.0", first, 0, first, 0, 0, T0, 0]}}
    stored = takeover_record._encode(record, -1e12, *_TTLS)[0]
    table = parts(stored)[2]
    assert table[1] == int.from_bytes(takeover_record.struct.pack("<d", first)[6:],
                                      "little") - takeover_record._TOP_BASE
    back = takeover_record.decode(stored)
    _strictly(back, record)
    assert takeover_record._encode(back, -1e12, *_TTLS)[0] == stored


def test_a_profile_of_many_domains_holds_one_flag() -> None:
    """A session that sends links to a thousand domains, cleanly, from the owner's network:
    the profile holds ``linked`` (one byte), where main kept up to ``max_domains`` (16)
    tags of 4 bytes each; BEHAVIOUR_CHANGE's "first link ever" reads only whether any.
    Fails on main (f374292): the profile keeps the tags, 66 bytes."""
    from spimguard.detectors.takeover import profile as takeover_profile
    from spimguard.detectors.takeover.settings import TakeoverSettings

    class View:
        def __init__(self, n: int) -> None:
            self.domains = (f"site{n}.example", f"other{n}.example")
            self.urls = self.domains

    class Message:
        ts = T0

    cfg = TakeoverSettings()
    known: dict[str, Any] = {}
    for n in range(1_000):
        takeover_profile.learn(cfg, known, Message(), View(n), "L", None)  # type: ignore[arg-type]
    assert known.get("linked") is True and "domains" not in known
    stored = _encoded({"p": known, "pt": T0})
    assert takeover_record.decode(stored)["p"] == known
    assert parts(stored)[3][6] is True
