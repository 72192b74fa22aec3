"""A logged event's time is a plain number in every record store.

Events decode their ``ts`` as ``events.EventTime`` (a ``float`` subclass that the wire's
RFC 3339 strings become). msgspec encodes no subclass of ``float``, so a record that kept
the decoded value made every answer that shows it fail with a 500. SQLite's records read
their times back from the database as floats; the memory backend (``storage.backend =
"memory"``, which an operator may run) kept the very object: ``GET /v1/accounts/{id}``
answered 500 once the account had a held message sent through ``/v1/events``.
"""

from __future__ import annotations

import msgspec

from conftest import T0
from spimguard.events import EventTime
from test_challenge import API, HOSTING, _api, _engine


def _spree(first: int, count: int) -> list[dict[str, object]]:
    """The intruder's own software on a hosting network, one message to each friend."""
    return [{"type": "message", "id": f"evil-{i}", "ts": T0 + 10 + i, "sender": "alice",
             "recipients": [f"alice-friend{i}"], "session": "evil",
             "client": {"id": "MobileFunster 2.1", "ip": HOSTING},
             "text": "Hi everyone, this is my new number: 07700 900007. Please save it!"}
            for i in range(first, first + count)]


def test_held_messages_logged_through_events_are_shown_by_the_account_endpoint() -> None:
    judge = _engine()
    client, _ = _api(judge)
    answer = client.post("/v1/events", json={"events": _spree(0, 30)}, headers=API)
    assert answer.status_code == 200
    actions = [r["action"] for r in answer.json()["results"]]
    assert set(actions) - {"deliver"}, actions  # the test needs a logged non-delivery
    for i in range(30, 33):  # and the same through /v1/check
        assert client.post("/v1/check", json=_spree(i, 1)[0], headers=API).status_code == 200
    shown = client.get("/v1/accounts/alice", headers=API)
    assert shown.status_code == 200, shown.text
    recent = shown.json()["recent"]
    assert recent and all(type(item["ts"]) is float for item in recent)


def test_every_record_of_a_logged_event_holds_a_plain_float() -> None:
    judge = _engine()
    client, _ = _api(judge)
    client.post("/v1/events", json={"events": _spree(0, 30)}, headers=API)
    entries = judge.records.recent("alice", 20)
    assert entries
    for entry in entries:
        assert type(entry.ts) is float
        msgspec.json.encode(entry)  # what every view of the log does with it
    assert not isinstance(T0, EventTime)
