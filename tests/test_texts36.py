"""The takeover detector's pitch sets (``keys.text``: a session's pitch in the burst
window; ``keys.spread``: a site the unproven sessions sent over a session's life) lodged in
the account's ties as guests of its sessions' keyspace (session 36), where each was a key
of its own (``tk:text:``): named so that no guest is another, answering as a plain set
did, bounded whatever an attacker pitches, and converted from an earlier release's store
when it opens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from conftest import forget_conversions
from spimguard import accounts, text
from spimguard.db import connect
from spimguard.detectors.takeover import TakeoverSettings, keys
from spimguard.state import StateBackend
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    Contains,
    Distinct,
    Members,
    Query,
    Touch,
    Write,
    guest_of,
    key_part,
)
from spimguard.state.sqlite import SQLiteState

CFG = TakeoverSettings()
WINDOW, LIFE_TTL, CAP = float(CFG.burst_window), float(CFG.session_ttl), CFG.burst_cap
ACCOUNT = "@a:s"
TIES = accounts.tie_record(ACCOUNT)
VIEW = text.view("cheap tones at http://tones-shop.biz/x now")
PITCH = keys.text(ACCOUNT, "phone", VIEW)
SPREAD = keys.spread(ACCOUNT, "tones-shop.biz")
# The keys an earlier release kept them at (``keys.text`` and ``keys.spread`` before).
OLD_PITCH = f"tk:text:{ACCOUNT}:phone:d:tones-shop.biz"
OLD_SPREAD = f"tk:text:{ACCOUNT}:%unproven:d:tones-shop.biz"
PEOPLE = ("@b:s", "@c:s", "@d:s", "@e:s")


def _lodged_names(state: MemoryState) -> list[bytes]:
    return [name for name, _ in state.accounts()[TIES].guest_items()]


def test_a_pitch_set_and_a_spread_set_are_guests_of_the_account_ties() -> None:
    """Both sets lodge in the account's ties (``ops.guest_of`` names the host and the
    guest), beside the session's own record, and the memory store holds no key of their
    own: a key cost ~300 bytes (its name, slot and object) for a few members."""
    assert guest_of(PITCH) == (TIES, "phone%pd%3Atones-shop.biz")
    assert guest_of(SPREAD) == (TIES, "%dtones-shop.biz")
    state = MemoryState()
    state.write([Touch(keys.lifelong(ACCOUNT, "phone"), PEOPLE[:1], LIFE_TTL, CAP, keys.LIFE),
                 Touch(PITCH, PEOPLE[:2], WINDOW, CAP, keys.LIFE),
                 Touch(SPREAD, PEOPLE[1:3], LIFE_TTL, CAP, keys.LIFE)], T0)
    assert _lodged_names(state) == [b"phone", b"phone%pd%3Atones-shop.biz", b"%dtones-shop.biz"]
    assert state.read([Members(PITCH, keys.LIFE), Members(SPREAD, keys.LIFE)], T0 + 1) == [
        PEOPLE[:2], PEOPLE[1:3]]


_IDS = st.text(alphabet="ap%:d2531A", max_size=7)


@examples(max_examples=400, deadline=None)
@given(account=_IDS, sessions=st.tuples(_IDS, _IDS), sites=st.tuples(_IDS, _IDS))
def test_no_guest_name_is_another_whatever_sessions_and_sites_hold(
        account: str, sessions: tuple[str, str], sites: tuple[str, str]) -> None:
    """Session ids and sites come from outside ("%", ":", "%p", "%d" and "%unproven"
    included): each pitch set's guest name (a session and a pitch), each spread set's (a
    site), each session's record and the records no session is (``unproven``, ``linked``,
    ``sought``, ``shares``) are lodged in the one host of the account, under names no two
    of which are equal unless they are the same set."""
    named: dict[str, tuple[str, ...]] = {}

    def lodged(key: str, what: tuple[str, ...]) -> None:
        place = guest_of(key)
        assert place is not None and place[0] == accounts.tie_record(account), key
        assert ":" not in place[1]
        assert named.setdefault(place[1], what) == what, (place[1], what, named[place[1]])

    for session in sessions:
        lodged(keys.lifelong(account, session), ("session", session))
        for site in sites:
            view = text.view(f"go to http://{site or 'x'}.example/")
            lodged(keys.text(account, session, view), ("pitch", session, keys.pitch(view)))
        lodged(keys.text(account, session, text.view("no link here")),
               ("pitch", session, text.view("no link here").fingerprint))
    for site in sites:
        lodged(keys.spread(account, site), ("spread", site))
    for make in (keys.unproven, keys.linked, keys.sought, keys.shares):
        lodged(make(account), (make.__name__,))


def _writes() -> list[tuple[float, list[Write]]]:
    """A session's pitch and the unproven sessions' spread touched as the detector touches
    them (the window's TTL, the life's), beside the session's record; one late."""
    life = keys.lifelong(ACCOUNT, "phone")
    return [(T0, [Touch(life, PEOPLE[:2], LIFE_TTL, CAP, keys.LIFE),
                  Touch(PITCH, PEOPLE[:2], WINDOW, CAP, keys.LIFE),
                  Touch(SPREAD, PEOPLE[:1], LIFE_TTL, CAP, keys.LIFE)]),
            (T0 + 300, [Touch(PITCH, PEOPLE[2:3], WINDOW, CAP, keys.LIFE),
                        Touch(SPREAD, PEOPLE[1:3], LIFE_TTL, CAP, keys.LIFE)]),
            (T0 + 250, [Touch(PITCH, PEOPLE[3:], WINDOW, 3, keys.LIFE)]),  # late, capped
            (T0 + 900, [Touch(PITCH, PEOPLE[:1], WINDOW, CAP, keys.LIFE)])]


def _plain(key: str) -> str:
    return "plain:" + key


def _reads(key: str, side: str) -> list[Query]:
    return [Members(key, side), Distinct(key, WINDOW, side), Distinct(key, LIFE_TTL, side),
            Contains(key, PEOPLE, side)]


def _check_as_plain(state: StateBackend) -> None:
    for now, writes in _writes():
        state.write(writes, now)
        state.write([Touch(_plain(w.key), w.members, w.ttl, w.cap) for w in writes
                     if isinstance(w, Touch) and w.key != keys.lifelong(ACCOUNT, "phone")],
                    now)
    for now in (T0 + 901, T0 + 1_100, T0 + 1_499, T0 + 1_501, T0 + LIFE_TTL + 299,
                T0 + LIFE_TTL + 301):
        for key in (PITCH, SPREAD):
            assert state.read(_reads(key, keys.LIFE), now) == state.read(
                _reads(_plain(key), ""), now), (key, now - T0)


def test_a_lodged_pitch_answers_as_its_plain_set_did_in_memory_and_sqlite(
        tmp_path: Path) -> None:
    """The pitch set's touches name ``burst_window``, not its side's declared TTL (a
    session's life): its record holds its head, and every read answers as the plain set
    of the same touches does, a late touch and a cap included; the spread's as well."""
    assert guest_of(PITCH) is not None and guest_of(SPREAD) is not None
    _check_as_plain(MemoryState())
    state = SQLiteState(connect(tmp_path / "s.db"))
    _check_as_plain(state)
    state.close()


def test_a_lodged_pitch_answers_as_its_plain_set_did_in_redis(
        compact: str, redis_url: str, redis_namespace: str) -> None:
    """As in memory, in Redis's packed guests (``compact``) and its fields a member."""
    from spimguard.state.redis import RedisState

    assert guest_of(PITCH) is not None
    for url, ns in ((compact, "t36:"), (redis_url, redis_namespace)):
        state = RedisState(url, ns)
        _check_as_plain(state)
        state.close()


def test_ten_thousand_pitches_leave_the_account_host_bounded_in_memory() -> None:
    """An intruder pitching a site per recipient (10,000 sites, a message each) makes a
    guest a pitch: the account lodges at most eight (``memory._LODGED_GUESTS``) of at most
    ``_GUEST_BYTES`` each, the rest records of their own, so a touch of the host rewrites
    no more however many it pitches; each pitch answers what it was sent to."""
    from spimguard.state.memory import _GUEST_BYTES, _LODGED_GUESTS

    state = MemoryState()
    sites = [f"s{i}.example" for i in range(10_000)]
    for i, site in enumerate(sites):
        view = text.view(f"http://{site}/")
        state.write([Touch(keys.text(ACCOUNT, "phone", view), (f"@p{i}:s",), WINDOW, CAP,
                           keys.LIFE),
                     Touch(keys.spread(ACCOUNT, site), (f"@p{i}:s",), LIFE_TTL, CAP,
                           keys.LIFE)], T0 + i * 0.01)
    host = state.accounts()[TIES]
    assert _lodged_names(state)[:2] == [b"phone%pd%3As0.example", b"%ds0.example"]
    assert len(host.guest_items()) == _LODGED_GUESTS
    assert len(host.lodged) <= _LODGED_GUESTS * _GUEST_BYTES
    for i in (0, 3, 5_000, 9_999):
        assert state.read([Contains(keys.text(ACCOUNT, "phone", text.view(
            f"http://{sites[i]}/")), (f"@p{i}:s", "@q:s"), keys.LIFE),
            Distinct(keys.spread(ACCOUNT, sites[i]), LIFE_TTL, keys.LIFE)], T0 + 100) == [
            (True, False), 1]


def test_a_thousand_pitches_leave_the_redis_ties_hash_bounded_and_compact(
        compact: str) -> None:
    """In Redis, the pitches lodge while the ties hash has room (``redis._LODGED_FIELDS``)
    and keep keys of their own past it: the hash stays a listpack under the bound."""
    import redis

    from spimguard.state.redis import _LODGED_FIELDS, RedisState

    raw, ns = redis.Redis.from_url(compact), "t36p:"
    state = RedisState(compact, ns)
    for i in range(1_000):
        view = text.view(f"http://s{i}.example/")
        state.write([Touch(keys.text(ACCOUNT, "phone", view), (f"@p{i}:s",), WINDOW, CAP,
                           keys.LIFE)], T0 + i * 0.01)
    assert raw.hexists(ns + TIES, b"\xfe" + b"phone%pd%3As0.example")
    assert raw.hlen(ns + TIES) <= _LODGED_FIELDS
    assert raw.object("encoding", ns + TIES) == b"listpack"
    view = text.view("http://s999.example/")
    assert state.read([Members(keys.text(ACCOUNT, "phone", view), keys.LIFE)], T0 + 20) == [
        ("@p999:s",)]
    state.close()


def _check_converted(make: Callable[[], StateBackend], forget_done: Callable[[], None],
                     old_keys: Callable[[], list[str]]) -> None:
    """An earlier release's plain pitch sets (``tk:text:``), an account id with ":" and a
    session id with ":" and "%" among them, answer the reads of their guests as they
    answered their own, once the store opens again; the old keys are gone, one that
    names no pitch (none was written so) dropped."""
    odd, session = "@o:s:x", "x:1%"
    old_odd = f"tk:text:{odd}:{key_part(session)}:d:tones-shop.biz"
    new_odd = keys.text(odd, session, VIEW)
    old = make()
    old.write([Touch(OLD_PITCH, PEOPLE[:2], WINDOW, CAP),
               Touch(OLD_SPREAD, PEOPLE[:1], LIFE_TTL, CAP),
               Touch(old_odd, PEOPLE[3:], WINDOW, CAP),
               Touch("tk:text:no-pitch", PEOPLE[:1], WINDOW, CAP)], T0)  # no record: dropped
    old.write([Touch(OLD_PITCH, PEOPLE[2:3], WINDOW, CAP),
               Touch(OLD_SPREAD, PEOPLE[1:2], LIFE_TTL, CAP)], T0 + 400)
    old.commit()
    pairs = ((OLD_PITCH, PITCH), (OLD_SPREAD, SPREAD), (old_odd, new_odd))
    times = (T0 + 401, T0 + 700, T0 + 1_001)
    expected = [old.read(_reads(key, ""), now) for key, _ in pairs for now in times]
    old.close()
    forget_done()
    state = make()
    assert [state.read(_reads(key, keys.LIFE), now) for _, key in pairs
            for now in times] == expected
    assert not old_keys(), "the old sets are gone"
    state.close()


def test_an_earlier_sqlite_stores_pitch_sets_convert_when_it_opens(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"

    def old_keys() -> list[str]:
        raw = sqlite3.connect(path)
        found = [k for (k,) in raw.execute(
            "SELECT DISTINCT key FROM members WHERE key LIKE 'tk:text:%'")]
        raw.close()
        return found

    _check_converted(lambda: SQLiteState(connect(path)),
                     lambda: forget_conversions(path, "renamed:tk:text:"), old_keys)


def test_an_earlier_redis_stores_pitch_sets_convert_when_a_node_opens(
        redis_url: str, redis_namespace: str) -> None:
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace

    def forget_done() -> None:
        raw.delete(f"{ns}state-key:member-hash:converted:renamed:tk:text:")

    _check_converted(lambda: RedisState(redis_url, ns), forget_done,
                     lambda: [k.decode() for k in raw.keys(f"{ns}tk:text:*")])


def test_a_dead_pitch_guest_leaves_the_redis_ties_hash_at_the_accounts_next_touch(
        compact: str) -> None:
    """A pitch set past its window (and the lateness) is gone from the ties hash once a
    guest enters the account's ties again (here its session's record: ``gentering``), as
    the key of its own was gone by then (a strict xfail until review36b)."""
    import redis

    from spimguard.state.ops import MAX_LATENESS
    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(compact), "t36d:"
    state = RedisState(compact, ns)
    state.write([Touch(TIES, PEOPLE[:1], 180 * 86_400.0, 2_000, accounts.TALKED),
                 Touch(PITCH, PEOPLE[:2], WINDOW, CAP, keys.LIFE)], T0)
    field = b"\xfe" + guest_of(PITCH)[1].encode()  # type: ignore[index]
    assert raw.hexists(ns + TIES, field)
    later = T0 + WINDOW + MAX_LATENESS + 60
    state.write([Touch(TIES, PEOPLE[1:2], 180 * 86_400.0, 2_000, accounts.TALKED),
                 Touch(keys.lifelong(ACCOUNT, "phone"), PEOPLE[:1], LIFE_TTL, CAP,
                       keys.LIFE)], later)
    assert state.read([Members(PITCH, keys.LIFE)], later) == [()]
    assert not raw.hexists(ns + TIES, field)
    state.close()
