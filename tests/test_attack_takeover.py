"""Red team, session 13: a hijacker who reads the takeover detector, tried through
``engine.process``. Findings still open are ``xfail(strict=True)``: a fix turns each into
a regression test (the fixes belong in ``detectors/takeover/``, which this pass left to
its owner).
"""

from __future__ import annotations

import pytest

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


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "open: a session's facts are its sign-in's (takeover/session.py session_facts), so "
    "messages naming the owner's live session id from another app and network are judged "
    "as the owner's phone: 20 of 20 delivered, no account action, no owner notice"))
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


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "open: a session's contact reads count as the largest single fetch (takeover/"
    "detector.py: read = max(read, count)), so a list read in pages of 5 is never "
    "CONTACTS_SCRAPED: the first 3 pitches go out unwarned (warned when read at once)"))
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
