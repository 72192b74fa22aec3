"""The takeover detector's cost an event (``takeover43``): a message's plan set by
``msgspec.structs.replace``, ``listed_back`` as ``back``'s own queries, the record's live
networks and other sessions copied in C when none has lapsed, an IPv4 address's network
read without ``ipaddress``. Each answers as before (the guards) with less work (the rest)."""

from __future__ import annotations

import gc
import ipaddress
import random
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import msgspec
import pytest

from conftest import T0, config, message
from spimguard import text
from spimguard.detectors.base import Context
from spimguard.detectors.takeover import TakeoverSettings, origin, plan
from spimguard.detectors.takeover.record import Record

CFG = TakeoverSettings()
_TTLS = (2_592_000.0, 43_200.0, 86_400.0)  # session_ttl, live_window, incident_ttl
_SESSION = ["im-android", "198.51.100.0", T0 - 3_600, 0, 0.0, 0, 1, T0 - 60, 0]


def _frames(call: Callable[[], Any], module: str | None = None) -> list[str]:
    """The Python functions ``call`` enters (cached C calls that hit make none), of
    ``module`` alone where one is named. The
    collector is off meanwhile: a collection the call's allocations happen to trigger runs
    whatever ``gc.callbacks`` another test left in this worker (one CI run met 142 frames
    of one), which are not the call's."""
    calls: list[str] = []

    def seen(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and module in (None, frame.f_globals.get("__name__")):
            calls.append(frame.f_code.co_name)

    collecting = gc.isenabled()
    gc.disable()
    sys.setprofile(seen)
    try:
        call()
    finally:
        sys.setprofile(None)
        if collecting:
            gc.enable()
    return calls


def _by_ipaddress(ip: str) -> str:
    """``origin.network`` as session 42's release worked it out, all by ``ipaddress``."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address)


def test_a_networks_answer_is_ipaddresss_whatever_the_text() -> None:
    """The guard: every text reads as ``ipaddress`` reads it, near-addresses included
    (leading zeros, octets past 255, non-ASCII digits, too few or many parts, spaces
    around and inside, IPv6 and IPv4-mapped)."""
    octets = ["0", "00", "1", "01", "9", "10", "99", "100", "199", "200", "249", "250", "255",
              "256", "300", "1000", "a", "", " 1", "\u0663", "+1", "-1", "0x1"]
    rnd = random.Random(43)
    texts = [".".join(rnd.choice(octets) for _ in range(rnd.randint(1, 5)))
             for _ in range(20_000)]
    texts += ["1.2.3.4", " 1.2.3.4\n", "01.2.3.4", "255.255.255.255", "0.0.0.0",
              "::ffff:1.2.3.4", "2001:db8::1", "1.2.3.4%1", "1.2.3.4 5", "", "abc"]
    assert [origin.network.__wrapped__(t) for t in texts] == [_by_ipaddress(t) for t in texts]


def test_an_ipv4_addresss_network_is_read_without_ipaddress(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """~4,800 instructions where ``ipaddress`` took ~80,500: at a platform's scale the cache
    misses for nearly every sender not seen lately."""

    def refused(_: str) -> Any:
        raise AssertionError("parsed by ipaddress")

    monkeypatch.setattr(origin.ipaddress, "ip_address", refused)
    assert origin.network.__wrapped__(" 203.0.113.77 ") == "203.0.113.0"
    assert origin.network.__wrapped__("10.0.0.255") == "10.0.0.0"


def _planned(body: str, recipients: list[str], **extra: Any) -> plan.Plan:
    event = message(config(), "m1", "alice", recipients, body, T0, session="phone", **extra)
    view = text.SEALED if event.encrypted else text.view(event.text)
    found = plan.plan(CFG, Context(event, view=view))
    assert found is not None
    return found


@pytest.mark.parametrize(("body", "extra"), [
    ("see you at five", {}), ("get it at http://tones.example/r1", {}),
    ("", {"encrypted": True, "size": 120})])
def test_a_messages_plan_is_the_peoples_with_its_texts_own_fields(
        body: str, extra: dict[str, Any]) -> None:
    """The guard: every field the text does not decide is the people's plan's (the same
    object), whatever the message."""
    found = _planned(body, ["bob", "carol"], **extra)
    event = message(config(), "m1", "alice", ["bob", "carol"], body, T0, session="phone",
                    **extra)
    people = plan._people_plan(CFG, Context(event), event, found.session).plan
    own = {"reads", "later", "same_text", "text_to", "spread", "unlisted", "sought", "shape",
           "listed_back", "room"}
    for field in msgspec.structs.fields(plan.Plan):
        if field.name not in own:
            assert getattr(found, field.name) == getattr(people, field.name), field.name


def test_a_messages_plan_is_made_by_no_keyword_matching(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """The people's plan is copied in C with the text's ten fields set: no ``Plan(...)``
    is made for the message but the account's (~15,500 instructions a message, ~3,800
    so)."""
    made: list[int] = []
    whole = plan.Plan

    def counted(*args: Any, **kwargs: Any) -> plan.Plan:
        made.append(len(kwargs))
        return whole(*args, **kwargs)

    monkeypatch.setattr(plan, "Plan", counted)
    _planned("see you at five", ["bob"])
    assert made == [1]  # the account's own plan (``_account_plan``: ``reads``)


def test_listed_back_is_backs_own_queries() -> None:
    found = _planned("see you at five", ["bob", "carol", "dave"])
    assert found.listed_back and len(found.listed_back) == 3
    assert all(a is b for a, b in zip(found.listed_back, found.back, strict=False))


def _record(live: dict[str, float], sessions: dict[str, list[Any]]) -> Record:
    return Record("@a:x", {"l": live, "s": sessions}, *_TTLS)


@pytest.mark.parametrize("lapsed", [False, True])
def test_live_networks_and_sessions_answer_as_filtered_in_order(lapsed: bool) -> None:
    """The guard: what lapsed is left out, the rest kept in its order, the touched last."""
    old = T0 - (3_000_000 if lapsed else 60)
    record = _record({"a": old, "b": T0 - 30, "c": old},
                     {"s1": [*_SESSION[:7], old, 0], "s2": list(_SESSION),
                      "s3": [*_SESSION[:7], old, 0]})
    record.touch_live("b", T0, 8)
    record.set_session("s2", {"client": "x", "net": "n"}, T0, 8, 2)
    changed = record.changed()
    assert changed is not None
    assert list(changed["l"]) == (["b"] if lapsed else ["a", "b", "c"])
    assert changed["l"]["b"] == T0
    assert list(changed["s"]) == (["s2"] if lapsed else ["s1", "s3", "s2"])
    assert changed["s"]["s2"][:2] == ["x", "n"]


def test_touching_live_networks_runs_no_comprehension() -> None:
    """Nothing lapsed (nearly always): a copy made in C, no comprehension's frame nor
    ``_newest``'s (each ~1,000-1,500 instructions)."""
    record = _record({"a": T0 - 60}, {})
    assert _frames(lambda: record.touch_live("a", T0, 8)) == ["<lambda>", "touch_live", "live"]


def test_setting_a_session_runs_no_comprehension() -> None:
    """Nothing lapsed: the other sessions copied in C, no comprehension's frame."""
    record = _record({}, {"s1": list(_SESSION), "s2": list(_SESSION)})
    assert _frames(lambda: record.set_session("s1", {}, T0, 8, 2)) == [
        "<lambda>", "set_session", "_current"]
