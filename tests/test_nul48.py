"""U+0000 on the wire (``events.without_nul``): dropped from the words, refused in a name,
so every store keeps, and every node judges, the same event (review48: PostgreSQL's text
cannot hold a NUL, and its records refused the batch's commit)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from conftest import T0, config, event, message
from spimguard import decode_batch, decode_event, decode_message, open_engine
from spimguard.errors import BadInput


def _body(**fields: object) -> bytes:
    return msgspec.json.encode({"type": "message", "id": "m1", "ts": T0, "sender": "alice",
                                "recipients": ["bob"], "text": "hi", **fields})


def test_a_nul_in_the_words_is_dropped_on_every_way_in() -> None:
    limits = config().limits
    body = _body(text="f\x00ree ring\x00tones")
    assert b"\\u0000" in body  # as JSON writes it
    assert decode_event(body, limits).text == "free ringtones"
    assert decode_message(body, limits).text == "free ringtones"
    batch = msgspec.json.encode({"events": [msgspec.json.decode(_body()), {
        "type": "report", "id": "r1", "ts": T0, "reporter": "bob", "message_id": "m1",
        "label": "spam", "text": "\x00spam\x00"}]})
    assert [e.text for e in decode_batch(batch, limits)] == ["hi", "spam"]


@pytest.mark.parametrize(("fields", "field"), [
    ({"sender": "ali\x00ce"}, "sender"), ({"session": "x\x00"}, "session"),
    ({"recipients": ["bob", "e\x00ve"]}, "recipients[1]"),
    ({"client": {"id": "im\x00", "ip": ""}}, "client.id")])
def test_a_nul_in_a_name_is_refused_with_the_field_named(fields: dict[str, object],
                                                         field: str) -> None:
    limits = config().limits
    with pytest.raises(BadInput, match="U\\+0000") as refused:
        decode_event(_body(**fields), limits)
    assert refused.value.field == field
    batch = msgspec.json.encode({"events": [msgspec.json.decode(_body()),
                                            msgspec.json.decode(_body(id="m2", **fields))]})
    with pytest.raises(BadInput) as refused:
        decode_batch(batch, limits)
    assert refused.value.field == f"events[1].{field}"


def test_a_literal_backslash_u0000_is_words_not_a_nul() -> None:
    """A person who writes the six characters ``\\u0000`` keeps them (JSON's ``\\\\u0000``)."""
    assert decode_event(_body(text="type \\u0000 here"), config().limits).text == (
        "type \\u0000 here")


def _actions(records: dict[str, object], data: Path | None, nul: str) -> list[str]:
    """Six pitches of one link from three fresh accounts and a recipient's report, NULs in
    the pitch's words and the report's: the actions."""
    cfg = config(records={"evidence_key": "test-evidence-key", **records})
    engine = open_engine(cfg, data) if data else open_engine(cfg)
    said = []
    try:
        for i in range(6):
            said.append(engine.process(message(
                cfg, f"s{i}", f"spammer{i % 3}", [f"user{i}"],
                f"exclusive ringtone pack grab it {nul}now https://tones-shop.example/x{i}",
                T0 + 5 + 4 * i)).action)
        report = event(cfg, type="report", id="r1", ts=T0 + 60, reporter="user4",
                       message_id="s4", label="spam", text=f"sp{nul}am")
        said.append(type(engine.process(report)).__name__)
    finally:
        engine.close()
    return said


def test_postgresql_judges_a_pitch_with_a_nul_as_sqlite_and_memory_do(
        postgres_url: str, tmp_path: Path) -> None:
    on_sqlite = _actions({}, tmp_path, "\x00")
    assert "hold" in on_sqlite
    assert on_sqlite == _actions({}, tmp_path / "again", "")  # the NUL changes nothing
    assert _actions({"backend": "postgres", "url": postgres_url}, None, "\x00") == on_sqlite
