"""Red team: three reports counted twice drop a message between friends (session 11).

``trust.py`` names its open hole: a sock given ``full_footprint`` filler correspondents
(throwaways whose messages to it were delivered) weighs in full. What that buys: three such
socks (13 accounts, three days of waiting) report one bot message each that names a small
business's domain, and the same three reports then count as two kinds of evidence:
LINK_REPUTATION (reported; not bounded between friends) and WAVE_REPORTED (a short line's
shingles are mostly its masked link, so any short line naming the domain is a "near
variant"). Together they pass the block threshold: a friend's "cake from <domain> tonight?",
from its usual phone to a friend who lists it back, is dropped.

The rule this test holds the code to: evidence drawn from the same reports is one kind of
evidence, counted once (one group cap for what reports taught), so between friends on the
owner's own session it warns at most. Wave shingles leave the links out (``neighbours.py``),
so the line is no near variant of the reported pitch; it failed before that.
"""

from __future__ import annotations

from conftest import T0, event, message
from spimguard.engine import Engine
from test_takeover import engine_with_history, mutual

DAY = 86_400.0
SITE = "marias-bakery.com"
LINE = f"cake from {SITE} tonight?"


def socks_report(engine: Engine, ts: float) -> None:
    """Three socks with three disjoint fillers each, three days old, each reporting the
    bot's line it received."""
    cfg = engine.config
    for s in range(3):
        for f in range(3):
            filler, sock = f"filler{s}-{f}", f"sock{s}"
            engine.process(message(cfg, f"f{s}{f}", filler, [sock], "hi", ts + s * 10 + f,
                                   client={"id": "x", "ip": f"198.18.{s}.{f}"}))
            engine.process(message(cfg, f"g{s}{f}", sock, [filler], "hello", ts + s * 10 + f + 1,
                                   client={"id": "x", "ip": f"198.19.{s}.{f}"}))
    later = ts + 3 * DAY
    for s in range(3):
        engine.process(message(cfg, f"bot{s}", "bot", [f"sock{s}"],
                               f"hey, great cakes at {SITE}", later + s,
                               client={"id": "x", "ip": "203.0.113.5"}))
        engine.process(event(cfg, type="report", id=f"r{s}", ts=later + 60 + s,
                             reporter=f"sock{s}", message_id=f"bot{s}", label="spam"))


def friends_line(engine: Engine, ts: float) -> str:
    mutual(engine, "alice")
    verdict = engine.process(message(engine.config, "line", "alice", ["alice-friend0"], LINE,
                                     ts, session="phone",
                                     client={"id": "im-android", "ip": "198.51.100.20"}))
    assert any(s.code == "FAMILIAR_SENDER" for s in verdict.signals), verdict.signals
    return verdict.action


def test_the_line_between_friends_is_delivered_without_the_attack() -> None:
    assert friends_line(engine_with_history(), T0 + 3 * DAY + 3600) == "deliver"


def test_three_filled_socks_do_not_drop_a_line_between_friends() -> None:
    engine = engine_with_history()
    socks_report(engine, T0)
    assert friends_line(engine, T0 + 3 * DAY + 3600) in ("deliver", "warn")  # before: block
