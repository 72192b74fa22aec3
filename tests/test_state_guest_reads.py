"""A session's record lodged in its account's object is decoded once and remembered with
its own bytes (``MemoryState._lodged_guest``): a read after a sibling session's touch is
not decoded again, and a remembered record is never taken for one whose bytes changed,
whatever bytes a crafted session id holds."""

from __future__ import annotations

import pytest

from spimguard.state import sided
from spimguard.state.conformance import GUEST, GUEST_SIDES, SIDED
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Members, Touch, guest_key

ONE = GUEST_SIDES[0]
# Times and a TTL whose doubles' bytes are all below 0x80 (2**18, 2**19 and their sums),
# and 0.0 beside them so the record's times are eight bytes each (``sided._SIX`` clear):
# every byte of the record lodged is ASCII, so a session id can hold them all.
LATER, TTL = 2.0**18, 2.0**19


def test_a_sibling_sessions_touch_leaves_a_session_read_decoded_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The record remembered is checked against its own bytes, not all the account's
    guests': 28 % of the 2,000-user load's session reads were decoded again so."""
    state, one, two = MemoryState(), guest_key(GUEST, "h", "s1"), guest_key(GUEST, "h", "s2")
    state.write([Touch(one, ("@a",), 600.0, 10, ONE), Touch(two, ("@b",), 600.0, 10, ONE)],
                100.0)
    assert state.read([Members(one, ONE)], 101.0) == [("@a",)]
    state.write([Touch(two, ("@c",), 600.0, 10, ONE)], 102.0)
    decoded: list[bytes] = []
    real = sided.decode_names
    monkeypatch.setattr(sided, "decode_names", lambda blob: decoded.append(blob) or real(blob))
    assert state.read([Members(one, ONE), Members(two, ONE)], 103.0) == [("@a",), ("@b", "@c")]
    assert decoded == [], "both remembered: s1 read before, s2 as touched"


def test_a_remembered_session_is_never_found_inside_a_crafted_session_id() -> None:
    """A session's record remembered, then dropped and loaded anew behind the store's
    back (``forget`` and ``load_sided``, as SQLite's hot copy reloads a row another
    process wrote), while a sibling session's id holds the remembered bytes whole: a
    search of the account's bytes for them would find them there and answer the old
    record. The bytes are compared where each guest starts, so the read answers the
    record as it is now (nothing, then the one loaded)."""
    state, session = MemoryState(), guest_key(GUEST, "h", "s1")
    state.write([Touch(session, ("@old",), TTL, 10, ONE)], 0.0)
    state.write([Touch(session, ("@old2",), TTL, 10, ONE)], LATER)
    host = state.accounts()[f"{SIDED}h"]
    held = host.guests  # s1's bytes alone: its lengths, name, names and times
    assert max(held) < 0x80 and b":" not in held and b"%" not in held, "a session id holds it"
    assert state.read([Members(session, ONE)], LATER + 1) == [("@old", "@old2")]
    crafted = guest_key(GUEST, "h", "x" + held.decode("ascii"))
    state.write([Touch(crafted, ("@x",), TTL, 10, ONE)], LATER + 2)
    assert host.lodged.count(held) == 2, "s1's bytes, and again inside the crafted id"
    state.forget(session)
    assert state.read([Members(session, ONE)], LATER + 3) == [()], "gone: not the old one"
    fresh = MemoryState()
    fresh.write([Touch(session, ("@new",), TTL, 10, ONE)], LATER + 3)
    loaded = fresh.sided_record(session)
    assert loaded is not None
    state.load_sided(session, loaded)
    assert state.read([Members(session, ONE), Members(crafted, ONE)], LATER + 4) == [
        ("@new",), ("@x",)]
