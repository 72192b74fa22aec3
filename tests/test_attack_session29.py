"""Red team, session 29 (``redteam``): the ringtone seller of the founding case, who has
read the takeover detector, against an account with a month of life
(``test_takeover.engine_with_history``) whose friends list it back, as friends do. Through
``engine.process``; the numbers are how many of the pitches reached their targets
(delivered or warned). The fixed finding's test fails on main (bc3862e); what stays open is
a strict xfail with its numbers (``docs/red-team-log.md``, session 29, ``redteam``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, event, message
from spimguard.engine import Engine
from test_attack_session25 import (
    HOSTING_IP,
    NAMES,
    OFFICIAL_APP,
    _answer,
    engine_on,
    pitch,
    send,
)
from test_takeover import DAY, delivered_before_containment, engine_with_history, live_a_month

PITCHES = 40


def befriended(people: int = 60, engine: Engine | None = None) -> Engine:
    """alice's month of life, her contacts listing her back (their own ``contacts``)."""
    if engine is None:
        engine = engine_with_history()
    else:
        live_a_month(engine, "alice")
    for f in range(people):
        engine.process(event(engine.config, type="contacts", id=f"fc{f}", ts=T0 - 20 * DAY,
                             account=f"alice-friend{f}", contacts=["alice"]))
    return engine


def reached(verdicts: Sequence[Any]) -> int:
    return sum(v.action in ("deliver", "warn") for v in verdicts)


def _deleting_seller(keep: int, apart: float, listing: int = 60,
                     engine: Engine | None = None) -> list[Any]:
    """The seller signs in (the official app's id, its server), reads the list, deletes
    all of it but the first ``keep`` (the IM server's next snapshot of alice's list), then
    pitches 40 of the deleted contacts ``apart`` seconds apart from that session.
    ``listing``: how many of her contacts list her back; ``engine``: a fresh one to use."""
    engine = befriended(listing, engine)
    cfg = engine.config
    engine.process(event(cfg, type="login", id="seller-in", ts=T0 - 60, account="alice",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    engine.process(event(cfg, type="contacts_read", id="seller-read", ts=T0 - 50,
                         account="alice", session="seller", count=60))
    engine.process(event(cfg, type="contacts", id="seller-deletes", ts=T0 - 40,
                         account="alice", contacts=[f"alice-friend{i}" for i in range(keep)]))
    return [send(engine, i, 20 + i, pitch(i), T0 + apart * i, "seller", sign_in=False)
            for i in range(PITCHES)]


@pytest.mark.parametrize(("keep", "apart"), [(0, 3), (3, 3), (0, 660), (3, 660)])
def test_a_seller_that_deletes_the_list_it_read_still_bursts(keep: int, apart: float) -> None:
    """Only contacts made a burst, and the account's list is the side whoever holds the
    account edits: the seller deleted it after reading it, and the 40 people it then
    pitched, every one listing alice, were strangers to her whom she never wrote: no
    dormant tie, no burst. On main 40 of 40 reached (3 s apart: 25 delivered, 15 warned;
    11 minutes apart: 40 delivered), no account action, as against the list left alone
    (3 of 40, suspended). A recipient who lists the account is its tie whatever its own
    list says now (``burst.listed``): 3 of 40 reach, sending suspended, as before."""
    verdicts = _deleting_seller(keep, apart)
    assert reached(verdicts) <= 3
    assert delivered_before_containment(verdicts) <= 3
    assert any(v.account_action.action == "suspend_sending" for v in verdicts)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_the_deleted_list_is_read_alike_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The recipients' lists are read with the rest on SQLite and Redis too."""
    verdicts = _deleting_seller(0, 3, engine=engine_on(backend, tmp_path, request))
    assert [v.action for v in verdicts] == [v.action for v in _deleting_seller(0, 3)]
    assert reached(verdicts) <= 3


def test_a_seller_that_deletes_the_list_and_seals_its_pitches_still_bursts() -> None:
    """The same, the pitches end-to-end encrypted (one size: judged on metadata alone). On
    main 21 of 40 reached (5 delivered, 16 warned: SEALED_BULK), a challenge; now 3."""
    engine = befriended()
    cfg = engine.config
    engine.process(event(cfg, type="login", id="seller-in", ts=T0 - 60, account="alice",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    engine.process(event(cfg, type="contacts", id="seller-deletes", ts=T0 - 40,
                         account="alice", contacts=[]))
    sealed = [engine.process(message(cfg, f"sealed{i}", "alice", [f"alice-friend{20 + i}"],
                                     "", T0 + 3 * i, session="seller", encrypted=True,
                                     size=180, client={"id": OFFICIAL_APP, "ip": HOSTING_IP}))
              for i in range(PITCHES)]
    assert reached(sealed) <= 3


def test_a_seller_that_deletes_the_list_then_opens_and_answers_still_pitches() -> None:
    """Session 26's openers after the deletion: "long time! how are you?" to 30 of the
    deleted contacts two minutes apart, every other one answered, the pitch as the answer's
    reply. On main 30 of 30 openers (22 delivered, 8 warned) and 15 of 15 pitches reached
    (13 delivered, 2 warned), no account action; with the list left alone 3 of 30 and 2 of
    15. The openers write to people who list alice, and the link given to each answerer is
    the pitch (``burst.listed``): as with the list left alone."""
    engine = befriended()
    engine.process(event(engine.config, type="contacts", id="seller-deletes", ts=T0 - 40,
                         account="alice", contacts=[]))
    openers, pitches, t = [], [], T0
    for i in range(30):
        friend = 10 + i
        openers.append(send(engine, i, friend, f"hey {NAMES[i % 10]}, long time! how are you?",
                            t, "seller", sign_in=i == 0))
        if i % 2 == 0:
            _answer(engine, friend, t + 30)
            pitches.append(send(engine, 100 + i, friend, pitch(i), t + 60, "seller",
                                sign_in=False))
        t += 120
    assert reached(openers) <= 3
    assert reached(pitches) <= 3


def test_socks_that_list_an_owner_and_write_to_her_do_not_make_her_answers_a_burst() -> None:
    """Guard (passes on main): anyone may list anyone. Six fresh accounts list alice and
    write "hi alice! it's me, new number", two minutes apart, to her new phone (her
    official app, a network new to her), which answers each: all delivered, no account
    action (counting them as her ties in the burst held her fourth to sixth answers and
    challenged her account). A recipient who just wrote is answered, not sought out."""
    engine = befriended()
    cfg = engine.config
    phone = {"id": OFFICIAL_APP, "ip": "10.9.8.7"}
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session="newphone", ip=phone["ip"], client={"id": OFFICIAL_APP}))
    answers = []
    for s in range(6):
        engine.process(event(cfg, type="contacts", id=f"sock{s}-list", ts=T0 - 3_600,
                             account=f"sock{s}", contacts=["alice"]))
        engine.process(message(cfg, f"sock{s}", f"sock{s}", ["alice"],
                               "hi alice! it's me, new number", T0 + 120 * s,
                               session=f"sock{s}", client={"id": "im-ios",
                                                           "ip": f"100.71.{s}.3"}))
        answers.append(engine.process(message(cfg, f"answer{s}", "alice", [f"sock{s}"],
                                              "oh hi! who is this?", T0 + 120 * s + 40,
                                              session="newphone", client=phone)))
    assert [v.action for v in answers] == ["deliver"] * 6
    assert {v.account_action.action for v in answers} == {"none"}


def test_the_list_left_alone_bursts_as_before() -> None:
    """Control (passes on main): the same seller, the list untouched."""
    assert reached(_deleting_seller(60, 3)) <= 3


def test_a_friend_on_a_new_phone_answering_people_who_added_her_is_not_held() -> None:
    """Guard: alice's new phone (her official app, a new network) thanks two people who
    added her (not on her list, never written to): delivered, as on main. A third and
    later are dormant ties of a session nothing proves hers, as contacts she never wrote
    to have always been."""
    engine = befriended(0)
    cfg = engine.config
    for f in range(2):
        engine.process(event(cfg, type="contacts", id=f"fan{f}", ts=T0 - 20 * DAY,
                             account=f"fan{f}", contacts=["alice"]))
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session="newphone", ip="10.9.8.7", client={"id": OFFICIAL_APP}))
    thanks = [engine.process(message(cfg, f"thanks{f}", "alice", [f"fan{f}"],
                                     "hey! thanks for adding me, long time", T0 + 60 * f,
                                     session="newphone",
                                     client={"id": OFFICIAL_APP, "ip": "10.9.8.7"}))
              for f in range(2)]
    assert [v.action for v in thanks] == ["deliver", "deliver"]
    assert {v.account_action.action for v in thanks} == {"none"}


# -- open --------------------------------------------------------------------------------


def _answer_then_blast(answers: int, after: float, text: Callable[[int], str] = pitch,
                       apart: float = 3, fresh: bool = False, pitches: int = 50,
                       engine: Engine | None = None) -> list[Any]:
    """The seller's session answers ``answers`` of alice's daily friends who wrote to her
    (it is signed in: what they write to alice reaches it too), an hour apart; ``after``
    days later a session from the same server pitches (``text``) ``pitches`` dormant ties
    ``apart`` seconds apart (``fresh``: each from a sign-in of its own; ``engine``: a fresh
    one to use)."""
    engine = befriended(engine=engine)
    cfg = engine.config
    engine.process(event(cfg, type="login", id="seller-in", ts=T0 - 5, account="alice",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    for i in range(answers):
        f = i % 3
        engine.process(message(cfg, f"in{i}", f"alice-friend{f}", ["alice"], "hey, u there?",
                               T0 + 3_600 * i, session=f"phone{f}",
                               client={"id": "im-ios", "ip": f"100.70.{f}.3"}))
        send(engine, i, f, "yes! what's up", T0 + 3_600 * i + 30, "seller", sign_in=False)
    return [send(engine, 100 + i, 20 + i, text(i), T0 + after * DAY + apart * i,
                 f"blast{i}" if fresh else "blast", sign_in=fresh or i == 0)
            for i in range(pitches)]


def test_answers_the_same_day_teach_the_seller_nothing_yet() -> None:
    """Control (passes on main): the blast the same day, or after two answers, is held."""
    assert reached(_answer_then_blast(3, 0.1)) <= 3
    assert reached(_answer_then_blast(2, 1.2)) <= 3


def test_answers_to_friends_who_wrote_do_not_make_the_sellers_server_home() -> None:
    """A signed-in seller receives what alice's friends write to her and answers three
    ("yes! what's up"); a day later its server's network was familiar (risk 0) and its
    blast the owner's: 50 of 50 pitches reached (25 delivered, 25 warned), no account
    action (main 31dbd95). The network was first used while alice had a familiar one, so
    an unfamiliar session's lines made it familiar (``profile.earned``): for a site on no
    popular list sent to dormant ties it is the new network it was, and the burst holds
    from the fourth pitch, sending suspended."""
    verdicts = _answer_then_blast(3, 1.2)
    assert reached(verdicts) <= 3
    assert any(v.account_action.action == "suspend_sending" for v in verdicts)


@pytest.mark.xfail(strict=True, reason=(
    "open: where the people on the list do not list the account back (a platform of "
    "one-way lists, or contacts who never added it), the deletion leaves nothing of the "
    "tie: 40 of 40 pitches reached (25 delivered, 15 warned: VELOCITY_STRANGERS), no "
    "account action; with the list left alone 2 of 40 (suspended). What would close it is "
    "the deletion itself (a snapshot dropping most of the list while a session that read "
    "it is live), which no state keeps yet"))
def test_a_seller_that_deletes_a_list_nobody_lists_back_still_bursts() -> None:
    assert reached(_deleting_seller(0, 3, listing=0)) <= 3


def test_the_sellers_server_stays_new_for_its_sealed_pitches_too() -> None:
    """The same answers, the blast a day later end-to-end encrypted (one size): nobody can
    say it carries no site. On main 50 of 50 reached, no account action; now 3."""
    engine = befriended()
    cfg = engine.config
    engine.process(event(cfg, type="login", id="seller-in", ts=T0 - 5, account="alice",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    for i in range(3):
        engine.process(message(cfg, f"in{i}", f"alice-friend{i}", ["alice"], "hey, u there?",
                               T0 + 3_600 * i, session=f"phone{i}",
                               client={"id": "im-ios", "ip": f"100.70.{i}.3"}))
        send(engine, i, i, "yes! what's up", T0 + 3_600 * i + 30, "seller", sign_in=False)
    when = T0 + 1.2 * DAY
    engine.process(event(cfg, type="login", id="blast-in", ts=when - 5, account="alice",
                         session="blast", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    sealed = [engine.process(message(cfg, f"sealed{i}", "alice", [f"alice-friend{20 + i}"],
                                     "", when + 3 * i, session="blast", encrypted=True,
                                     size=180, client={"id": OFFICIAL_APP, "ip": HOSTING_IP}))
              for i in range(50)]
    assert reached(sealed) <= 3


def test_the_sellers_server_stays_new_for_its_pitches_all_week() -> None:
    """The same answers, the blast five days later: a network an unfamiliar session made
    familiar is trusted with a pitch only after ``pitch_trust_after`` (a week) of use."""
    assert reached(_answer_then_blast(3, 5)) <= 3


def _proven_by_answers(days: float, conversations: int = 3) -> tuple[Engine, dict[str, str],
                                                                   float]:
    """alice's new phone (her official app, a network new to her) answers
    ``conversations`` friends who wrote to it, from T0 on; it signs in again ``days``
    later, the time returned (events come in time order, as a live log's)."""
    engine = befriended()
    cfg = engine.config
    phone = {"id": OFFICIAL_APP, "ip": "10.11.13.166"}
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session="newphone", ip=phone["ip"], client={"id": OFFICIAL_APP}))
    for i in range(conversations):
        f, ts = i % 3, T0 + 600 * i
        engine.process(message(cfg, f"ask{i}", f"alice-friend{f}", ["alice"], f"free at {i}?",
                               ts, session=f"f{f}",
                               client={"id": "im-ios", "ip": f"100.70.{f}.3"}))
        engine.process(message(cfg, f"re{i}", "alice", [f"alice-friend{f}"], f"sure, at {i}!",
                               ts + 30, session="newphone", client=phone))
    when = T0 + days * DAY
    engine.process(event(cfg, type="login", id="today", ts=when - 60, account="alice",
                         session="today", ip=phone["ip"], client={"id": OFFICIAL_APP}))
    return engine, phone, when


def test_the_owners_new_phone_shares_a_little_known_site_with_her_friends() -> None:
    """Guard: a day after her new phone proved its network by answering three friends, she
    sends a little-known site to the three she writes to every day: none is a dormant tie,
    so the network stays hers (delivered, as on main)."""
    engine, phone, when = _proven_by_answers(1.2)
    shared = [engine.process(message(engine.config, f"share{f}", "alice", [f"alice-friend{f}"],
                                     "look what I found https://tiny-bakery-blog.net/p/7",
                                     when + 60 * f, session="today", client=phone))
              for f in range(3)]
    assert [v.action for v in shared] == ["deliver"] * 3
    assert {v.account_action.action for v in shared} == {"none"}


def test_the_owner_travelling_shares_a_video_and_chats() -> None:
    """Guard: on the second day of a trip (the hotel's network proven the first day by
    answering friends) she shares a YouTube link with six friends she rarely writes to, and
    chats with her daily ones: delivered or warned, no account action (as on main)."""
    engine, phone, when = _proven_by_answers(1.1)
    cfg = engine.config
    verdicts = [engine.process(message(cfg, f"video{i}", "alice", [f"alice-friend{30 + i}"],
                                       "we are here!! https://www.youtube.com/watch?v=abc",
                                       when + 30 * i, session="today", client=phone))
                for i in range(6)]
    verdicts += [engine.process(message(cfg, f"chat{f}", "alice", [f"alice-friend{f}"],
                                        "miss you, back on sunday", when + 600 + 60 * f,
                                        session="today", client=phone)) for f in range(3)]
    assert all(v.action in ("deliver", "warn") for v in verdicts)
    assert {v.account_action.action for v in verdicts} == {"none"}


@pytest.mark.parametrize("text", ["Happy New Year everyone!! love, Gran",
                                  "Happy New Year!! our card: https://grans-ecards.net/ny"])
def test_a_new_year_greeting_from_a_network_proven_a_week_ago(text: str) -> None:
    """Guard: a family member's phone network, proven eight days ago by many conversations
    (twelve answers), sends a greeting to 20 of the contacts she seldom writes to, one by
    one, at New Year; with a little-known e-card site too: past ``pitch_trust_after`` the
    network is hers for a pitch as well (delivered or warned, no account action)."""
    engine, phone, when = _proven_by_answers(8, conversations=12)
    greetings = [engine.process(message(engine.config, f"ny{i}", "alice",
                                        [f"alice-friend{20 + i}"], text, when + 20 * i,
                                        session="today", client=phone))
                 for i in range(20)]
    assert all(v.action in ("deliver", "warn") for v in greetings)
    assert {v.account_action.action for v in greetings} == {"none"}


def test_the_owners_new_phone_writes_sealed_lines_to_her_friends() -> None:
    """Guard: a day after her new phone proved its network, its end-to-end encrypted lines
    to the three friends she writes to every day are delivered (none is a dormant tie)."""
    engine, phone, when = _proven_by_answers(1.2)
    sealed = [engine.process(message(engine.config, f"sealed{f}", "alice", [f"alice-friend{f}"],
                                     "", when + 60 * f, session="today", encrypted=True,
                                     size=120, client=phone))
              for f in range(3)]
    assert [v.action for v in sealed] == ["deliver"] * 3
    assert {v.account_action.action for v in sealed} == {"none"}
