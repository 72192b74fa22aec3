"""Red team, session 30 (``redteam``): the ringtone seller of the founding case against an
account whose friends are not dormant: the owner wrote to them in the last six months (a
birthday line each), or the platform keeps no contact lists and its ties are the people who
write to the account (an adapter that sends messages alone, a Matrix server). The seller
signs in and reads the history, so it knows whom the owner writes to. Through
``engine.process``; the numbers are how many of the 40 pitches reached their targets
(delivered or warned). The fixed findings' tests fail on main (e709bda); what stays open is
a strict xfail with its numbers (``docs/red-team-log.md``, session 30, ``redteam``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.engine import Engine
from test_attack_session25 import HOSTING_IP, OFFICIAL_APP, engine_on, pitch
from test_takeover import DAY, OFFICIAL, engine_with_history, live_a_month

PITCHES = 40
HOME = {"id": "im-android", "ip": "198.51.100.20"}
NEW_NET = "192.0.2.77"  # the owner's new phone's network


def reached(verdicts: Sequence[Any]) -> int:
    return sum(v.action in ("deliver", "warn") for v in verdicts)


def suspended(verdicts: Sequence[Any]) -> bool:
    return any(v.account_action.action == "suspend_sending" for v in verdicts)


def _seller(engine: Engine, apart: float = 3, text: Callable[[int], str] = pitch,
            login: bool = True, session: bool = True, first: int = 3,
            fresh: bool = False) -> list[Any]:
    """The seller signs in (the official app's id, its server), reads the list, and pitches
    40 of alice's friends (``first`` on) ``apart`` seconds apart. ``login``: the adapter
    sends sign-ins and list reads; ``session``: messages carry their session and client;
    ``fresh``: a sign-in and a session of its own for every pitch."""
    cfg = engine.config
    if login:
        engine.process(event(cfg, type="login", id="seller-in", ts=T0 - 60, account="alice",
                             session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
        engine.process(event(cfg, type="contacts_read", id="seller-read", ts=T0 - 50,
                             account="alice", session="seller", count=60))
    out = []
    for i in range(PITCHES):
        name = f"seller{i}" if fresh else "seller"
        if fresh and i:
            engine.process(event(cfg, type="login", id=f"in{i}", ts=T0 + apart * i - 5,
                                 account="alice", session=name, ip=HOSTING_IP,
                                 client={"id": OFFICIAL_APP}))
        extra = {"session": name if i or not fresh else "seller",
                 "client": {"id": OFFICIAL_APP, "ip": HOSTING_IP}} if session else {}
        out.append(engine.process(message(cfg, f"p{i}", "alice", [f"alice-friend{first + i}"],
                                          text(i), T0 + apart * i, **extra)))
    return out


def greeted(days_ago: float, engine: Engine | None = None) -> Engine:
    """alice's month of life (three daily friends), and a birthday line she wrote to each
    of her other 57 contacts ``days_ago`` days ago: none of them is a dormant tie.
    ``engine``: a fresh one to use (else the memory backend's)."""
    if engine is None:
        engine = engine_with_history()
    else:
        live_a_month(engine, "alice")
    for f in range(3, 60):
        engine.process(message(engine.config, f"bd{f}", "alice", [f"alice-friend{f}"],
                               "happy birthday!! have a great day",
                               T0 - days_ago * DAY + 60 * f, session="phone", client=HOME))
    return engine


def chatty(contacts: bool = True, login: bool = True, session: bool = True) -> Engine:
    """alice's month on another platform shape: her three daily friends, and two more a
    day whom she asks something and who answer, so each of her 60 friends wrote to her
    this month. ``contacts``: the adapter sends contact lists (hers and theirs, mutual);
    ``login``: sign-ins; ``session``: each message's session and client."""
    engine = open_engine(config(official_clients=OFFICIAL))
    cfg = engine.config
    friends = [f"alice-friend{i}" for i in range(60)]
    if contacts:
        engine.process(event(cfg, type="contacts", id="c", ts=T0 - 30 * DAY, account="alice",
                             contacts=friends))
        for f in friends:
            engine.process(event(cfg, type="contacts", id=f"fc-{f}", ts=T0 - 30 * DAY,
                                 account=f, contacts=["alice"]))
    extra = {"session": "phone", "client": HOME} if session else {}
    for day in range(30):
        ts = T0 - (30 - day) * DAY
        if login:
            engine.process(event(cfg, type="login", id=f"l{day}", ts=ts, account="alice",
                                 session="phone", ip=HOME["ip"], client={"id": HOME["id"]}))
        for i in range(3):
            engine.process(message(cfg, f"d{day}-{i}", "alice", [friends[i]],
                                   f"see you at {i + 5} tonight", ts + 60 + i, **extra))
        for k in range(2):
            f = friends[3 + (day * 2 + k) % 57]
            engine.process(message(cfg, f"o{day}-{k}", "alice", [f],
                                   "how was the trip? send photos", ts + 3600 + k, **extra))
            engine.process(message(cfg, f"r{day}-{k}", f, ["alice"], "great, will do tomorrow!",
                                   ts + 3700 + k))
    return engine


@pytest.mark.parametrize("days_ago", [20, 100, 170])
def test_a_seller_that_pitches_the_people_the_owner_wrote_to_still_bursts(
        days_ago: float) -> None:
    """Only dormant ties started a burst, and a tie the owner wrote to in the last 180 days
    is none: a birthday line to each contact months ago left the seller's 40 pitches 3 s
    apart no burst. On main 28 of 40 reached (5 delivered, 23 warned), a challenge, no
    suspension (with the friends left dormant: 2, suspended). A site on no popular list
    given to ``pitch_ties`` people is the pitch, whoever they are: 3 reach, suspended."""
    verdicts = _seller(greeted(days_ago))
    assert reached(verdicts) <= 3
    assert suspended(verdicts)


@pytest.mark.parametrize(("contacts", "login"), [(True, True), (False, True), (True, False),
                                                 (False, False)])
def test_a_seller_that_pitches_the_friends_who_write_still_bursts(contacts: bool,
                                                                  login: bool) -> None:
    """alice's friends all wrote to her this month and she answered: the seller's 40
    pitches 3 s apart went to correspondents, no dormant tie, and where the adapter sends
    no contact lists (a Matrix server, messages alone) to no contact at all. On main 40 of
    40 reached, no action (with lists and sign-ins 25 delivered and 15 warned, without
    either all 40 delivered). The people who write to
    the account are its ties for the pitch's count (``burst.pitchable``): 3 reach,
    suspended."""
    verdicts = _seller(chatty(contacts, login), login=login)
    assert reached(verdicts) <= 3
    assert suspended(verdicts)


def _new_phone(text: Callable[[int], str], people: int, usual: bool = False,
               apart: float = 30) -> list[Any]:
    """The owner's new phone (her app, a network new to her, no list read) sends ``text``
    to ``people`` of her friends ``apart`` seconds apart; she wrote to friends 3-9 ten days
    ago and they answered."""
    engine = engine_with_history()
    cfg = engine.config
    for f in range(3, 10):
        engine.process(message(cfg, f"o{f}", "alice", [f"alice-friend{f}"],
                               "how was the trip? send photos", T0 - 10 * DAY + f,
                               session="phone", client=HOME))
        engine.process(message(cfg, f"r{f}", f"alice-friend{f}", ["alice"], "great, will do!",
                               T0 - 10 * DAY + 60 + f))
    session, ip = ("phone", HOME["ip"]) if usual else ("newphone", NEW_NET)
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session=session, ip=ip, client={"id": "im-android"}))
    return [engine.process(message(cfg, f"s{i}", "alice", [f"alice-friend{i}"], text(i),
                                   T0 + apart * i, session=session,
                                   client={"id": "im-android", "ip": ip}))
            for i in range(people)]


def _restaurant(i: int) -> str:
    return f"we booked this place for saturday http://casa-lupita.mx/menu see you there {i}"


def test_the_owners_new_phone_shares_a_little_known_site_with_three_friends() -> None:
    """Guard: one to three friends given a link to a site on no popular list from a new
    phone are no pitch (``pitch_ties``): delivered, as on main."""
    verdicts = _new_phone(_restaurant, 3)
    assert [v.action for v in verdicts] == ["deliver"] * 3
    assert not suspended(verdicts)


def test_the_owners_new_phone_shares_a_video_with_eight_friends() -> None:
    """Guard: a popular site (``lists.well_known``) shared with eight friends from a new
    phone is anyone's video: delivered, as on main."""
    verdicts = _new_phone(lambda i: "haha look https://www.youtube.com/watch?v=dQw4w9WgXcQ", 8)
    assert [v.action for v in verdicts] == ["deliver"] * 8


def test_the_owners_usual_phone_shares_a_little_known_site_with_eight_friends() -> None:
    """Guard: the owner's usual session is never asked: delivered, as on main."""
    verdicts = _new_phone(_restaurant, 8, usual=True)
    assert [v.action for v in verdicts] == ["deliver"] * 8


@pytest.mark.xfail(strict=True, reason="the price of the fix: the owner's new phone (her app, "
                   "a new network) giving one restaurant's site to 8 friends she writes to, "
                   "30 s apart: 3 delivered, 5 held, sending suspended (main: 8 delivered); "
                   "with two replies to friends first: 6 delivered, 2 held")
def test_the_owners_new_phone_shares_a_little_known_site_with_eight_friends() -> None:
    verdicts = _new_phone(_restaurant, 8)
    assert [v.action for v in verdicts] == ["deliver"] * 8


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
@pytest.mark.parametrize("fresh", [False, True])
def test_a_slow_seller_that_pitches_the_people_the_owner_wrote_to_still_bursts(
        backend: str, fresh: bool, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The same pitches 11 minutes apart, past the burst window: on main 24 of 40 reached
    (7 delivered, 17 warned), a challenge; a fresh session for each, 40 of 40 (18
    delivered, 22 warned), no action. The people
    the account's unproven sessions gave the site are counted over a session's life, all
    of them together (``keys.spread``, a set per site no session id names): 3 reach,
    suspended, on every backend."""
    verdicts = _seller(greeted(100, engine_on(backend, tmp_path, request)), apart=660,
                       fresh=fresh)
    assert reached(verdicts) <= 3
    assert suspended(verdicts)


_SITES = ("casa-lupita.mx", "corner-bakery-news.net", "tinyrecipes.org",
          "oldtownbikes.co.uk", "jazzclub-ljubljana.si", "pixelmoss.dev")


def test_the_owners_new_phone_shares_a_little_known_site_each_with_six_friends() -> None:
    """Guard for the life count: her new phone gives six friends a little-known site each
    (six sites), unprompted, two hours apart: all delivered, as on main. The count is per
    site: a version counting every site together held three and challenged her."""
    verdicts = _new_phone(lambda i: f"btw have you seen this http://{_SITES[i]}/x", 6,
                          apart=7_200)
    assert [v.action for v in verdicts] == ["deliver"] * 6


@pytest.mark.xfail(strict=True, reason="open: an adapter that sends messages with no session "
                   "nor client (and no sign-ins) leaves no session to doubt: 40 of 40 pitches "
                   "delivered, no action, with or without contact lists (main the same)")
def test_a_seller_on_an_adapter_that_sends_bare_messages_is_stopped() -> None:
    verdicts = _seller(chatty(True, False, False), login=False, session=False)
    assert reached(verdicts) <= 3


def _openers(gap: float) -> tuple[list[Any], list[Any]]:
    """Session 26's openers, to the friends alice wrote to 100 days ago (none dormant):
    "long time! how are you?" to 30 of them ``gap`` seconds apart from one session, every
    other one answered 10 s later, the pitch (one site) as the answer's reply 5 s after."""
    from test_attack_session25 import NAMES

    engine = greeted(100)
    cfg = engine.config
    engine.process(event(cfg, type="login", id="seller-in", ts=T0 - 60, account="alice",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    sent = {"session": "seller", "client": {"id": OFFICIAL_APP, "ip": HOSTING_IP}}
    openers, pitches = [], []
    for i in range(30):
        friend, at = f"alice-friend{3 + i}", T0 + gap * i
        openers.append(engine.process(message(
            cfg, f"op{i}", "alice", [friend], f"hey {NAMES[i % 10]}, long time! how are you?",
            at, **sent)))
        if i % 2 == 0:
            engine.process(message(cfg, f"ans{i}", friend, ["alice"], "omg hi! all good, you?",
                                   at + 10))
            pitches.append(engine.process(message(
                cfg, f"pi{i}", "alice", [friend],
                f"great! look what I found http://cheap-tones.biz/r?u={i}", at + 15, **sent)))
    return openers, pitches


def test_openers_to_the_friends_the_owner_wrote_to_do_not_make_the_pitches_replies() -> None:
    """The pitch as the reply to each answer: a message to one who just wrote is answered,
    not sought out, but not the same site as the answer to the next of the account's own
    ties (``pitch_others``, session 26's principle, now for ties that are not dormant). On
    main 15 of 15 pitches reached (14 delivered, 1 warned), openers 30 of 30, no action;
    now pitches 3 of 15, openers 7 of 30, sending suspended."""
    _, pitches = _openers(20)
    assert reached(pitches) <= 3
    assert suspended(pitches)


def test_slow_openers_to_the_friends_the_owner_wrote_to_do_not_make_the_pitches_replies(
        ) -> None:
    """Openers two minutes apart put at most three pitches in one burst window: on main
    (and in the window alone) 15 of 15 pitches and 30 of 30 openers delivered, no action.
    Over the unproven sessions' life (``keys.spread``): pitches 4 of 15, openers 9 of 30,
    sending suspended."""
    _, pitches = _openers(120)
    assert reached(pitches) <= 4
    assert suspended(pitches)


@pytest.mark.xfail(strict=True, reason="open: a site per pitch (40 registrable domains) to the "
                   "friends alice wrote to 100 days ago, 3 s apart: 28 of 40 reached (5 "
                   "delivered, 23 warned), a challenge, on main 9be8ce7; since session 31 "
                   "14 (5 delivered, 9 warned), suspended: links whatever the site count "
                   "from popular_share_ties (15) people, not pitch_ties (4), which held the "
                   "owner's new phone sharing a different site with each of six friends")
def test_a_seller_with_a_site_per_pitch_to_the_people_the_owner_wrote_to_is_stopped() -> None:
    from test_attack_session25 import NAMES

    verdicts = _seller(greeted(100), text=lambda i: (
        f"hey {NAMES[i % 10]}! I found cheap ringtones here http://cheap-tones{i}.biz/r"))
    assert reached(verdicts) <= 3
