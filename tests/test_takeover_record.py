"""The takeover detector's per-account record: each part expires as its own key did, and
what bounds it cannot be turned against the owner."""

from __future__ import annotations

import math
from typing import Any

import pytest

from conftest import T0, event, message
from spimguard.detectors import takeover
from spimguard.detectors.takeover import histogram
from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.record import PROFILE_TTL, Record
from spimguard.events import EventTime
from spimguard.state.ops import Get, Put
from test_takeover import engine_with_history

DAY = 86_400.0
SESSION_TTL, LIVE, INCIDENT_TTL = 30 * DAY, 12 * 3600.0, 7 * DAY


def record(stored: Any = None, decoded: bool = False) -> Record:
    """``decoded``: a record this process decoded or changed (``Record``)."""
    return Record("alice", stored, SESSION_TTL, LIVE, INCIDENT_TTL, decoded)


def written() -> dict:  # type: ignore[type-arg]
    """One of each part, written at T0."""
    fresh = record()
    fresh.set_profile({"msgs": 3}, T0)
    fresh.set_session("phone", {"client": "im-android", "net": "198.51.100.0", "login": T0,
                                "read": 0, "risk": 0.4, "dormant": False}, T0, 8, 2)
    fresh.touch_live("198.51.100.0", T0, 16)
    fresh.set_incidents([{"session": "evil", "since": T0, "net": "203.0.113.0",
                          "range": "203.0.0.0", "family": "mobilefunster"}], T0)
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
    value = takeover_record.decode(put.value)
    assert set(value) == {"p", "pt", "s", "i", "n"}  # the live network is gone
    assert value["n"]["phone"] == [[int((T0 + 2 * DAY) // 3600), 1]]
    assert value["p"] == {"msgs": 3} and value["pt"] == T0  # untouched, not renewed


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
    minted = takeover.TakeoverSettings().max_sessions + 4
    for n in range(minted):
        engine.process(event(cfg, type="login", id=f"mint{n}", ts=T0 + 100 + n,
                             account="alice", session=f"mint{n}", ip="203.0.113.7",
                             client={"id": "MobileFunster 2.1"}))
    now = T0 + 100 + minted
    stored = engine.read_state([Get(takeover_record.key("alice"))])[0]
    kept = Record("alice", stored, SESSION_TTL, LIVE, INCIDENT_TTL)
    session = kept.session("trip", now)
    assert session is not None and session["replies"] == 2
    assert len(takeover_record.decode(stored)["s"]) == takeover.TakeoverSettings().max_sessions
    assert kept.session(f"mint{minted - 1}", now) is not None  # the newest minted is kept


def test_stored_times_are_the_event_times_exactly() -> None:
    """Times are stored as ticks before the put's time: a sign-in compared with a
    message's time, or an expiry with an event's, must decide as it did with the float
    itself, down to the last bit (one a millisecond off would decide otherwise here)."""
    login = T0 + 0.1234567  # no whole number of milliseconds or microseconds
    stored = record()
    stored.set_session("phone", {"client": "im-android", "net": "198.51.100.0",
                                 "login": login, "risk": 0.6}, login, 8, 2)
    stored.set_profile({"last": 5e8 + 1e-7, "msgs": 1}, login)  # before 2**30 s: kept a float
    put = stored.put(login)
    assert put is not None
    kept = record(put.value)
    session = kept.session("phone", login)
    assert session is not None and session["login"] == login
    assert kept.profile(login)["last"] == 5e8 + 1e-7
    just_before = math.nextafter(login + SESSION_TTL, 0.0)
    assert kept.session("phone", just_before) is not None
    assert kept.session("phone", login + SESSION_TTL) is None


def test_a_record_stored_before_the_compact_form_still_reads() -> None:
    """An installation's records from before: each part reads as it did, and the next
    change writes the record back in the compact form with the same facts."""
    old = {"s": {"phone": ["im-android", "198.51.100.0", T0 - 50.5, 3, 0.6, 0, 2, T0 - 10.25,
                           1]},
           "l": {"198.51.100.0": T0 - 10.25},
           "i": [T0 - 20.0, [{"session": "evil", "since": T0 - 20.0, "net": "203.0.113.0",
                              "range": "203.0.0.0", "family": "mobilefunster"}]],
           "n": {"phone": [[int(T0 // 3600) - 1, 4], [int(T0 // 3600), 1]]},
           "p": {"last": T0 - 50.5, "msgs": 43, "nets": {"198.51.100.0": [T0 - DAY, T0, 16]},
                 "clients": {"im-android": [T0 - DAY, T0, 43]}, "domains": ["86869c35"],
                 "scripts": "L", "hours": [1] * 24,
                 "owned": {"198.51.100.0": [T0 - DAY, T0, 15]}},
           "pt": T0 - 10.25}
    before = record(old)
    facts = (before.profile(T0), before.session("phone", T0), before.live(T0),
             before.incidents(T0), before.sent("phone", T0))
    assert facts[1] == {"client": "im-android", "net": "198.51.100.0", "login": T0 - 50.5,
                        "read": 3, "risk": 0.6, "dormant": False, "replies": 2,
                        "proven": True}
    assert facts[4] == 5.0 and facts[3][0]["session"] == "evil"
    # Its domain tags read as ``linked`` (session 37: whether there are any is all read).
    # Its hours, the day's 24 counts, as the histogram of them (session 48, ``histogram``).
    read = {**old, "p": {k: v for k, v in old["p"].items() if k != "domains"} | {
        "hours": histogram.of([1] * 24), "linked": True}}
    assert takeover_record.decode(old) == read and facts[0] == read["p"]
    before.set_profile(facts[0], old["pt"])  # a change, to the same facts
    put = before.put(T0)
    assert put is not None and isinstance(put.value, bytes)
    after = record(put.value)
    assert (after.profile(T0), after.session("phone", T0), after.live(T0),
            after.incidents(T0), after.sent("phone", T0)) == facts
    assert takeover_record.decode(put.value) == read


def test_every_field_of_the_stored_form_reads_back_as_it_was_written() -> None:
    """The stored form is written and read by code tuned for speed (conversions in line):
    each kind of entry, including a profile entry with no count of uses and times from
    before 2**30 s (kept as floats), must read back exactly as the event left it."""
    old = 5e8 + 0.1  # not a whole number of ticks: stored as the float itself
    profile = {"last": T0 - 3.5, "msgs": 7,
               "nets": {"198.51.100.0": [T0 - DAY, T0 - 0.1234567, 4], "192.0.2.0": [old, old]},
               "clients": {"im-android": [old, T0, 255]},
               "owned": {"198.51.100.0": [T0 - DAY, T0 - 1.0, 3]},
               "cidrs": ["10.0.0.0/8"], "linked": True, "scripts": "LC",
               "hours": histogram.of(list(range(24)))}
    fresh = record()
    fresh.set_profile(profile, T0)
    fresh.set_session("phone", {"client": "im-android", "net": "198.51.100.0",
                                "login": T0 - 60.25, "read": 9, "risk": 1.0, "dormant": True,
                                "replies": 3, "proven": True}, T0, 8, 2)
    fresh.touch_live("198.51.100.0", T0, 16)
    fresh.touch_live("192.0.2.0", T0 - 7.5, 16)
    fresh.set_incidents([{"session": "evil", "since": T0 - 2.0, "net": "203.0.113.0",
                          "range": "203.0.0.0", "family": "mobilefunster"},
                         {"session": "evil2", "since": T0 - 1.0, "net": "198.51.100.0",
                          "range": "198.51.0.0", "family": "im-android"}], T0)
    fresh.count_sent("phone", T0 - 3_600.0, 8)
    fresh.count_sent("phone", T0, 8)
    put = fresh.put(T0)
    assert put is not None
    back = takeover_record.decode(put.value)
    assert back["p"] == profile and back["pt"] == T0
    assert back["s"]["phone"] == ["im-android", "198.51.100.0", T0 - 60.25, 9, 1.0, 1, 3, T0, 1]
    assert back["l"] == {"198.51.100.0": T0, "192.0.2.0": T0 - 7.5}
    assert [i["session"] for i in back["i"][1]] == ["evil", "evil2"]
    assert back["i"][1][1]["since"] == T0 - 1.0 and back["i"][1][1]["family"] == "im-android"
    assert record(put.value).sent("phone", T0) == 2.0


def test_a_record_stored_in_the_v2_list_still_reads() -> None:
    """The v2 stored form (a JSON list, times as ticks of 2**-22 s before its put's time,
    a time from before 2**30 s as its float), as the earlier release wrote it: each part
    reads as it was, and the next change writes the same facts in the bytes form."""
    v2 = [2, 7507804160000000,
          ["198.51.100.0", "192.0.2.0", "im-android", "phone", "evil", "203.0.113.0",
           "203.0.0.0", "mobilefunster"],
          [42991616, 211812352, 43, [0, 362387865600, 0, 16, 1, 500000000.1, 517815, -1],
           [2, 362387865600, 0, 43], [0, 362387865600, 0, 15], None, ["86869c35"], "L",
           [1] * 24],
          [[3, 2, 0, 211812352, 42991616, 3, 0.6, 2, 2]], [0, 42991616, 1, 500000000.1],
          [83886080, 4, 83886080, 5, 6, 7], [[3, 1, 4, 0, 1]]]
    facts = {"s": {"phone": ["im-android", "198.51.100.0", T0 - 50.5, 3, 0.6, 0, 2,
                             T0 - 10.25, 1]},
             "l": {"198.51.100.0": T0 - 10.25, "192.0.2.0": 5e8 + 0.1},
             "i": [T0 - 20.0, [{"session": "evil", "since": T0 - 20.0, "net": "203.0.113.0",
                                "range": "203.0.0.0", "family": "mobilefunster"}]],
             "n": {"phone": [[int(T0 // 3600) - 1, 4], [int(T0 // 3600), 1]]},
             "p": {"last": T0 - 50.5, "msgs": 43,
                   "nets": {"198.51.100.0": [T0 - DAY, T0, 16],
                            "192.0.2.0": [5e8 + 0.1, T0 - 0.1234567]},
                   "clients": {"im-android": [T0 - DAY, T0, 43]}, "linked": True,
                   "scripts": "L", "hours": histogram.of([1] * 24),
                   "owned": {"198.51.100.0": [T0 - DAY, T0, 15]}},
             "pt": T0 - 10.25}
    assert takeover_record.decode(v2) == facts
    before = record(v2)
    before.set_profile(facts["p"], facts["pt"])  # a change, to the same facts
    put = before.put(T0)
    assert put is not None and isinstance(put.value, bytes)
    assert takeover_record.decode(put.value) == {**facts, "l": {"198.51.100.0": T0 - 10.25}}


def test_the_bytes_form_is_compact() -> None:
    """Every string once, every number (times, risks) once as a double, whether the owner
    linked as a flag: a full record well under its v2 JSON (659 bytes; the v1 dict's, 979)."""
    fresh = record()
    fresh.set_profile({"msgs": 40, "linked": True, "hours": histogram.of(list(range(24))),
                       "nets": {"198.51.100.0": [T0 - DAY, T0, 9]}}, T0)
    for n in range(8):
        fresh.set_session(f"device{n}", {"client": "im-android", "net": "198.51.100.0",
                                         "login": T0 - n, "risk": 0.6}, T0, 8, 2)
    put = fresh.put(T0)
    assert put is not None and isinstance(put.value, bytes) and len(put.value) < 400
    assert takeover_record.decode(put.value)["p"]["linked"] is True


def _strictly(a: object, b: object, path: str = "record") -> None:
    """``a`` is ``b``'s equal in value, type and order, all the way down (1 == 1.0, and
    {"a": 1, "b": 2} == {"b": 2, "a": 1}, are not enough)."""
    assert a.__class__ is b.__class__, f"{path}: {a!r} against {b!r}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: {list(a)} against {list(b)}"  # type: ignore[call-overload]
        for k in a:
            _strictly(a[k], b[k], f"{path}.{k}")  # type: ignore[index]
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: {a!r} against {b!r}"  # type: ignore[arg-type]
        for i, (x, y) in enumerate(zip(a, b, strict=True)):  # type: ignore[call-overload]
            _strictly(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} against {b!r}"


def test_a_record_as_its_event_left_it_reads_as_its_put() -> None:
    """The account's next event, at the put's time or later, starts from the record as the
    event that put it left it (``Record.changed``: what has expired still in), not from
    decoding the bytes: every read must answer as the decoded bytes do, and its changes
    must put the same bytes, whatever the event left in it (event times, an integer risk,
    a profile entry with no count of uses, an hour counted out of order, a part expired)."""
    ts = EventTime(T0 + 0.25)
    fresh = record()
    fresh.set_profile({"hours": histogram.of([0] * 24), "msgs": 2, "last": ts, "scripts": "L",
                       "nets": {"198.51.100.0": [ts, ts, 2], "192.0.2.0": [5e8, ts]},
                       "clients": {"im-android": [T0 - DAY, ts, 3]}, "linked": True,
                       "owned": {}, "cidrs": ["10.0.0.0/8"]}, ts)
    fresh.set_session("phone", {"client": "im-android", "net": "198.51.100.0", "login": ts,
                                "read": 3, "risk": 1, "dormant": True}, ts, 8, 2)
    fresh.set_session("old", {"client": "x", "net": "", "login": T0 - SESSION_TTL,
                              "risk": 0.4}, T0 - SESSION_TTL, 8, 2)  # expired at ``ts``
    fresh.touch_live("198.51.100.0", ts, 16)
    fresh.touch_live("192.0.2.0", ts - LIVE, 16)  # expired at ``ts``
    fresh.set_incidents([{"session": "evil", "since": ts, "net": "203.0.113.0",
                          "range": "203.0.0.0", "family": "mobilefunster"}], ts)
    fresh.count_sent("phone", ts, 8)
    fresh.count_sent("phone", ts - 3_600.0, 8)  # an hour earlier, out of order
    left, put = fresh.changed(), fresh.put(ts)
    assert left is not None and put is not None
    for then in (ts, ts + 3_600.0, ts + LIVE, ts + 2 * DAY, ts + INCIDENT_TTL):
        kept, decoded = record(left, True), record(takeover_record.decode(put.value), True)
        for each in (kept, decoded):
            assert each.profile(then) == decoded.profile(then)
            assert each.live(then) == decoded.live(then)
            assert each.incidents(then) == decoded.incidents(then)
            for session in ("phone", "old", "tablet"):
                assert each.session(session, then) == decoded.session(session, then)
                assert each.sent(session, then) == decoded.sent(session, then)
            each.count_sent("tablet", then, 8)
            each.touch_live("203.0.113.0", then, 16)
            each.set_session("tablet", {"client": "im-ios", "net": "203.0.113.0",
                                        "login": then, "risk": 0.4}, then, 2, 2)
        kept_put, decoded_put = kept.put(then), decoded.put(then)
        assert kept_put is not None and decoded_put is not None
        assert kept_put == decoded_put


def test_a_record_put_by_an_earlier_batch_is_read_from_its_decoded_form(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's batches hold one event or a few: the account's next event, in a later
    batch, starts from the record as the event that put it left it, not from decoding the
    bytes; one that reads other bytes (another node's write, a put rolled back), or is
    earlier than the put (events come out of order), decodes those. Either way it answers,
    and leaves the record, as with nothing kept."""
    from spimguard.detectors.takeover import detector

    decoding = takeover_record.decode
    decoded: list[bytes] = []

    def counted(stored: Any) -> dict[str, Any]:
        if isinstance(stored, bytes):
            decoded.append(stored)
        return decoding(stored)

    monkeypatch.setattr(takeover_record, "decode", counted)
    runs = []
    for kept in (detector._DECODED_KEPT, 0):
        monkeypatch.setattr(detector, "_DECODED_KEPT", kept)
        engine = engine_with_history()
        cfg, key = engine.config, takeover_record.key("alice")
        decoded.clear()
        results = [engine.process(message(cfg, "own-0", "alice", ["alice-friend0"],
                                          "on my way", T0 + 30, session="phone"))]
        earlier = engine.read_state([Get(key)])[0]
        results.append(engine.process(message(cfg, "own-1", "alice", ["alice-friend1"],
                                              "on my way", T0 + 31, session="phone")))
        plain = len(decoded)
        engine.remember([Put(key, earlier, PROFILE_TTL)])  # as another node's write
        results.append(engine.process(message(cfg, "own-2", "alice", ["alice-friend2"],
                                              "see you", T0 + 32, session="phone")))
        last = engine.read_state([Get(key)])[0]
        results.append(engine.process(message(cfg, "own-3", "alice", ["alice-friend3"],
                                              "late", T0 + 20, session="phone")))
        runs.append((results, engine.read_state([Get(key)])[0], plain, decoded[plain:],
                     last))
    assert runs[0][:2] == runs[1][:2]
    assert runs[0][2] == 0 and runs[1][2] == 2  # the two events' bytes, nothing kept
    # The bytes another wrote, and those put at a later time than the late event's
    # (what had expired by then is gone from them): decoded.
    assert runs[0][3] == [earlier, runs[0][4]]


def test_the_decoded_records_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the detector keeps of records it put, one entry an account, goes least
    recently put first past ``_DECODED_KEPT`` accounts."""
    from spimguard.detectors.takeover import detector

    monkeypatch.setattr(detector, "_DECODED_KEPT", 2)
    engine = engine_with_history()
    cfg = engine.config
    for n, account in enumerate(("bob", "carol", "dave", "carol")):
        engine.process(message(cfg, f"m{n}", account, ["alice"], "hi", T0 + n,
                               session="phone"))
    takeover_detector = next(d for d in engine.detectors if d.name == "takeover")
    assert list(takeover_detector._decoded) == ["dave", "carol"]


def test_an_account_judged_in_one_batch_as_one_event_at_a_time() -> None:
    """An event of an account whose record the batch put already starts from that put's
    decoded form: the verdicts, and the record left, are those of the same events each
    in a batch of its own."""
    results, records = [], []
    for batched in (False, True):
        engine = engine_with_history()
        cfg = engine.config
        events = [event(cfg, type="login", id="evil-login", ts=T0, account="alice",
                        session="evil", ip="203.0.113.7", client={"id": "MobileFunster 2.1"}),
                  event(cfg, type="contacts_read", id="evil-read", ts=T0 + 1,
                        account="alice", session="evil", count=60)]
        events += [message(cfg, f"evil-{i}", "alice", [f"alice-friend{i}"],
                           f"look http://promo.example/{i}", T0 + 10 + i, session="evil",
                           client={"id": "MobileFunster 2.1", "ip": "203.0.113.7"})
                   for i in range(12)]
        events += [message(cfg, f"own-{i}", "alice", [f"alice-friend{i}"], "on my way",
                           T0 + 30 + i, session="phone",
                           client={"id": "im-android", "ip": "198.51.100.20"})
                   for i in range(3)]
        found = (engine.process_batch(events) if batched
                 else [engine.process(e) for e in events])
        results.append(found)
        records.append(engine.read_state([Get(takeover_record.key("alice"))])[0])
    assert results[0] == results[1]
    assert any(getattr(r, "action", "") == "hold" for r in results[0])  # a verdict to keep
    assert records[0] == records[1]


def _judged_both_ways(events_of: Any) -> tuple[list[list[Any]], list[Any], list[int]]:
    """The verdicts and the record left by ``events_of(cfg)``'s events, each in a batch of
    its own and all in one batch; and how many times each way put the record."""
    results, records, puts = [], [], []
    for batched in (False, True):
        engine = engine_with_history()
        put = 0
        write = engine.state.write

        def counted(writes: Any, now: float, write: Any = write) -> None:
            nonlocal put
            put += sum(1 for w in writes if getattr(w, "key", "") == takeover_record.key(
                "alice"))
            write(writes, now)

        engine.state.write = counted  # type: ignore[method-assign]
        events = events_of(engine.config)
        found = (engine.process_batch(events) if batched
                 else [engine.process(e) for e in events])
        results.append(found)
        records.append(engine.read_state([Get(takeover_record.key("alice"))])[0])
        puts.append(put)
    return results, records, puts


def test_a_batch_puts_an_accounts_record_once_at_its_end() -> None:
    """An embedded store commits a batch as one: the record its events change one after
    another is put once, when the batch ends, and each event reads it as the ones before
    it left it (the verdicts and the record are those of one event at a time)."""
    def events_of(cfg: Any) -> list[Any]:
        return [message(cfg, f"own-{i}", "alice", [f"alice-friend{i % 3}"], "on my way",
                        T0 + 30 + i, session="phone",
                        client={"id": "im-android", "ip": "198.51.100.20"})
                for i in range(6)]

    results, records, puts = _judged_both_ways(events_of)
    assert results[0] == results[1]
    assert records[0] == records[1]
    assert puts == [6, 1]


def test_an_event_earlier_than_the_batchs_last_change_reads_the_record_as_put_then() -> None:
    """Events may come out of order: one earlier than a change the batch made reads the
    record as that change's put left it, what had expired by then gone (a network live
    for the earlier event, not for the later one, which touched no network of its own),
    not as the change was worked on."""
    def events_of(cfg: Any) -> list[Any]:
        return [message(cfg, "tablet", "alice", ["alice-friend1"], "on my way", T0 + 50,
                        session="tablet", client={"id": "im-android", "ip": "192.0.2.10"}),
                message(cfg, "late", "alice", ["alice-friend2"], "see you", T0 + DAY,
                        session="desk", client={"id": "im-android"}),
                message(cfg, "early", "alice", ["alice-friend2"], "see you", T0 + 100,
                        session="phone", client={"id": "im-android", "ip": "198.51.100.20"})]

    results, records, puts = _judged_both_ways(events_of)
    assert results[0] == results[1]
    assert records[0] == records[1]
    assert puts == [3, 1]
    live = takeover_record.decode(records[1])["l"]
    assert "192.0.2.0" not in live  # gone with the later event's put
