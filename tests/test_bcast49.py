"""The broadcast counted over the account's familiar sessions, by reading only (``bcast49``).

``TakeoverDetector._broadcast`` counted one session's burst and pitch sets, and a session
new from the owner's /24 with the owner's app is familiar at once: the seller's software
there signed in anew every few pitches and each session reached three people. It now reads
the same sets of the account's other familiar sessions that wrote in the burst window (the
takeover record's sessions), writing nothing new. Each test fails on main."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import T0, event, message
from spimguard.engine import Engine
from test_attack_session25 import engine_on
from test_evade47 import NAMES, NEIGHBOUR, PITCH, owner
from test_takeover import live_a_month, mutual

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
    sets were nobody's: ``origin.unscoped`` names them as their messages count (without it, 21
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


def _two_devices_then_the_worm(engine: Engine) -> tuple[list[Any], list[Any]]:
    """The owner on the phone and the laptop at once giving one link to three friends (one
    of them given it again from the laptop), then the seller's software rotating sessions:
    both's verdicts."""
    cfg = engine.config
    link = "{name}, that place I told you about https://little-bistro.example/menu"
    mine = [engine.process(message(cfg, f"o{n}", "alice", [f"alice-friend{who}"],
                                   link.format(name=NAMES[who % 6]), T0 + 10 + 20 * n,
                                   session=device, client=HOME))
            for n, (device, who) in enumerate(
                [("phone", 10), ("laptop", 11), ("laptop", 10), ("phone", 12)])]
    worm = []
    for i in range(20, 60):
        at, session = T0 + 200 + 3 * i, f"s{i // 3}"
        if i % 3 == 0:
            engine.process(event(cfg, type="login", id=f"L{i}", ts=at - 1, account="alice",
                                 session=session, ip=NEIGHBOUR, client={"id": "im-android"}))
        worm.append(_pitch(engine, i, at, session, WORM))
    return mine, worm


def test_a_friends_link_from_two_devices_is_no_broadcast_a_campaigns_is() -> None:
    """The principle, both ways: a person on the phone and the laptop at once passes one
    link on to the three friends it catches up with, and FAMILIAR_SENDER holds for each;
    the seller's software rotating sessions reaches the list, and it is withheld from the
    fourth person on. The friend given the link again from the laptop is one person: the
    sets' counts summed make the phone's last message the fourth (the laptop's set holds
    friend 10 and 11, the phone's 10), so past the bound their people are read and joined
    (``burst.people``: three). Main: the owner's kept too, but 39 of 40 of the seller's
    delivered."""
    mine, worm = _two_devices_then_the_worm(owner())
    assert _actions(mine) == ["deliver"] * 4
    assert all(_familiar(v) for v in mine)
    assert _actions(worm).count("deliver") <= 6, _actions(worm)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_the_sessions_sets_are_read_alike_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The other sessions' sets, and their people past the bound (``Members`` of the
    burst sets and of the pitch's guest sides), answer on SQLite and Redis as in memory.
    Main: 39 of 40 of the seller's delivered on each."""
    engine = engine_on(backend, tmp_path, request)
    live_a_month(engine, "alice")
    mutual(engine, "alice")
    mine, worm = _two_devices_then_the_worm(engine)
    memory = _two_devices_then_the_worm(owner())
    assert [[s.code for s in v.signals] for v in mine + worm] == [
        [s.code for s in v.signals] for v in memory[0] + memory[1]]
    assert _actions(mine + worm) == _actions(memory[0] + memory[1])
    assert _actions(worm).count("deliver") <= 6
