"""The takeover record's decoding walks a part of one entry as itself (session 47,
``record47``): the same dict from the same bytes, of every form the decoding reads.

A platform's event decodes its sender's record nearly every time, and an ordinary
account's parts hold one entry each (its one session, network, client, owned network):
each was walked by a ``range``, its iterator and a slice of the whole part (~1,300
instructions a part, ~6,000 a record of the mixed load of ~70,000). Now only a part of
several entries is cut into them (``record._entries``), and the delivered counts' hours
are walked as before. Nothing decoded may differ: every seeded record (``test_encode42``'s
spread: every part, one entry and several, expired parts, both families of networks)
decodes to what main decoded (``test_decode43``'s digest), its v5 form (session 36's
release) to the same, and goes back to its very bytes; a part that is not whole entries
still fails loudly.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest

from spimguard.detectors.takeover import record as takeover_record
from test_decode43 import _BASE_DECODED
from test_encode42 import _TTLS, T0, _as_day, _ordinary, _records
from test_records37 import parts, v5_of
from test_takeover_record_sixes import _strictly

# The parts walked an entry at a time, each with its entry's size, by their index in
# ``test_records37.parts``'s list (the profile's three maps of seen names inside it).
_SESSIONS, _LIVE = 4, 5
_SEEN = (2, 3, 4)  # nets, clients, owned: in the profile


def _ranges(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Every ``range`` the record module makes from now on (its global shadows the
    builtin's)."""
    made: list[tuple[int, ...]] = []

    def counted(*args: int) -> range:
        made.append(args)
        return range(*args)

    monkeypatch.setattr(takeover_record, "range", counted, raising=False)
    return made


def _expected_ranges(stored: bytes) -> int:
    """The ranges decoding ``stored`` (v6) makes: one a part of other than one entry (the
    cut of ``_entries``); as main made them, one for the incidents, one a session's
    delivered counts (its hours), one for the numbers' tops that differ (``_numbers``)."""
    found = parts(stored)
    table, profile, sessions, live, incidents, sent = found[2:8]
    sited = found[8] if len(found) > 8 else []
    links = found[9] if len(found) > 9 else []
    made = sum(len(part) != size for part, size in (
        (links, 2), (sessions, 9), (live, 2)) if part)
    if profile:
        made += sum(profile[i] is not None and len(profile[i]) != 4 for i in _SEEN)
    return made + bool(incidents) + len(sent) + len(sited) + (len(table) > 2)


def _v6(record: dict[str, Any], now: float = T0, account: str = "@a:x") -> bytes:
    return takeover_record.put_of(account, record, now, *_TTLS).value


def test_an_ordinary_records_parts_of_one_entry_are_read_with_no_range(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The mixed load's account (a session, a network, a client, an owned network, a live
    network): read back as written, v6 and v5 alike, with one ``range`` (its session's
    delivered hours) where main made six."""
    record = _ordinary()
    stored = _v6(record)
    made = _ranges(monkeypatch)
    for form in (stored, v5_of(stored)):
        made.clear()
        assert takeover_record.decode(form) == record
        assert made == [(1, 7, 2)]  # [session, hours before, count] x 3: the counts' walk


def test_every_seeded_record_reads_as_mains_of_either_form_and_goes_back_to_its_bytes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The 400 seeded records: v6's decodings are main's (the digest of each ``repr``:
    values, order, the sign of each zero), v5's the same dicts to the bit, each put again
    at its time is its very bytes, and a ``range`` is made only for a part of several
    entries (or none), the incidents and each session's counts."""
    digest = hashlib.sha256()
    made = _ranges(monkeypatch)
    several = 0
    for account, record, now in _records():
        stored = _v6(record, now, account)
        made.clear()
        read = takeover_record.decode(stored)
        assert len(made) == _expected_ranges(stored)
        digest.update(repr(_as_day(read)).encode())
        _strictly(takeover_record.decode(v5_of(stored)), read)
        assert takeover_record._encode(read, now, *_TTLS)[0] == stored
        several += any(len(e) > 1 for e in read.get("p", {}).get("nets", {}).values())
    assert digest.hexdigest()[:16] == _BASE_DECODED
    assert several > 50  # parts of several entries are among them, cut by ``_entries``


@pytest.mark.parametrize(("part", "flat"), [
    (_SESSIONS, [0] * 10), (_SESSIONS, [0] * 8), (_LIVE, [0, 0, 0]), (_LIVE, [0]),
], ids=["a session and a stray item", "a session short", "a network and a stray item",
        "a network short"])
def test_a_part_that_is_not_whole_entries_fails_loudly(part: int, flat: list[int]) -> None:
    """A part one entry long or short is no record this project wrote: its entries' cut
    (``_entries``) leaves the last short and its unpacking fails, as main's did."""
    size = 9 if part == _SESSIONS else 2
    assert len(takeover_record._entries(flat, size)[-1]) < size
    found = parts(_v6(_ordinary()))
    found[part] = flat
    with pytest.raises(ValueError):
        takeover_record.decode(b"\xc1" + msgspec.msgpack.encode(found))
