"""Red team, session 13: a hijacker who reads the takeover detector, tried through
``engine.process``. Both findings are fixed (``detectors/takeover/session.py``: a
session is the app and network it signed in from; a session's contact reads are summed),
and these are their regression tests.
"""

from __future__ import annotations

from conftest import T0, event, message
from spimguard.engine import Engine
from spimguard.events import Verdict
from test_takeover import PROMO, attack, delivered_before_containment, engine_with_history

HOSTING = {"id": "MobileFunster 2.1", "ip": "203.0.113.7"}


def _pitches(engine: Engine, session: str, count: int = 20,
             text: str = PROMO) -> list[Verdict]:
    return [engine.process(message(engine.config, f"s{i}", "alice", [f"alice-friend{i}"],
                                   text.format(i=i), T0 + 10 + i * 3, session=session,
                                   client=HOSTING))
            for i in range(count)]


def test_messages_under_the_owners_session_id_from_a_hosting_network_are_contained() -> None:
    """A stolen session token (or a client naming the owner's device id: session ids are
    the client's choice) with no sign-in of its own: the owner's phone signed in as
    "phone" every day of the month, and the intruder reads the list and pitches under
    "phone" from its own app on its own network. The same intruder under a session id of
    its own is contained after 3 (``attack``)."""
    engine = engine_with_history()
    engine.process(event(engine.config, type="contacts_read", id="rd", ts=T0 + 5,
                         account="alice", session="phone", count=60))
    verdicts = _pitches(engine, "phone")
    assert delivered_before_containment(verdicts) <= 4
    assert any(v.notice.sender for v in verdicts)


def test_the_owners_phone_keeps_sending_after_its_session_id_was_abused() -> None:
    """The containment is the intruder's sign-in (its app and network), not the session
    id it shares with the owner's phone: the phone, at home, still sends; and from a new
    address in its own network, which is no new sign-in."""
    engine = engine_with_history()
    engine.process(event(engine.config, type="contacts_read", id="rd", ts=T0 + 5,
                         account="alice", session="phone", count=60))
    verdicts = _pitches(engine, "phone")
    assert {v.account_action.session for v in verdicts} - {""} == {
        "phone~mobilefunster~203.0.113.0"}
    for i, ip in enumerate(("198.51.100.20", "198.51.100.77")):
        own = engine.process(message(engine.config, f"own{i}", "alice", ["alice-friend1"],
                                     "see you at 6 tonight", T0 + 200 + i, session="phone",
                                     client={"id": "im-android", "ip": ip}))
        assert own.action == "deliver"
    later = engine.process(message(engine.config, "later", "alice", ["alice-friend40"],
                                   PROMO.format(i=40), T0 + 300, session="phone",
                                   client=HOSTING))
    assert "SENDING_SUSPENDED" in {s.code for s in later.signals}


def test_a_contact_list_read_in_pages_counts_as_read() -> None:
    """Sixty contacts fetched five at a time by a new app on a new network: what it sends
    first is warned, as after one read of all sixty."""
    engine = engine_with_history()
    engine.process(event(engine.config, type="login", id="evil-login", ts=T0, account="alice",
                         session="evil", ip=HOSTING["ip"], client={"id": HOSTING["id"]}))
    for page in range(12):
        engine.process(event(engine.config, type="contacts_read", id=f"rd{page}",
                             ts=T0 + 1 + page, account="alice", session="evil", count=5))
    verdicts = _pitches(engine, "evil")
    assert [v.action for v in verdicts[:3]] == ["warn"] * 3
    assert "CONTACTS_SCRAPED" in {s.code for s in verdicts[0].signals}


def test_the_same_intruder_under_its_own_session_id_is_contained() -> None:
    """The control the two attacks above are measured against."""
    verdicts = attack(engine_with_history())
    assert delivered_before_containment(verdicts) <= 3
    assert any(v.notice.sender for v in verdicts)
