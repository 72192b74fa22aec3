"""Red team, session 31 (``pitch31``): the seller of the founding case, signed in to a
victim's account with its own software, against session 30's spread pitch as a reader of
the code; and the owner that rule must not hold. Through ``engine.process``; the numbers
are how many pitches reached their targets (delivered or warned), on main 9be8ce7 and
here. Each open finding or known cost is a strict xfail with its numbers
(``docs/red-team-log.md``, session 31, ``pitch31``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, event, message
from test_attack_session25 import HOSTING_IP, NAMES, OFFICIAL_APP, engine_on
from test_attack_session30 import (
    _new_phone,
    _openers,
    _seller,
    chatty,
    greeted,
    reached,
    suspended,
)
from test_attack_session30_review import _answers

# A decoy beside the site, new in every pitch: a name never registered costs nothing.
DECOYS: dict[str, Callable[[int], str]] = {
    "a decoy name": lambda i: (f"hey {NAMES[i % 10]}! I found cheap ringtones at "
                               f"cheap-tones.biz (not aa{i}.com lol)"),
    "two decoys": lambda i: (f"hey {NAMES[i % 10]}! cheap ringtones at cheap-tones.biz "
                             f"(not aa{i}.com or bb{i}.net lol)"),
    "a decoy link typed first": lambda i: (f"hey {NAMES[i % 10]}! http://aa{i}.com is dead, "
                                           "get them at http://cheap-tones.biz/r"),
    "both written apart": lambda i: (f"hey {NAMES[i % 10]}! cheap-tones. biz/r (not "
                                     f"aa{i}. com/x lol)"),
}


@pytest.mark.parametrize("decoy", sorted(DECOYS))
def test_a_decoy_per_pitch_is_counted_under_the_site(decoy: str) -> None:
    """The pitch was keyed by the least of its sites (``keys.pitch``), so a new name beside
    the site in every pitch made each a new site: to the friends alice greeted 100 days
    ago, 3 s apart, 28 of 40 reached with one decoy (5 delivered, 23 warned), 15 with two,
    30 with a decoy link typed first, 40 with both written apart, never suspended, on main.
    A message is counted under each site it names (``keys.spread_sites``): 3, suspended."""
    verdicts = _seller(greeted(100), text=DECOYS[decoy])
    assert reached(verdicts) <= 3
    assert suspended(verdicts)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_slow_decoy_per_pitch_from_fresh_sessions_is_counted_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The decoy per pitch, 11 minutes apart from a fresh session each: on main 40 of 40
    reached (18 delivered, 22 warned), no action. Each site's set over the unproven
    sessions' life: 3, suspended, on every backend."""
    verdicts = _seller(greeted(100, engine_on(backend, tmp_path, request)), apart=660,
                       fresh=True, text=DECOYS["a decoy name"])
    assert reached(verdicts) <= 3
    assert suspended(verdicts)


def _site_per_pitch(i: int) -> str:
    return f"hey {NAMES[i % 10]}! I found cheap ringtones here http://cheap-tones{i}.biz/r"


SITE_PER_PITCH: dict[str, Callable[[], list[Any]]] = {
    "greeted, 3 s apart": lambda: _seller(greeted(100), text=_site_per_pitch),
    "greeted, 11 min apart": lambda: _seller(greeted(100), apart=660, text=_site_per_pitch),
    "greeted, 11 min apart, fresh sessions": lambda: _seller(
        greeted(100), apart=660, fresh=True, text=_site_per_pitch),
    "friends who write, lists and sign-ins": lambda: _seller(chatty(), text=_site_per_pitch),
    "friends who write, no lists nor sign-ins": lambda: _seller(
        chatty(False, False), login=False, text=_site_per_pitch),
}


@pytest.mark.parametrize("shape", sorted(SITE_PER_PITCH))
def test_a_site_per_pitch_is_bounded_by_how_far_one_shares(shape: str) -> None:
    """A registrable domain per pitch (40) is a new site for every count kept per site: on
    main 28 of 40 reached to the greeted friends 3 s apart (a challenge), 25 at 11 minutes,
    40 from fresh sessions, 40 to friends who write to alice (with or without lists and
    sign-ins), none suspended. A popular site vouches for what is shared, not for how
    far (session 30), and neither does a site per pitch: the people the unproven sessions
    gave links to, whatever the sites (``keys.linked``), make the pitch from
    ``popular_share_ties`` (15, the most one shares a thing with one by one): 14,
    suspended. The 14 stay open (the site per pitch xfail of ``test_attack_session30``)."""
    verdicts = SITE_PER_PITCH[shape]()
    assert reached(verdicts) <= 14
    assert suspended(verdicts)


def _answering(people: int, apart: float = 1_800) -> list[Any]:
    """alice's friends write to her (each a friend who writes this month: ``chatty``),
    unprompted, ``apart`` seconds apart; the seller, signed in, answers each 30 s later
    with its site."""
    engine = chatty()
    cfg = engine.config
    engine.process(event(cfg, type="login", id="seller-in", ts=T0 - 60, account="alice",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    out = []
    for i in range(people):
        friend, at = f"alice-friend{3 + i}", T0 + apart * i
        engine.process(message(cfg, f"u{i}", friend, ["alice"],
                               "hey! what are you up to this weekend?", at))
        out.append(engine.process(message(
            cfg, f"a{i}", "alice", [friend], "check this out http://cheap-tones.biz/r",
            at + 30, session="seller", client={"id": OFFICIAL_APP, "ip": HOSTING_IP})))
    return out


def test_a_seller_answering_each_friend_who_writes_is_bounded() -> None:
    """The variant the owner's exemption invites (a reply to one who wrote unprompted is
    no step of the pitch per site, ``_asked``): the seller waits for alice's friends to
    write and answers each with its site. On main 30 of 30 reached (the burst window held
    no other answer 30 minutes apart), no action. The answers count for how far the
    session shares (``keys.linked``), and a spread pitch is excused by no reply: 14,
    suspended. Its take is bounded by what her friends write, not by what it sends."""
    verdicts = _answering(30)
    assert reached(verdicts) <= 14
    assert suspended(verdicts)


@pytest.mark.parametrize("gap", [700, 1_800])
def test_openers_past_the_burst_window_do_not_make_the_pitches_replies(gap: float) -> None:
    """Session 26's openers to the friends alice greeted 100 days ago, ``gap`` seconds
    apart, every other one answered, the pitch as the answer's reply: on main 15 of 15
    pitches reached and 30 of 30 openers, no action (a reply was excused unless the site
    went to another in the burst window). What a friend writes back to the session's own
    opener answers the session (``keys.sought``): the pitch is counted per site, 3 of 15,
    suspended."""
    _, pitches = _openers(gap)
    assert reached(pitches) <= 3
    assert suspended(pitches)


def test_the_owners_new_laptop_answering_each_one_who_asked_with_one_page() -> None:
    """The owner on a new laptop answering 8 friends or customers who each wrote first,
    unprompted, with one help page 2 minutes apart: on main 3 delivered, 5 held, sending
    suspended (``_asked`` stopped excusing a reply once the site went to another own tie).
    None of the account's unproven sessions wrote to them first (``keys.sought``): each
    answer is answered, 8 delivered."""
    verdicts = _answers(8)
    assert [v.action for v in verdicts] == ["deliver"] * 8
    assert not suspended(verdicts)


def test_the_owners_new_laptop_answering_after_writing_first_is_counted() -> None:
    """Guard (as on main): the laptop thanked each customer first ("did it arrive?"), they
    answered, and each was sent the same page: those answers answer the session, so the
    page is counted per site, held from the fourth."""
    engine = greeted(100)
    cfg = engine.config
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session="laptop", ip="192.0.2.77", client={"id": "im-android"}))
    sent = {"session": "laptop", "client": {"id": "im-android", "ip": "192.0.2.77"}}
    out = []
    for i in range(8):
        friend, at = f"alice-friend{3 + i}", T0 + 120 * i
        engine.process(message(cfg, f"o{i}", "alice", [friend], "did your order arrive?",
                               at - 60, **sent))
        engine.process(message(cfg, f"q{i}", friend, ["alice"], "yes but how do I use it",
                               at - 30))
        out.append(engine.process(message(cfg, f"a{i}", "alice", [friend],
                                          "step by step here https://help.casa-lupita.mx/faq",
                                          at, **sent)))
    assert reached(out) <= 3


@pytest.mark.xfail(strict=True, reason="the price of the site per pitch's bound: the owner's "
                   "new phone (her app, a new network) giving each of 20 friends a different "
                   "little-known site, 30 minutes apart: 14 delivered, 6 held, sending "
                   "suspended (main 9be8ce7: 18 delivered, 1 warned, 1 held, no action); "
                   "six such friends (session 30's guard) are delivered")
def test_the_owners_new_phone_gives_twenty_friends_a_site_each() -> None:
    verdicts = _new_phone(lambda i: f"look at this place http://bistro-{chr(97 + i) * 2}.fr/menu",
                          20, apart=1_800)
    assert reached(verdicts) >= 19
    assert not suspended(verdicts)


@pytest.mark.parametrize("gap", [20, 1_800])
def test_an_opener_posted_to_a_room_makes_the_answers_the_sessions(gap: float) -> None:
    """Guard for ``keys.sought`` (the variant a reader sends next): the seller posts one
    opener to a conversation of 30 of the friends alice greeted ("long time everyone!
    write me"), then answers each who writes with its site, ``gap`` seconds apart. The
    post reached them first, so what they write answers the session: 3 reach, suspended
    (as on main at 20 s; at 30 minutes main excused each answer: every pitch reached)."""
    engine = greeted(100)
    cfg = engine.config
    engine.process(event(cfg, type="login", id="seller-in", ts=T0 - 60, account="alice",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    sent = {"session": "seller", "client": {"id": OFFICIAL_APP, "ip": HOSTING_IP}}
    friends = [f"alice-friend{3 + i}" for i in range(30)]
    engine.process(message(cfg, "post", "alice", friends, "long time everyone! write me :)",
                           T0 - 30, conversation="old-school-friends", **sent))
    out = []
    for i, friend in enumerate(friends[:15]):
        at = T0 + gap * i
        engine.process(message(cfg, f"w{i}", friend, ["alice"], "hi!! how are you?", at))
        out.append(engine.process(message(cfg, f"p{i}", "alice", [friend],
                                          "great! look http://cheap-tones.biz/r", at + 10,
                                          **sent)))
    assert reached(out) <= 3
    assert suspended(out)
