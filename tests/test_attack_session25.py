"""Red team, session 25: the ringtone seller of the founding case, who has read the
takeover detector and paces, splits and warms up its campaign to stay under each rule.
Through ``engine.process`` on an account with a month of life (``engine_with_history``).
Each fixed finding's test fails on main (6db9f71); what stays open is a strict xfail with
its numbers (``docs/red-team-log.md``, "Session 25: the seller who read the takeover
detector").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.detectors.takeover import keys
from spimguard.engine import Engine
from test_takeover import (
    DAY,
    OFFICIAL,
    delivered_before_containment,
    engine_with_history,
    live_a_month,
)

OFFICIAL_APP = "im-android"  # the owner's own app: the id any client may claim
HOSTING_IP = "203.0.113.7"  # the seller's server: a network the account never used
NAMES = ("Sam", "Alex", "Maria", "Jo", "Priya", "Chen", "Fatima", "Lucas", "Anna", "Omar")


def pitch(i: int) -> str:
    return f"hey {NAMES[i % 10]}! I found cheap ringtones here http://cheap-tones.biz/r?u={i}"


def send(engine: Engine, n: int, friend: int, text: str, ts: float, session: str,
         ip: str = HOSTING_IP, sign_in: bool = True) -> Any:
    """One message of alice's to her contact ``friend`` from ``session`` (signed in just
    before, the seller's software minting a session per message)."""
    cfg = engine.config
    if sign_in:
        engine.process(event(cfg, type="login", id=f"login-{session}-{n}", ts=ts - 5,
                             account="alice", session=session, ip=ip,
                             client={"id": OFFICIAL_APP}))
    return engine.process(message(cfg, f"m-{session}-{n}", "alice", [f"alice-friend{friend}"],
                                  text, ts, session=session,
                                  client={"id": OFFICIAL_APP, "ip": ip}))


def test_warm_up_lines_from_fresh_sessions_make_the_sellers_network_nobodys() -> None:
    """Four bland lines to the friends the owner writes to every day (read off the
    account's history), each from a fresh session of the seller's server 11 minutes
    apart, raised nothing (no dormant tie, no burst) and, being clean lines to the
    account's own contacts,
    taught the profile that network: a day later it was familiar (risk 0) and the blast
    from there, 50 pitches 3 s apart from one session, was the owner's own: on main 25
    delivered and 25 warned, no hold, no account action. A session's network is learnt
    on the owner's word only now (a session with nothing against it, or one answering its
    friends), as whom the account writes to already was."""
    engine = engine_with_history()
    for i in range(4):
        warm = send(engine, i, i % 3, f"hey {NAMES[i]}, are we still on for friday?",
                    T0 + i * 660, f"warm{i}")
        assert warm.action == "deliver"
    blast = [send(engine, i, (20 + i) % 60, pitch(i), T0 + 1.2 * DAY + 3 * i, "blast",
                  sign_in=i == 0) for i in range(50)]
    assert delivered_before_containment(blast) <= 3
    assert any(v.account_action.action == "suspend_sending" for v in blast)


def engine_on(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    """An engine on ``backend`` (memory, sqlite or redis: the test's own namespace)."""
    storage: dict[str, Any] = {"backend": backend}
    if backend == "redis":
        storage.update(redis_url=request.getfixturevalue("redis_url"),
                       redis_namespace=request.getfixturevalue("redis_namespace"))
    return open_engine(config(official_clients=OFFICIAL, storage=storage,
                              records={"evidence_key": "test-evidence-key"}), tmp_path)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_fresh_session_for_each_pitch_paced_past_the_burst_window_is_one_burst(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The seller signs in anew for every pitch and sends one every 11 minutes: the
    session's burst and the account's burst over its unproven sessions both count in the
    10-minute window, and each session's slow burst is one contact. On main all 40 reached
    their targets (27 delivered, 13 warned) with no account action. The slow burst now
    counts over the account's unproven sessions together too, as the quick one does (in
    a guest of the account's ties record no session id names: each backend keeps it)."""
    engine = engine_on(backend, tmp_path, request)
    live_a_month(engine, "alice")
    verdicts = [send(engine, i, (3 + i) % 60, pitch(i), T0 + 10 + 660 * i, f"evil{i}")
                for i in range(40)]
    assert delivered_before_containment(verdicts) <= 3
    assert sum(v.action in ("hold", "block") for v in verdicts) >= 36


def test_the_owner_back_after_a_contained_intrusion_writes_on() -> None:
    """What a held burst sent is that session's, stopped already: the account-wide slow
    burst counts only what reached people, so the owner's next session (a network new to
    the account, writing to a friend the intruder had pitched) is not the intruder's
    burst (the simulator's load held such an owner before this was so)."""
    engine = engine_with_history()
    intrusion = [send(engine, i, (3 + i) % 60, pitch(i), T0 + 10 + 3 * i, "evil",
                      sign_in=i == 0) for i in range(30)]
    assert delivered_before_containment(intrusion) <= 3
    back = [send(engine, i, 5 + i, line, T0 + 2 * 3_600 + 900 * i, "laptop",
                 ip="198.51.100.90", sign_in=i == 0)
            for i, line in enumerate(("sorry, my account was hacked, ignore that link",
                                      "did you get a weird message from me?"))]
    assert [v.action for v in back] == ["deliver", "deliver"]
    assert {v.account_action.action for v in back} == {"none"}


def _answer(engine: Engine, friend: int, ts: float) -> None:
    """An old acquaintance answering alice's line, from its own phone."""
    engine.process(message(engine.config, f"answer-{friend}-{ts}", f"alice-friend{friend}",
                           ["alice"], "omg hi!! long time, how are you?", ts,
                           session=f"phone-{friend}",
                           client={"id": "im-ios", "ip": f"100.70.{friend}.3"}))


def openers_campaign(text_of: Callable[[int], str], apart: float = 120,
                     pitch_after: float = 60,
                     before_pitch: Callable[[Engine, int, float, str], None] | None = None,
                     answered: int = 15) -> list[Any]:
    """One session's openers ("long time! how are you?") to 30 dormant contacts ``apart``
    seconds apart, every other one answered 30 s later, then (after ``before_pitch``, given
    the engine, the opener's number, its time and the session) the pitch
    ``text_of(number)`` to the answerer ``pitch_after`` seconds after the opener; a fresh
    session signed in for every ``answered`` answerers. The pitches' verdicts."""
    engine = engine_with_history()
    pitches, t = [], T0
    for i in range(30):
        friend, turn = 10 + i, i // 2 // answered
        session = f"seller{turn}" if turn else "seller"
        send(engine, i, friend, f"hey {NAMES[i % 10]}, long time! how are you?", t,
             session, sign_in=i == 2 * answered * turn)
        if i % 2 == 0:
            _answer(engine, friend, t + 30)
            if before_pitch is not None:
                before_pitch(engine, i, t, session)
            pitches.append(send(engine, 100 + i, friend, text_of(i), t + pitch_after,
                                session, sign_in=False))
        t += apart
    return pitches


def test_openers_that_draw_answers_do_not_make_the_pitches_replies() -> None:
    """One session's openers ("long time! how are you?") to 30 dormant contacts two
    minutes apart, every other one answered, the pitch sent as the answer's reply: on main
    of the 15 pitches 4 were delivered and 11 warned, none held (two answers made the
    session a conversing one, its burst a quarter on the owner's app, each pitch a reply).
    Who wrote first does not tell a provoked answer from a conversation (counting only
    replies to people who wrote first held the 2,000-contact user chatting with old
    friends from a network not yet learnt); what the session answers with does: the site
    it already gave another answerer is no reply, and its replies do not excuse it
    (``burst.pitching``, red team session 26). Now 1 delivered, 1 warned, 13 held."""
    pitches = openers_campaign(pitch)
    assert sum(v.action in ("deliver", "warn") for v in pitches) <= 3


@pytest.mark.parametrize("session", ["%unproven", "%25unproven", "x:%unproven", "", "%"])
def test_no_session_id_names_the_accounts_unproven_sessions(session: str) -> None:
    """Session ids are the client's: one naming the account's unproven sessions' record
    would write its friends into it (diluting the burst) or its pitches into the owner's."""
    for account in ("alice", "@a:s", "%unproven"):
        assert keys.lifelong(account, session) != keys.unproven(account)
