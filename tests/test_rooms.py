"""Rooms the IM server states the membership of (``room`` events): an owner's post into a
room it was in long before its session is one act for the takeover burst; an intruder's
room of the scraped list, or scraped contacts added to an old room, count one by one."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, Server, config, event, message
from spimguard import open_engine, rooms
from spimguard.engine import Engine
from spimguard.errors import BadInput
from spimguard.server.openapi import document
from test_takeover import PROMO, live_a_month, mutual

DAY = 86_400.0
HOME = "198.51.100.20"
MOBILE = "10.8.189.9"  # the owner's own phone on mobile data: a network new to the account
HOSTING = "203.0.113.7"
HELD = ("hold", "block")
BURSTS = {"ACCOUNT_HIJACK_BURST", "ACCOUNT_BURST_UNPITCHED"}


def friends(start: int, stop: int) -> list[str]:
    return [f"alice-friend{i}" for i in range(start, stop)]


def alice(rooms_of: dict[str, list[str]], stated: bool = True, since: float | None = None,
          at: float = T0 - 30 * DAY) -> Engine:
    """alice's month (she writes to friends 0-2 every day, the rest of her 60 contacts are
    dormant ties, and they all list her back), in ``rooms_of`` (conversation: the other
    members), which the server states at ``at`` (``since``: a restatement) unless not
    ``stated``."""
    engine = open_engine(config(official_clients=["im-android"]))
    live_a_month(engine, "alice")
    mutual(engine, "alice")
    if stated:
        for name, members in rooms_of.items():
            fields: dict[str, Any] = {} if since is None else {"since": since}
            engine.process(event(engine.config, type="room", id=f"room-{name}", ts=at,
                                 account="alice", conversation=name,
                                 members=["alice", *members], **fields))
    return engine


def sign_in(engine: Engine, session: str, ip: str, client: str, ts: float = T0) -> None:
    engine.process(event(engine.config, type="login", id=f"login-{session}", ts=ts,
                         account="alice", session=session, ip=ip, client={"id": client}))


def post(engine: Engine, id: str, conversation: str, members: list[str], text: str,
         ts: float, session: str, ip: str, client: str) -> Any:
    return engine.process(message(engine.config, id, "alice", members, text, ts,
                                  session=session, client={"id": client, "ip": ip},
                                  conversation=conversation))


def codes(verdict: Any) -> set[str]:
    return {s.code for s in verdict.signals}


def owner_on_the_bus(engine: Engine) -> Any:
    """alice's own phone, on mobile data, writes into her family group."""
    sign_in(engine, "bus", MOBILE, "im-android")
    return post(engine, "bus-1", "family", friends(10, 20), "I'm on the bus, call you in 20",
                T0 + 60, "bus", MOBILE, "im-android")


def intruder(engine: Engine) -> None:
    """An intruder's session: its own app on its own servers, the contact list read."""
    sign_in(engine, "evil", HOSTING, "MobileFunster 2.1")
    engine.process(event(engine.config, type="contacts_read", id="evil-read", ts=T0 + 5,
                         account="alice", session="evil", count=60))


def test_the_owner_posting_from_its_phone_into_its_old_group_is_not_held() -> None:
    """The founding false positive (README, groups): the room's ten dormant contacts were
    counted as ten people written to in minutes. The server says they and alice were in
    the room a month before: one act, the room."""
    verdict = owner_on_the_bus(alice({"family": friends(10, 20)}))
    assert verdict.action not in HELD and not codes(verdict) & BURSTS
    assert verdict.account_action.action == "none"


def test_without_membership_events_the_same_post_is_held_as_before() -> None:
    """A platform that sends no ``room`` events: nothing is settled, the burst as before."""
    verdict = owner_on_the_bus(alice({"family": friends(10, 20)}, stated=False))
    assert verdict.action in HELD and codes(verdict) & BURSTS


def test_a_room_restated_with_its_old_join_time_is_settled_at_once() -> None:
    """The server restates its rooms on the day spimguard is installed: ``since`` says when
    they joined; without it the restatement reads as a join today, counted one by one."""
    old = alice({"family": friends(10, 20)}, since=T0 - 90 * DAY, at=T0 - DAY)
    assert owner_on_the_bus(old).action not in HELD
    fresh = alice({"family": friends(10, 20)}, at=T0 - DAY)
    assert owner_on_the_bus(fresh).action in HELD


def test_an_intruders_new_room_of_the_scraped_list_is_still_held() -> None:
    """The core attack: one new room of every contact, one post. Its members joined now,
    made by the session itself: each counts, as without the room event."""
    engine = alice({"family": friends(10, 20)})
    intruder(engine)
    everyone = friends(0, 60)
    engine.process(event(engine.config, type="room", id="evil-room", ts=T0 + 8,
                         account="alice", conversation="evil-room", members=["alice", *everyone]))
    verdict = post(engine, "evil-1", "evil-room", everyone, PROMO.format(i=1), T0 + 10, "evil",
                   HOSTING, "MobileFunster 2.1")
    assert verdict.action in HELD and "ACCOUNT_HIJACK_BURST" in codes(verdict)
    assert verdict.account_action.action == "suspend_sending"


def test_scraped_contacts_added_to_an_old_room_count_one_by_one() -> None:
    """The intruder adds the dormant list to alice's old family group, then posts: the
    old members are one act, the forty it added are forty: 41 targets."""
    engine = alice({"family": friends(10, 20)})
    intruder(engine)
    added = friends(20, 60)
    engine.process(event(engine.config, type="room", id="evil-add", ts=T0 + 8, account="alice",
                         conversation="family", members=added))
    verdict = post(engine, "evil-1", "family", [*friends(10, 20), *added], PROMO.format(i=1),
                   T0 + 10, "evil", HOSTING, "MobileFunster 2.1")
    assert verdict.action in HELD and "ACCOUNT_HIJACK_BURST" in codes(verdict)
    assert "41 of its contacts" in next(s.detail for s in verdict.signals
                                        if s.code == "ACCOUNT_HIJACK_BURST")


def test_an_intruder_joining_alice_to_a_room_of_her_contacts_counts_them() -> None:
    """alice herself joined lately (the intruder's doing, or the owner's): the room is
    not hers from before, so its members count one by one."""
    engine = alice({})
    engine.process(event(engine.config, type="room", id="club", ts=T0 - 60 * DAY,
                         account="alice-friend10", conversation="club",
                         members=["alice-friend10", *friends(11, 40)]))
    intruder(engine)
    engine.process(event(engine.config, type="room", id="join", ts=T0 + 8, account="alice",
                         conversation="club", members=["alice"]))
    verdict = post(engine, "evil-1", "club", friends(10, 40), PROMO.format(i=1), T0 + 10,
                   "evil", HOSTING, "MobileFunster 2.1")
    assert verdict.action in HELD and "ACCOUNT_HIJACK_BURST" in codes(verdict)


def test_an_intruder_posting_into_many_old_rooms_bursts_on_the_rooms() -> None:
    """Each old room is one target: six rooms in minutes are six, past ``burst_hard``
    (four). The first post reaches its room (the owner's one post from a new network
    looks the same); the burst holds from the second room on."""
    groups = {f"room{k}": friends(10 + 8 * k, 18 + 8 * k) for k in range(6)}
    engine = alice(groups)
    intruder(engine)
    verdicts = [post(engine, f"evil-{k}", name, members, PROMO.format(i=k), T0 + 10 + 20 * k,
                     "evil", HOSTING, "MobileFunster 2.1")
                for k, (name, members) in enumerate(groups.items())]
    burst = [v for v in verdicts if "ACCOUNT_HIJACK_BURST" in codes(v)]
    assert len(burst) >= 5 and all(v.action in HELD for v in verdicts[1:])
    last = next(s.detail for s in verdicts[-1].signals if s.code == "ACCOUNT_HIJACK_BURST")
    assert "6 of its contacts" in last


def test_a_new_session_for_every_room_bursts_all_the_same() -> None:
    """The rooms join the burst over the account's unproven sessions (``doubted``)."""
    groups = {f"room{k}": friends(10 + 8 * k, 18 + 8 * k) for k in range(6)}
    engine = alice(groups)
    verdicts = []
    for k, (name, members) in enumerate(groups.items()):
        sign_in(engine, f"evil{k}", HOSTING, "MobileFunster 2.1", T0 + 20 * k)
        verdicts.append(post(engine, f"evil-{k}", name, members, PROMO.format(i=k),
                             T0 + 20 * k + 5, f"evil{k}", HOSTING, "MobileFunster 2.1"))
    assert all(v.action in HELD for v in verdicts[3:])
    assert "ACCOUNT_HIJACK_BURST" in codes(verdicts[-1])


def test_posting_again_into_the_same_old_room_adds_nothing() -> None:
    """One room is one target however often the owner writes into it."""
    engine = alice({"family": friends(10, 20)})
    sign_in(engine, "bus", MOBILE, "im-android")
    verdicts = [post(engine, f"bus-{k}", "family", friends(10, 20), text, T0 + 60 + 40 * k,
                     "bus", MOBILE, "im-android")
                for k, text in enumerate(("I'm on the bus", "call you in 20", "mum ok?",
                                          "see you at 7", "bring the cake"))]
    assert not any(v.action in HELD or codes(v) & BURSTS for v in verdicts)


def test_joins_that_push_the_added_contacts_out_of_the_room_settle_nobody(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Pushing the scraped contacts out of the room's ``joined`` set with more joins than it
    holds pushes them out of its members first: they count one by one all the same."""
    monkeypatch.setattr(rooms, "MAX_MEMBERS", 50)
    engine = alice({"family": friends(10, 20)})
    intruder(engine)
    added = friends(20, 60)
    engine.process(event(engine.config, type="room", id="evil-add", ts=T0 + 6, account="alice",
                         conversation="family", members=added))
    engine.process(event(engine.config, type="room", id="evil-junk", ts=T0 + 7,
                         account="alice", conversation="family",
                         members=[f"junk{i}" for i in range(50)]))
    verdict = post(engine, "evil-1", "family", [*friends(10, 20), *added], PROMO.format(i=1),
                   T0 + 10, "evil", HOSTING, "MobileFunster 2.1")
    detail = next(s.detail for s in verdict.signals if s.code == "ACCOUNT_HIJACK_BURST")
    assert verdict.action in HELD and "50 of its contacts" in detail


def test_a_member_who_left_is_no_settled_member() -> None:
    """A ``leave`` takes the member out: a post naming it counts it one by one."""
    engine = alice({"family": friends(10, 20)})
    engine.process(event(engine.config, type="room", id="left", ts=T0 - DAY,
                         account="alice-friend10", conversation="family",
                         members=friends(10, 20), membership="leave"))
    assert owner_on_the_bus(engine).action in HELD


@pytest.mark.parametrize(("fields", "field", "status"), [
    ({"members": []}, "members", 422),
    ({"members": [f"m{i}" for i in range(10_001)]}, "members", 413),
    ({"since": T0 + 1}, "since", 422),
    ({"membership": "invite"}, "membership", 422),
])
def test_a_room_event_is_validated(fields: dict[str, Any], field: str, status: int) -> None:
    cfg = config()
    body = {"type": "room", "id": "r", "ts": T0, "account": "alice", "conversation": "c",
            "members": ["alice"], **fields}
    with pytest.raises(BadInput) as raised:
        event(cfg, **body)
    assert raised.value.field == field and raised.value.status == status


def test_the_room_event_is_in_the_openapi_document() -> None:
    events = str(document())
    assert "'room'" in events and "membership" in events


def test_v1_events_accepts_a_room_event_and_refuses_a_bad_one(server: Server) -> None:
    room = {"type": "room", "id": "r1", "ts": T0, "account": "alice", "conversation": "fam",
            "members": ["alice", "bob", "carol"], "since": T0 - 30 * DAY}
    post = {"type": "message", "id": "m1", "ts": T0 + 1, "sender": "alice",
            "recipients": ["bob", "carol"], "text": "hi all", "conversation": "fam"}
    with server.client() as client:
        results = client.post("/v1/events", json={"events": [room, post]}).json()["results"]
        assert results[0] == {**results[0], "id": "r1", "status": "accepted"}
        assert results[1]["action"] == "deliver"
        bad = client.post("/v1/events", json={"events": [{**room, "id": "r2", "members": []}]})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "events[0].members"
