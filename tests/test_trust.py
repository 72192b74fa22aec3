"""Report trust from the attacker's seat: aged sock puppets with no life of their own.

The measured attack (branch ``waves``, ``benchmarks/content.py``, "poisoning"): socks aged
past ``new_reporter_age`` receive ordinary chat from the attacker's sender and report it,
three per message, so that the same chat from strangers is held later. Age alone made
each sock weigh 1; a reporter now weighs in full only with correspondents of its own.
"""

from __future__ import annotations

from typing import Any

from conftest import T0, config, established, event, message
from conftest import TURKISH_CHAT as CHAT
from spimguard import open_engine, trust
from spimguard.engine import Engine

DAY = 86_400.0
STOPPED = ("hold", "block")


def _aged(engine: Engine, *accounts: str) -> None:
    """Accounts the IM server says are a month old, and nothing else: idle socks."""
    for name in accounts:
        engine.process(event(engine.config, type="account", id=f"acct-{name}", ts=T0,
                             account=name, created=T0 - 30 * DAY))


def _send(engine: Engine, id: str, sender: str, to: str, text: str, ts: float) -> str:
    return engine.process(message(engine.config, id, sender, [to], text, ts)).action


def _report(engine: Engine, reporter: str, message_id: str, ts: float) -> None:
    engine.process(event(engine.config, type="report", id=f"rep-{reporter}-{message_id}",
                         reporter=reporter, message_id=message_id, label="spam", ts=ts))


def _state(engine: Engine, message_id: str) -> dict[str, Any]:
    return engine.read_state([trust.Get(f"trust:msg:{message_id}")])[0] or {}


def _poison(engine: Engine, reporters: tuple[str, ...], ts: float) -> float:
    """Each chat line from the attacker to each reporter, who reports it; the time after."""
    for i, text in enumerate(CHAT):
        for reporter in reporters:
            ts += 1
            _send(engine, f"bait{i}-{reporter}", "mallory", reporter, text, ts)
            _report(engine, reporter, f"bait{i}-{reporter}", ts + 0.5)
    return ts


def _strangers_chat(engine: Engine, ts: float) -> list[str]:
    return [_send(engine, f"c{i}", f"alice{i}", f"bob{i}", text, ts + i)
            for i, text in enumerate(CHAT)]


def test_aged_socks_with_no_footprint_do_not_get_ordinary_chat_held() -> None:
    """Three aged socks reporting every line: before, each report weighed 1 and every line
    was held from strangers (WAVE_REPORTED, CONTENT_SPAM); now a sock whose only
    correspondent is the sender has one voice of ``new_weight`` in all, spent on its
    first report (what a fresh throwaway's report weighs), and the lines it reports
    afterwards teach nothing: they stay delivered from strangers."""
    engine = open_engine(config())
    socks = ("sock1", "sock2", "sock3")
    _aged(engine, *socks)
    ts = _poison(engine, socks, T0 + DAY * 3)
    taught = sum(trust.net(_state(engine, f"bait{i}-{sock}"))
                 for i in range(len(CHAT)) for sock in socks)
    assert taught <= len(socks) * engine.config.trust.new_weight + 1e-9
    assert set(_strangers_chat(engine, ts + 100)[1:]) == {"deliver"}


def test_three_reporters_of_one_message_with_no_footprint_are_one_voice() -> None:
    """The socks all received one message: together they weigh ``new_weight``."""
    engine = open_engine(config())
    socks = ("sock1", "sock2", "sock3")
    _aged(engine, *socks)
    _send(engine, "m", "mallory", "sock1", CHAT[0], T0 + 3 * DAY)
    engine.process(message(engine.config, "group", "mallory", list(socks), CHAT[1],
                           T0 + 3 * DAY + 1))
    for k, sock in enumerate(socks):
        _report(engine, sock, "group", T0 + 3 * DAY + 2 + k)
    state = _state(engine, "group")
    assert set(state["spam"]) == set(socks)  # each remembered: none can report it again
    assert sum(state["spam"].values()) == engine.config.trust.new_weight
    assert trust.net(state) == engine.config.trust.new_weight


def test_reporters_with_lives_of_their_own_still_teach_the_chat_they_report() -> None:
    """The honest side of the same rule: three aged reporters whom friends of their own
    write to weigh in full, and three reports of a line hold it from strangers, as
    three reporters of standing did before."""
    engine = open_engine(config())
    judges = ("judge1", "judge2", "judge3")
    established(engine, *judges)  # a month old, and friends of their own wrote to them
    ts = _poison(engine, judges, T0 + 3 * DAY)
    assert all(trust.net(_state(engine, f"bait0-{j}")) == 1.0 for j in judges)
    assert set(_strangers_chat(engine, ts + 100)) <= set(STOPPED)


def test_a_ring_of_socks_that_chat_among_themselves_is_one_circle() -> None:
    """Socks that befriend each other and chat get a footprint, but all of it is the same
    circle: on one message the first weighs in full, the others share one new voice."""
    engine = open_engine(config())
    ring = tuple(f"ring{k}" for k in range(6))
    _aged(engine, *ring)
    ts = T0 + 3 * DAY
    for a in ring:
        for b in ring:
            if a != b:
                ts += 1
                _send(engine, f"chat-{a}-{b}", a, b, "ok see you then", ts)
    reporters = ring[:3]
    engine.process(message(engine.config, "group", "mallory", list(reporters), CHAT[1],
                           ts + 1))
    for k, sock in enumerate(reporters):
        _report(engine, sock, "group", ts + 2 + k)
    weights = _state(engine, "group")["spam"]
    new_weight = engine.config.trust.new_weight
    assert weights[reporters[0]] == 1.0
    assert weights[reporters[1]] + weights[reporters[2]] <= new_weight


def test_two_honest_reporters_with_circles_of_their_own_both_count() -> None:
    """Two reporters sharing one friend are still two people: both weigh in full."""
    engine = open_engine(config())
    _aged(engine, "ann", "ben")
    ts = T0 + 3 * DAY
    for reporter in ("ann", "ben"):
        for k, friend in enumerate(("common", f"{reporter}-a", f"{reporter}-b",
                                    f"{reporter}-c")):
            ts += 1
            _send(engine, f"hi-{reporter}-{k}", friend, reporter, "ok see you then", ts)
    engine.process(message(engine.config, "group", "mallory", ["ann", "ben"], CHAT[1], ts + 1))
    _report(engine, "ann", "group", ts + 2)
    _report(engine, "ben", "group", ts + 3)
    assert _state(engine, "group")["spam"] == {"ann": 1.0, "ben": 1.0}
