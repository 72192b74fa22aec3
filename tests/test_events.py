from __future__ import annotations

import msgspec
import pytest

from spimguard.errors import BadInput
from spimguard.events import (
    Limits,
    Login,
    Message,
    check_clock,
    decode_batch,
    decode_event,
    decode_message,
)

LIMITS = Limits()


def body(**fields: object) -> bytes:
    return msgspec.json.encode(fields)


def test_message_with_rfc3339_and_unix_times() -> None:
    a = decode_event(body(type="message", id="m", ts="2026-11-29T10:00:00Z", sender="a",
                          recipients=["b"], text="hi"), LIMITS)
    b = decode_event(body(type="message", id="m", ts=1795946400, sender="a", recipients=["b"],
                          text="hi"), LIMITS)
    assert isinstance(a, Message) and a.ts == b.ts == 1795946400.0
    c = decode_event(body(type="login", id="l", ts="2026-11-29T11:00:00+01:00", account="a"),
                     LIMITS)
    assert isinstance(c, Login) and c.ts == a.ts and c.success is True


@pytest.mark.parametrize("ts", ["2026-11-29T10:00:00", "yesterday", -5, 1e13, True, None])
def test_bad_times_are_rejected(ts: object) -> None:
    with pytest.raises(BadInput) as info:
        decode_event(body(type="login", id="l", ts=ts, account="a"), LIMITS)
    assert info.value.field == "ts"


def test_unknown_type_names_it() -> None:
    with pytest.raises(BadInput) as info:
        decode_batch(body(events=[{"type": "login", "id": "a", "ts": 1, "account": "x"},
                                  {"type": "poke", "id": "b", "ts": 1}]), LIMITS)
    assert info.value.code == "unknown_event_type"
    assert "poke" in info.value.message and info.value.field == "events[1].type"
    assert info.value.status == 422


def test_missing_and_wrong_fields_name_the_field() -> None:
    with pytest.raises(BadInput) as info:
        decode_event(body(type="message", id="m", ts=1, sender=5, recipients=["b"], text=""),
                     LIMITS)
    assert info.value.field == "sender"
    with pytest.raises(BadInput) as info:
        decode_event(body(type="report", id="r", ts=1, reporter="a", message_id="m",
                          label="maybe"), LIMITS)
    assert info.value.field == "label"


def test_malformed_json_is_400() -> None:
    with pytest.raises(BadInput) as info:
        decode_message(b"{not json", LIMITS)
    assert info.value.status == 400 and info.value.code == "malformed_json"


def test_bounds() -> None:
    small = Limits(max_text_bytes=10, max_recipients=2, max_batch_events=2, max_body_bytes=2000)
    with pytest.raises(BadInput) as info:
        decode_message(body(type="message", id="m", ts=1, sender="a", recipients=["b"],
                            text="x" * 11), small)
    assert info.value.status == 413 and info.value.field == "text"
    with pytest.raises(BadInput) as info:
        decode_message(body(type="message", id="m", ts=1, sender="a", recipients=["b", "c", "d"],
                            text="x"), small)
    assert info.value.field == "recipients"
    with pytest.raises(BadInput) as info:
        decode_message(body(type="message", id="m", ts=1, sender="a", recipients=[], text="x"),
                       small)
    assert info.value.status == 422
    events = [{"type": "login", "id": str(i), "ts": 1, "account": "a"} for i in range(3)]
    with pytest.raises(BadInput) as info:
        decode_batch(body(events=events), small)
    assert info.value.status == 413 and info.value.field == "events"
    with pytest.raises(BadInput) as info:
        decode_batch(b" " * 2001, small)
    assert info.value.status == 413


# -- issue 13: every malformed input is a 4xx naming its field ------------------------------
def test_deep_nesting_in_an_unknown_field_is_a_400_naming_it() -> None:
    deep = b"[" * 1000 + b"]" * 1000
    one = body(type="message", id="m", ts=1, sender="a", recipients=["b"], text="x")
    with pytest.raises(BadInput) as info:
        decode_message(one[:-1] + b',"junk":' + deep + b"}", LIMITS)
    assert info.value.status == 400 and info.value.field == "junk[0][0]"
    with pytest.raises(BadInput) as info:
        decode_batch(b'{"events":[' + one[:-1] + b',"junk":' + deep + b"}]}", LIMITS)
    assert info.value.status == 400 and info.value.field == "events[0].junk"


def test_a_400_digit_ts_is_a_422_naming_ts() -> None:
    huge = b'{"type":"login","id":"l","account":"a","ts":1' + b"0" * 400 + b"}"
    with pytest.raises(BadInput) as info:
        decode_event(huge, LIMITS)
    assert info.value.status == 422 and info.value.field == "ts"


def test_a_missing_field_is_named() -> None:
    with pytest.raises(BadInput) as info:
        decode_message(body(type="message", id="m", ts=1, sender="a", recipients=["b"]), LIMITS)
    assert info.value.field == "text"
    with pytest.raises(BadInput) as info:
        decode_batch(body(events=[{"type": "login", "id": "l", "ts": 1}]), LIMITS)
    assert info.value.field == "events[0].account"


def test_an_event_from_the_future_is_refused_naming_ts() -> None:
    now = 1_800_000_000.0
    soon = decode_event(body(type="login", id="l", ts=now + 60, account="a"), LIMITS)
    check_clock([soon], LIMITS, now)  # a little skew is fine
    later = decode_event(body(type="login", id="l", ts=now + 3600, account="a"), LIMITS)
    with pytest.raises(BadInput) as info:
        check_clock([soon, later], LIMITS, now, prefix="events")
    assert info.value.status == 422 and info.value.field == "events[1].ts"
    check_clock([later], LIMITS, now + 3600)  # the past (a replayed log) is always fine
