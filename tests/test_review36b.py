"""Session 36's review of ``texts36`` (the takeover detector's pitch sets lodged in the
account's ties): a new pitch on a full host in memory walks its guests fewer times; Redis
lets a host's dead guests go when a guest enters it (so none takes a live one's room); an
earlier release's pitch set whose session part no session of this release can write
(a raw id from before session 34's ``key_part``) is dropped, not lodged as a guest."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest

from conftest import forget_conversions
from spimguard import accounts, text
from spimguard.db import connect
from spimguard.detectors.takeover import TakeoverSettings, keys
from spimguard.state import memory
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import MAX_LATENESS, Members, Touch, guest_of
from spimguard.state.sqlite import SQLiteState

CFG = TakeoverSettings()
WINDOW, LIFE_TTL, CAP = float(CFG.burst_window), float(CFG.session_ttl), CFG.burst_cap
ACCOUNT = "@a:s"
TIES = accounts.tie_record(ACCOUNT)


def _pitch(i: int, session: str = "phone") -> str:
    return keys.text(ACCOUNT, session, text.view(f"http://s{i}.example/"))


class _Counted:
    """``memory._GUEST`` with its ``unpack_from`` calls counted: one a guest walked past."""

    def __init__(self, inner: struct.Struct) -> None:
        self.inner, self.size, self.calls = inner, inner.size, 0

    def unpack_from(self, blob: Any, at: int = 0) -> tuple[Any, ...]:
        self.calls += 1
        return self.inner.unpack_from(blob, at)

    def pack(self, *values: Any) -> bytes:
        return self.inner.pack(*values)


def test_a_new_pitch_on_a_full_host_walks_its_guests_at_most_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An intruder minting a site a message makes each pitch a new guest of a host that
    lodges ``_LODGED_GUESTS`` (8) already: the touch walked the 8 guests four times (the
    read, the place, the count, the drop: 32 guests' lengths unpacked on main, texts36's
    4-6x a plain set's cost); now the read and one walk that finds the place or counts
    (16), the pitch still a record of its own that answers what it was sent to."""
    state = MemoryState()
    for i in range(8):
        state.write([Touch(_pitch(i), (f"@p{i}:s",), WINDOW, CAP, keys.LIFE)], T0 + i)
    assert len(state.accounts()[TIES].guest_items()) == 8
    counted = _Counted(memory._GUEST)
    monkeypatch.setattr(memory, "_GUEST", counted)
    state.write([Touch(_pitch(99), ("@q:s",), WINDOW, CAP, keys.LIFE)], T0 + 10)
    monkeypatch.undo()
    assert counted.calls <= 16, counted.calls
    assert len(state.accounts()[TIES].guest_items()) == 8
    assert state.read([Members(_pitch(99), keys.LIFE), Members(_pitch(3), keys.LIFE)],
                      T0 + 11) == [("@q:s",), ("@p3:s",)]


def _redis_entering(url: str, ns: str) -> None:
    """A host's pitch guests past their window and the lateness leave when a guest next
    enters it, and the hash's room is judged on the live: a new guest lodges where the
    dead filled the hash (``redis._LODGED_FIELDS``), not at a key of its own."""
    import redis

    from spimguard.state.redis import _LODGED_FIELDS, RedisState

    raw = redis.Redis.from_url(url)
    state = RedisState(url, ns)
    state.write([Touch(TIES, ("@b:s",), 180 * 86_400.0, 2_000, accounts.TALKED)], T0)
    for i in range(2 * _LODGED_FIELDS):
        state.write([Touch(_pitch(i), (f"@p{i}:s",), WINDOW, CAP, keys.LIFE)], T0 + i * 0.01)
    # The hash is full: the last pitches keep keys of their own.
    assert raw.exists(ns + _pitch(2 * _LODGED_FIELDS - 1))
    later = T0 + WINDOW + MAX_LATENESS + 60
    fresh = _pitch(10_000)
    state.write([Touch(fresh, ("@q:s",), WINDOW, CAP, keys.LIFE)], later)
    name = guest_of(fresh)[1].encode()  # type: ignore[index]
    assert state.read([Members(fresh, keys.LIFE)], later) == [("@q:s",)]
    state.close()
    assert not raw.exists(ns + fresh), "lodged, not at a key of its own"
    # packed (``redis._GUEST``), or a field a member behind its prefix
    assert raw.hexists(ns + TIES, b"\xfe" + name) or raw.hexists(
        ns + TIES, b"\xff\xfe" + name + b":\xff")
    assert raw.hlen(ns + TIES) < 8, raw.hkeys(ns + TIES)


def test_dead_guests_leave_the_packed_ties_hash_when_a_guest_enters(compact: str) -> None:
    _redis_entering(compact, "r36b:")


def test_dead_guests_leave_the_ties_hash_of_fields_when_a_guest_enters(
        redis_url: str, redis_namespace: str) -> None:
    """As above where the server keeps fewer bytes compact (a field a member: ``gfields``);
    the test server's hash-max-listpack-value set to Redis's default, 64."""
    import redis

    raw = redis.Redis.from_url(redis_url)
    before = raw.config_get("hash-max-listpack-value")["hash-max-listpack-value"]
    raw.config_set("hash-max-listpack-value", 64)
    try:
        _redis_entering(redis_url, redis_namespace)
    finally:
        raw.config_set("hash-max-listpack-value", before)


def test_an_earlier_pitch_set_no_session_of_this_release_names_is_dropped(
        tmp_path: Path) -> None:
    """Before session 34 a pitch set's key held its session's id raw: a session "x%pd"
    ("%" not written "%25") names no session ``key_part`` writes, so converting it lodged a
    guest no read reaches (``x%pd%pd%3A...``), taking a host's room until it died; now
    dropped, while an escaped one converts as before."""
    path = tmp_path / "old.db"
    raw_session = "x%pd%3Aevil"
    old = SQLiteState(connect(path))
    old.write([Touch(f"tk:text:{ACCOUNT}:{raw_session}:d:tones-shop.biz", ("@b:s",),
                     WINDOW, CAP),
               Touch(f"tk:text:{ACCOUNT}:phone:d:tones-shop.biz", ("@c:s",), WINDOW, CAP)],
              T0)
    old.commit()
    old.close()
    forget_conversions(path, "renamed:tk:text:")
    state = SQLiteState(connect(path))
    view = text.view("http://tones-shop.biz/")
    assert state.read([Members(keys.text(ACCOUNT, "phone", view), keys.LIFE)], T0 + 1) == [
        ("@c:s",)]
    state.close()
    db = sqlite3.connect(path)
    rows = [k for (k,) in db.execute("SELECT key FROM sided_sets")]
    db.close()
    assert [k for k in rows if "evil" in k] == []
