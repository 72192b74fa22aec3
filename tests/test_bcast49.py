"""The broadcast counted over the account's familiar sessions, by reading only (``bcast49``).

``TakeoverDetector._broadcast`` counted one session's burst and pitch sets, and a session
new from the owner's /24 with the owner's app is familiar at once: the seller's software
there signed in anew every few pitches and each session reached three people. It now reads
the same sets of the account's other familiar sessions that wrote in the burst window (the
takeover record's sessions), writing nothing new. Each test fails on main."""

from __future__ import annotations

from typing import Any

from conftest import T0, event, message
from spimguard.engine import Engine
from test_evade47 import NAMES, NEIGHBOUR, PITCH, owner

WORM = {"id": "im-android", "ip": NEIGHBOUR}  # the seller's software in the owner's /24
HOME = {"id": "im-android", "ip": "198.51.100.20"}  # the owner's own (``engine_with_history``)


def _actions(verdicts: list[Any]) -> list[str]:
    return [str(getattr(v, "action", "")) for v in verdicts]


def _familiar(verdict: Any) -> bool:
    return any(s.code == "FAMILIAR_SENDER" for s in verdict.signals)


def _pitch(engine: Engine, i: int, at: float, session: str, client: dict[str, str]) -> Any:
    return engine.process(message(engine.config, f"m{i}", "alice", [f"alice-friend{i}"],
                                  PITCH[i % 3].format(name=NAMES[i % 6], n=0, i=i), at,
                                  session=session, client=client))


def test_sessions_signed_in_from_another_app_count_under_their_own_ids() -> None:
    """Each session signs in with another app (``PixelChat``, new to the account: the
    sign-in's entry is risky) and writes with the owner's: the record keeps what it judged
    of the messages under the scoped id (``origin.scoped``: the session's id, then the
    message's app and network), familiar, while the messages' sets are named by the
    session's own id (``Plan.session``). Read under the scoped id, the other sessions'
    sets were nobody's: ``_unscoped`` names them as their messages count (without it, 21
    of 40 delivered). Main: 40 of 40."""
    engine, actions = owner(), []
    for i in range(40):
        at, session = T0 + 10 + 3 * i, f"s{i // 3}"
        if i % 3 == 0:
            engine.process(event(engine.config, type="login", id=f"L{i}", ts=at - 1,
                                 account="alice", session=session, ip=NEIGHBOUR,
                                 client={"id": "PixelChat 1.0"}))
        actions.append(_pitch(engine, i, at, session, WORM))
    assert _actions(actions).count("deliver") <= 6, _actions(actions)


def test_pitches_with_no_session_then_with_sessions_count_together() -> None:
    """Twenty pitches with no session (counted under the app and network's stand-in,
    ``origin.stand_in``, of which the record keeps no entry), then twenty from a new
    session every three: a message with a session reads the stand-in's sets of its own
    app and network too, so the sessions' first pitches are the broadcast's 21st on.
    Main: 23 of 40 delivered (the stand-in's first three, every session's)."""
    engine, actions = owner(), []
    for i in range(40):
        at = T0 + 10 + 3 * i
        session = "" if i < 20 else f"s{i // 3}"
        if session and (i % 3 == 0 or i == 20):
            engine.process(event(engine.config, type="login", id=f"L{i}", ts=at - 1,
                                 account="alice", session=session, ip=NEIGHBOUR,
                                 client={"id": "im-android"}))
        actions.append(_pitch(engine, i, at, session, WORM))
    done = _actions(actions)
    assert done.count("deliver") <= 6, done
    assert "deliver" not in done[20:], done


def test_a_friends_link_from_two_devices_is_no_broadcast_a_campaigns_is() -> None:
    """The principle, both ways: a person on the phone and the laptop at once passes one
    link on to the three friends it catches up with (one of them given it again from the
    laptop: one person, asked of each set), and FAMILIAR_SENDER holds for each; the
    seller's software rotating sessions reaches the list, and it is withheld from the
    fourth person on. Main: the owner's kept too, but 39 of 40 of the seller's
    delivered."""
    engine = owner()
    cfg = engine.config
    link = "{name}, that place I told you about https://little-bistro.example/menu"
    mine = [engine.process(message(cfg, f"o{n}", "alice", [f"alice-friend{who}"],
                                   link.format(name=NAMES[who % 6]), T0 + 10 + 20 * n,
                                   session=device, client=HOME))
            for n, (device, who) in enumerate(
                [("phone", 10), ("laptop", 11), ("laptop", 10), ("phone", 12)])]
    assert _actions(mine) == ["deliver"] * 4
    assert all(_familiar(v) for v in mine)
    worm = []
    for i in range(20, 60):
        at, session = T0 + 200 + 3 * i, f"s{i // 3}"
        if i % 3 == 0:
            engine.process(event(cfg, type="login", id=f"L{i}", ts=at - 1, account="alice",
                                 session=session, ip=NEIGHBOUR, client={"id": "im-android"}))
        worm.append(_pitch(engine, i, at, session, WORM))
    assert _actions(worm).count("deliver") <= 6, _actions(worm)
