"""The takeover detector's per-account record: each part expires as its own key did, and
what bounds it cannot be turned against the owner."""

from __future__ import annotations

from conftest import T0, event, message
from spimguard.detectors import takeover, takeover_record
from spimguard.detectors.takeover_record import PROFILE_TTL, Record
from spimguard.state.ops import Get
from test_takeover import engine_with_history

DAY = 86_400.0
SESSION_TTL, LIVE, INCIDENT_TTL = 30 * DAY, 12 * 3600.0, 7 * DAY


def record(stored: dict | None = None) -> Record:  # type: ignore[type-arg]
    return Record("alice", stored, SESSION_TTL, LIVE, INCIDENT_TTL)


def written() -> dict:  # type: ignore[type-arg]
    """One of each part, written at T0."""
    fresh = record()
    fresh.set_profile({"msgs": 3}, T0)
    fresh.set_session("phone", {"client": "im-android", "net": "198.51.100.0", "login": T0,
                                "read": 0, "risk": 0.4, "dormant": False}, T0, 8, 2)
    fresh.touch_live("198.51.100.0", T0, 16)
    fresh.set_incidents([{"session": "evil", "since": T0}], T0)
    fresh.count_sent("phone", T0, 8)
    put = fresh.put(T0)
    assert put is not None and put.key == takeover_record.key("alice")
    assert put.ttl == PROFILE_TTL  # as long as its longest-lived part
    return put.value


def test_each_part_is_gone_when_its_own_key_would_have_expired() -> None:
    stored = written()
    for at, alive in ((T0 + 1, True), (T0 + LIVE - 1, True), (T0 + LIVE, False)):
        assert bool(record(stored).live(at)) is alive
    assert record(stored).sent("phone", T0 + DAY - 3600) == 1.0
    assert record(stored).sent("phone", T0 + DAY + 3600) == 0.0
    assert record(stored).incidents(T0 + INCIDENT_TTL - 1)
    assert not record(stored).incidents(T0 + INCIDENT_TTL)
    session = record(stored).session("phone", T0 + SESSION_TTL - 1)
    assert session == {"client": "im-android", "net": "198.51.100.0", "login": T0, "read": 0,
                       "risk": 0.4, "dormant": False, "replies": 0, "proven": False}
    assert record(stored).session("phone", T0 + SESSION_TTL) is None
    assert record(stored).profile(T0 + PROFILE_TTL - 1) == {"msgs": 3}
    assert record(stored).profile(T0 + PROFILE_TTL) == {}


def test_a_write_leaves_out_what_has_expired_and_keeps_the_rest() -> None:
    later = record(written())
    later.count_sent("phone", T0 + 2 * DAY, 8)
    put = later.put(T0 + 2 * DAY)
    assert put is not None
    assert set(put.value) == {"p", "pt", "s", "i", "n"}  # the live network is gone
    assert put.value["n"]["phone"] == [[int((T0 + 2 * DAY) // 3600), 1]]
    assert put.value["p"] == {"msgs": 3} and put.value["pt"] == T0  # untouched, not renewed


def test_sessions_minted_by_the_dozen_do_not_push_out_the_owners_earned_one() -> None:
    """The owner's phone on a trip has been answering its friends (the replies that make a
    session the owner's); an intruder that signs in under a new session id a dozen times
    must not make the record forget them."""
    engine = engine_with_history()
    cfg = engine.config
    trip = {"id": "im-android", "ip": "192.0.2.10"}
    engine.process(event(cfg, type="login", id="trip", ts=T0, account="alice", session="trip",
                         ip=trip["ip"], client={"id": trip["id"]}))
    for i, answer in enumerate(("in lisbon till friday", "sure, the usual place")):
        engine.process(message(cfg, f"hi{i}", f"alice-friend{i}", ["alice"], "where are you",
                               T0 + 10 + 20 * i))
        engine.process(message(cfg, f"re{i}", "alice", [f"alice-friend{i}"], answer,
                               T0 + 20 + 20 * i, session="trip", client=trip))
    minted = takeover.DEFAULTS["max_sessions"] + 4
    for n in range(minted):
        engine.process(event(cfg, type="login", id=f"mint{n}", ts=T0 + 100 + n,
                             account="alice", session=f"mint{n}", ip="203.0.113.7",
                             client={"id": "MobileFunster 2.1"}))
    now = T0 + 100 + minted
    stored = engine.read_state([Get(takeover_record.key("alice"))])[0]
    kept = Record("alice", stored, SESSION_TTL, LIVE, INCIDENT_TTL)
    session = kept.session("trip", now)
    assert session is not None and session["replies"] == 2
    assert len(stored["s"]) == takeover.DEFAULTS["max_sessions"]
    assert kept.session(f"mint{minted - 1}", now) is not None  # the newest minted is kept
