"""Three defects an operator meets, named by session 48 (``left49``).

1. The Matrix bridge's U+0000 look listed by hand the fields it looked at, and an
   attachment's name was not among them: it now asks the event's JSON
   (``events.nul_free``), so every string of every field is looked at by construction,
   and a member's id holding one is refused where the id is read (``matrix_id``).
2. Listings whose order depended on the store: the console's decisions by the message's
   time alone, its notes by their time alone (and the memory store's notes by insertion,
   its decisions by the dict's). Each order is now total, the same in every store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import T0
from spimguard import decode_event, load_config, open_engine
from spimguard.errors import BadInput
from spimguard.events import Attachment, Client, EventTime, Message
from spimguard.server.matrix import MatrixBridge
from spimguard.server.metrics import Metrics

MX_TOKEN = "matrix-module-secret"


@pytest.fixture
def bridge() -> Iterator[MatrixBridge]:
    settings = load_config(environ={}, storage={"backend": "memory"},
                           matrix={"enabled": True, "token": MX_TOKEN})
    made = MatrixBridge(open_engine(settings), settings.matrix, Metrics())
    try:
        yield made
    finally:
        made.engine.close()


def _message(**fields: Any) -> Message:
    """A message as the bridge builds one (an ``EventTime``, an attachment), ``fields``
    replaced."""
    base: dict[str, Any] = dict(
        id="$e1:hs", ts=EventTime(T0), sender="@alice:hs", recipients=["@bob:hs"],
        text="see you at the station", session="PHONE", client=Client("Element", "192.0.2.1"),
        conversation="!room:hs", attachments=[Attachment("map.png", "image/png", "a" * 64, 9)])
    return Message(**{**base, **fields})


# Every string a message holds, found by walking the struct (not listed by hand, which is
# the defect): (path, the message with U+0000 put into that string).
def _strings(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, a function giving ``value`` with U+0000 in the string at path)."""
    if isinstance(value, str):
        yield path, lambda: value[:1] + "\x00" + value[1:]
    elif isinstance(value, list):
        for i, item in enumerate(value):
            for sub, poisoned in _strings(item, f"{path}[{i}]"):
                yield sub, (lambda i=i, poisoned=poisoned: [
                    *value[:i], poisoned(), *value[i + 1:]])
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            for sub, poisoned in _strings(getattr(value, name), f"{path}.{name}".lstrip(".")):
                yield sub, (lambda name=name, poisoned=poisoned: msgspec.structs.replace(
                    value, **{name: poisoned()}))


_POISONED = {path: poisoned for path, poisoned in _strings(_message())}


def _as_the_api_takes_it(event: Message) -> Message | BadInput:
    """What ``/v1/events`` makes of ``event`` written as JSON: the event, or its refusal."""
    body = msgspec.json.encode(msgspec.structs.replace(event, ts=float(event.ts)))
    try:
        decoded: Message = decode_event(body, load_config(environ={}).limits)
    except BadInput as refused:
        return refused
    return decoded


def _as_the_bridge_judges_it(bridge: MatrixBridge, event: Message,
                             monkeypatch: pytest.MonkeyPatch) -> Message | BadInput:
    """What the bridge hands the engine for ``event`` (built from a callback), or its
    refusal."""
    judged: list[Any] = []
    process = bridge.engine.process
    monkeypatch.setattr(bridge.engine, "process",
                        lambda e: judged.append(e) or process(e))
    try:
        bridge._judge(event)
    except BadInput as refused:
        return refused
    return judged[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", sorted(_POISONED))
def test_a_nul_in_any_string_of_a_bridged_event_is_taken_as_the_api_takes_it(
        path: str, bridge: MatrixBridge, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Matrix event built by the bridge with U+0000 in any of its strings is what the
    API makes of the same event as JSON: its text without the NUL, judged; a name holding
    one refused, the field named. On main the bridge's hand list missed the attachment's
    strings (its name, mime type and digest): handed to the engine, NUL and all, where
    PostgreSQL's records refuse the batch's commit."""
    event = _POISONED[path]()
    api, ours = _as_the_api_takes_it(event), _as_the_bridge_judges_it(
        bridge, event, monkeypatch)
    if isinstance(api, BadInput):
        assert isinstance(ours, BadInput), (path, ours)
        # The API refuses a hex digest holding anything else by its pattern, before it
        # looks for U+0000; the field named is the same.
        assert ours.field == api.field == path, (ours.field, api.field)
        assert "U+0000" in ours.message, ours.message
    else:
        assert path == "text"
        assert isinstance(ours, Message)
        assert "\x00" not in ours.text and ours.text == api.text
        assert msgspec.structs.replace(ours, ts=float(ours.ts)) == api


def test_every_string_of_a_message_is_looked_at() -> None:
    """The walk above reaches the attachment's strings (the test's own guard: a walk
    that missed them could not fail on main)."""
    assert {"attachments[0].name", "attachments[0].mime", "attachments[0].sha256",
            "client.id", "client.ip", "text", "sender", "recipients[0]"} <= set(_POISONED)


def test_a_member_whose_id_holds_a_nul_is_refused_and_the_room_still_judged(
        bridge: MatrixBridge) -> None:
    """A remote server's member event for an id holding U+0000 is refused where the id is
    read (400, the field named), as the API refuses a name holding one. On main the join
    was stated, the id came back as a recipient of every later message in the room, and
    the bridge refused each of them: one join silenced the room."""
    room = "!room:hs"
    joined = {"type": "m.room.member", "room_id": room, "sender": "@x\x00:evil",
              "state_key": "@x\x00:evil", "content": {"membership": "join"}}
    refused: BadInput | None = None
    try:
        bridge.event({"event": joined})
    except BadInput as exc:
        refused = exc
    said = {"type": "m.room.message", "room_id": room, "sender": "@bob:hs",
            "event_id": "$m1", "content": {"msgtype": "m.text", "body": "hello all"}}
    verdict = bridge.event({"event": said})  # main: BadInput, "recipients[0] holds U+0000"
    assert verdict is not None and verdict.action == "deliver"
    assert refused is not None and refused.field == "event.sender", refused
    assert "U+0000" in refused.message


# -- 2. the console's listings in one order on every store ---------------------------------

def test_a_postgres_console_of_session_48_is_upgraded_with_its_rows(
        postgres_server: str, tmp_path: Path) -> None:
    """``0004_console_total_order.sql`` on a database at version 3 that holds notes and
    decisions made under a locale's collation: they stay, and list as SQLite lists them
    (``check_console`` holds the same orders for a fresh store of every kind)."""
    import psycopg

    from postgres_harness import database, migrated
    from spimguard.records.postgres import upgrade
    from spimguard.server.console.postgres import PostgresConsole
    from spimguard.server.console.records import Decision, Note
    from spimguard.server.console.sqlite import SQLiteConsole

    notes = [Note("carol", 3.0, "Zed", "z"), Note("carol", 3.0, "dana", "b"),
             Note("carol", 3.0, "dana", "a"), Note("carol", 2.0, "dana", "older")]
    decided = [Decision(m, "spam", "dana", 3.0, "block", 70.0) for m in ("m9", "apple", "Zed")]
    with database(postgres_server, upgraded=False, icu_locale="en") as url:
        migrated(url, 3)
        with psycopg.connect(url, autocommit=True) as old:  # as a node of session 48 wrote
            for n in notes:
                old.execute("INSERT INTO console_notes VALUES (%s, %s, %s, %s)",
                            (n.account, n.ts, n.operator, n.text))
            for d in decided:
                old.execute("INSERT INTO console_decisions VALUES (%s, %s, %s, %s, %s, %s)",
                            msgspec.structs.astuple(d))
        assert upgrade(url) == ["0004_console_total_order.sql"]
        store = PostgresConsole(url)
        try:
            shared = ([(n.operator, n.text) for n in store.notes("carol")],
                      [d.message_id for d in store.decisions(0.0)])
        finally:
            store.close()
    embedded = SQLiteConsole.open(tmp_path)
    try:
        for n in notes:
            embedded.add_note(n)
        for d in decided:
            embedded.save_decision(d)
        alone = ([(n.operator, n.text) for n in embedded.notes("carol")],
                 [d.message_id for d in embedded.decisions(0.0)])
    finally:
        embedded.close()
    assert shared == alone == ([("Zed", "z"), ("dana", "a"), ("dana", "b"), ("dana", "older")],
                               ["Zed", "apple", "m9"])
